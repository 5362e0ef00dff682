"""The SPARQL endpoint, through a real server on loopback and real SPARQL clients."""

from __future__ import annotations

import csv
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from server import create_app
from server.query_shape import inspect_query
from server.sparql import UPDATE_REFUSED

REPORT_GRAPH = "https://w3id.org/soles/graph/fixture-report"
REFERENCE_GRAPH = "https://w3id.org/soles/graph/reference"
ALICE = "https://w3id.org/soles/id/person/alice-example"
ALLEGATION = "https://w3id.org/soles/id/allegation/alice-smuggles-cheese"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"

SELECT_ALICE = f"SELECT ?label WHERE {{ <{ALICE}> rdfs:label ?label }}"
ASK_ALICE = f"ASK {{ <{ALICE}> rdfs:label 'Alice Example' }}"
CONSTRUCT_ALICE = f"CONSTRUCT {{ <{ALICE}> rdfs:label ?label }} WHERE {{ <{ALICE}> rdfs:label ?label }}"
DESCRIBE_ALICE = f"DESCRIBE <{ALICE}>"
# Each of ~500 quads against each other, four times over: billions of rows, far past any time limit.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

RESULTS_MEDIA = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/csv": QueryResultsFormat.CSV,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}
GRAPH_MEDIA = {
    "text/turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/trig": RdfFormat.TRIG,
    "application/n-quads": RdfFormat.N_QUADS,
}


def sparql(server, query: str | None = None, accept: str | None = None, method: str = "GET",
           **params) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    params = {**({"query": query} if query is not None else {}), **params}
    if method == "GET":
        return requests.get(server.url + "/sparql", params=params, headers=headers, timeout=30)
    return requests.post(server.url + "/sparql", data=params, headers=headers, timeout=30)


def media_type(response: requests.Response) -> str:
    return response.headers["Content-Type"].split(";")[0]


def graph_of(response: requests.Response) -> set:
    return set(parse(response.content, GRAPH_MEDIA[media_type(response)]))


# --- SPARQLWrapper and rdflib, in every format they speak ----------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("return_format", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_and_ask(live_server, return_format, method):
    client = SPARQLWrapper(live_server.url + "/sparql", returnFormat=return_format)
    client.setMethod(method)
    client.setQuery(SELECT_ALICE)
    rows = client.query().convert()
    client.setQuery(ASK_ALICE)
    answer = client.query().convert()
    if return_format == JSON:
        assert [b["label"]["value"] for b in rows["results"]["bindings"]] == ["Alice Example"]
        assert answer["boolean"] is True
    elif return_format == XML:
        assert [n.firstChild.data for n in rows.getElementsByTagName("literal")] == ["Alice Example"]
        assert answer.getElementsByTagName("boolean")[0].firstChild.data == "true"
    else:
        separator = "," if return_format == CSV else "\t"
        assert rows.decode().splitlines()[1].split(separator)[0].strip('"') == "Alice Example"
        assert "true" in answer.decode()


# SPARQLWrapper 2.0 reads RDF/XML and JSON-LD into an rdflib ConjunctiveGraph, which rdflib deprecates.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("query", [CONSTRUCT_ALICE, DESCRIBE_ALICE])
@pytest.mark.parametrize("return_format", [TURTLE, N3, XML, RDFXML, JSONLD])
def test_sparqlwrapper_construct_and_describe(live_server, return_format, query):
    client = SPARQLWrapper(live_server.url + "/sparql", returnFormat=return_format)
    client.setQuery(query)
    result = client.query().convert()
    graph = result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")
    assert (URIRef(ALICE), URIRef(LABEL), Literal("Alice Example")) in graph


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("return_format", ["xml", "json", "csv", "tsv"])
def test_rdflib_sparqlstore_select_and_ask(live_server, return_format, method):
    store = SPARQLStore(live_server.url + "/sparql", returnFormat=return_format, method=method)
    labels = [str(row[0]) for row in store.query(SELECT_ALICE)]
    assert labels == ["Alice Example"]
    if return_format in ("xml", "json"):  # rdflib reads booleans from these two only
        assert store.query(ASK_ALICE).askAnswer is True


@pytest.mark.parametrize("method", ["GET", "POST", "POST_FORM"])
@pytest.mark.parametrize("query", [CONSTRUCT_ALICE, DESCRIBE_ALICE])
def test_rdflib_sparqlstore_construct_and_describe(live_server, query, method):
    store = SPARQLStore(live_server.url + "/sparql", method=method)
    graph = store.query(query).graph
    assert (URIRef(ALICE), URIRef(LABEL), Literal("Alice Example")) in graph


def test_rdflib_graph_over_the_endpoint(live_server):
    graph = Graph(SPARQLStore(live_server.url + "/sparql"))
    assert Literal("Alice Example") in set(graph.objects(URIRef(ALICE), URIRef(LABEL)))


# --- content negotiation --------------------------------------------------------------------------------


def labels_in(response: requests.Response) -> list[str]:
    if media_type(response) == "text/csv":  # a lossy format the engine does not read back
        return [row["label"] for row in csv.DictReader(io.StringIO(response.text))]
    return [row["label"].value for row in parse_query_results(response.content, RESULTS_MEDIA[media_type(response)])]


@pytest.mark.parametrize("accept", RESULTS_MEDIA)
def test_select_and_ask_in_each_results_format_by_accept(live_server, accept):
    response = sparql(live_server, SELECT_ALICE, accept=accept)
    assert response.status_code == 200 and media_type(response) == accept
    assert labels_in(response) == ["Alice Example"]
    response = sparql(live_server, ASK_ALICE, accept=accept)
    assert response.status_code == 200 and media_type(response) == accept
    assert response.text.strip() == "true" if accept in ("text/csv", "text/tab-separated-values") \
        else bool(parse_query_results(response.content, RESULTS_MEDIA[accept])) is True


@pytest.mark.parametrize("accept,fmt", GRAPH_MEDIA.items())
def test_construct_in_each_rdf_format_by_accept(live_server, accept, fmt):
    response = sparql(live_server, CONSTRUCT_ALICE, accept=accept)
    assert response.status_code == 200 and media_type(response) == accept
    assert {(q.subject.value, q.object.value) for q in parse(response.content, fmt)} == {(ALICE, "Alice Example")}


@pytest.mark.parametrize("name,media", [("json", "application/sparql-results+json"),
                                        ("xml", "application/sparql-results+xml"),
                                        ("csv", "text/csv"), ("tsv", "text/tab-separated-values")])
def test_format_parameter_for_results(live_server, name, media):
    response = sparql(live_server, SELECT_ALICE, accept="text/html", format=name)
    assert response.status_code == 200 and media_type(response) == media


@pytest.mark.parametrize("name,media", [("turtle", "text/turtle"), ("nt", "application/n-triples"),
                                        ("jsonld", "application/ld+json"), ("rdfxml", "application/rdf+xml"),
                                        ("trig", "application/trig"), ("nquads", "application/n-quads")])
def test_format_parameter_for_graphs(live_server, name, media):
    response = sparql(live_server, DESCRIBE_ALICE, method="POST", format=name)
    assert response.status_code == 200 and media_type(response) == media
    assert any(t.object.value == "Alice Example" for t in graph_of(response))


def test_defaults_without_accept(live_server):
    response = sparql(live_server, SELECT_ALICE, accept="*/*")
    assert media_type(response) == "application/sparql-results+json" and response.headers["Vary"] == "Accept"
    assert media_type(sparql(live_server, CONSTRUCT_ALICE, accept="*/*")) == "text/turtle"


@pytest.mark.parametrize("query,accept,params", [
    (SELECT_ALICE, "text/turtle", {}),
    (SELECT_ALICE, "image/png", {}),
    (CONSTRUCT_ALICE, "application/sparql-results+json", {}),
    (SELECT_ALICE, None, {"format": "turtle"}),
    (CONSTRUCT_ALICE, None, {"format": "csv"}),
    (ASK_ALICE, None, {"format": "pdf"}),
])
def test_406_for_what_cannot_be_produced(live_server, query, accept, params):
    response = sparql(live_server, query, accept=accept, **params)
    assert response.status_code == 406
    assert "available" in response.text


# --- the protocol ---------------------------------------------------------------------------------------


def test_post_direct_query_body(live_server):
    response = requests.post(live_server.url + "/sparql", data=SELECT_ALICE.encode(),
                             headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"}, timeout=10)
    assert response.status_code == 200 and "Alice Example" in response.text


def test_post_without_query_or_with_unknown_body(live_server):
    assert requests.post(live_server.url + "/sparql", data={"format": "json"}, timeout=10).status_code == 400
    response = requests.post(live_server.url + "/sparql", data=b"{}", headers={"Content-Type": "application/json"},
                             timeout=10)
    assert response.status_code == 415


def test_small_results_come_whole_and_large_ones_streamed(live_server):
    assert "Content-Length" in sparql(live_server, SELECT_ALICE).headers
    response = sparql(live_server, "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 5000",
                      accept="text/tab-separated-values")
    assert response.headers.get("Transfer-Encoding") == "chunked"
    assert len(response.text.splitlines()) == 1 + 5000


def test_malformed_query_gets_400_with_the_parser_message(live_server):
    response = sparql(live_server, "SELEC * WHERE { ?s ?p ?o }")
    assert response.status_code == 400
    assert "error at 1:1" in response.text and "expected" in response.text


def test_unterminated_string_gets_400_at_once(live_server):
    started = time.monotonic()
    response = sparql(live_server, "SELECT * WHERE { ?s ?p " + '"a\\' * 30_000, method="POST")
    assert response.status_code == 400 and "does not end" in response.text
    assert time.monotonic() - started < 1


def test_query_over_the_size_limit_gets_413(live_server):
    padding = "#" + "x" * 100_000 + "\n"
    for response in (sparql(live_server, padding + SELECT_ALICE),
                     sparql(live_server, padding + SELECT_ALICE, method="POST"),
                     requests.post(live_server.url + "/sparql", data=(padding + SELECT_ALICE).encode(),
                                   headers={"Content-Type": "application/sparql-query"}, timeout=10)):
        assert response.status_code == 413
        assert "100000 bytes" in response.text
    almost = "#" + "x" * 90_000 + "\n"
    assert sparql(live_server, almost + SELECT_ALICE).status_code == 200


def test_cors_for_reads_and_preflight(live_server):
    assert sparql(live_server, ASK_ALICE).headers["Access-Control-Allow-Origin"] == "*"
    preflight = requests.options(live_server.url + "/sparql", timeout=10, headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert sparql(live_server, "SELEC").headers["Access-Control-Allow-Origin"] == "*"


# --- the dataset: union default graph, GRAPH, default-graph-uri and named-graph-uri ------------------------


def test_default_graph_is_the_union_and_graph_reaches_each_source(live_server):
    response = sparql(live_server, f"SELECT ?g WHERE {{ GRAPH ?g {{ <{ALLEGATION}> ?p ?o }} }} LIMIT 1")
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [REPORT_GRAPH]
    union = sparql(live_server, f"ASK {{ <{ALLEGATION}> ?p ?o . <{ALICE}> rdfs:label ?label }}")
    assert union.json()["boolean"] is True  # one source's graph and the reference graph, joined


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_default_graph_uri_and_named_graph_uri(live_server, method):
    ask_alice = f"ASK {{ <{ALICE}> ?p ?o }}"
    assert sparql(live_server, ask_alice, method=method, **{"default-graph-uri": REFERENCE_GRAPH}).json()["boolean"]
    assert not sparql(live_server, ask_alice, method=method, **{"default-graph-uri": REPORT_GRAPH}).json()["boolean"]
    graphs = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    response = sparql(live_server, graphs, method=method, **{"named-graph-uri": REPORT_GRAPH})
    assert [b["g"]["value"] for b in response.json()["results"]["bindings"]] == [REPORT_GRAPH]
    only_default = sparql(live_server, graphs, method=method, **{"default-graph-uri": REPORT_GRAPH})
    assert only_default.json()["results"]["bindings"] == []  # the protocol's dataset has no named graphs then


def test_rdflib_sparqlstore_default_graph(live_server):
    store = SPARQLStore(live_server.url + "/sparql", returnFormat="json")
    rows = store.query(f"SELECT ?o WHERE {{ <{ALICE}> <{LABEL}> ?o }}", initNs={},
                       queryGraph=URIRef(REPORT_GRAPH))
    assert list(rows) == []


def test_bad_graph_iri_gets_400(live_server):
    response = sparql(live_server, ASK_ALICE, **{"default-graph-uri": "not an iri"})
    assert response.status_code == 400


# --- read only ------------------------------------------------------------------------------------------


INSERT = f"INSERT DATA {{ <{ALICE}> <{LABEL}> 'Mallory' }}"


def test_update_is_refused_every_way(live_server):
    for response in (
        requests.post(live_server.url + "/sparql", data=INSERT.encode(),
                      headers={"Content-Type": "application/sparql-update"}, timeout=10),
        requests.post(live_server.url + "/sparql", data={"update": INSERT}, timeout=10),
        sparql(live_server, update=INSERT),
        sparql(live_server, INSERT),
        sparql(live_server, "PREFIX ex: <http://example.org/> DELETE WHERE { ?s ?p ?o }", method="POST"),
        sparql(live_server, "LOAD <http://127.0.0.1:9/data.ttl>"),
        sparql(live_server, "CLEAR ALL", method="POST"),
    ):
        assert response.status_code == 403
        assert UPDATE_REFUSED in response.text
    assert sparql(live_server, ASK_ALICE).json()["boolean"] is True


def test_sparqlwrapper_update_is_refused(live_server):
    client = SPARQLWrapper(live_server.url + "/sparql")
    client.setMethod("POST")
    client.setQuery(INSERT)
    with pytest.raises(Exception, match="403|Forbidden"):
        client.query()


# --- SERVICE never reaches the network unless allowed ---------------------------------------------------


def service_queries(iri: str) -> list[str]:
    host, _, path = iri.rpartition("/")
    escaped = "".join(f"\\u{ord(c):04X}" for c in "SERVICE")
    return [
        f"SELECT * WHERE {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{iri}> {{ ?s ?p ?o }} }}",
        f"PREFIX remote: <{host}/> SELECT * WHERE {{ SERVICE remote:{path} {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment: SERVICE\n ?x ?y 'SERVICE' . SERVICE\n#}}\n<{iri}>{{?s ?p ?o}} }}",
        f"SELECT * WHERE {{ BIND(<{iri}> AS ?endpoint) SERVICE ?endpoint {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {escaped} <{iri}> {{ ?s ?p ?o }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{iri}> {{ ?s ?p ?o }} }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT * {{ SERVICE <{iri}> {{ ?s ?p ?o }} }} }} }}",
        f"BASE <{host}/> SELECT * WHERE {{ SERVICE <{path}> {{ ?s ?p ?o }} }}",
    ]


def test_service_is_refused_without_connecting(live_server, listener):
    for query in service_queries(listener.iri):
        response = sparql(live_server, query)
        assert response.status_code == 403, query
        assert "SERVICE" in response.text
    time.sleep(0.5)
    assert listener.connections == 0


def test_allowlisted_service_is_called(fixture_build, listener):
    """The control for the test above: the listener does see a SERVICE call the allowlist permits."""
    client = create_app({"BUILD_DIR": fixture_build, "SERVICE_ALLOWLIST": (listener.iri,)}).test_client()
    response = client.get("/sparql", query_string={
        "query": f"SELECT ?greeting WHERE {{ SERVICE <{listener.iri}> {{ ?s ?p ?greeting }} }}"})
    assert response.status_code == 200, response.text
    assert "hello from the listener" in response.text
    assert listener.connections == 1
    other = client.get("/sparql", query_string={"query": "SELECT * { SERVICE <http://127.0.0.1:9/x> {} }"})
    assert other.status_code == 403 and f"<{listener.iri}>" in other.text


@pytest.mark.parametrize("query,form,services", [
    ("SELECT * { ?s ?p 'SERVICE <http://a/>' }", "SELECT", []),
    ("PREFIX service: <http://a/> ASK { ?s service:x ?o }", "ASK", []),
    ("SELECT * { ?s ?p \"\"\"a \" SERVICE\"\"\" }", "SELECT", []),
    ("SELECT * { ?s ?p 'x'@service }", "SELECT", []),
    ("describe <http://a/#SERVICE>", "DESCRIBE", []),
    ("SELECT * { SERVICE SILENT wd:sparql {} }", "SELECT", ["http://www.wikidata.org/entity/sparql"]),
    ("SELECT * { SERVICE ?endpoint {} }", "SELECT", [None]),
    ("SELECT * { SERVICE nowhere:x {} }", "SELECT", [None]),
    ("with <http://a/> delete { ?s ?p ?o } where { ?s ?p ?o }", "WITH", []),
])
def test_inspect_query(query, form, services):
    shape = inspect_query(query)
    assert (shape.form, list(shape.services)) == (form, services)


# --- the time limit -------------------------------------------------------------------------------------


def test_runaway_query_is_stopped_while_others_are_answered(live_server):
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        runaway = pool.submit(sparql, live_server, RUNAWAY, method="POST")
        time.sleep(0.2)
        quick = []
        while not runaway.done():
            sent = time.monotonic()
            assert sparql(live_server, ASK_ALICE).json()["boolean"] is True
            quick.append(time.monotonic() - sent)
        response = runaway.result()
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "query stopped after 2 s: the limit is 2 s" in response.text
    assert 2 <= elapsed < 4
    assert len(quick) >= 5 and max(quick) < 1
    for _ in range(4):  # the stopped query's process is replaced; the worker answers at once
        assert sparql(live_server, ASK_ALICE).status_code == 200


def test_stream_past_the_limit_is_cut_short(live_server):
    """A result that streams for longer than the limit ends without its last chunk: the client sees an error."""
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        sparql(live_server, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", accept="text/csv")
    assert 2 <= time.monotonic() - started < 4
    assert sparql(live_server, ASK_ALICE).json()["boolean"] is True


def test_runaway_queries_in_every_worker_thread(live_server):
    """More runaway queries than query slots: each is stopped or refused (429 past one client's share of the
    slots, 503 when none is free), and the server recovers."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: sparql(live_server, RUNAWAY), range(6)))
    assert all(response.status_code in (429, 503) for response in responses)
    assert sparql(live_server, ASK_ALICE).json()["boolean"] is True


def test_time_limit_applies_in_process(app):
    client = app.test_client()
    started = time.monotonic()
    response = client.get("/sparql", query_string={"query": RUNAWAY})
    assert response.status_code == 503 and time.monotonic() - started < 4
    assert client.get("/sparql", query_string={"query": ASK_ALICE}).json["boolean"] is True


# --- the service description ----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml", None])
def test_service_description(live_server, accept):
    response = sparql(live_server, accept=accept)
    assert response.status_code == 200
    statements = {(t.subject.value, t.predicate.value.rsplit("#")[-1], t.object.value) for t in graph_of(response)}
    service = "https://w3id.org/soles/sparql"
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert {(service, "endpoint", service), (service, "supportedLanguage", sd + "SPARQL11Query"),
            (service, "feature", sd + "UnionDefaultGraph"),
            (service, "resultFormat", "http://www.w3.org/ns/formats/SPARQL_Results_CSV")} <= statements
    assert REPORT_GRAPH in {value for _, predicate, value in statements if predicate == "name"}


def test_browsers_get_the_query_page(live_server):
    response = requests.get(live_server.url + "/sparql", timeout=10, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert response.status_code == 200 and media_type(response) == "text/html"
    assert "<html" in response.text.lower()


def test_streamed_graph_is_complete(live_server):
    count = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    expected = int(sparql(live_server, count).json()["results"]["bindings"][0]["n"]["value"])
    response = requests.get(live_server.url + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                            headers={"Accept": "application/n-triples"}, stream=True, timeout=30)
    body = io.BytesIO()
    for chunk in response.iter_content(chunk_size=None):
        body.write(chunk)
    assert len(set(parse(body.getvalue(), RdfFormat.N_TRIPLES))) == expected > 100
