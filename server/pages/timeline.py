"""The timeline at /timeline: events and status changes in date order, narrowed by what the address names
(actor, type, source, place, allegation), with /timeline.json its twin; and the short timeline of a page.

The build computes the timeline (kg.timeline); each process reads it once per release, so a request runs no
query. The server does the narrowing, so without JavaScript the page is a dated list grouped by year; with
it, static/timeline.js draws the same view, read from the JSON twin, on a time axis (vendored vis-timeline).
Dates keep the precision the record gives them: on the axis a year or a month is drawn as the span it is.
With ``?as_of=`` only what sources published by that day report is shown (kg.history).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from kg import formats, ids
from kg.history import on_record_by
from kg.timeline import TIMELINE_FILE
from kg.wording import date_precision, human_date
from server.http import HTML, with_alternates
from server.pages.record import as_of_day
from server.pages.render import render_page
from server.pages.resources import Ref, last_segment
from server.release import current_release, per_process

bp = Blueprint("timeline", __name__)

PATH = "/timeline"
JSON = formats.Format("timeline-json", "JSON", "application/json", "json")
SECTION_SIZE = 10  # dated items a page's own timeline section lists before it links to the whole timeline
UNDATED_STATUS = "The source that reports it gives no date."
NO_REASON = "The record gives no date and no reason."


@dataclass(frozen=True)
class Item:
    """An event or a status statement as the timeline places it."""

    iri: str
    kind: str  # "event" or "status"
    date: str | None  # when it happened or began, as precisely as the record says
    end: str | None
    type: str | None  # the event's type, or the statement's status
    source: str | None
    reason: str | None  # why it has no date, when it has none
    about: frozenset[str]  # the actors, allegations and places it is about

    @property
    def order(self) -> tuple:
        return self.date or "", self.kind, self.iri

    def named(self, kinds: tuple[str, ...]) -> list[str]:
        return sorted(iri for iri in self.about if entity_kind(iri) in kinds)


@dataclass(frozen=True)
class Facet:
    """One way to narrow the timeline: its query parameter, its heading, and the keys an item has for it."""

    name: str
    heading: str
    keys: Callable[[Item], dict[str, str]]  # key in the address -> IRI


def entity_kind(iri: str) -> str | None:
    return iri[len(ids.ENTITY_BASE):].split("/", 1)[0] if iri.startswith(ids.ENTITY_BASE) else None


def _entity_keys(kinds: tuple[str, ...], with_kind: bool) -> Callable[[Item], dict[str, str]]:
    def keys(item: Item) -> dict[str, str]:
        return {iri[len(ids.ENTITY_BASE):] if with_kind else last_segment(iri): iri for iri in item.named(kinds)}
    return keys


FACETS = (
    # An actor's key keeps its kind (person/x): the kinds have separate name spaces.
    Facet("actor", "Actor", _entity_keys(ids.ACTOR_KINDS, with_kind=True)),
    Facet("type", "Event type or status", lambda item: {last_segment(item.type): item.type} if item.type else {}),
    Facet("source", "Source", lambda item: {last_segment(item.source): item.source} if item.source else {}),
    Facet("place", "Place", _entity_keys(("place",), with_kind=False)),
    Facet("allegation", "Allegation", _entity_keys(("allegation",), with_kind=False)),
)
FORM_FACETS = ("actor", "type", "source")  # chosen in the form; the others come from links on pages
PAGE_FACETS = {**{kind: "actor" for kind in ids.ACTOR_KINDS}, "allegation": "allegation", "place": "place"}


@dataclass(frozen=True)
class Timeline:
    """The build's timeline: its items in date order, each as pages and the twin show it, the sources'
    dates, and the values of each facet in reading order: the same for every request, so made once."""

    items: tuple[Item, ...]
    shown: dict[str, dict]  # item IRI -> the item as pages show it (shown())
    issued: dict[str, str]
    options: dict[str, list[tuple[str, Ref]]]  # facet -> (key, what it names)

    def on_record(self) -> list[Item]:
        """Its items, or with ``?as_of=`` those whose source was published by that day."""
        day = as_of_day()
        if day is None:
            return list(self.items)
        return [item for item in self.items if on_record_by(self.issued.get(item.source), day)]


def read_timeline() -> Timeline:
    """The timeline of this request's release, read once per process."""
    def load() -> Timeline:
        found = json.loads((current_release().path / TIMELINE_FILE).read_text(encoding="utf-8"))
        names = found["names"]

        def ref(iri: str) -> Ref:
            local = ids.local_path(iri)
            return Ref(iri, "/" + local if local is not None else None, names.get(iri) or last_segment(iri))

        items = tuple(sorted((Item(item["iri"], item["kind"], item["date"], item["end"], item["type"], item["source"],
                                   None if item["date"] else undated_reason(item["kind"], item["undated_reason"],
                                                                            item["timeframe"]),
                                   frozenset(item["about"])) for item in found["items"]), key=lambda item: item.order))
        options = {}
        for facet in FACETS:
            keys = {key: iri for item in items for key, iri in facet.keys(item).items()}
            options[facet.name] = sorted(((key, ref(iri)) for key, iri in keys.items()),
                                         key=lambda option: (option[1].label.casefold(), option[0]))
        rows = {item.iri: shown(item, ref) for item in items}
        return Timeline(items, {iri: {**row, "data": plain(row)} for iri, row in rows.items()}, found["issued"], options)
    return per_process("timeline", load)


def undated_reason(kind: str, reason: str | None, timeframe: str | None) -> str:
    """What the record says of an item without a date: its own reason, else the time the source names."""
    if reason:
        return reason
    if timeframe:
        return f"The source names no date, only a time: “{timeframe}”."
    return UNDATED_STATUS if kind == "status" else NO_REASON


def chosen_keys() -> dict[str, set[str]]:
    """The keys the address names for each facet (``?actor=person/x&actor=group/y&type=Arrest``)."""
    return {facet.name: {key.strip() for key in request.args.getlist(facet.name) if key.strip()} for facet in FACETS}


def narrowed(items: list[Item], chosen: dict[str, set[str]]) -> list[Item]:
    """The items that have, for every facet given, one of its keys: values of a facet widen, facets narrow."""
    return [item for item in items
            if all(not chosen[facet.name] or chosen[facet.name] & facet.keys(item).keys() for facet in FACETS)]


def span(day: str) -> tuple[str, str] | None:
    """The first day a date of any precision may mean and the day after its last; None for no date."""
    precision = date_precision(day)
    if precision is None:
        return None
    first = date(int(day[:4]), int(day[5:7]) if precision != "year" else 1, int(day[8:10]) if precision == "day" else 1)
    if precision == "day":
        return first.isoformat(), date.fromordinal(first.toordinal() + 1).isoformat()
    if precision == "month":
        return first.isoformat(), date(first.year + first.month // 12, first.month % 12 + 1, 1).isoformat()
    return first.isoformat(), date(first.year + 1, 1, 1).isoformat()


def shown(item: Item, ref: Callable[[str], Ref]) -> dict:
    """An item as the page and its twin show it: what to read, where to go, and when."""
    allegations = item.named(("allegation",))
    # A status change is read as the allegation it moved; its statement has a page of its own too.
    title = ref(allegations[0] if item.kind == "status" and allegations else item.iri)
    # On the axis a day is a point; a month, a year or a start and an end is the span it covers.
    start = span(item.date) if item.date else None
    last = span(item.end) if item.end else None
    axis_end = last[1] if last else start[1] if start and date_precision(item.date) != "day" else None
    return {"item": ref(item.iri), "title": title, "kind": item.kind, "date": item.date, "end": item.end,
            "type": ref(item.type) if item.type else None,
            "source": ref(item.source) if item.source else None,
            "reason": item.reason, "axis_start": start and start[0], "axis_end": axis_end,
            "year": item.date[:4] if item.date else None,
            "when": human_date(item.date) + (f" – {human_date(item.end)}" if item.end else "")}


def plain(row: dict) -> dict:
    """A shown item as JSON: labels, addresses and dates."""
    def named(value: Ref | None) -> dict | None:
        return value and {"iri": value.iri, "label": value.label, "url": value.href}

    precision = date_precision(row["date"])
    return {"iri": row["item"].iri, "kind": row["kind"], "label": label(row), "url": row["title"].href,
            "record": row["item"].href, "date": row["date"], "end": row["end"], "precision": precision,
            "when": row["when"], "start": row["axis_start"], "axis_end": row["axis_end"],
            "type": named(row["type"]), "source": named(row["source"]), "undated_reason": row["reason"]}


def label(row: dict) -> str:
    """What an item reads as: an event's label; a status change's status and its allegation."""
    if row["kind"] == "status" and row["type"] is not None:
        return f"{row['type'].label.capitalize()} — {row['title'].label}"
    return row["title"].label


def facet_options(found: Timeline, items: list[Item], chosen: dict[str, set[str]]) -> list[dict]:
    """For each facet, the values ``items`` have (key, what it names, chosen or not), in reading order."""
    options_of = []
    for facet in FACETS:
        options = found.options[facet.name]
        if len(items) < len(found.items):  # the record as of a day: only the values its items have
            present = {key for item in items for key in facet.keys(item)}
            options = [(key, named) for key, named in options if key in present]
        known = {key for key, _ in options}
        options_of.append({"name": facet.name, "heading": facet.heading, "in_form": facet.name in FORM_FACETS,
                           "options": [{"key": key, "ref": named, "selected": key in chosen[facet.name]}
                                       for key, named in options],
                           "unknown": sorted(chosen[facet.name] - known)})
    return options_of


def view_href(path: str = PATH, **replace: str | None) -> str:
    """The address of this view (its query string kept, ``replace`` changed) at ``path``."""
    args = [(name, value) for name, value in request.args.items(multi=True) if name not in replace]
    args += [(name, value) for name, value in replace.items() if value is not None]
    return path + ("?" + urlencode(args) if args else "")


@bp.get(PATH)
@bp.get(f"{PATH}.json")
def timeline():
    found = read_timeline()
    everything = found.on_record()
    chosen = chosen_keys()
    items = [found.shown[item.iri] for item in narrowed(everything, chosen)]
    dated = [item for item in items if item["date"]]
    undated = [item for item in items if not item["date"]]
    alternates = [(HTML, view_href(PATH)), (JSON, view_href(f"{PATH}.json"))]
    if request.path.endswith(".json"):
        response = jsonify({"filters": {name: sorted(keys) for name, keys in chosen.items() if keys},
                            "total": len(items), "dated": len(dated), "undated": len(undated), "everything": len(everything),
                            "items": [item["data"] for item in dated],
                            "undated_items": [item["data"] for item in undated]})
    else:
        filters = facet_options(found, everything, chosen)
        active = [(facet, option) for facet in filters for option in facet["options"] if option["selected"]]
        response = Response(render_page(
            "timeline.html", twins=alternates, years=[(year, list(group)) for year, group in
                                                      groupby(dated, key=lambda item: item["year"])],
            dated=dated, undated=undated, everything=len(everything), filters=filters,
            removals=[(facet, option, removal_href(facet["name"], option["key"])) for facet, option in active],
            json_href=view_href(f"{PATH}.json")), mimetype=HTML.media_type)
    return with_alternates(response, [(fmt.media_type, href) for fmt, href in alternates])


def removal_href(name: str, key: str) -> str:
    """This view without one of its chosen values."""
    args = [(arg, value) for arg, value in request.args.items(multi=True) if (arg, value) != (name, key)]
    return PATH + ("?" + urlencode(args) if args else "")


def section(iri: str) -> dict:
    """The timeline section of the page about ``iri`` (an actor, allegation or place): its latest dated
    items, how many there are with the undated ones, and the address of the whole timeline narrowed to it."""
    facet = next(facet for facet in FACETS if facet.name == PAGE_FACETS[entity_kind(iri)])
    found = read_timeline()
    items = [found.shown[item.iri] for item in found.on_record() if iri in item.about]
    dated = [item for item in items if item["date"]]
    latest = []
    for item in dated[::-1][:SECTION_SIZE]:
        # A status change links to its allegation, or on that allegation's own page to its statement.
        target = item["item"] if item["kind"] == "event" or item["title"].iri == iri else item["title"]
        latest.append({**item, "link": Ref(target.iri, target.href, label(item))})
    key = iri[len(ids.ENTITY_BASE):] if facet.name == "actor" else last_segment(iri)
    return {"timeline_section": {"latest": latest, "dated": len(dated),
                                 "undated": len(items) - len(dated),
                                 "href": PATH + "?" + urlencode({facet.name: key})}}


def latest_events(limit: int) -> list[dict]:
    """The ``limit`` latest dated events (by their date, or the day they began), as event lists show them:
    the home page lists these, and leaves the undated ones, with their reasons, to the timeline."""
    found = read_timeline()
    dated = [found.shown[item.iri] for item in found.on_record() if item.kind == "event" and item.date]
    return [{"event": row["item"], "date": row["date"], "type": row["type"]} for row in dated[::-1][:limit]]
