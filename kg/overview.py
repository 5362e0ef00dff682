"""The overview a home page opens with, computed once per build: counts and the head of each list.

Counting and ranking the whole graph takes seconds at a million statements, so a build does it once
and writes the result into its manifest; pages read it from there.
"""

from __future__ import annotations

from pyoxigraph import Store

from kg.store import run_query
from kg.vocab import SOL

HEAD_SIZE = 50  # items per list: a page may show fewer

COUNTS_QUERY = """
SELECT ?kind (COUNT(DISTINCT ?item) AS ?count) WHERE { { ?item a ?kind } UNION { ?item sol:stance ?kind } }
GROUP BY ?kind"""
ACTOR_KINDS = (SOL.Person, SOL.Organization, SOL.Group)
MOST_ACCUSED_QUERY = """
SELECT ?item (COUNT(DISTINCT ?allegation) AS ?accusations) WHERE {
  ?item a %s .
  OPTIONAL { ?allegation sol:accused ?item }
} GROUP BY ?item ORDER BY DESC(?accusations) ?item LIMIT %d"""
FIRST_ALLEGATIONS_QUERY = """
SELECT ?item WHERE { ?item a sol:Allegation ; rdfs:label ?label }
ORDER BY LCASE(STR(?label)) ?item LIMIT %d"""
LATEST_EVENTS_QUERY = """
SELECT ?item WHERE { ?item a sol:Event OPTIONAL { ?item sol:date ?date } }
ORDER BY DESC(STR(?date)) ?item LIMIT %d"""
LATEST_SOURCES_QUERY = """
SELECT ?item WHERE { ?item a sol:Source OPTIONAL { ?item dcterms:issued ?issued } }
ORDER BY DESC(STR(?issued)) ?item LIMIT %d"""


def overview(store: Store) -> dict:
    """``counts``: class or stance IRI -> how many resources have it; ``most_accused``: for each kind of
    actor, [IRI, number of allegations accusing it] of the most accused; ``allegations`` (the first in
    alphabetical order), ``events`` and ``sources`` (the latest first): IRIs."""
    def column(query: str) -> list[str]:
        return [row["item"].value for row in run_query(store, query % HEAD_SIZE)]

    return {
        "counts": {row["kind"].value: int(row["count"].value) for row in run_query(store, COUNTS_QUERY)},
        "most_accused": {kind.value: [[row["item"].value, int(row["accusations"].value)]
                                      for row in run_query(store, MOST_ACCUSED_QUERY % (kind, HEAD_SIZE))]
                         for kind in ACTOR_KINDS},
        "allegations": column(FIRST_ALLEGATIONS_QUERY),
        "events": column(LATEST_EVENTS_QUERY),
        "sources": column(LATEST_SOURCES_QUERY),
    }
