"""Contested claims at /contested: every allegation that someone asserts and someone denies or disputes,
both sides side by side with their quotes and sources; sorted by voices, status or latest date, a page at a time.

Its JSON twin holds every contested allegation with its sides, its CSV twin one row per attribution.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from markupsafe import Markup

from server.pages import listing
from server.pages.render import render_page
from server.pages.stances import Stances
from server.release import per_process

bp = Blueprint("contested", __name__)

PATH = "/contested"
DEFAULT_SORT = "voices"
SIDES = ("asserting", "denying", "disputing")


@bp.get(PATH)
@bp.get(f"{PATH}.<any(json, csv):extension>")
def contested(extension: str | None = None):
    fmt = listing.chosen_format(extension)
    sort = listing.checked_parameters(DEFAULT_SORT, [])
    index = listing.allegations()
    found = index.contested[sort]

    def read(shown) -> list[tuple[Stances, listing.Entry]]:
        return [(index.stances(entry), entry) for entry in shown]

    def html() -> str:
        window, pager = listing.paged_window(found)
        return render_page("contested.html", twins=listing.twins(PATH),
                           blocks=[block(index, entry) for entry in window], pager=pager,
                           total=len(found), everything=len(index.entries),
                           sorts=listing.sort_links(sort, DEFAULT_SORT), sort=sort)

    def dates() -> dict[str, str | None]:
        return {voice.source: voice.date for entry in found for voice in entry.voices}

    def data() -> dict:
        dated = dates()
        return {"total": len(found), "sort": sort, "allegations": [
            {"iri": item.allegation.iri, "label": item.allegation.label, "url": listing.absolute(item.allegation),
             "status": item.status.label if item.status else None, "voices": len(entry.voices),
             "latest_date": entry.latest,
             **{side: [_voice(voice, dated) for voice in getattr(item, side)] for side in SIDES}}
            for item, entry in read(found)]}

    def table() -> tuple[list[str], list[list]]:
        columns = ["allegation", "label", "status", "side", "claimant", "claimant_name", "quote", "translation",
                   "source", "source_title", "source_date", "attribution"]
        rows, dated = [], dates()
        for item, _ in read(found):
            for side in SIDES:
                for voice in getattr(item, side):
                    rows.append([item.allegation.iri, item.allegation.label, item.status.label if item.status else "",
                                 side, voice["claimant"].iri, voice["claimant"].label, voice["quote"] or "",
                                 voice["translation"] or "", voice["source"].iri, voice["source"].label,
                                 dated.get(voice["source"].iri) or "", voice["attribution"].iri])
        return columns, rows

    return listing.answer(fmt, PATH, html, data, table)


def block(index: listing.Index, entry: listing.Entry) -> Markup:
    """The HTML of one contested allegation, rendered once per process and release: it is the same on every
    page that shows it, and long (every quote on both sides)."""
    rendered = per_process("contested blocks", dict)
    if entry.iri not in rendered:
        rendered[entry.iri] = Markup(render_template("_contested_block.html", item=index.stances(entry),
                                                     entry=entry, key=index.keys[entry.iri]))
    return rendered[entry.iri]


def _voice(row: dict, dates: dict[str, str | None]) -> dict:
    return {"claimant": row["claimant"].iri, "claimant_name": row["claimant"].label, "quote": row["quote"],
            "translation": row["translation"], "source": row["source"].iri, "source_title": row["source"].label,
            "source_date": dates.get(row["source"].iri), "attribution": row["attribution"].iri}
