"""The timeline at /timeline: events and status changes in date order, narrowed by what the address names
(actor, type, source, place, allegation), with /timeline.json its twin; and the short timeline of a page.

The build computes the timeline (kg.timeline); each process reads it once per release, so a request runs no
query. The server does the narrowing, so without JavaScript the page is a dated list grouped by year, a page
at a time (the dated items, then the undated ones); with it, static/timeline.js draws the same view, read from
the JSON twin (all of the view), on a time axis (vendored vis-timeline).
Dates keep the precision the record gives them: on the axis a year or a month is drawn as the span it is.
With ``?as_of=`` only what sources published by that day report is shown (kg.history).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import groupby
from typing import Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request
from markupsafe import Markup

from kg import formats, ids
from kg.history import on_record_by
from kg.timeline import TIMELINE_FILE
from kg.wording import date_precision, human_date
from server.http import HTML, with_alternates
from server.pages.listing import select_options
from server.pages.lists import Pager
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
        by_kind = self.by_kind
        return sorted(iri for kind in kinds for iri in by_kind.get(kind, ()))

    @cached_property
    def by_kind(self) -> dict[str | None, tuple[str, ...]]:
        """What it is about, by kind (asked for each facet of each item once per process)."""
        found: dict[str | None, list[str]] = {}
        for iri in self.about:
            found.setdefault(entity_kind(iri), []).append(iri)
        return {kind: tuple(iris) for kind, iris in found.items()}


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
FORM_OPTIONS = 200  # values a select of the form offers at most: those most items have (and any chosen)
PAGE_FACETS = {**{kind: "actor" for kind in ids.ACTOR_KINDS}, "allegation": "allegation", "place": "place"}


@dataclass(frozen=True)
class Timeline:
    """The build's timeline, indexed: its items in order (the undated first, their date sorting as none),
    each as pages and the twin show it, the sources' dates, the values of each facet in reading order with
    how many items have each, and which items have each value or are about each IRI: the same for every
    request, so made once; a view then unites and intersects the items of the values it names."""

    items: tuple[Item, ...]
    issued: dict[str, str]
    options: dict[str, list[tuple[str, Ref]]]  # facet -> (key, what it names)
    having: dict[str, dict[str, frozenset[int]]]  # facet -> key -> the positions of the items that have it
    about: dict[str, tuple[int, ...]]  # IRI -> the positions of the items about it, in order
    undated: int  # the first ``undated`` items have no date
    ref: Callable[[str], Ref]
    rows: dict[int, dict]  # position -> the item as pages show it, made when first shown

    def row(self, number: int) -> dict:
        """The item at ``number`` as pages and the twin show it (shown(), with its JSON as ``data``)."""
        if number not in self.rows:
            row = shown(self.items[number], self.ref)
            self.rows[number] = {**row, "data": plain(row)}
        return self.rows[number]

    def on_record(self) -> Sequence[int]:
        """The positions of its items, or with ``?as_of=`` of those whose source was published by that day."""
        day = as_of_day()
        if day is None:
            return range(len(self.items))
        return [number for number, item in enumerate(self.items) if on_record_by(self.issued.get(item.source), day)]


def read_timeline() -> Timeline:
    """The timeline of this request's release, read once per process."""
    def load() -> Timeline:
        found = json.loads((current_release().path / TIMELINE_FILE).read_text(encoding="utf-8"))
        names = found["names"]

        refs: dict[str, Ref] = {}  # the same types, sources and allegations recur in thousands of items

        def ref(iri: str) -> Ref:
            if iri not in refs:
                local = ids.local_path(iri)
                refs[iri] = Ref(iri, "/" + local if local is not None else None, names.get(iri) or last_segment(iri))
            return refs[iri]

        items = tuple(sorted((Item(item["iri"], item["kind"], item["date"], item["end"], item["type"], item["source"],
                                   None if item["date"] else undated_reason(item["kind"], item["undated_reason"],
                                                                            item["timeframe"]),
                                   frozenset(item["about"])) for item in found["items"]), key=lambda item: item.order))
        options, having = {}, {}
        for facet in FACETS:
            keys: dict[str, str] = {}
            positions: dict[str, set[int]] = {}
            for number, item in enumerate(items):
                for key, iri in facet.keys(item).items():
                    keys[key] = iri
                    positions.setdefault(key, set()).add(number)
            options[facet.name] = sorted(((key, ref(iri)) for key, iri in keys.items()),
                                         key=lambda option: (option[1].label.casefold(), option[0]))
            having[facet.name] = {key: frozenset(numbers) for key, numbers in positions.items()}
        about: dict[str, list[int]] = {}
        for number, item in enumerate(items):
            for iri in item.about:
                about.setdefault(iri, []).append(number)
        return Timeline(items, found["issued"], options, having,
                        {iri: tuple(numbers) for iri, numbers in about.items()},
                        sum(1 for item in items if not item.date), ref, {})
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


def narrowed(found: Timeline, positions: Sequence[int], chosen: dict[str, set[str]]) -> list[int]:
    """The positions of the items that have, for every facet given, one of its keys: values of a facet widen,
    facets narrow; in order."""
    sets = []
    for facet in FACETS:
        if chosen[facet.name]:
            having = found.having[facet.name]
            sets.append(frozenset().union(*(having.get(key, frozenset()) for key in chosen[facet.name])))
    if not sets:
        return list(positions)
    sets.sort(key=len)
    kept = sets[0].intersection(*sets[1:])
    if not isinstance(positions, range):
        kept = kept.intersection(positions)
    return sorted(kept)


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


def facet_options(found: Timeline, positions: Sequence[int], chosen: dict[str, set[str]]) -> list[dict]:
    """For each facet, its chosen values (key, what it names) in reading order, those it does not have, and
    for a facet of the form the options of its select: the FORM_OPTIONS values most items have, in reading
    order, the chosen ones besides (the other facets are chosen from links on pages)."""
    options_of = []
    as_of = not isinstance(positions, range)
    for facet in FACETS:
        having = found.having[facet.name]
        known = _chosen_options(found, facet.name, chosen[facet.name])
        found_facet = {"name": facet.name, "heading": facet.heading, "in_form": facet.name in FORM_FACETS,
                       "chosen": [{"key": key, "ref": named} for key, named in known],
                       "unknown": sorted(key for key in chosen[facet.name] if key not in having)}
        if facet.name in FORM_FACETS:
            found_facet["options_html"] = _select_options(found, facet.name, known, set(positions) if as_of else None)
        options_of.append(found_facet)
    return options_of


def _select_options(found: Timeline, name: str, chosen: list[tuple[str, Ref]], present: set[int] | None) -> Markup:
    """The options of facet ``name``'s select, ``chosen`` selected; with ``present`` (the record as of a day),
    only the values its items have."""
    options, unlisted = _offered(found, name)
    labels = {key: named.label for key, named in chosen}
    if present is not None:
        having = found.having[name]
        return select_options([(key, label) for key, label in options if not present.isdisjoint(having[key])], labels)
    return select_options(options, labels, f"… {unlisted} more, each on fewer items: chosen from their pages"
                          if unlisted else "", once=f"timeline {name}")


def _common(found: Timeline, name: str) -> set[str]:
    """The keys of the FORM_OPTIONS values of facet ``name`` that most items have."""
    def make() -> set[str]:
        having = found.having[name]
        return set(sorted(having, key=lambda key: (-len(having[key]), key))[:FORM_OPTIONS])
    return per_process(f"timeline common {name}", make)


def _offered(found: Timeline, name: str) -> tuple[list[tuple[str, str]], int]:
    """The (key, label) of the values of facet ``name`` the form offers, in reading order, and how many it
    does not."""
    def make() -> tuple[list[tuple[str, str]], int]:
        common = _common(found, name)
        offered = [(key, named.label) for key, named in found.options[name] if key in common]
        return offered, len(found.options[name]) - len(offered)
    return per_process(f"timeline offered {name}", make)


def _chosen_options(found: Timeline, name: str, keys: set[str]) -> list[tuple[str, Ref]]:
    """The options of facet ``name`` for ``keys``, in reading order."""
    index = per_process(f"timeline options {name}", lambda: {key: named for key, named in found.options[name]})
    return sorted(((key, index[key]) for key in keys if key in index),
                  key=lambda option: (option[1].label.casefold(), option[0]))


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
    positions = narrowed(found, everything, chosen)
    undated_count = bisect_left(positions, found.undated)  # the undated items come first
    dated, undated = positions[undated_count:], positions[:undated_count]
    alternates = [(HTML, view_href(PATH)), (JSON, view_href(f"{PATH}.json"))]
    if request.path.endswith(".json"):
        response = jsonify({"filters": {name: sorted(keys) for name, keys in chosen.items() if keys},
                            "total": len(positions), "dated": len(dated), "undated": len(undated),
                            "everything": len(everything),
                            "items": [found.row(number)["data"] for number in dated],
                            "undated_items": [found.row(number)["data"] for number in undated]})
    else:
        filters = facet_options(found, everything, chosen)
        active = [(facet, option) for facet in filters for option in facet["chosen"]]
        # A page at a time: the dated items in date order, then the undated ones.
        pager = Pager.of("page", len(positions))
        window = pager.window(dated + undated)
        shown_dated = [number for number in window if number >= found.undated]
        response = Response(render_page(
            "timeline.html", twins=alternates, years=[(year, [entry(found, number) for number in group]) for year, group
                                                      in groupby(shown_dated, key=lambda n: found.row(n)["year"])],
            undated=[entry(found, number) for number in window if number < found.undated],
            dated_count=len(dated), undated_count=len(undated), pager=pager,
            everything=len(everything), filters=filters,
            removals=[(facet, option, removal_href(facet["name"], option["key"])) for facet, option in active],
            json_href=view_href(f"{PATH}.json")), mimetype=HTML.media_type)
    return with_alternates(response, [(fmt.media_type, href) for fmt, href in alternates])


def entry(found: Timeline, number: int) -> Markup:
    """The HTML of an item in the list, made once per process and release: the same on every page."""
    rendered = per_process("timeline entries", dict)
    if number not in rendered:
        rendered[number] = Markup(render_template("_timeline_entry.html", item=found.row(number)))
    return rendered[number]


def removal_href(name: str, key: str) -> str:
    """This view without one of its chosen values."""
    args = [(arg, value) for arg, value in request.args.items(multi=True) if (arg, value) != (name, key)]
    return PATH + ("?" + urlencode(args) if args else "")


def section(iri: str) -> dict:
    """The timeline section of the page about ``iri`` (an actor, allegation or place): its latest dated
    items, how many there are with the undated ones, and the address of the whole timeline narrowed to it."""
    facet = next(facet for facet in FACETS if facet.name == PAGE_FACETS[entity_kind(iri)])
    found = read_timeline()
    positions = found.about.get(iri, ())
    day = as_of_day()
    if day is not None:
        positions = [number for number in positions
                     if on_record_by(found.issued.get(found.items[number].source), day)]
    undated = bisect_left(positions, found.undated)
    latest = []
    for number in positions[max(undated, len(positions) - SECTION_SIZE):][::-1]:
        item = found.row(number)
        # A status change links to its allegation, or on that allegation's own page to its statement.
        target = item["item"] if item["kind"] == "event" or item["title"].iri == iri else item["title"]
        latest.append({**item, "link": Ref(target.iri, target.href, label(item))})
    key = iri[len(ids.ENTITY_BASE):] if facet.name == "actor" else last_segment(iri)
    return {"timeline_section": {"latest": latest, "dated": len(positions) - undated, "undated": undated,
                                 "href": PATH + "?" + urlencode({facet.name: key})}}


def latest_events(limit: int) -> list[dict]:
    """The ``limit`` latest dated events (by their date, or the day they began), as event lists show them:
    the home page lists these, and leaves the undated ones, with their reasons, to the timeline."""
    found = read_timeline()
    latest = []
    for number in reversed(found.on_record()):
        if len(latest) == limit or number < found.undated:
            break
        if found.items[number].kind == "event":
            row = found.row(number)
            latest.append({"event": row["item"], "date": row["date"], "type": row["type"]})
    return latest
