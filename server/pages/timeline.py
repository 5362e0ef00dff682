"""The timeline at /timeline: events and status changes in date order, narrowed by what the address names
(actor, type, source, place, allegation), with /timeline.json its twin; and the short timeline of a page.

The build computes the timeline (kg.timeline) and indexes it (kg.list_index: the items in order, which items
have each value of each facet or are about each IRI, the values with their labels), so a request runs no
SPARQL and reads only the items it shows. Without JavaScript the page is a dated list grouped by year, a page
at a time (the dated items, then the undated ones); with it, static/timeline.js draws the same view, read from
the JSON twin (all of the view), on a time axis (vendored vis-timeline).
Dates keep the precision the record gives them: on the axis a year or a month is drawn as the span it is.
With ``?as_of=`` only what sources published by that day report is shown (kg.history).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import groupby
from urllib.parse import urlencode

from flask import Blueprint, Response, request
from markupsafe import Markup

from kg import formats, ids
from kg.list_index import TIMELINE_FACETS, last_segment
from kg.wording import date_precision, human_date
from server.http import HTML, with_alternates
from server.pages.fragments import timeline_entry
from server.pages.listing import CHUNK, json_response, list_index, select_options
from server.pages.lists import Pager
from server.pages.record import as_of_day
from server.pages.render import render_page
from server.pages.resources import Ref, Row
from server.release import per_process

bp = Blueprint("timeline", __name__)

PATH = "/timeline"
JSON = formats.Format("timeline-json", "JSON", "application/json", "json")
SECTION_SIZE = 10  # dated items a page's own timeline section lists before it links to the whole timeline
UNDATED_STATUS = "The source that reports it gives no date."
NO_REASON = "The record gives no date and no reason."
HEADINGS = {"actor": "Actor", "type": "Event type or status", "source": "Source", "place": "Place",
            "allegation": "Allegation"}  # the facets of kg.list_index.TIMELINE_FACETS, in order
FORM_FACETS = ("actor", "type", "source")  # chosen in the form; the others come from links on pages
FORM_OPTIONS = 200  # values a select of the form offers at most: those most items have (and any chosen)
PAGE_FACETS = {**{kind: "actor" for kind in ids.ACTOR_KINDS}, "allegation": "allegation", "place": "place"}


def entity_kind(iri: str) -> str | None:
    return iri[len(ids.ENTITY_BASE):].split("/", 1)[0] if iri.startswith(ids.ENTITY_BASE) else None


def _on_record(sql: str, parameters: list, alias: str = "") -> tuple[str, list]:
    """``sql`` (its items' table named ``alias``) kept to the items of the record as of the day asked for, if any:
    those whose source was published by that day."""
    day = as_of_day()
    if day is None:
        return sql, parameters
    return f"{sql} {'AND' if ' WHERE ' in sql else 'WHERE'} {alias}issued_end <= ?", [*parameters, day]


class View:
    """The items one request reads, by their number in the timeline's order (the undated first): every item on
    record, and those its filters keep, each with whether it is dated."""

    def __init__(self, chosen: dict[str, set[str]]):
        index = list_index()
        self.everything = index.one(*_on_record("SELECT COUNT(*) FROM timeline", []))
        parts = [(f"SELECT n FROM timeline_has WHERE facet = ? AND key IN ({', '.join('?' * len(keys))})",
                  [name, *sorted(keys)]) for name, keys in chosen.items() if keys]
        if not parts and as_of_day() is None:  # the whole timeline: its items by number, the undated first
            self.positions: Sequence[int] = range(self.everything)
            self.undated = index.one("SELECT COUNT(*) FROM timeline WHERE dated = 0")
            return
        if not parts:
            sql, parameters = _on_record("SELECT n, dated FROM timeline", [])
        else:
            sql, parameters = _on_record(
                "SELECT n, dated FROM timeline WHERE n IN (" + " INTERSECT ".join(sql for sql, _ in parts) + ")",
                [value for _, values in parts for value in values])
        found = index.query(sql + " ORDER BY n", parameters)
        self.positions = [number for number, _ in found]
        self.undated = sum(1 for _, dated in found if not dated)  # the undated items come first


def items(numbers: Sequence[int]) -> dict[int, dict]:
    """The items ``numbers`` as pages show them (shown(); plain() of one is what the twin shows)."""
    found, refs = {}, {}
    numbers = list(numbers)
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        for number, text in list_index().query(
                f"SELECT n, item FROM timeline WHERE n IN ({', '.join('?' * len(chunk))})", chunk):
            found[number] = shown(json.loads(text), refs)
    return found


def plain_items(numbers: Sequence[int]) -> Iterator[dict]:
    """The items ``numbers`` as the twin shows them (plain()), read a chunk at a time as they are sent."""
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start:start + CHUNK]
        rows = items(chunk)
        yield from (plain(rows[number]) for number in chunk)


def undated_reason(kind: str, reason: str | None, timeframe: str | None) -> str:
    """What the record says of an item without a date: its own reason, else the time the source names."""
    if reason:
        return reason
    if timeframe:
        return f"The source names no date, only a time: “{timeframe}”."
    return UNDATED_STATUS if kind == "status" else NO_REASON


def chosen_keys() -> dict[str, set[str]]:
    """The keys the address names for each facet (``?actor=person/x&actor=group/y&type=Arrested``)."""
    return {name: {key.strip() for key in request.args.getlist(name) if key.strip()} for name in TIMELINE_FACETS}


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


def shown(item: dict, refs: dict[tuple[str, str], Ref]) -> dict:
    """An item of the list index as the page and its twin show it: what to read, where to go, and when. Items
    shown together share ``refs`` ((IRI, label) -> Ref, made once): many name the same types and sources."""
    labels = item["labels"]

    def ref(iri: str) -> Ref:
        found = refs.get((iri, labels[iri]))
        if found is None:
            local = ids.local_path(iri)
            found = refs[iri, labels[iri]] = Ref(iri, "/" + local if local is not None else None, labels[iri])
        return found

    return {"item": ref(item["iri"]), "title": ref(item["title"]), "kind": item["kind"], "date": item["date"],
            "end": item["end"], "type": ref(item["type"]) if item["type"] else None,
            "source": ref(item["source"]) if item["source"] else None,
            "reason": None if item["date"] else undated_reason(item["kind"], item["undated_reason"], item["timeframe"]),
            "year": item["date"][:4] if item["date"] else None,
            "when": human_date(item["date"]) + (f" – {human_date(item['end'])}" if item["end"] else "")}


def plain(row: dict) -> dict:
    """A shown item as JSON: labels, addresses and dates."""
    def named(value: Ref | None) -> dict | None:
        return value and {"iri": value.iri, "label": value.label, "url": value.href}

    precision = date_precision(row["date"])
    # On the axis a day is a point; a month, a year or a start and an end is the span it covers.
    start = span(row["date"]) if row["date"] else None
    last = span(row["end"]) if row["end"] else None
    axis_end = last[1] if last else start[1] if start and precision != "day" else None
    return {"iri": row["item"].iri, "kind": row["kind"], "label": label(row), "url": row["title"].href,
            "record": row["item"].href, "date": row["date"], "end": row["end"], "precision": precision,
            "when": row["when"], "start": start and start[0], "axis_end": axis_end,
            "type": named(row["type"]), "source": named(row["source"]), "undated_reason": row["reason"]}


def label(row: dict) -> str:
    """What an item reads as: an event's label; a status change's status and its allegation."""
    if row["kind"] == "status" and row["type"] is not None:
        return f"{row['type'].label.capitalize()} — {row['title'].label}"
    return row["title"].label


def facet_options(chosen: dict[str, set[str]]) -> list[dict]:
    """For each facet, its chosen values (key, what it names) in reading order, those it does not have, and
    for a facet of the form the options of its select: the FORM_OPTIONS values most items have, in reading
    order, the chosen ones besides (the other facets are chosen from links on pages)."""
    options_of = []
    for name in TIMELINE_FACETS:
        keys = sorted(chosen[name])
        known = [(key, Ref(iri, "/" + ids.local_path(iri) if ids.local_path(iri) is not None else None, label))
                 for key, iri, label in list_index().query(
                     f"SELECT key, iri, label FROM timeline_options WHERE facet = ? AND key IN ({', '.join('?' * len(keys))})"
                     " ORDER BY reading", [name, *keys])] if keys else []
        found_facet = {"name": name, "heading": HEADINGS[name], "in_form": name in FORM_FACETS,
                       "chosen": [{"key": key, "ref": named} for key, named in known],
                       "unknown": sorted(set(keys) - {key for key, _ in known})}
        if name in FORM_FACETS:
            found_facet["options_html"] = _select_options(name, known)
        options_of.append(found_facet)
    return options_of


def _select_options(name: str, chosen: list[tuple[str, Ref]]) -> Markup:
    """The options of facet ``name``'s select, ``chosen`` selected; with ``?as_of=``, only the values its items
    on record have."""
    options, unlisted = _offered(name)
    labels = {key: named.label for key, named in chosen}
    if as_of_day() is not None:
        present = {key for key, in list_index().query(*_on_record(
            "SELECT DISTINCT key FROM timeline_has JOIN timeline USING (n) WHERE facet = ?", [name]))}
        return select_options([(key, label) for key, label in options if key in present], labels)
    return select_options(options, labels, f"… {unlisted} more, each on fewer items: chosen from their pages"
                          if unlisted else "", once=f"timeline {name}")


def _offered(name: str) -> tuple[list[tuple[str, str]], int]:
    """The (key, label) of the FORM_OPTIONS values of facet ``name`` that most items have, in reading order, and
    how many values it does not offer; read once per process."""
    def read() -> tuple[list[tuple[str, str]], int]:
        index = list_index()
        offered = index.query("SELECT key, label FROM timeline_options WHERE facet = ? AND common < ? ORDER BY reading",
                              (name, FORM_OPTIONS))
        return offered, index.one("SELECT COUNT(*) FROM timeline_options WHERE facet = ?", (name,)) - len(offered)
    return per_process(f"timeline offered {name}", read)


def view_href(path: str = PATH, **replace: str | None) -> str:
    """The address of this view (its query string kept, ``replace`` changed) at ``path``."""
    args = [(name, value) for name, value in request.args.items(multi=True) if name not in replace]
    args += [(name, value) for name, value in replace.items() if value is not None]
    return path + ("?" + urlencode(args) if args else "")


@bp.get(f"{PATH}.json")
@bp.get(PATH)  # registered first: url_for("timeline.timeline") is the page, not its twin
def timeline():
    chosen = chosen_keys()
    view = View(chosen)
    positions = view.positions
    dated, undated = positions[view.undated:], positions[:view.undated]
    alternates = [(HTML, view_href(PATH)), (JSON, view_href(f"{PATH}.json"))]
    if request.path.endswith(".json"):
        response = json_response({"filters": {name: sorted(keys) for name, keys in chosen.items() if keys},
                                  "total": len(positions), "dated": len(dated), "undated": len(undated),
                                  "everything": view.everything},
                                 {"items": plain_items(dated), "undated_items": plain_items(undated)})
    else:
        filters = facet_options(chosen)
        active = [(facet, option) for facet in filters for option in facet["chosen"]]
        # A page at a time: the dated items in date order, then the undated ones.
        pager = Pager.of("page", len(positions))
        window = pager.window([*dated, *undated])
        rows = items(window)
        shown_dated = [number for number in window if rows[number]["date"]]
        response = Response(render_page(
            "timeline.html", twins=alternates, years=[(year, entries(rows[number] for number in group)) for year, group
                                                      in groupby(shown_dated, key=lambda n: rows[n]["year"])],
            undated=entries(rows[number] for number in window if not rows[number]["date"]),
            dated_count=len(dated), undated_count=len(undated), pager=pager,
            everything=view.everything, filters=filters,
            removals=[(facet, option, removal_href(facet["name"], option["key"])) for facet, option in active],
            json_href=view_href(f"{PATH}.json")), mimetype=HTML.media_type)
    return with_alternates(response, [(fmt.media_type, href) for fmt, href in alternates])


def entries(rows) -> Markup:
    """The HTML of items of the list, one after the other."""
    return Markup("".join(timeline_entry(Row(row)) for row in rows))


def removal_href(name: str, key: str) -> str:
    """This view without one of its chosen values."""
    args = [(arg, value) for arg, value in request.args.items(multi=True) if (arg, value) != (name, key)]
    return PATH + ("?" + urlencode(args) if args else "")


def section(iri: str) -> dict:
    """The timeline section of the page about ``iri`` (an actor, allegation or place): its latest dated
    items, how many there are with the undated ones, and the address of the whole timeline narrowed to it."""
    facet = PAGE_FACETS[entity_kind(iri)]
    index = list_index()
    about, parameters = _on_record("FROM timeline_about JOIN timeline USING (n) WHERE iri = ?", [iri], "timeline.")
    if as_of_day() is None:  # counted by the build (kg.list_index)
        everything, dated = (index.query("SELECT items, dated FROM timeline_counts WHERE iri = ?", [iri]) or [(0, 0)])[0]
    else:
        everything, dated = index.query(f"SELECT COUNT(*), IFNULL(SUM(dated), 0) {about}", parameters)[0]
    # A hub is in thousands of items: the latest are read in the order of their numbers (the timeline's order).
    latest, refs = [], {}
    for text, in index.query(f"SELECT item {about} AND dated = 1 ORDER BY n DESC LIMIT {SECTION_SIZE}", parameters):
        item = shown(json.loads(text), refs)
        # A status change links to its allegation, or on that allegation's own page to its statement.
        target = item["item"] if item["kind"] == "event" or item["title"].iri == iri else item["title"]
        latest.append(Row(item, link=Ref(target.iri, target.href, label(item))))
    key = iri[len(ids.ENTITY_BASE):] if facet == "actor" else last_segment(iri)
    # Rows, not dicts: the template reads their values as attributes.
    return {"timeline_section": Row(latest=latest, dated=dated, undated=everything - dated,
                                    href=PATH + "?" + urlencode({facet: key}))}


def latest_events(limit: int) -> list[Row]:
    """The ``limit`` latest dated events (by their date, or the day they began), as event lists show them:
    the home page lists these, and leaves the undated ones, with their reasons, to the timeline."""
    sql, parameters = _on_record("SELECT n FROM timeline WHERE kind = 'event' AND dated = 1", [])
    numbers = [number for number, in list_index().query(sql + " ORDER BY n DESC LIMIT ?", [*parameters, limit])]
    rows = items(numbers)
    return [Row(event=rows[number]["item"], date=rows[number]["date"], type=rows[number]["type"]) for number in numbers]
