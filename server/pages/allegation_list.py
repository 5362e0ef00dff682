"""The list of allegations at /allegations, narrowed by facets, with the whole view in its address.

Facets: the current status, the kind of wrongdoing, the accused (read from the allegation), and who speaks,
their stance and the source (read from each attribution, and matched together: ``claimant=x&stance=denies``
is what x denies), with the dates of the sources (``from``, ``to``: YYYY, YYYY-MM or YYYY-MM-DD; a date
matches when the time it names overlaps the range). Several values of one facet widen the list, facets
narrow it; beside each value, how many allegations the list would hold with it. JSON and CSV twins hold
the whole list of the view.

The build's list index (kg.list_index) holds each allegation's row, its place in each order and its facet
values; a view counts its facets and reads its page of rows with a few indexed queries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy
from flask import Blueprint, g, render_template, request
from markupsafe import Markup

from kg.history import end_of, parse_as_of
from kg.list_index import NO_STANCE, FacetArrays, order_column, read_counted_pairs
from server.pages import fragments, listing
from server.pages.lists import Pager
from server.pages.render import render_page
from server.pages.resources import Row, ontology_comments
from server.release import per_process

bp = Blueprint("allegation_list", __name__)

PATH = "/allegations"
DEFAULT_SORT = "label"
SHOWN_VALUES = 8  # values of a facet shown before "more"
LISTED_VALUES = 24  # values of a facet a page lists at most (the most frequent); the JSON twin has them all
ROWS_KEPT = 2000  # rows a process keeps rendered, those shown last


@dataclass(frozen=True)
class Facet:
    """One facet: its query parameter (the name of its column in the list index), its heading, and whether
    it is a facet of the voices (matched voice by voice) rather than of the allegation."""

    name: str
    heading: str
    per_voice: bool


ALLEGATION_FACETS = (Facet("status", "Current status", False), Facet("type", "Kind of wrongdoing", False),
                     Facet("accused", "Accused", False))
VOICE_FACETS = (Facet("claimant", "Who speaks", True), Facet("stance", "Stance", True), Facet("source", "Source", True))
FACETS = ALLEGATION_FACETS + VOICE_FACETS


@dataclass(frozen=True)
class Selection:
    """What the view asks for: for each facet, the terms chosen (any of them will do; kg.list_index numbers
    each value); the sources' dates."""

    chosen: dict[str, frozenset[int]]
    since: str | None = None
    until: str | None = None  # the last day the "to" date may mean

    @property
    def is_dated(self) -> bool:
        return self.since is not None or self.until is not None


@dataclass(frozen=True)
class Part:
    """Allegations a view keeps by one of its conditions: those with one of ``terms`` of ``facet`` (of a facet of
    the voices: on any voice); or, with no facet, those with a voice that has one of the values ``voice`` names of
    each of its facets and a source date in the range (``since``, ``until``). About ``size`` of them (the voices':
    unknown)."""

    facet: str | None
    terms: tuple[int, ...] = ()
    voice: tuple[tuple[str, tuple[int, ...]], ...] = ()
    since: str | None = None
    until: str | None = None
    size: float = math.inf


@dataclass(frozen=True)
class Kept:
    """The allegations a view keeps: those in every part."""

    parts: tuple[Part, ...]


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def _allegation_parts(chosen: Selection, leave_out: str | None, facets: tuple[Facet, ...] = ALLEGATION_FACETS
                      ) -> list[Part]:
    """For each of ``facets`` chosen, ``leave_out`` aside: the allegations with any of its values (of a facet of
    the voices: with a voice that has one), as many as the whole list's counts of those values add up to."""
    return [Part(facet.name, terms, size=sum(_totals(facet.name, NO_STANCE).count(term) for term in terms))
            for facet in facets if facet.name != leave_out
            for terms in [tuple(sorted(chosen.chosen.get(facet.name, ())))] if terms]


def _intersection(parts: list[Part]) -> Kept | None:
    return Kept(tuple(parts)) if parts else None


def kept(chosen: Selection, leave_out: str | None = None) -> Kept | None:
    """The allegations ``chosen`` keeps, facet ``leave_out`` aside; None for all: those with a value of each facet
    of the allegation chosen, and a voice that matches the voices' facets."""
    parts = _allegation_parts(chosen, leave_out)
    voice_facets = [facet for facet in VOICE_FACETS if facet.name != leave_out and facet.name in chosen.chosen]
    if len(voice_facets) == 1 and not chosen.is_dated:  # one facet of the voices: as if of the allegation
        parts += _allegation_parts(chosen, leave_out, VOICE_FACETS)
    else:
        voice = tuple((facet.name, terms) for facet in VOICE_FACETS if facet.name != leave_out
                      for terms in [tuple(sorted(chosen.chosen.get(facet.name, ())))] if terms)
        if voice or chosen.is_dated:
            parts.append(Part(None, voice=voice, since=chosen.since, until=chosen.until))
    return _intersection(parts)


def tallies(chosen: Selection) -> dict[str, Tally]:
    """How many allegations each value of each facet leaves, with the other facets as chosen.

    A value of the voices counts the allegations with a voice that has it and matches the other facets of the
    voices and the dates: one voice matches them all together (``claimant=x&stance=denies`` is what x denies).
    The build counted the whole list (of each stance too); a view counts over the allegations it keeps, or when
    it keeps most of them, over those it leaves out, taken from the whole list's counts: a view costs what the
    smaller of the two costs. Facets counted over the same allegations read them once."""
    found: dict[str, Tally] = {}
    over: dict[Kept, list[tuple[Facet, int]]] = {}  # the allegations counted over -> (facet, stance) to count
    for facet in FACETS:
        stance = NO_STANCE
        if not facet.per_voice:
            within = kept(chosen, leave_out=facet.name)
            one = _one_value(chosen, facet.name, FACETS)
        else:
            stances = chosen.chosen.get("stance", frozenset()) if facet.name != "stance" else frozenset()
            others = [name for name in chosen.chosen if name not in ("stance", facet.name) and name in VOICE_NAMES]
            if chosen.is_dated or others or len(stances) > 1:
                found[facet.name] = _voice_by_voice(chosen, facet)
                continue
            stance = next(iter(stances)) if stances else NO_STANCE
            within = _intersection(_allegation_parts(chosen, facet.name))  # the stance is counted voice by voice
            one = _one_value(chosen, facet.name, ALLEGATION_FACETS)
        if within is None:
            found[facet.name] = _totals(facet.name, stance)
        elif one is not None and (counted_by_build := _totals_within(one, facet.name, stance)) is not None:
            found[facet.name] = counted_by_build
        else:
            over.setdefault(within, []).append((facet, stance))
    arrays = _facet_arrays()
    size = everything()
    for within, counted in over.items():
        numbers = _numbers(within)
        fewer = 2 * len(numbers) <= size
        if not fewer:  # the allegations left out (allegations are numbered from 0)
            numbers = arrays.left_out(numbers)
        for facet, stance in counted:
            counts = arrays.counts(numbers, facet.name, None if stance == NO_STANCE else stance)
            found[facet.name] = Tally(counts if fewer else _totals(facet.name, stance).counts - counts)
    return found


class Tally:
    """The counts of a facet's values in a view: ``counts[term]`` allegations are left with each term (a numpy array,
    one count for every term of the list index); the values that leave any, the most frequent first (ties in the
    order of the terms, by label)."""

    def __init__(self, counts: numpy.ndarray):
        self.counts = counts
        self.found = numpy.flatnonzero(counts != 0)  # the values of a mask: a third of the time of the counts' own

    def count(self, term: int) -> int:
        return int(self.counts[term])

    def __len__(self) -> int:
        return len(self.found)

    def first(self, listed: int | None, leaving_out: frozenset[int] = frozenset()) -> list[int]:
        """The ``listed`` most frequent values (None: all), ``leaving_out`` aside. A view at 1M counts thousands of
        values and lists 24: only those are sorted."""
        wanted = len(self.found) if listed is None else min(listed + len(leaving_out), len(self.found))
        found = self.found.astype(numpy.int64)
        key = -self.counts[found].astype(numpy.int64) * len(self.counts) + found  # the order, as one number
        if wanted < len(found):
            key = key[numpy.argpartition(key, wanted)[:wanted]]
        terms = (numpy.sort(key) % len(self.counts)).tolist()
        return [term for term in terms if term not in leaving_out][:listed]


def _voice_by_voice(chosen: Selection, facet: Facet) -> Tally:
    """The counts of a facet of the voices when the view matches voices by more than one stance: of the voices
    that match the other facets of the voices and the dates, in the allegations the view keeps."""
    # Only allegations with the values chosen of the other facets of the voices (on any voice) may have such a voice.
    within = _intersection(_allegation_parts(chosen, facet.name) + _allegation_parts(chosen, facet.name, VOICE_FACETS))
    others = {name: terms for name, terms in chosen.chosen.items()
              if name in VOICE_NAMES and name != facet.name and terms}
    # The facets of the voices of a view of dates alone match the same voices: found once per request.
    found = g.setdefault("allegation view voices", {})
    key = (within, tuple(sorted((name, tuple(sorted(terms))) for name, terms in others.items())))
    if key not in found:
        numbers = numpy.arange(everything()) if within is None else _numbers(within)
        found[key] = _facet_arrays().matching_voices(numbers, others, chosen.since, chosen.until)
    return Tally(_facet_arrays().counts_of_voices(found[key], facet.name))


VOICE_NAMES = frozenset(facet.name for facet in VOICE_FACETS)


def _totals(name: str, stance: int) -> Tally:
    """The counts of facet ``name`` over the whole list (of the voices of ``stance``, or NO_STANCE), as the build
    ranked them: read once per process (a facet of thousands of values took a view milliseconds to read), for
    most views count some facets over the whole list."""
    def read() -> Tally:
        return _read_tally(listing.list_index().one("SELECT counts FROM totals WHERE facet = ? AND stance = ?",
                                                    (name, stance)) or b"")
    return per_process(f"allegation totals {name} {stance}", read)


def _read_tally(counts: bytes) -> Tally:
    """A facet's counts as the build wrote them: [term, count] pairs, the most frequent first."""
    found = read_counted_pairs(counts)
    dense = numpy.zeros(_facet_arrays().terms, dtype=numpy.int64)
    dense[found[:, 0]] = found[:, 1]
    return Tally(dense)


def _one_value(chosen: Selection, leave_out: str, facets: tuple[Facet, ...]) -> tuple[str, int] | None:
    """The facet and term of the one value ``chosen`` names of ``facets`` (``leave_out`` aside), if it names one
    and no dates: the allegations counted over are then those with that value."""
    named = [(facet.name, term) for facet in facets if facet.name != leave_out
             for term in chosen.chosen.get(facet.name, ())]
    return named[0] if len(named) == 1 and not chosen.is_dated else None


def _totals_within(value: tuple[str, int], name: str, stance: int) -> Tally | None:
    """The counts of facet ``name`` among the allegations with ``value`` (a facet and a term), as the build counted
    them for a value that many allegations have; None for the others, counted by the request."""
    found = listing.list_index().one("SELECT counts FROM totals_within WHERE within_facet = ? AND within_term = ?"
                                     " AND facet = ? AND stance = ?", (*value, name, stance))
    return None if found is None else _read_tally(found)


def terms(numbers) -> dict[int, tuple[str, str, str]]:
    """The IRI, label and key (its name in a link) of each of the terms ``numbers``."""
    numbers = sorted(set(numbers))
    found = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        found.update((number, (iri, label, key)) for number, iri, label, key in listing.list_index().query(
            f"SELECT id, iri, label, key FROM terms WHERE id IN ({_marks(chunk)})", chunk))
    return found


def selection() -> tuple[Selection, list[str]]:
    """The selection the query string asks for, and what is wrong with the values that are not one."""
    problems = []
    chosen = {}
    index = listing.list_index()
    for facet in FACETS:
        asked = [value for value in request.args.getlist(facet.name) if value]
        if not asked:
            continue
        known = dict(index.query(f"SELECT key, term FROM facet_keys WHERE facet = ? AND key IN ({_marks(asked)})",
                                 [facet.name, *asked]))
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


def facet_values(chosen: Selection, listed: int | None = None) -> list[dict]:
    """Each facet with its values: how many allegations each leaves (with the other facets as chosen), and
    the link that adds it to the view or takes it out. The chosen values first, then the most frequent;
    ``listed``: at most that many (the chosen ones always), else all of them."""
    counted = tallies(chosen)
    shown = {facet.name: counted[facet.name].first(listed, chosen.chosen.get(facet.name, frozenset()))
             for facet in FACETS}
    named = terms(term for facet in FACETS for term in (*shown[facet.name], *chosen.chosen.get(facet.name, ())))
    found = []
    for facet in FACETS:
        counts = counted[facet.name]
        selected = chosen.chosen.get(facet.name, frozenset())
        keys = [named[term][2] for term in sorted(selected, key=lambda term: named[term][0])]
        view_with = listing.views_by(facet.name)
        total = len(counts) + sum(1 for term in selected if not counts.count(term))
        ordered = sorted(selected, key=lambda term: (-counts.count(term), term)) + shown[facet.name]
        if listed is not None:
            ordered = ordered[:max(listed, len(selected))]
        values = []
        for term in ordered:
            _, label, key = named[term]
            others = [other for other in keys if other != key] if term in selected else keys + [key]
            values.append(Row(label=label, key=key, count=counts.count(term), selected=term in selected,
                              href=view_with(others)))
        found.append({"name": facet.name, "heading": facet.heading, "values": values,
                      "folded_at": max(SHOWN_VALUES, len(selected)), "more": total - len(values)})
    return found


def shown_facets(chosen: Selection, sort: str) -> tuple[list[dict], Markup]:
    """The facets a page lists (facet_values) and their HTML: for the whole list, made once per process for
    each sort (its links keep the sort), as every value listed costs a page a few microseconds."""
    def made() -> tuple[list[dict], Markup]:
        facets = facet_values(chosen, LISTED_VALUES)
        return facets, fragments.facet_sections(facets)
    if chosen.chosen or chosen.is_dated:
        return made()
    return per_process(f"allegation facets {sort}", made)


def found_rows(chosen: Selection, sort: str, pager: Pager | None = None) -> Iterator[dict]:
    """The allegations the view keeps, in ``sort`` order, as the list shows them: those of the page
    ``pager`` shows, or all of them, read as they are iterated."""
    within, notes = kept(chosen), ontology_comments()
    sql, parameters = "SELECT iri, row FROM allegations", []
    if within is not None and pager is not None and order_column(sort) == "n":  # the page's numbers are known
        shown = _numbers(within)[pager.start:pager.start + pager.size].tolist()
        return (row(iri, text, notes) for iri, text in listing.list_index().each(
            f"{sql} WHERE n IN ({_marks(shown)}) ORDER BY n", shown))
    if within is not None:
        sql, parameters = sql + " WHERE n IN (SELECT value FROM json_each(?))", [json.dumps(_numbers(within).tolist())]
    sql += f" ORDER BY {order_column(sort)}"
    if pager is not None:
        sql += f" LIMIT {pager.size} OFFSET {pager.start}"
    return (row(iri, text, notes) for iri, text in listing.list_index().each(sql, parameters))


def found_total(chosen: Selection) -> int:
    within = kept(chosen)
    if within is None:
        return everything()
    return _size(within)


def _facet_arrays() -> FacetArrays:
    return per_process("allegation facet arrays", listing.list_index().facet_arrays)


def _size(within: Kept) -> int:
    return len(_numbers(within))


def _numbers(within: Kept) -> numpy.ndarray:
    """The numbers of the allegations ``within`` keeps, in order, each once, from the build's facet arrays: the
    allegations with each value chosen, intersected, then those with a voice that matches. Once per request: a
    view's size, its facets' counts and its page in reading order are taken from them. A query of the list
    index found them in 8 ms for a type and a stance at 1M, intersecting arrays takes well under one."""
    read = g.setdefault("allegation view numbers", {})
    if within not in read:
        arrays, numbers = _facet_arrays(), None
        for part in sorted(within.parts, key=lambda part: part.size):  # the voices' part (size unknown) last
            if part.facet is not None:
                found = arrays.having(part.facet, part.terms)
                numbers = found if numbers is None else arrays.among(numbers, found)
            else:
                numbers = arrays.with_voice(numpy.arange(everything()) if numbers is None else numbers,
                                            dict(part.voice), part.since, part.until)
        read[within] = numbers
    return read[within]


def everything() -> int:
    """How many allegations the lists hold (those someone speaks to)."""
    return listing.list_index().one("SELECT COUNT(*) FROM allegations")


def row(iri: str, text: str, notes: dict[str, str]) -> dict:
    """An allegation as the list shows it, from its row in the list index; ``notes``: what each status means
    (resources.ontology_comments)."""
    found = json.loads(text)
    status = listing.our_ref(*found["status"]) if found["status"] else None
    return {"allegation": listing.our_ref(iri, found["label"]), "status": status,
            "status_note": notes.get(status.iri) if status else None,
            "types": [listing.our_ref(*named) for named in found["types"]],
            "accused": [listing.our_ref(*named) for named in found["accused"]],
            "asserting": found["asserting"], "denying": found["denying"], "disputing": found["disputing"],
            "latest": found["latest"], "voices": found["voices"]}


@bp.get(PATH)
@bp.get(f"{PATH}.<any(json, csv):extension>")
def allegations(extension: str | None = None):
    fmt = listing.chosen_format(extension)
    chosen, problems = selection()
    sort = listing.checked_parameters(DEFAULT_SORT, problems)
    total = found_total(chosen)

    def html() -> str:
        pager = Pager.of("page", total)
        facets, facets_html = shown_facets(chosen, sort)
        shown = {item["allegation"].iri: item for item in found_rows(chosen, sort, pager)}
        rendered = per_process("allegation rows shown last", lambda: listing.Recent(ROWS_KEPT))
        return render_page(
            "allegations.html", twins=listing.twins(PATH),
            rows=rendered.get(list(shown), lambda iris: {
                iri: Markup(render_template("_allegation_row.html", item=Row(shown[iri]))) for iri in iris}),
            pager=pager, total=total, everything=everything(), facets_html=facets_html,
            sorts=listing.sort_links(sort, DEFAULT_SORT), sort=sort,
            since=request.args.get("from", "").strip(), until=request.args.get("to", "").strip(),
            filtered=[(facet, value) for facet in facets for value in facet["values"] if value["selected"]],
            dated=chosen.is_dated,
            clear_dates=listing.view_href(replace={"from": None, "to": None}),
            clear_all=listing.view_href(replace={name: None for name in ("from", "to", *(f.name for f in FACETS))}))

    def data() -> tuple[dict, dict[str, Iterator[dict]]]:
        named = terms(term for values in chosen.chosen.values() for term in values)
        head = {"total": total, "sort": sort,
                "filters": {name: sorted(named[term][2] for term in values) for name, values in chosen.chosen.items()},
                "from": request.args.get("from") or None, "to": request.args.get("to") or None,
                "facets": {facet["name"]: [{"value": value["key"], "label": value["label"], "count": value["count"],
                                            "selected": value["selected"]} for value in facet["values"]]
                           for facet in facet_values(chosen)}}
        return head, {"allegations": map(_plain, found_rows(chosen, sort))}

    def table() -> tuple[list[str], Iterator[list]]:
        columns = ["allegation", "label", "status", "types", "accused", "asserting", "denying", "disputing",
                   "latest_date", "page"]
        return columns, ([item["iri"], item["label"], item["status"] or "", "; ".join(item["types"]),
                          "; ".join(accused["label"] for accused in item["accused"]), item["asserting"],
                          item["denying"], item["disputing"], item["latest_date"] or "", item["url"]]
                         for item in map(_plain, found_rows(chosen, sort)))

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
