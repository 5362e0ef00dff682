"""The real curated data in data/: it builds, passes every check, and answers the example queries."""

from __future__ import annotations

import html

import pytest

from kg import curation, shacl
from kg.paths import DEFAULT_DATA_DIR
from kg.pipeline import build
from kg.schema import MAX_QUOTE_WORDS
from kg.store import open_store, run_query
from server import create_app
from server.query_ui import read_example


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("real") / "build"
    build(DEFAULT_DATA_DIR, out, reason=True)  # shapes and HermiT, as `kg build` runs them
    return out


@pytest.fixture(scope="module")
def catalog():
    return curation.load(DEFAULT_DATA_DIR)


def test_every_allegation_is_asserted_and_every_attribution_quoted(catalog):
    assert len(catalog.allegations) >= 10
    for source in catalog.sources.values():
        for _, attribution in source.attributions:
            assert 0 < len(attribution.values["quote"].split()) <= MAX_QUOTE_WORDS


def test_denials_are_recorded(catalog):
    stances = [a.values["stance"] for s in catalog.sources.values() for _, a in s.attributions]
    assert stances.count("denies") >= 5


def test_wikidata_links_come_only_from_the_verified_list(catalog):
    linked = [r for r in [*catalog.actors.values(), *catalog.places.values()] if r.get("wikidata")]
    assert linked and all(r.values["wikidata"] in catalog.wikidata for r in linked)
    assert all(r.get("checked_in") for r in catalog.wikidata.values())


def test_the_summary_is_modelled_as_derived_from_the_report(catalog):
    summaries = [s.source for s in catalog.sources.values() if s.source.values["type"] == "summary"]
    assert summaries
    for summary in summaries:
        report = catalog.sources[summary.values["summarizes"]].source
        assert report.get("url") and report.get("publisher")
        assert report.get("date") is None  # the summary gives no date, and none is invented


def test_every_example_query_runs_and_answers(real_build):
    store = open_store(real_build)
    # Those calling Wikidata (a ``# service:`` line) run against a local Wikidata-shaped endpoint in test_wikidata.
    queries = [path for path in sorted((DEFAULT_DATA_DIR / "queries").glob("*.rq")) if not read_example(path).service]
    assert len(queries) >= 3
    for path in queries:
        result = run_query(store, path.read_text(encoding="utf-8"))
        answer = bool(result) if not hasattr(result, "__iter__") else len(list(result))
        assert answer, f"{path.name} returned nothing"


def test_the_compiled_shapes_find_nothing_in_the_real_build(real_build):
    """The SPARQL form of the shapes, which checks imports, accepts what pyshacl accepted."""
    assert shacl.violations(open_store(real_build)) == []


# --- the public record (sources with where their words were read, dated history, dissent) --------------------


def quoted_records(source):
    return [r for r in [a for _, a in source.attributions] + source.events + source.status_changes if r.get("quote")]


def test_every_quote_is_within_the_limit_and_every_quoted_source_says_where_it_was_read(catalog):
    for source in catalog.sources.values():
        for record in quoted_records(source):
            assert 0 < len(record.values["quote"].split()) <= MAX_QUOTE_WORDS, (record.file, record.line)
        if quoted_records(source) and source.source.values["type"] != "summary":
            assert source.source.get("seen_at") and source.source.get("read_on"), source.file


def test_the_public_record_is_curated(catalog):
    read = [s for s in catalog.sources.values() if s.source.get("seen_at") and quoted_records(s)]
    assert len(read) >= 15, f"{len(read)} sources read and quoted"
    stances = [a.values["stance"] for s in catalog.sources.values() for _, a in s.attributions]
    assert stances.count("disputes") >= 2 and stances.count("denies") >= 10
    assert len(catalog.statuses) >= 10


def test_every_event_is_dated_or_says_why_not(catalog):
    for record, _ in catalog.events.values():
        assert record.get("date") or record.get("start_date") or record.get("undated_reason"), record.id


def test_no_actor_is_left_unconnected(real_build):
    """Every actor is tied to something a source says: as claimant, accused, involved, concerned, performer,
    publisher, author, curator, or holder of a period."""
    unconnected = run_query(open_store(real_build), """
        SELECT ?actor WHERE {
          GRAPH graph:reference { ?actor a sol:Actor }
          FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?actor } FILTER(?g != graph:reference) }
          FILTER NOT EXISTS { GRAPH graph:reference { ?period sol:belongsTo ?actor } }
          FILTER NOT EXISTS { GRAPH graph:reference { ?member sol:memberOf ?actor . ?x ?q ?member } }
        }""")
    assert [row["actor"].value for row in unconnected] == []


def test_the_sitemap_lists_every_actor_place_allegation_and_source(real_build, catalog):
    client = create_app({"BUILD_DIR": real_build, "TESTING": True}).test_client()
    index = client.get("/sitemap.xml")
    assert index.status_code == 200 and index.data.count(b"<sitemap>") == 1  # the real data fills one file
    listed = client.get("/sitemap-1.xml").get_data(as_text=True)
    for path in ([f"id/{record.values['type']}/{name}" for name, record in catalog.actors.items()]
                 + [f"id/place/{name}" for name in catalog.places]
                 + [f"id/allegation/{name}" for name in catalog.allegations]
                 + [f"id/source/{name}" for name in catalog.sources]):
        assert f"<loc>http://localhost/{path}</loc>" in listed, path


def test_a_letter_is_cited_as_a_personal_communication(real_build):
    """A defendant's letter (a sol:Letter, which the editors know only from the reports on it) is cited as
    what it is, not as a report or a bare document."""
    client = create_app({"BUILD_DIR": real_build, "TESTING": True}).test_client()
    page = html.unescape(client.get("/id/source/carvajal-2025-12-02-letter-to-trump").get_data(as_text=True))
    assert '"type": "personal_communication"' in page and "Reported on in" in page
