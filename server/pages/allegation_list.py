"""The list of allegations at /allegations, narrowed by facets, with the whole view in its address.

Facets: the current status, the kind of wrongdoing, the accused (read from the allegation), and who speaks,
their stance and the source (read from each attribution, and matched together: ``claimant=x&stance=denies``
is what x denies), with the dates of the sources (``from``, ``to``: YYYY, YYYY-MM or YYYY-MM-DD; a date
matches when the time it names overlaps the range). Several values of one facet widen the list, facets
narrow it; beside each value, how many allegations the list would hold with it. JSON and CSV twins hold
the whole list of the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, request

from kg import schema as sc
from kg.history import end_of, parse_as_of
from kg.vocab import SOL
from server.pages import listing
from server.pages.render import render_page
from server.pages.resources import ontology_comments

bp = Blueprint("allegation_list", __name__)

PATH = "/allegations"
DEFAULT_SORT = "label"
SHOWN_VALUES = 8  # values of a facet shown before "more"


@dataclass(frozen=True)
class Facet:
    """One facet: its query parameter, heading, the IRIs an allegation (or a voice) has for it, and the
    concepts it may name even when no allegation has them (``charged`` is a status, listed or not)."""

    name: str
    heading: str
    of: Callable[[listing.Entry | listing.Voice], tuple | frozenset]
    per_voice: bool
    vocabulary: tuple = ()


ALLEGATION_FACETS = (
    Facet("status", "Current status", lambda entry: (entry.status,) if entry.status else (), False,
          sc.ALLEGATION_STATUSES),
    Facet("type", "Kind of wrongdoing", lambda entry: entry.types, False, sc.ALLEGATION_TYPES),
    Facet("accused", "Accused", lambda entry: entry.accused, False),
)
VOICE_FACETS = (
    Facet("claimant", "Who speaks", lambda voice: (voice.claimant,), True),
    Facet("stance", "Stance", lambda voice: (voice.stance,), True, sc.STANCES),
    Facet("source", "Source", lambda voice: (voice.source,), True),
)
FACETS = ALLEGATION_FACETS + VOICE_FACETS


@dataclass(frozen=True)
class Selection:
    """What the view asks for: for each facet, the IRIs chosen (any of them will do); the sources' dates."""

    chosen: dict[str, frozenset[str]]
    since: str | None = None
    until: str | None = None  # the last day the "to" date may mean

    def voices(self, entry: listing.Entry, leave_out: str | None = None) -> list[listing.Voice]:
        """The voices on ``entry`` that the selection keeps, facet ``leave_out`` aside; none if the allegation
        itself is left out."""
        asked = [(facet, chosen) for facet in FACETS
                 if facet.name != leave_out and (chosen := self.chosen.get(facet.name))]
        if any(chosen.isdisjoint(facet.of(entry)) for facet, chosen in asked if not facet.per_voice):
            return []
        of_voices = [(facet, chosen) for facet, chosen in asked if facet.per_voice]
        if not of_voices and self.since is None and self.until is None:
            return list(entry.voices)
        return [voice for voice in entry.voices if self.dated(voice.date)
                and not any(chosen.isdisjoint(facet.of(voice)) for facet, chosen in of_voices)]

    def dated(self, date: str | None) -> bool:
        if self.since is None and self.until is None:
            return True
        return date is not None and (self.since is None or end_of(date) >= self.since) \
            and (self.until is None or date <= self.until)


def selection(index: listing.Index) -> tuple[Selection, list[str]]:
    """The selection the query string asks for, and what is wrong with the values that are not one."""
    problems = []
    chosen = {}
    for facet in FACETS:
        asked = [value for value in request.args.getlist(facet.name) if value]
        if not asked:
            continue
        known = {name: concept.value for name, concept in facet.vocabulary}
        known |= {index.keys[iri]: iri for entry in index.entries
                  for item in (entry.voices if facet.per_voice else (entry,)) for iri in facet.of(item)}
        unknown = [value for value in asked if value not in known]
        if unknown:
            problems.append(f"{facet.name}: no {facet.heading.lower()} {', '.join(map(repr, unknown))} in the record")
        chosen[facet.name] = frozenset(known[value] for value in asked if value in known)
    dates = {}
    for name in ("from", "to"):
        text = request.args.get(name, "").strip()
        if text:
            try:
                parse_as_of(text)
                dates[name] = text if name == "from" else end_of(text)
            except ValueError as error:
                problems.append(f"{name}: {error}")
    if "from" in dates and "to" in dates and dates["from"] > dates["to"]:
        problems.append("from: the range starts after it ends")
    return Selection(chosen, dates.get("from"), dates.get("to")), problems


def facet_values(index: listing.Index, chosen: Selection) -> list[dict]:
    """Each facet with its values: how many allegations each leaves (with the other facets as chosen), and
    the link that adds it to the view or takes it out. The chosen values first, then the most frequent."""
    found = []
    for facet in FACETS:
        counts: dict[str, int] = {}
        for entry in index.entries:
            voices = chosen.voices(entry, leave_out=facet.name)
            if voices:
                for iri in {iri for voice in voices for iri in facet.of(voice)} if facet.per_voice else facet.of(entry):
                    counts[iri] = counts.get(iri, 0) + 1
        selected = chosen.chosen.get(facet.name, frozenset())
        keys = [index.keys[iri] for iri in sorted(selected)]
        view_with = listing.views_by(facet.name)
        values = []
        for iri in sorted(counts.keys() | selected, key=lambda iri: (iri not in selected, -counts.get(iri, 0),
                                                                      index.labels[iri].casefold())):
            key = index.keys[iri]
            others = [other for other in keys if other != key] if iri in selected else keys + [key]
            values.append({"label": index.labels[iri], "key": key, "count": counts.get(iri, 0),
                           "selected": iri in selected, "href": view_with(others)})
        found.append({"name": facet.name, "heading": facet.heading, "values": values,
                      "folded_at": max(SHOWN_VALUES, len(selected))})
    return found


def row(index: listing.Index, entry: listing.Entry) -> dict:
    """An allegation as the list shows it."""
    status = index.ref(entry.status) if entry.status else None
    return {"allegation": index.ref(entry.iri), "status": status,
            "status_note": ontology_comments().get(entry.status) if entry.status else None,
            "types": sorted((index.ref(iri) for iri in entry.types), key=lambda ref: ref.label.casefold()),
            "accused": sorted((index.ref(iri) for iri in entry.accused), key=lambda ref: ref.label.casefold()),
            "asserting": entry.count(SOL.Asserts.value), "denying": entry.count(SOL.Denies.value),
            "disputing": entry.count(SOL.Disputes.value), "latest": entry.latest}


@bp.get(PATH)
@bp.get(f"{PATH}.<any(json, csv):extension>")
def allegations(extension: str | None = None):
    fmt = listing.chosen_format(extension)
    index = listing.allegations()
    chosen, problems = selection(index)
    sort = listing.checked_parameters(DEFAULT_SORT, problems)
    found = listing.sorted_entries([entry for entry in index.entries if chosen.voices(entry)], sort)

    def html() -> str:
        window, pager = listing.paged_window(found)
        facets = facet_values(index, chosen)
        return render_page(
            "allegations.html", twins=listing.twins(PATH), rows=[row(index, entry) for entry in window], pager=pager,
            total=len(found), everything=len(index.entries), facets=facets,
            sorts=listing.sort_links(sort, DEFAULT_SORT), sort=sort,
            since=request.args.get("from", "").strip(), until=request.args.get("to", "").strip(),
            filtered=[(facet, value) for facet in facets for value in facet["values"] if value["selected"]],
            dated=chosen.since is not None or chosen.until is not None,
            clear_dates=listing.view_href(replace={"from": None, "to": None}),
            clear_all=listing.view_href(replace={name: None for name in ("from", "to", *(f.name for f in FACETS))}))

    def data() -> dict:
        shown = [row(index, entry) for entry in found]
        return {"total": len(found), "sort": sort,
                "filters": {name: sorted(index.keys[iri] for iri in iris) for name, iris in chosen.chosen.items()},
                "from": request.args.get("from") or None, "to": request.args.get("to") or None,
                "facets": {facet["name"]: [{"value": value["key"], "label": value["label"], "count": value["count"],
                                            "selected": value["selected"]} for value in facet["values"]]
                           for facet in facet_values(index, chosen)},
                "allegations": [_plain(item) for item in shown]}

    def table() -> tuple[list[str], list[list]]:
        columns = ["allegation", "label", "status", "types", "accused", "asserting", "denying", "disputing",
                   "latest_date", "page"]
        rows = []
        for item in map(_plain, (row(index, entry) for entry in found)):
            rows.append([item["iri"], item["label"], item["status"] or "", "; ".join(item["types"]),
                         "; ".join(accused["label"] for accused in item["accused"]), item["asserting"],
                         item["denying"], item["disputing"], item["latest_date"] or "", item["url"]])
        return columns, rows

    return listing.answer(fmt, PATH, html, data, table)


def _plain(item: dict) -> dict:
    """A row of the list as data: IRIs, labels and numbers."""
    allegation = item["allegation"]
    return {"iri": allegation.iri, "label": allegation.label, "url": listing.absolute(allegation),
            "status": item["status"].label if item["status"] else None,
            "types": [ref.label for ref in item["types"]],
            "accused": [{"iri": ref.iri, "label": ref.label} for ref in item["accused"]],
            "asserting": item["asserting"], "denying": item["denying"], "disputing": item["disputing"],
            "latest_date": item["latest"]}
