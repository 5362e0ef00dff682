"""The list of allegations at /allegations, narrowed by facets, with the whole view in its address.

Facets: the current status, the kind of wrongdoing, the accused (read from the allegation), and who speaks,
their stance and the source (read from each attribution, and matched together: ``claimant=x&stance=denies``
is what x denies), with the dates of the sources (``from``, ``to``: YYYY, YYYY-MM or YYYY-MM-DD; a date
matches when the time it names overlaps the range). Several values of one facet widen the list, facets
narrow it; beside each value, how many allegations the list would hold with it. JSON and CSV twins hold
the whole list of the view.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Callable

from flask import Blueprint, render_template, request
from markupsafe import Markup

from kg import schema as sc
from kg.history import end_of, parse_as_of
from kg.vocab import SOL
from server.pages import listing
from server.pages.lists import Pager
from server.pages.render import render_page
from server.pages.resources import Row, ontology_comments
from server.release import per_process

bp = Blueprint("allegation_list", __name__)

PATH = "/allegations"
DEFAULT_SORT = "label"
SHOWN_VALUES = 8  # values of a facet shown before "more"
KEPT_RANGES = 8  # date ranges whose voices a process keeps: those asked for last
LISTED_VALUES = 24  # values of a facet a page lists at most (the most frequent); the JSON twin has them all


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
VOICE_NAMES = frozenset(facet.name for facet in VOICE_FACETS)
FACETS = ALLEGATION_FACETS + VOICE_FACETS


@dataclass(frozen=True)
class Selection:
    """What the view asks for: for each facet, the IRIs chosen (any of them will do); the sources' dates."""

    chosen: dict[str, frozenset[str]]
    since: str | None = None
    until: str | None = None  # the last day the "to" date may mean

    @property
    def is_dated(self) -> bool:
        return self.since is not None or self.until is not None


@dataclass(frozen=True)
class Tally:
    """The counts of a facet's values in a view: the first few, any value's, and how many values leave any."""

    first: list[tuple[str, int]]  # (IRI, count), the most frequent first
    counts: Mapping[str, int]  # of any value (none: 0)
    values: int


class _Lowered(Mapping):
    """The counts of the whole list less those of what a view leaves out, value by value, when asked."""

    def __init__(self, totals: Counter, left_out: Counter):
        self.totals, self.left_out = totals, left_out

    def __getitem__(self, iri: str) -> int:
        return self.totals[iri] - self.left_out[iri]

    def __iter__(self):
        return iter(self.totals)

    def __len__(self) -> int:
        return len(self.totals)


class FacetIndex:
    """What the facets read, made once per process and release from the list's index: each allegation by its
    position in reading order, each voice by its position in one flat list, and for each facet value the
    allegations (or voices) that have it, with the counts of the whole list. A view then unites and intersects
    the sets of the values it names, and counts only over the allegations it keeps, never the whole list."""

    def __init__(self, index: listing.Index):
        entries = index.entries
        self.size = len(entries)
        self.values = {facet.name: [facet.of(entry) for entry in entries] for facet in ALLEGATION_FACETS}
        voice_rows = [(number, voice) for number, entry in enumerate(entries) for voice in entry.voices]
        self.voice_allegation = [number for number, _ in voice_rows]
        self.voice_values = {facet.name: [facet.of(voice)[0] for _, voice in voice_rows] for facet in VOICE_FACETS}
        self.voice_dates = [voice.date for _, voice in voice_rows]
        self.by_date: tuple[list[int], list[str], list[int], list[str]] | None = None  # made when first asked for
        self.ranges: dict[tuple[str | None, str | None], frozenset[int]] = {}
        self.entries = entries
        self.spoken = {None: self._spoken(entries, None)}  # of one stance: made when a view first needs it
        self.allegations_with: dict[str, dict[str, frozenset[int]]] = {}
        for facet in FACETS:
            table = self.values[facet.name] if not facet.per_voice else self.spoken[None][facet.name]
            found: dict[str, set[int]] = {}
            for number, values in enumerate(table):
                for iri in values:
                    found.setdefault(iri, set()).add(number)
            self.allegations_with[facet.name] = {iri: frozenset(numbers) for iri, numbers in found.items()}
        self.voices_with: dict[str, dict[str, frozenset[int]]] = {}
        for facet in VOICE_FACETS:
            found = {}
            for number, iri in enumerate(self.voice_values[facet.name]):
                found.setdefault(iri, set()).add(number)
            self.voices_with[facet.name] = {iri: frozenset(numbers) for iri, numbers in found.items()}
        # What a link names each value by, per facet: its key (index.keys), the vocabulary's names included.
        self.known = {facet.name: {**{name: concept.value for name, concept in facet.vocabulary},
                                   **{index.keys[iri]: iri for iri in self.allegations_with[facet.name]}}
                      for facet in FACETS}
        self.orders: dict[str, tuple[list[int], list[int]]] = {}  # sort -> the allegations in order, their places
        # Every value in the order facets list them when their counts tie: by label, then IRI.
        values = {iri for table in self.allegations_with.values() for iri in table}
        values.update(concept.value for facet in FACETS for _, concept in facet.vocabulary)
        self.by_label = sorted(values, key=lambda iri: (index.labels[iri].casefold(), iri))
        self.label_rank = {iri: number for number, iri in enumerate(self.by_label)}
        self.everything = frozenset(range(self.size))
        # What is counted for a facet (its name, and a stance or None): the values of each allegation, or of its
        # voices (of one stance, or all); how many allegations have each, and those in the order facets list them.
        self.tables: dict[tuple[str, str | None], list[tuple]] = {
            (facet.name, None): self.values[facet.name] for facet in ALLEGATION_FACETS}
        self.tables.update(((facet.name, None), self.spoken[None][facet.name]) for facet in VOICE_FACETS)
        self.totals: dict[tuple[str, str | None], Counter] = {}
        self.ranked_totals: dict[tuple[str, str | None], list[str]] = {}

    def table(self, key: tuple[str, str | None]) -> tuple[list[tuple], Counter, list[str]]:
        """What is counted for facet ``key`` (its name, and a stance or None), the counts of the whole list and
        its values in their order; made once per process, when a view first needs them."""
        name, stance = key
        if key not in self.tables:
            if stance not in self.spoken:
                self.spoken[stance] = self._spoken(self.entries, stance)
            self.tables[key] = self.spoken[stance][name]
        if key not in self.totals:
            self.totals[key] = Counter(chain.from_iterable(self.tables[key]))
            self.ranked_totals[key] = self.ranked(self.totals[key])
        return self.tables[key], self.totals[key], self.ranked_totals[key]

    def order(self, sort: str) -> tuple[list[int], list[int]]:
        """The allegations in ``sort`` order (by position), and the place of each in it."""
        if sort not in self.orders:
            position = {entry.iri: number for number, entry in enumerate(self.entries)}
            order = [position[entry.iri] for entry in listing.sorted_entries(list(self.entries), sort)]
            self.orders[sort] = order, _positions(order)
        return self.orders[sort]

    def ranked(self, counts: dict[str, int], listed: int | None = None) -> list[str]:
        """The values counted (none counted 0), the most frequent first (ties by label); the first ``listed``
        (None: all). Each value is one integer to sort by, so that thousands of them sort in a millisecond."""
        shift, rank = len(self.by_label), self.label_rank
        keys = sorted(rank[iri] - count * shift for iri, count in counts.items())
        return [self.by_label[key % shift] for key in (keys if listed is None else keys[:listed])]

    @staticmethod
    def _spoken(entries, stance: str | None) -> dict[str, list[tuple[str, ...]]]:
        """Per allegation, the distinct values its voices have, of all of them (None) or of those of ``stance``."""
        spoken = {facet.name: [] for facet in VOICE_FACETS}
        for entry in entries:
            voices = [voice for voice in entry.voices if stance in (None, voice.stance)]
            for facet in VOICE_FACETS:  # each named as the Voice's field it reads
                spoken[facet.name].append(tuple({getattr(voice, facet.name) for voice in voices}))
        return spoken

    def kept(self, chosen: Selection, leave_out: str | None = None) -> frozenset[int] | None:
        """The allegations ``chosen`` keeps, facet ``leave_out`` aside (by position); None for all of them."""
        sets = []
        for facet in ALLEGATION_FACETS:
            if facet.name != leave_out and facet.name in chosen.chosen:
                sets.append(self._union(self.allegations_with[facet.name], chosen.chosen[facet.name]))
        voice_facets = [facet for facet in VOICE_FACETS if facet.name != leave_out and facet.name in chosen.chosen]
        if len(voice_facets) == 1 and not chosen.is_dated:  # one facet of the voices: as if of the allegation
            sets.append(self._union(self.allegations_with[voice_facets[0].name], chosen.chosen[voice_facets[0].name]))
        elif voice_facets or chosen.is_dated:
            voices = self.voices_kept(chosen, leave_out)
            sets.append(frozenset(self.voice_allegation[number] for number in voices))
        if not sets:
            return None
        sets.sort(key=len)
        return sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]

    def voices_kept(self, chosen: Selection, leave_out: str | None) -> frozenset[int] | range:
        """The voices that match every facet of the voices chosen, ``leave_out`` aside, and the dates."""
        sets = [self._union(self.voices_with[facet.name], chosen.chosen[facet.name]) for facet in VOICE_FACETS
                if facet.name != leave_out and facet.name in chosen.chosen]
        sets.sort(key=len)
        kept = (sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]) if sets else None
        if chosen.is_dated:
            dated = self.dated_voices(chosen.since, chosen.until)
            kept = dated if kept is None else kept & dated
        return kept if kept is not None else range(len(self.voice_allegation))

    def dated_voices(self, since: str | None, until: str | None) -> frozenset[int]:
        """The voices whose source's date overlaps the range: found by halving the voices in the order of
        their dates' first and last days, once per request (the last few ranges asked for are kept)."""
        if (since, until) not in self.ranges:
            if self.by_date is None:
                dated = [number for number, date in enumerate(self.voice_dates) if date is not None]
                by_start = sorted(dated, key=self.voice_dates.__getitem__)
                by_end = sorted(dated, key=lambda number: end_of(self.voice_dates[number]))
                self.by_date = (by_start, [self.voice_dates[number] for number in by_start],
                                by_end, [end_of(self.voice_dates[number]) for number in by_end])
            by_start, starts, by_end, ends = self.by_date
            found = frozenset(by_start[:bisect_right(starts, until)] if until is not None else by_start)
            if since is not None:
                found = found.intersection(by_end[bisect_left(ends, since):])
            while len(self.ranges) >= KEPT_RANGES:
                del self.ranges[next(iter(self.ranges))]
            self.ranges[(since, until)] = found
        return self.ranges[(since, until)]

    @staticmethod
    def _union(table: dict[str, frozenset[int]], iris: frozenset[str]) -> frozenset[int]:
        found = [table.get(iri, frozenset()) for iri in iris]
        return found[0].union(*found[1:]) if len(found) > 1 else found[0]

    def tally(self, chosen: Selection, facet: Facet, listed: int | None) -> Tally:
        """How many allegations each value of ``facet`` leaves, with the other facets as chosen: the first
        ``listed`` values (None: all) with their counts, the most frequent first, and how many values leave any.

        When the view keeps most of the list, what it leaves out is counted and taken from the whole list's
        counts: a view costs what the smaller of the two costs."""
        kept = self.kept(chosen, leave_out=facet.name)
        stance = None
        if facet.per_voice:
            stances = chosen.chosen.get("stance", frozenset()) if facet.name != "stance" else frozenset()
            others = [name for name in chosen.chosen if name in VOICE_NAMES and name not in (facet.name, "stance")]
            if chosen.is_dated or others or len(stances) > 1:
                # The values and the other facets of the voices match one voice together: count voice by voice.
                values, of = self.voice_values[facet.name], self.voice_allegation
                pairs = {(of[number], values[number]) for number in self.voices_kept(chosen, leave_out=facet.name)
                         if kept is None or of[number] in kept}
                return self._counted(Counter(iri for _, iri in pairs), listed)
            stance = next(iter(stances)) if stances else None
        table, totals, ranked = self.table((facet.name, stance))
        if kept is None or len(kept) == self.size:
            return Tally([(iri, totals[iri]) for iri in (ranked if listed is None else ranked[:listed])],
                         totals, len(totals))
        if 2 * len(kept) <= self.size:
            return self._counted(Counter(chain.from_iterable(map(table.__getitem__, kept))), listed)
        left_out = Counter(chain.from_iterable(map(table.__getitem__, self.everything - kept)))
        gone = sum(1 for iri, count in left_out.items() if count == totals[iri])
        if listed is None:
            return self._counted(Counter({iri: total - left_out[iri] for iri, total in totals.items()
                                          if total > left_out[iri]}), None)
        # The whole list's values in its order, each count lowered by what the view leaves out: none can rise,
        # so once a value's whole count is below the last of the first ``listed``, none after it can enter.
        best: list[tuple[int, int, str]] = []
        rank = self.label_rank
        for iri in ranked:
            total = totals[iri]
            if len(best) == listed and total < best[0][0]:
                break
            count = total - left_out.get(iri, 0)
            if count:
                item = (count, -rank[iri], iri)  # a heap of the first ``listed``, the last of them on top
                if len(best) < listed:
                    heapq.heappush(best, item)
                elif item > best[0]:
                    heapq.heapreplace(best, item)
        top = sorted(best, reverse=True)
        return Tally([(iri, count) for count, _, iri in top],
                     _Lowered(totals, left_out), len(totals) - gone)

    def _counted(self, counts: dict[str, int], listed: int | None) -> Tally:
        return Tally([(iri, counts[iri]) for iri in self.ranked(counts, listed)], counts, len(counts))

    def found(self, chosen: Selection, sort: str) -> list[int]:
        """The allegations the view keeps, by position, in ``sort`` order."""
        kept = self.kept(chosen)
        order, rank = self.order(sort)
        return order if kept is None else sorted(kept, key=rank.__getitem__)


def _positions(order: list[int]) -> list[int]:
    rank = [0] * len(order)
    for place, number in enumerate(order):
        rank[number] = place
    return rank


def facet_index() -> FacetIndex:
    return per_process("allegation facets", lambda: FacetIndex(listing.allegations()))


def selection(index: listing.Index) -> tuple[Selection, list[str]]:
    """The selection the query string asks for, and what is wrong with the values that are not one."""
    problems = []
    chosen = {}
    known_by_facet = facet_index().known
    for facet in FACETS:
        asked = [value for value in request.args.getlist(facet.name) if value]
        if not asked:
            continue
        known = known_by_facet[facet.name]
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


def facet_values(index: listing.Index, chosen: Selection, listed: int | None = None) -> list[dict]:
    """Each facet with its values: how many allegations each leaves (with the other facets as chosen), and
    the link that adds it to the view or takes it out. The chosen values first, then the most frequent;
    ``listed``: at most that many (the chosen ones always), else all of them."""
    found = []
    facets = facet_index()
    for facet in FACETS:
        tally = facets.tally(chosen, facet, listed)
        counts = tally.counts
        selected = chosen.chosen.get(facet.name, frozenset())
        keys = [index.keys[iri] for iri in sorted(selected)]
        view_with = listing.views_by(facet.name)
        labels = index.labels
        total = tally.values + sum(1 for iri in selected if not counts.get(iri))
        ordered = sorted(selected, key=lambda iri: (-counts.get(iri, 0), facets.label_rank[iri]))
        ordered += [iri for iri, _ in tally.first if iri not in selected]
        if listed is not None:
            ordered = ordered[:max(listed, len(selected))]
        values = []
        for iri in ordered:
            key = index.keys[iri]
            others = [other for other in keys if other != key] if iri in selected else keys + [key]
            values.append(Row(label=labels[iri], key=key, count=counts.get(iri, 0), selected=iri in selected,
                              href=view_with(others)))
        found.append({"name": facet.name, "heading": facet.heading, "values": values,
                      "folded_at": max(SHOWN_VALUES, len(selected)), "more": total - len(values)})
    return found


def shown_facets(index: listing.Index, chosen: Selection, sort: str) -> tuple[list[dict], Markup]:
    """The facets a page lists (facet_values) and their HTML: for the whole list, made once per process for
    each sort (its links keep the sort), as every value listed costs a page a few microseconds."""
    def made() -> tuple[list[dict], Markup]:
        facets = facet_values(index, chosen, LISTED_VALUES)
        return facets, Markup(render_template("_allegation_facets.html", facets=facets))
    if chosen.chosen or chosen.is_dated:
        return made()
    return per_process(f"allegation facets {sort}", made)


def rendered_row(index: listing.Index, entry: listing.Entry) -> Markup:
    """The HTML of an allegation in the list, made once per process and release: it is the same on every page."""
    rendered = per_process("allegation rows", dict)
    if entry.iri not in rendered:
        rendered[entry.iri] = Markup(render_template("_allegation_row.html", item=row(index, entry)))
    return rendered[entry.iri]


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
    ordered = facet_index().found(chosen, sort)
    total = len(ordered)

    def entries(numbers: list[int]) -> list[listing.Entry]:
        return [index.entries[number] for number in numbers]

    def html() -> str:
        pager = Pager.of("page", total)
        facets, facets_html = shown_facets(index, chosen, sort)
        return render_page(
            "allegations.html", twins=listing.twins(PATH), rows=[rendered_row(index, entry) for entry in entries(
                pager.window(ordered))], pager=pager,
            total=total, everything=len(index.entries), facets_html=facets_html,
            sorts=listing.sort_links(sort, DEFAULT_SORT), sort=sort,
            since=request.args.get("from", "").strip(), until=request.args.get("to", "").strip(),
            filtered=[(facet, value) for facet in facets for value in facet["values"] if value["selected"]],
            dated=chosen.is_dated,
            clear_dates=listing.view_href(replace={"from": None, "to": None}),
            clear_all=listing.view_href(replace={name: None for name in ("from", "to", *(f.name for f in FACETS))}))

    def data() -> dict:
        shown = [row(index, entry) for entry in entries(ordered)]
        return {"total": total, "sort": sort,
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
        for item in map(_plain, (row(index, entry) for entry in entries(ordered))):
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
