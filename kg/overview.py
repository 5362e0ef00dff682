"""The overview a home page opens with, computed once per build: counts and the head of each list.

Counting and ranking the whole graph takes seconds at a million statements, so a build does it once
and writes the result into its manifest; pages read it from there. The queries are kg/queries/overview-*.rq;
each list holds at most 50 items (a page may show fewer).
"""

from __future__ import annotations

from pyoxigraph import Store

from kg.store import run_named_query
from kg.vocab import SOL

ACTOR_KINDS = (SOL.Person, SOL.Organization, SOL.Group)


def overview(store: Store) -> dict:
    """``counts``: class or stance IRI -> how many resources have it; ``most_accused``: for each kind of
    actor, [IRI, number of allegations accusing it] of the most accused; ``allegations`` (the first in
    alphabetical order), ``events`` and ``sources`` (the latest first): IRIs."""
    def column(name: str) -> list[str]:
        return [row["item"].value for row in run_named_query(store, name)]

    return {
        "counts": {row["kind"].value: int(row["count"].value) for row in run_named_query(store, "overview-counts")},
        "most_accused": {kind.value: [[row["item"].value, int(row["accusations"].value)]
                                      for row in run_named_query(store, "overview-most-accused", kind=kind)]
                         for kind in ACTOR_KINDS},
        "allegations": column("overview-first-allegations"),
        "events": column("overview-latest-events"),
        "sources": column("overview-latest-sources"),
    }
