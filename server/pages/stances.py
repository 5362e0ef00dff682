"""Allegations as pages show them: the status of each, who asserts, denies or disputes it, and how it moved.

An allegation's status is the one on record, or with ``?as_of=`` the latest status statement on record
by that day (kg.history).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from pyoxigraph import NamedNode

from kg.history import STATUS_NAMES, StatusStep, course_order, current_statuses, on_record_by
from kg.search import folded
from kg.vocab import SOL
from server.pages.lists import Pager, sections
from server.pages.record import as_of_day, rows
from server.pages.resources import Ref, ontology_comments, readable, readable_term, reading_order, select


@dataclass
class Stances:
    """One allegation with its status and every attribution on it, split by stance when read."""

    allegation: Ref
    status: Ref | None
    status_note: str | None
    attributions: list[dict] = field(default_factory=list)

    @cached_property
    def denying(self) -> list[dict]:
        return self._side(SOL.Denies)

    @cached_property
    def disputing(self) -> list[dict]:
        """Those who contest the claim or its framing without being accused of it."""
        return self._side(SOL.Disputes)

    @property
    def asserting(self) -> list[dict]:
        return self._side(SOL.Asserts)

    def _side(self, stance: NamedNode) -> list[dict]:
        return sorted((row for row in self.attributions if row["stance"].iri == stance.value),
                      key=lambda row: reading_order(row["claimant"]))


def stances(order: list[str] | None = None, **bound: list[str]) -> list[Stances]:
    """The allegations ``bound`` names (``allegation=`` IRIs, or ``attribution=`` IRIs: only those
    attributions, and their allegations), in ``order`` (their IRIs) or else in reading order."""
    grouped = _stances_by_allegation(**bound)
    if order is None:
        return sorted(grouped.values(), key=lambda item: reading_order(item.allegation))
    return [grouped[iri] for iri in order if iri in grouped]


def paged_stances(lists: dict[str, str], this: str, own: dict[str, str] | None = None) -> dict[str, tuple]:
    """A page of allegations, in reading order with their stances, for each of ``lists``.

    ``lists`` maps each list's name (its page's query parameter too) to the pattern that binds its
    ?allegation from ?this. The allegations are listed and ordered first, which is cheap; only the
    allegations of the pages shown are then read in full. ``own`` maps a list's name to a column
    (claimant, source): its attributions are kept only where that column is ?this.
    Returns, for each list, its allegations (Stances) and its Pager.
    """
    labels: dict[str, dict[str, str]] = {name: {} for name in lists}
    for row in rows("allegation-lists", lists=sections(lists, this), this=this):
        labels[row["section"].value].setdefault(row["allegation"].value, row["label"].value)
    windows = {}
    for name, found in labels.items():
        pager = Pager.of(name, len(found))
        windows[name] = (pager.window(sorted(found, key=lambda iri: (folded(found[iri]), iri))), pager)
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


def _stances_by_allegation(**bound: list[str]) -> dict[str, Stances]:
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


def status_course(allegations: list[str]) -> list[dict]:
    """The status statements of ``allegations`` on record (as of ``?as_of=``), in date order, each marked
    ``superseded_by`` the statement that corrects it, if one does."""
    found = rows("status-course", allegation=allegations)
    corrected_by = {row["supersedes"].value: row["statement"] for row in found if row["supersedes"] is not None}
    day = as_of_day()
    course = []
    for row in found:
        date = row["date"].value if row["date"] is not None else None
        if day and not on_record_by(date, day):
            continue
        item = readable([row])[0]
        correction = corrected_by.get(row["statement"].value)
        item["superseded_by"] = readable_term(correction) if correction is not None else None
        item["step"] = StatusStep(row["statement"].value, row["allegation"].value, STATUS_NAMES[row["status"].value],
                                  date, row["supersedes"].value if row["supersedes"] is not None else None)
        course.append(item)
    return sorted(course, key=lambda item: course_order(item["step"]))


def status_as_of(allegations: list[str]) -> dict[str, Ref]:
    """The status of each of ``allegations`` as of ``?as_of=``: the latest statement on record by then."""
    course = {item["step"]: item for item in status_course(allegations)}
    return {allegation: course[step]["status"] for allegation, step in current_statuses(list(course)).items()}
