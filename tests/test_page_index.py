"""The build's page index (kg.page_index) agrees with the store: its labels are the ones the pages would pick,
and every page that reads it (home, actors, allegations, places, sources, lists) is the page the live queries
make, on the shared fixture, the actor fixture (blanket statements, co-accused) and the lists' fixture."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import NamedNode

from kg import ids, page_index
from kg.layout import resolve
from kg.page_index import PAGE_INDEX, PageIndex
from kg.store import open_store, run_query
from kg.vocab import SOL
from server import create_app
from server.pages import citation, graph, lists, resources, stances
from tests.actor_fixture import build_actor_fixture
from tests.conftest import build_fixture_with
from tests.test_allegation_list import EXTRA

PAGE_KINDS = (SOL.Actor, SOL.Allegation, SOL.Place, SOL.Source, SOL.Event, SOL.Attribution, SOL.SourceGraph)
LABELS = "SELECT ?this ?p ?label WHERE { ?this ?p ?label FILTER(?p IN (skos:prefLabel, rdfs:label, dcterms:title)) }"


@pytest.fixture(scope="module", params=["shared", "actor", "lists"])
def any_build(request, fixture_build, tmp_path_factory):
    if request.param == "shared":
        return fixture_build
    if request.param == "actor":
        return build_actor_fixture(tmp_path_factory.mktemp("page-index-actor"))
    return build_fixture_with(tmp_path_factory, "page-index-lists", EXTRA)


def index_of(build) -> PageIndex:
    return PageIndex(resolve(build).path / PAGE_INDEX)


def test_each_label_is_the_preferred_one_in_english_or_untagged_first(any_build):
    found: dict[str, list] = {}
    for row in run_query(open_store(any_build), LABELS):
        found.setdefault(row["this"].value, []).append((row["p"].value, row["label"]))
    with index_of(any_build) as index:
        labels = index.labels(found)
        names = index.names(found)
    assert set(labels) == set(found)
    order = ("http://www.w3.org/2004/02/skos/core#prefLabel", "http://www.w3.org/2000/01/rdf-schema#label",
             "http://purl.org/dc/terms/title")
    for iri, options in found.items():
        best = min(options, key=lambda option: (order.index(option[0]), option[1].language not in (None, "en"),
                                                option[1].value))
        assert labels[iri] == best[1].value
        rdfs_labels = sorted(label.value for predicate, label in options if predicate == order[1])
        assert names.get(iri) == (rdfs_labels[0] if rdfs_labels else None)


def test_every_allegation_with_its_attributions_is_indexed(any_build):
    store = open_store(any_build)
    attributions = {row["a"].value for row in run_query(
        store, "SELECT ?a WHERE { ?a sol:allegation ?x ; sol:claimant ?c ; sol:stance ?s ; sol:source ?src }")}
    allegations = {row["x"].value
                   for row in run_query(store, "SELECT ?x WHERE { ?x a sol:Allegation ; rdfs:label ?l }")}
    with index_of(any_build) as index:
        entries = index.allegations()
    assert set(entries) == allegations
    assert {voice.attribution for entry in entries.values() for voice in entry.voices} == attributions
    assert attributions  # the fixtures have some: the comparison of pages below means something


def test_the_counts_lists_show_are_those_of_the_store(any_build):
    store = open_store(any_build)
    voices: dict[str, dict[str, int]] = {}
    for row in run_query(store, "SELECT ?x ?s (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a sol:allegation ?x ; "
                                "sol:claimant ?c ; sol:stance ?s ; sol:source ?src } GROUP BY ?x ?s"):
        voices.setdefault(row["x"].value, {})[row["s"].value] = int(row["n"].value)
    with index_of(any_build) as index:
        entries = index.allegations()
        counted = index.counted([*entries, ids.BASE + "id/allegation/not-in-the-record"])
    assert set(counted) == set(entries)
    for iri, item in counted.items():
        found = voices.get(iri, {})
        assert (item.status, item.asserting, item.denying, item.voices) == (
            entries[iri].status, found.get(SOL.Asserts.value, 0), found.get(SOL.Denies.value, 0), sum(found.values()))
    assert any(item.asserting and item.denying for item in counted.values())  # both counts are tried


def test_each_allegation_holds_the_labels_of_its_claimants_and_sources(any_build, monkeypatch):
    with index_of(any_build) as index:
        entries, shown = index.labelled_allegations(index.allegations())
        named = {entry.iri for entry in entries.values()} | {
            iri for entry in entries.values() for voice in entry.voices for iri in (voice.claimant, voice.source)}
        assert shown == index.labels(named)
    assert any(entry.voices for entry in entries.values())
    # Pages read them with the allegations: none is looked up again in the table of labels.
    looked_up: list[str] = []
    read_labels = PageIndex.labels

    def recorded(index, iris):
        iris = list(iris)
        looked_up.extend(iris)
        return read_labels(index, iris)

    app = create_app({"BUILD_DIR": any_build, "TESTING": True})
    with app.test_request_context("/"):
        resources.request_labels()  # the ontology's labels, read once per process
        monkeypatch.setattr(PageIndex, "labels", recorded)
        found = stances.indexed_stances(sorted(entries))
        shown = {(item.allegation.label, row.claimant.label, row.source.label)
                 for item in found.values() for row in item.attributions}
    assert shown and looked_up == []


def test_the_labels_beside_an_allegation_follow_what_it_names_none_for_the_unlabelled():
    voice = page_index.Voice(ids.BASE + "id/attribution/a", ids.BASE + "id/person/b", SOL.Asserts.value,
                             ids.BASE + "id/source/c", None, None, None, None)
    entry = page_index.Entry(ids.BASE + "id/allegation/a", "A", None, frozenset(), frozenset(), frozenset(),
                             frozenset(), (voice,), ())
    labels = {ids.BASE + "id/allegation/a": ("An allegation", None), ids.BASE + "id/source/c": ("A source", None)}
    assert page_index.named_with(entry) == [ids.BASE + "id/allegation/a", ids.BASE + "id/person/b",
                                            ids.BASE + "id/source/c"]
    assert page_index.shown_labels(entry, labels) == ["An allegation", None, "A source"]


def pages_of(build) -> list[str]:
    """The home page, the page of every actor, allegation, place, source, event, attribution and graph, and
    every actor's dossier."""
    kinds = {kind.value for kind in PAGE_KINDS}
    found = run_query(open_store(build), "SELECT DISTINCT ?this ?kind WHERE { ?this a ?kind }")
    paths = {"/" + ids.local_path(row["this"].value) for row in found if row["kind"].value in kinds}
    dossiers = {"/dossier/" + path.removeprefix("/id/") for path in paths
                if path.startswith(tuple(f"/id/{kind}/" for kind in ids.ACTOR_KINDS))}
    return ["/", *sorted(paths | dossiers)]


def test_the_pages_read_from_the_index_are_the_pages_of_the_live_queries(any_build, monkeypatch):
    client = create_app({"BUILD_DIR": any_build, "TESTING": True, "PAGE_SIZE": 2}).test_client()
    paths = pages_of(any_build)
    assert any(path.startswith("/id/person/") for path in paths)
    from_index = {path: client.get(path).get_data(as_text=True) for path in paths}
    monkeypatch.setattr(stances, "_stances_by_allegation", stances.live_stances)
    for module in (lists, stances, graph, citation):  # a source page reads its lists through lists
        monkeypatch.setattr(module, "today_index", lambda: None)
    for path in paths:
        assert client.get(path).get_data(as_text=True) == from_index[path], path


def test_each_resource_is_recorded_in_the_graphs_that_hold_statements_about_it(any_build):
    graphs: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for row in run_query(open_store(any_build), "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }"):
        sizes[row["g"].value] = sizes.get(row["g"].value, 0) + 1
        if isinstance(row["s"], NamedNode):
            graphs.setdefault(row["s"].value, set()).add(row["g"].value)
    with index_of(any_build) as index:
        recorded = index.lists_of(graphs, "recorded-in")
        assert {graph: index.graph_size(graph) for graph in sizes} == sizes
    assert {iri: set(found) for iri, found in recorded.items()} == graphs


def test_the_lists_of_a_resource_hold_what_links_to_it_in_reading_order(any_build):
    store = open_store(any_build)
    linked: dict[str, set[str]] = {}
    for row in run_query(store, "SELECT ?this ?item WHERE { ?item sol:memberOf|sol:partOf ?this }"):
        linked.setdefault(row["this"].value, set()).add(row["item"].value)
    with index_of(any_build) as index:
        for this, items in linked.items():
            about = index.lists_about(this)
            assert set(about.whole("members") + about.whole("contains")) == items, this
            assert about.window("members", 1, 1) == about.window("members", 0, 2)[1:]


def test_events_courses_and_primary_documents_are_those_of_the_store(any_build):
    store = open_store(any_build)
    events = {row["e"].value: (row["date"] and row["date"].value, row["type"] and row["type"].value)
              for row in run_query(store, "SELECT ?e (MIN(STR(?d)) AS ?date) (MIN(STR(?t)) AS ?type) WHERE {"
                                          " ?e a sol:Event OPTIONAL { ?e sol:date ?d } OPTIONAL { ?e sol:eventType ?t } }"
                                          " GROUP BY ?e")}
    statements: dict[str, set[str]] = {}
    for row in run_query(store, "SELECT ?x ?s WHERE { ?s sol:statusOf ?x ; sol:statusValue ?v ; sol:source ?src }"):
        statements.setdefault(row["x"].value, set()).add(row["s"].value)
    originals: dict[str, set[str]] = {}
    for row in run_query(store, "SELECT ?s ?o WHERE { ?s sol:reproduces|sol:reportsOn ?o }"):
        originals.setdefault(row["s"].value, set()).add(row["o"].value)
    with index_of(any_build) as index:
        labels = index.labels(events)
        assert index.events(events) == {iri: (*found, labels.get(iri, iri.rsplit("/", 1)[-1]))
                                        for iri, found in events.items()}
        assert {allegation: {row["statement"] for row in index.course(allegation)} for allegation in statements} \
            == statements
        assert {iri: set(found) for iri, found in index.lists_of(originals, "originals").items()} == originals
    assert events and statements  # the fixtures have some: the comparisons mean something


def test_what_a_citation_names_of_each_source_is_that_of_the_store(any_build):
    described: dict[str, dict[str, list[str]]] = {}
    for row in run_query(open_store(any_build), "SELECT ?s ?p ?v WHERE { ?s a sol:Source ; ?p ?v }"):
        field = page_index.DOCUMENT_FIELDS.get(row["p"].value)
        if field:
            described.setdefault(row["s"].value, {}).setdefault(field, []).append(row["v"].value)
    with index_of(any_build) as index:
        found = index.documents(described)
    assert found == {iri: {field: sorted(set(values)) for field, values in fields.items()}
                     for iri, fields in described.items()}
    assert all({"kind", "title"} <= set(fields) for fields in found.values())  # every source has a kind and a title


def test_a_list_longer_than_a_chunk_reads_the_same_in_any_window(any_build, tmp_path, monkeypatch):
    with index_of(any_build) as index:
        whole = {iri: json.loads(text) for iri, text in index.connection.execute("SELECT iri, lists FROM lists")}
    monkeypatch.setattr(page_index, "LIST_CHUNK", 2)  # every list of three items or more is chunked
    page_index.write(open_store(any_build), tmp_path / PAGE_INDEX)
    with PageIndex(tmp_path / PAGE_INDEX) as chunked:
        assert chunked.connection.execute("SELECT count(*) FROM list_chunks").fetchone()[0]
        assert_every_window_reads_as_the_whole(chunked.lists_about, whole)


def assert_every_window_reads_as_the_whole(lists_of, whole: dict) -> None:
    """Each list of ``whole`` (IRI -> name -> [size, items]), read through ``lists_of(iri)`` (a Lists) whole,
    by size, and in every window of three items."""
    for iri, named in whole.items():
        about = lists_of(iri)
        for name, (size, items) in named.items():
            assert about.whole(name) == items and about.size(name) == size
            for start in range(size):
                assert about.window(name, start, 3) == items[start:start + 3], (iri, name, start)
