"""How the record moved over time: an allegation's current status, and the record as it stood on a date.

One rule for both, used by the build (the current status it derives), ``kg query --as-of`` and the pages'
``?as_of=``:

- A status statement is superseded when a statement the record holds names it in ``sol:supersedes``.
  An allegation's status is its latest statement not superseded: latest by date (``date_order``: a date of
  any precision sorts by the last day it may mean, so a month or a year comes after the days in it;
  undated statements come first), and on the same date the one further along the course of a case.
- The record as of a day holds what the sources published by then say: each source's graph whose
  source date ends on or before that day ("2020" ends on 2020-12-31: only what was certainly on record),
  with the reference data and the ontology. Undated sources are left out, and so is the graph the build
  derives, which holds the current statuses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from pyoxigraph import NamedNode, Store

from kg import ids
from kg import schema as sc
from kg.store import run_named_query

STATUS_ORDER = {name: rank for rank, (name, _) in enumerate(sc.ALLEGATION_STATUSES)}
STATUS_NAMES = {concept.value: name for name, concept in sc.ALLEGATION_STATUSES}
AS_OF_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class StatusStep:
    """One status statement, with what is needed to order the course of an allegation."""

    iri: str
    allegation: str
    status: str  # its name in kg.schema.ALLEGATION_STATUSES
    date: str | None
    supersedes: str | None = None


def date_order(date: str | None) -> tuple[str, str]:
    """Where a date of any precision (YYYY, YYYY-MM, YYYY-MM-DD) sorts in time, for every list in date order:
    by the last day it may mean, then by its text. What is known only to a month or a year was certainly
    past only at its end, so it follows the days of that month or year: an answer dated "September 2011"
    follows the act of 8 September it answers. Undated: before every date (lists that show the undated
    last say so themselves)."""
    return (end_of(date), date) if date else ("", "")


def course_order(step: StatusStep) -> tuple:
    """The order of a case's course: by date, and on the same date the step further along."""
    return *date_order(step.date), STATUS_ORDER[step.status], step.iri


def current_statuses(steps: list[StatusStep]) -> dict[str, StatusStep]:
    """Each allegation's latest status statement that no other one of ``steps`` supersedes."""
    superseded = {step.supersedes for step in steps if step.supersedes}
    latest: dict[str, StatusStep] = {}
    for step in sorted(steps, key=course_order):
        if step.iri not in superseded:
            latest[step.allegation] = step
    return latest


def on_record_by(date: str | None, day: str) -> bool:
    """Whether something of ``date`` was certainly on record by ``day`` (an undated thing is not known to be)."""
    return bool(date) and end_of(date) <= day


def end_of(day: str) -> str:
    """The last day a date of any precision may mean, as text that sorts in time order."""
    if len(day) == 4:
        return f"{day}-12-31"
    if len(day) == 7:
        return f"{day}-31"  # compared as text only: no month has a later day
    return day


def parse_as_of(text: str) -> str:
    """A day to read the record as of: YYYY-MM-DD, or YYYY / YYYY-MM for the end of that year or month."""
    text = text.strip()
    if not AS_OF_PATTERN.match(text):
        raise ValueError(f"{text!r} is not a date: write YYYY-MM-DD (or YYYY, YYYY-MM)")
    day = end_of(text)
    try:
        date.fromisoformat(day if len(text) != 7 else f"{text}-01")
    except ValueError:
        raise ValueError(f"{text!r} is not a real date") from None
    return day


def graphs_as_of(store: Store, day: str) -> list[NamedNode]:
    """The graphs of ``store`` that make up the record as of ``day``: the reference data, and the graph of each
    source on record by then (kg/queries/dated-source-graphs.rq)."""
    rows = run_named_query(store, "dated-source-graphs")
    graphs = {row["graph"].value for row in rows if on_record_by(row["issued"].value, day)}
    graphs |= {ids.REFERENCE_GRAPH.value, ids.ONTOLOGY_GRAPH.value}
    return [NamedNode(iri) for iri in sorted(graphs)]
