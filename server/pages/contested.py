"""Contested claims at /contested: every allegation that someone asserts and someone denies or disputes,
both sides side by side with their quotes and sources; sorted by voices, status or latest date, a page at a time.

Its JSON twin holds every contested allegation with its sides, its CSV twin one row per attribution (both sent
as they are written, server.pages.listing).
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Blueprint
from markupsafe import Markup

from kg.list_index import last_segment, order_column
from kg.page_index import Entry
from kg.wording import human_date
from server.pages import listing
from server.pages.allegation_list import everything
from server.pages.escaping import escaped
from server.pages.fragments import claim_badge, stance_columns, status
from server.pages.lists import Pager
from server.pages.render import render_page
from server.pages.resources import Labels, link, ontology_comments, request_labels
from server.pages.stances import Stances, entry_stances, indexed_entries
from server.pages.wording import counted
from server.release import per_process

bp = Blueprint("contested", __name__)

PATH = "/contested"
DEFAULT_SORT = "voices"
SIDES = ("asserting", "denying", "disputing")
BLOCKS_KEPT = 1000  # blocks a process keeps rendered, those shown last: a block quotes every voice, long to render
# Allegations a page shows: fewer than a list's items, for each is a block with both sides and every quote (50 made
# a page of 200 KB, heavy on a phone, and took 20 ms or more to write at a million statements).
BLOCKS_A_PAGE = 20


def contested_iris(sort: str, pager: Pager | None = None) -> list[str]:
    """The contested allegations in ``sort`` order (the list index marks them): those of the page ``pager``
    shows, or all of them."""
    sql = f"SELECT iri FROM allegations WHERE contested = 1 ORDER BY {order_column(sort)}"
    if pager is not None:
        sql += f" LIMIT {pager.size} OFFSET {pager.start}"
    return [iri for iri, in listing.list_index().query(sql)]


@bp.get(PATH)
@bp.get(f"{PATH}.<any(json, csv):extension>")
def contested(extension: str | None = None):
    fmt = listing.chosen_format(extension)
    sort = listing.checked_parameters(DEFAULT_SORT, [])
    total = listing.list_index().one("SELECT COUNT(*) FROM allegations WHERE contested = 1")

    def read(iris: list[str], labels: Labels) -> list[tuple[Stances, Entry]]:
        """The allegations ``iris`` with all their voices, read from the page index, as pages show them."""
        entries, notes = indexed_entries(iris), ontology_comments()
        return [(entry_stances(entries[iri], labels.ref, notes), entries[iri]) for iri in iris]

    def html() -> str:
        pager = Pager.of("page", total, BLOCKS_A_PAGE)
        rendered = per_process("contested blocks shown last", lambda: listing.Recent(BLOCKS_KEPT))
        return render_page("contested.html", twins=listing.twins(PATH),
                           blocks=rendered.get(contested_iris(sort, pager), lambda iris: {
                               entry.iri: block(item, entry) for item, entry in read(iris, request_labels())}),
                           pager=pager, total=total, everything=everything(),
                           sorts=listing.sort_links(sort, DEFAULT_SORT), sort=sort)

    def read_dated(iris: list[str], labels: Labels) -> list[tuple[Stances, Entry, dict[str, str | None]]]:
        """As read, each with the dates of the sources of its chunk (by IRI)."""
        found = read(iris, labels)
        dated = {voice.source: voice.date for _, entry in found for voice in entry.voices}
        return [(item, entry, dated) for item, entry in found]

    def data() -> tuple[dict, dict[str, Iterator[dict]]]:
        return {"total": total, "sort": sort}, {"allegations": (
            {"iri": item.allegation.iri, "label": item.allegation.label, "url": listing.absolute(item.allegation),
             "status": item.status.label if item.status else None, "voices": len(entry.voices),
             "latest_date": entry.latest,
             **{side: [_voice(voice, dated) for voice in getattr(item, side)] for side in SIDES}}
            for item, entry, dated in listing.in_chunks(contested_iris(sort), read_dated))}

    def table() -> tuple[list[str], Iterator[list]]:
        columns = ["allegation", "label", "status", "side", "claimant", "claimant_name", "quote", "translation",
                   "source", "source_title", "source_date", "attribution"]
        return columns, (
            [item.allegation.iri, item.allegation.label, item.status.label if item.status else "",
             side, voice["claimant"].iri, voice["claimant"].label, voice["quote"] or "",
             voice["translation"] or "", voice["source"].iri, voice["source"].label,
             dated.get(voice["source"].iri) or "", voice["attribution"].iri]
            for item, _, dated in listing.in_chunks(contested_iris(sort), read_dated)
            for side in SIDES for voice in getattr(item, side))

    return listing.answer(fmt, PATH, html, data, table)


def block(item: Stances, entry: Entry) -> Markup:
    """The HTML of one contested allegation: both sides, every quote. Written in Python, as server.pages.fragments
    writes the pieces long pages repeat: a page shows 20, and a template each cost more than the rest of the page."""
    key = escaped(last_segment(entry.iri))
    return Markup(f'<section class="allegation-block contested-block" aria-labelledby="contested-{key}">\n'
                  f'  <h2 id="contested-{key}">{link(item.allegation)}</h2>\n'
                  f"  <p>{claim_badge()} {status(item, explain=False)}\n"
                  f'    <span class="counts">{escaped(counted(len(entry.voices), "voice"))} · latest date: '
                  f"{escaped(human_date(entry.latest))}</span></p>\n"
                  f"  {stance_columns(item, level=3)}\n</section>")


def _voice(row: dict, dates: dict[str, str | None]) -> dict:
    return {"claimant": row["claimant"].iri, "claimant_name": row["claimant"].label, "quote": row["quote"],
            "translation": row["translation"], "source": row["source"].iri, "source_title": row["source"].label,
            "source_date": dates.get(row["source"].iri), "attribution": row["attribution"].iri}
