"""The build's page index (kg.page_index) agrees with the store: its labels are the ones the pages would pick,
and every page that reads it (home, actors, allegations, places, sources, lists) is the page the live queries
make, on the shared fixture, the actor fixture (blanket statements, co-accused) and the lists' fixture."""

from __future__ import annotations

import pytest

from kg import ids
from kg.layout import resolve
from kg.page_index import PAGE_INDEX, PageIndex
from kg.store import open_store, run_query
from kg.vocab import SOL
from server import create_app
from server.pages import actor, place, stances
from tests.actor_fixture import build_actor_fixture
from tests.conftest import build_fixture_with
from tests.test_allegation_list import EXTRA

PAGE_KINDS = (SOL.Actor, SOL.Allegation, SOL.Place, SOL.Source)
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


def pages_of(build) -> list[str]:
    """The home page and the page of every actor, allegation, place and source."""
    kinds = {kind.value for kind in PAGE_KINDS}
    found = run_query(open_store(build), "SELECT DISTINCT ?this ?kind WHERE { ?this a ?kind }")
    return ["/", *sorted({"/" + ids.local_path(row["this"].value) for row in found if row["kind"].value in kinds})]


def test_the_pages_read_from_the_index_are_the_pages_of_the_live_queries(any_build, monkeypatch):
    client = create_app({"BUILD_DIR": any_build, "TESTING": True, "PAGE_SIZE": 2}).test_client()
    paths = pages_of(any_build)
    assert any(path.startswith("/id/person/") for path in paths)
    from_index = {path: client.get(path).get_data(as_text=True) for path in paths}
    for page in (actor, place):
        monkeypatch.setattr(page, "involvement", lambda iri: None)
    monkeypatch.setattr(stances, "_stances_by_allegation", stances.live_stances)
    for path in paths:
        assert client.get(path).get_data(as_text=True) == from_index[path], path
