"""Remote engines: `kg load --into` pushes graph by graph; RemoteStore queries like the embedded store."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import rdflib
import requests
from pyoxigraph import RdfFormat
from rdflib.compare import isomorphic
from SPARQLWrapper import JSON, SPARQLWrapper

from kg.remote import RemoteError, RemoteStore, load_into
from kg.store import open_store, run_query
from tests.conftest import LiveServer
from tests.oxigraph_server import OxigraphServer


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory):
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    yield server
    server.stop()


def remote_graph(server: OxigraphServer, graph: str) -> rdflib.Graph:
    response = requests.get(server.store_url, params={"graph": graph}, headers={"Accept": "application/n-triples"},
                            timeout=10)
    response.raise_for_status()
    return rdflib.Graph().parse(data=response.text, format="nt")


def local_graph(build_dir, graph) -> rdflib.Graph:
    ntriples = open_store(build_dir).dump(format=RdfFormat.N_TRIPLES, from_graph=graph)
    return rdflib.Graph().parse(data=ntriples.decode(), format="nt")


def test_load_replaces_every_graph_and_is_repeatable(fixture_build, oxigraph):
    result = subprocess.run([sys.executable, "-m", "kg.cli", "load", "--build", str(fixture_build),
                             "--into", oxigraph.store_url], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    load_into(fixture_build, oxigraph.store_url)  # a second push replaces, it does not duplicate
    for graph in open_store(fixture_build).named_graphs():
        assert isomorphic(remote_graph(oxigraph, graph.value), local_graph(fixture_build, graph)), graph.value
    assert "graph/fixture-report" in result.stdout


def test_remote_store_answers_like_the_embedded_store(fixture_build, oxigraph):
    load_into(fixture_build, oxigraph.store_url)
    remote = RemoteStore(oxigraph.query_url)
    query = "SELECT ?label WHERE { ?a a sol:Allegation ; rdfs:label ?label } ORDER BY ?label"
    local = [row["label"].value for row in run_query(open_store(fixture_build), query)]
    assert [row["label"].value for row in run_query(remote, query)] == local == [
        "Alice Example smuggles cheese", "Mallory takes bribes"]
    assert bool(run_query(remote, "ASK { ?x a sol:Event }"))
    triples = list(run_query(remote, "CONSTRUCT WHERE { ?e a sol:Event }"))
    assert len(triples) == 1


def test_remote_errors_are_clear(oxigraph):
    with pytest.raises(SyntaxError):
        RemoteStore(oxigraph.query_url).query("SELECT WHERE {")
    with pytest.raises(RemoteError, match="127.0.0.1:9"):
        RemoteStore("http://127.0.0.1:9/query", timeout=2).query("ASK {}")


@pytest.fixture(scope="module")
def remote_soles(fixture_build, oxigraph):
    load_into(fixture_build, oxigraph.store_url)
    server = LiveServer(fixture_build, extra=("--store", oxigraph.query_url))
    yield server
    server.stop()


def test_serve_store_answers_sparql_from_the_remote_engine(remote_soles):
    wrapper = SPARQLWrapper(remote_soles.url + "/sparql")
    wrapper.setQuery("SELECT ?label WHERE { ?a a sol:Allegation ; rdfs:label ?label } ORDER BY ?label")
    wrapper.setReturnFormat(JSON)
    labels = [b["label"]["value"] for b in wrapper.queryAndConvert()["results"]["bindings"]]
    assert labels == ["Alice Example smuggles cheese", "Mallory takes bribes"]
    turtle = requests.get(remote_soles.url + "/sparql", params={"query": "CONSTRUCT WHERE { ?e a sol:Event }"},
                          headers={"Accept": "text/turtle"}, timeout=10)
    assert turtle.status_code == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
    assert len(rdflib.Graph().parse(data=turtle.text, format="turtle")) == 1


def test_serve_store_keeps_the_safety_rules(remote_soles):
    update = requests.post(remote_soles.url + "/sparql", data={"update": "CLEAR ALL"}, timeout=10)
    assert update.status_code == 403
    service = requests.get(remote_soles.url + "/sparql", timeout=10,
                           params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"})
    assert service.status_code == 403
    malformed = requests.get(remote_soles.url + "/sparql", params={"query": "SELECT WHERE {"}, timeout=10)
    assert malformed.status_code == 400


def test_serve_store_stops_a_runaway_query_at_the_limit(remote_soles):
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    started = time.monotonic()
    response = requests.get(remote_soles.url + "/sparql", params={"query": runaway}, timeout=30)
    assert response.status_code == 503
    assert "the limit is 2 s" in response.text
    assert time.monotonic() - started < 6


def test_serve_store_renders_pages_from_the_remote_engine(remote_soles):
    page = requests.get(remote_soles.url + "/id/person/alice-example", timeout=10)
    assert page.status_code == 200
    assert "Alice Example smuggles cheese" in page.text and "called the charges a fabrication" in page.text
