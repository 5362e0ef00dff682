"""Allegations as pages show them: the status of each, who asserts, denies or disputes it, and how it moved.

An allegation's status is the one on record, or with ``?as_of=`` the latest status statement on record
by that day (kg.history).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, NamedTuple

from pyoxigraph import Literal, NamedNode

from kg.history import STATUS_NAMES, StatusStep, course_order, current_statuses, on_record_by
from kg.page_index import Entry, Lists
from kg.search import folded
from kg.vocab import SOL
from server.pages.lists import BLOCKS_PER_PAGE, Pager, sections
from server.pages.record import as_of_day, page_index, rows, today_index
from server.pages.resources import (
    Ref,
    Row,
    ontology_comments,
    reading_order,
    request_labels,
    select,
)

# The stances' IRIs as text, read once: a page splits dozens of allegations by them, and a term's ``value`` is a
# new string each time it is read.
ASSERTS, DENIES, DISPUTES = SOL.Asserts.value, SOL.Denies.value, SOL.Disputes.value


@dataclass
class Stances:
    """One allegation with its status and every attribution on it, split by stance when first read."""

    allegation: Ref
    status: Ref | None
    status_note: str | None
    attributions: list[dict] = field(default_factory=list)
    _sides: dict[str, list] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def asserting(self) -> list[dict]:
        return self._by_stance()[ASSERTS]

    @property
    def denying(self) -> list[dict]:
        return self._by_stance()[DENIES]

    @property
    def disputing(self) -> list[dict]:
        """Those who contest the claim or its framing without being accused of it."""
        return self._by_stance()[DISPUTES]

    @property
    def asserted_by(self) -> int:
        return len(self.asserting)

    @property
    def denied_by(self) -> int:
        return len(self.denying)

    def _by_stance(self) -> dict[str, list]:
        # Split once, all sides at a time (a page reads each side of each allegation), after the attributions
        # are all in. By claimant; one claimant's several attributions (in several sources) in the order of
        # their IRIs.
        if self._sides is None:
            sides: dict[str, list] = {ASSERTS: [], DENIES: [], DISPUTES: []}
            for row in sorted(self.attributions, key=lambda row: (reading_order(row["claimant"]), row["attribution"].iri)):
                side = sides.get(row["stance"].iri)
                if side is not None:
                    side.append(row)
            self._sides = sides
        return self._sides


class Listed(NamedTuple):
    """An allegation as a list of allegations shows it (fragments.allegation_list): its status, and how many
    voices assert and deny it. Read from the page index's counts (kg.page_index.Counted); a Stances, read with
    its voices, answers the same."""

    allegation: Ref
    status: Ref | None
    status_note: str | None
    asserted_by: int
    denied_by: int


def listed(shown: list[str]) -> list[Listed]:
    """The allegations ``shown`` (IRIs) that someone speaks to, in that order, as lists show them in the record
    today."""
    counted, refer, notes = page_index().counted(shown), request_labels().ref, ontology_comments()
    return [Listed(refer(iri), refer(item.status) if item.status else None,
                   notes.get(item.status) if item.status else None, item.asserting, item.denying)
            for iri in shown if (item := counted.get(iri)) is not None and item.voices]


def indexed_involvement(part: str) -> Lists | None:
    """The lists of the page of an actor or place in the record today (kg.involvement, in the build's page
    index); None with ``?as_of=``: the page reads the store then."""
    index = today_index()
    return index.involvement_of(part) if index is not None else None


def indexed_window(about: Lists, name: str, parameter: str, at_most: int | None = None) -> tuple[list, Pager]:
    """The page shown (page parameter ``parameter``, ``at_most`` items a page if fewer than the page size) of
    the list ``name`` of ``about`` (indexed_involvement, or lists.lists_about), and its Pager."""
    pager = Pager.of(parameter, about.size(name), at_most)
    return about.window(name, pager.start, pager.size), pager


def stances(order: list[str] | None = None, **bound: list[str]) -> list[Stances]:
    """The allegations ``bound`` names (``allegation=`` IRIs, or ``attribution=`` IRIs: only those
    attributions, and their allegations), in ``order`` (their IRIs) or else in reading order."""
    grouped = _stances_by_allegation(**bound)
    if order is None:
        return sorted(grouped.values(), key=lambda item: reading_order(item.allegation))
    return [grouped[iri] for iri in order if iri in grouped]


def paged_stances(lists: dict[str, str], this: str, own: dict[str, str] | None = None,
                  paged: dict[str, tuple[list[str], Pager]] | None = None,
                  blocks: tuple[str, ...] = ()) -> dict[str, tuple]:
    """A page of allegations, in reading order with their stances, for each of ``lists``.

    ``lists`` maps each list's name (its page's query parameter too) to the pattern that binds its
    ?allegation from ?this. The allegations are listed and ordered first, which is cheap; only the
    allegations of the pages shown are then read in full. ``own`` maps a list's name to a column
    (claimant, source): its attributions are kept only where that column is ?this. ``paged``: lists
    listed and paged elsewhere (name -> the allegations of the page shown, and its Pager), read in the
    same query. ``blocks``: lists shown as allegation blocks, with every voice, BLOCKS_PER_PAGE a page.
    Returns, for each list, its allegations (Stances) and its Pager.
    """
    labels: dict[str, dict[str, str]] = {name: {} for name in lists}
    for row in rows("allegation-lists", lists=sections(lists, this), this=this) if lists else ():
        labels[row["section"].value].setdefault(row["allegation"].value, row["label"].value)
    windows = {}
    for name, found in labels.items():
        pager = Pager.of(name, len(found), BLOCKS_PER_PAGE if name in blocks else None)
        windows[name] = (pager.window(sorted(found, key=lambda iri: (folded(found[iri]), iri))), pager)
    windows.update(paged or {})
    shown = sorted({iri for window, _ in windows.values() for iri in window})
    grouped = _stances_by_allegation(allegation=shown) if shown else {}
    pages = {}
    for name, (window, pager) in windows.items():
        column = (own or {}).get(name)
        items = [grouped[iri] for iri in window if iri in grouped]
        if column:
            items = [replace(item, attributions=[row for row in item.attributions if row[column].iri == this])
                     for item in items]
        pages[name] = (items, pager)
    return pages


def entry_stances(entry: Entry, ref: Callable[[str], Ref], notes: dict[str, str]) -> Stances:
    """An allegation of the build's page index (kg.page_index) as pages show it, ``ref`` naming its IRIs and
    ``notes`` explaining its status (ontology_comments)."""
    found = Stances(ref(entry.iri), ref(entry.status) if entry.status else None,
                    notes.get(entry.status) if entry.status else None)
    # Rows of a dict made here (a call by keywords takes twice as long): a dossier page makes hundreds.
    found.attributions = [Row({"allegation": found.allegation, "status": found.status,
                               "attribution": ref(voice.attribution), "claimant": ref(voice.claimant),
                               "stance": ref(voice.stance), "source": ref(voice.source), "quote": voice.quote,
                               "translation": voice.translation, "note": voice.note, "statement": None})
                          for voice in entry.voices]
    return found


def _stances_by_allegation(**bound: list[str]) -> dict[str, Stances]:
    """The record today is read from the build's page index; the record as of a day, or attributions, from
    the store."""
    if as_of_day() is None and list(bound) == ["allegation"]:
        return indexed_stances(bound["allegation"])
    return live_stances(**bound)


def indexed_stances(iris: list[str]) -> dict[str, Stances]:
    """The allegations ``iris`` of the page index that someone speaks to, as pages show them."""
    entries, refer, notes = indexed_entries(iris), request_labels().ref, ontology_comments()
    return {iri: entry_stances(entry, refer, notes) for iri, entry in entries.items() if entry.voices}


def indexed_entries(iris: list[str]) -> dict[str, Entry]:
    """The allegations ``iris`` of the page index, by IRI; the labels of their claimants and sources (the build
    wrote them beside each allegation) remembered for the request."""
    entries, shown = page_index().labelled_allegations(iris)
    request_labels().remember(shown)
    return entries


def live_stances(**bound: list[str]) -> dict[str, Stances]:
    """The allegations ``bound`` names, as _stances_by_allegation, read from the store (queries/stances.rq)."""
    grouped: dict[str, Stances] = {}
    notes = ontology_comments()
    for row in select("stances", **bound):
        item = grouped.setdefault(row["allegation"].iri, Stances(row["allegation"], row["status"], None))
        item.attributions.append(row)
    if as_of_day():
        statuses = status_as_of(sorted(grouped))
        for iri, item in grouped.items():
            item.status = statuses.get(iri)
    for item in grouped.values():
        item.status_note = notes.get(item.status.iri) if item.status else None
    return grouped


# The columns of a course's rows (status-course.rq, kg.page_index.courses) that name resources; the others are texts.
COURSE_REFS = ("statement", "allegation", "status", "source", "supersedes")


def status_course(allegations: list[str]) -> list[dict]:
    """The status statements of ``allegations`` on record (as of ``?as_of=``), in date order, each marked
    ``superseded_by`` the statement that corrects it, if one does. The record today reads them from the
    build's page index."""
    day, index = as_of_day(), today_index()
    if index is not None:
        found = [row for allegation in allegations for row in index.course(allegation)]
    else:
        found = [{name: term.value if isinstance(term, (NamedNode, Literal)) else None for name, term in row.items()}
                 for row in rows("status-course", allegation=allegations)]
    corrected_by = {row["supersedes"]: row["statement"] for row in found if row["supersedes"] is not None}
    refer = request_labels().ref
    course = []
    for row in found:
        if day and not on_record_by(row["date"], day):
            continue
        item = Row({name: refer(value) if name in COURSE_REFS and value is not None else value
                    for name, value in row.items()})
        correction = corrected_by.get(row["statement"])
        item["superseded_by"] = refer(correction) if correction is not None else None
        item["step"] = StatusStep(row["statement"], row["allegation"], STATUS_NAMES[row["status"]], row["date"],
                                  row["supersedes"])
        course.append(item)
    return sorted(course, key=lambda item: course_order(item["step"]))


def status_as_of(allegations: list[str]) -> dict[str, Ref]:
    """The status of each of ``allegations`` as of ``?as_of=``: the latest statement on record by then."""
    course = {item["step"]: item for item in status_course(allegations)}
    return {allegation: course[step]["status"] for allegation, step in current_statuses(list(course)).items()}
