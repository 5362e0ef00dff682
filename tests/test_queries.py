"""The questions journalists ask, answered by the example queries over the fixture build."""

from __future__ import annotations

from kg.paths import DEFAULT_DATA_DIR
from kg.store import open_store, run_query

QUERIES = DEFAULT_DATA_DIR / "queries"


def rows(build_dir, name: str, **replacements) -> list[dict]:
    query = (QUERIES / f"{name}.rq").read_text(encoding="utf-8")
    for old, new in replacements.items():
        query = query.replace(old, new)
    result = run_query(open_store(build_dir), query)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


def test_what_is_an_actor_accused_of_and_by_whom(fixture_build):
    found = rows(fixture_build, "accusations-against-actor", **{"person:nicolas-maduro": "person:alice-example"})
    assert {(r["allegationLabel"], r["claimantName"], r["stance"]) for r in found} == {
        ("Alice Example smuggles cheese", "Fixture officials", "asserts"),
        ("Alice Example smuggles cheese", "Alice Example", "denies"),
    }
    assert {r["status"] for r in found} == {"charged"}
    assert {r["sourceTitle"] for r in found} == {"Generals of Ruritania Accused"}
    assert "officials say the minister moved tons of cheese through Strelsau" in {r["quote"] for r in found}


def test_who_denies_what(fixture_build):
    (found,) = rows(fixture_build, "who-denies-what")
    assert set(found.pop("accused").split(", ")) == {"Alice Example", "Bob Sample"}  # GROUP_CONCAT has no order
    assert found == {
        "denierName": "Alice Example",
        "allegationLabel": "Alice Example smuggles cheese",
        "quote": "Alice Example called the charges a fabrication",
    }


def test_what_happened_when(fixture_build):
    found = rows(fixture_build, "timeline")
    assert found == [{
        "date": "2024-03",
        "eventLabel": "Alice Example indicted",
        "type": "indictment",
        "performedBy": "Fixture officials",
        "parties": "Alice Example",
    }]


def test_each_source_graph_is_reachable_with_its_provenance(fixture_build):
    query = """
    SELECT ?g ?source ?curator WHERE {
      GRAPH ?g { ?g prov:wasDerivedFrom ?source ; prov:wasAttributedTo ?curator .
                 ?attribution sol:source ?source }
    }"""
    found = {(r["g"].value, r["source"].value) for r in run_query(open_store(fixture_build), query)}
    assert found == {("https://w3id.org/soles/graph/fixture-report", "https://w3id.org/soles/id/source/fixture-report")}
