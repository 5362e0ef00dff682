"""The downloads: the list, each file with its caching headers, the dumps themselves, and the VoID description."""

from __future__ import annotations

import gzip
import hashlib
import re
from urllib.parse import quote

import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, VOID, XSD

from kg import formats, ids
from kg.layout import read_manifest
from kg.pipeline import build
from kg.release import DUMPS, VOID_DUMP
from kg.store import open_store, run_query
from server import create_app, downloads

# rdflib's own TriG and JSON-LD parsers call its deprecated APIs; only warnings raised there are ignored.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

DOWNLOADS = "https://w3id.org/soles/downloads/"
DATASET = rdflib.URIRef(ids.DATASET.value)
ONTOLOGY = rdflib.URIRef(ids.ONTOLOGY_GRAPH.value)


@pytest.fixture(scope="module")
def manifest(fixture_build) -> dict:
    return read_manifest(fixture_build)


def test_the_manifest_lists_every_dump_and_the_void_file(manifest):
    assert [entry["name"] for entry in manifest["files"]] == [d.filename for d in (*DUMPS, VOID_DUMP)]


def test_the_list_is_html_by_default_and_names_every_file(client, manifest):
    response = client.get("/downloads")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert '</downloads.json>; rel="alternate"; type="application/json"' in response.headers["Link"]
    assert "Accept" in response.headers["Vary"]
    page = response.get_data(as_text=True)
    for entry in manifest["files"]:
        for fact in (entry["name"], entry["description"], entry["sha256"], str(entry["statements"])):
            assert fact in page
        assert f'href="http://localhost/downloads/{entry["name"]}"' in page


def test_the_list_gives_the_curation_date_in_words(client):
    page = client.get("/downloads").get_data(as_text=True)
    assert "as curated on 1 June 2024," in page  # the fixture's dcterms:modified, 2024-06-01
    assert "2024-06-01" not in page


@pytest.mark.parametrize("path, headers", [
    ("/downloads.json", {}),
    ("/downloads?format=json", {}),
    ("/downloads", {"Accept": "application/json"}),
])
def test_the_list_has_a_json_twin(client, manifest, path, headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert '</downloads>; rel="alternate"; type="text/html"' in response.headers["Link"]
    listing = response.get_json()
    assert listing["dataset"] == manifest["dataset"]
    assert listing["void"] == "http://localhost/void"
    assert listing["files"] == [{**entry, "url": f"http://localhost/downloads/{entry['name']}"}
                                for entry in manifest["files"]]


def test_a_list_format_that_does_not_exist_is_not_acceptable(client):
    assert client.get("/downloads", headers={"Accept": "image/png"}).status_code == 406


def test_every_file_is_served_whole_with_its_caching_headers(client, manifest):
    for entry in manifest["files"]:
        with client.get(f"/downloads/{entry['name']}") as response:
            body = response.get_data()
        assert response.status_code == 200, entry["name"]
        assert response.mimetype == entry["media_type"]
        assert int(response.headers["Content-Length"]) == len(body) == entry["bytes"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
        assert response.headers["ETag"] == f'"{entry["sha256"]}"'
        assert response.headers["Last-Modified"]
        assert response.headers["Content-Disposition"] == f"attachment; filename={entry['name']}"


def test_a_file_not_changed_since_the_client_last_fetched_it_is_not_sent_again(client, manifest):
    name = manifest["files"][0]["name"]
    with client.get(f"/downloads/{name}") as first:
        validators = {"If-None-Match": first.headers["ETag"], "If-Modified-Since": first.headers["Last-Modified"]}
    for header, value in validators.items():
        with client.get(f"/downloads/{name}", headers={header: value}) as response:
            assert response.status_code == 304, header
            assert response.get_data() == b""
    with client.get(f"/downloads/{name}", headers={"If-None-Match": '"other"'}) as response:
        assert response.status_code == 200


@pytest.mark.parametrize("name", [
    "nothing.ttl",
    "manifest.json",
    "store",
    "..%2Fmanifest.json",
    "%2E%2E%2F%2E%2E%2Fpyproject.toml",
    quote("/etc/passwd", safe=""),
])
def test_only_files_in_the_manifest_are_served(client, name):
    assert client.get(f"/downloads/{name}").status_code == 404


def test_no_path_outside_the_list_reaches_a_file(client):
    assert client.get("/downloads/../manifest.json").status_code == 404
    assert client.get("/downloads/store/").status_code == 404


def _download(client, name: str) -> bytes:
    with client.get(f"/downloads/{name}") as response:
        data = response.get_data()
    return gzip.decompress(data) if name.endswith(".gz") else data


def _dataset(data: bytes, rdf_format: str) -> rdflib.Dataset:
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format=rdf_format)
    return dataset


def _graphs(dataset: rdflib.Dataset) -> dict:
    """Each named graph of ``dataset`` as a plain graph, keyed by name; empty graphs left out."""
    graphs = {}
    for context in dataset.graphs():
        if len(context):
            graph = rdflib.Graph()
            for triple in context:
                graph.add(triple)
            graphs[context.identifier] = graph
    return graphs


def _merged(dataset: rdflib.Dataset) -> rdflib.Graph:
    merged = rdflib.Graph()
    for subject, predicate, obj, _ in dataset.quads():
        merged.add((subject, predicate, obj))
    return merged


def test_the_dumps_hold_the_same_data(client, manifest):
    trig = _dataset(_download(client, "soles.trig"), "trig")
    by_graph = _graphs(trig)
    assert sum(len(graph) for graph in by_graph.values()) == manifest["quads"]
    assert rdflib.URIRef(ids.REFERENCE_GRAPH.value) in by_graph
    for name, rdf_format in (("soles.nq.gz", "nquads"), ("soles.jsonld", "json-ld")):
        other = _graphs(_dataset(_download(client, name), rdf_format))
        assert other.keys() == by_graph.keys(), name
        for graph_name, graph in by_graph.items():
            assert isomorphic(other[graph_name], graph), (name, graph_name)

    turtle = rdflib.Graph().parse(data=_download(client, "soles.ttl"), format="turtle")
    assert isomorphic(turtle, _merged(trig))


def test_the_ontology_dumps_hold_the_same_ontology(client):
    turtle = rdflib.Graph().parse(data=_download(client, "ontology.ttl"), format="turtle")
    rdfxml = rdflib.Graph().parse(data=_download(client, "ontology.owl"), format="xml")
    assert len(turtle) > 0
    assert isomorphic(turtle, rdfxml)


def _void(client, path: str = "/void", **headers) -> rdflib.Graph:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return rdflib.Graph().parse(data=response.get_data(), format=response.mimetype)


def _integer(graph: rdflib.Graph, subject, predicate) -> int:
    value = graph.value(subject, predicate)
    assert value is not None and value.datatype == XSD.integer, (subject, predicate)
    return int(value)


def _count(store, query: str) -> int:
    return int(next(iter(run_query(store, query)))["n"].value)


def test_void_describes_the_dataset_as_curated(client):
    void = _void(client)
    assert (DATASET, RDF.type, VOID.Dataset) in void
    assert str(void.value(DATASET, DCTERMS.title)) == "Fixture graph"
    assert str(void.value(DATASET, DCTERMS.description)) == "A tiny dataset for tests."
    assert void.value(DATASET, DCTERMS.license) == rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(DATASET, DCTERMS.modified) == rdflib.Literal("2024-06-01", datatype=XSD.date)
    assert void.value(DATASET, VOID.sparqlEndpoint) == rdflib.URIRef("https://w3id.org/soles/sparql")
    assert str(void.value(DATASET, VOID.uriSpace)) == "https://w3id.org/soles/id/"
    assert rdflib.URIRef("https://w3id.org/soles/ontology#") in set(void.objects(DATASET, VOID.vocabulary))
    dumps = {str(dump) for described in (DATASET, ONTOLOGY) for dump in void.objects(described, VOID.dataDump)}
    assert dumps == {DOWNLOADS + dump.filename for dump in DUMPS}


def test_void_counts_are_the_stores(client, fixture_build):
    void = _void(client)
    store = open_store(fixture_build)
    assert _integer(void, DATASET, VOID.triples) == len(store)
    assert _integer(void, DATASET, VOID.entities) == _count(store, f"""
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), "{ids.ENTITY_BASE}") }}""")

    subsets = set(void.objects(DATASET, VOID.subset))
    assert subsets == {rdflib.URIRef(g.value) for g in store.named_graphs()}
    for subset in subsets:
        assert _integer(void, subset, VOID.triples) == _count(
            store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{subset}> {{ ?s ?p ?o }} }}")

    partitions = {void.value(p, VOID["class"]): _integer(void, p, VOID.entities)
                  for p in void.objects(DATASET, VOID.classPartition)}
    assert partitions[rdflib.URIRef("https://w3id.org/soles/ontology#Person")] == 3
    for cls, entities in partitions.items():
        assert entities == _count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}"), cls


@pytest.mark.parametrize("headers, path, mimetype", [
    ({}, "/.well-known/void", "text/turtle"),
    ({"Accept": "application/ld+json"}, "/void", "application/ld+json"),
    ({"Accept": "application/rdf+xml"}, "/.well-known/void", "application/rdf+xml"),
    ({"Accept": "application/n-triples"}, "/void", "application/n-triples"),
    ({}, "/void?format=jsonld", "application/ld+json"),
])
def test_void_comes_in_every_rdf_format(client, headers, path, mimetype):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.headers["Vary"]
    assert isomorphic(_void(client, path, **headers), _void(client))


def test_void_is_not_offered_in_other_formats(client):
    assert client.get("/void", headers={"Accept": "text/csv"}).status_code == 406


def test_void_answers_conditional_requests(client):
    etag = client.get("/void").headers["ETag"]
    assert client.get("/void", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/void", headers={"Accept": "application/ld+json", "If-None-Match": etag}).status_code == 200


def test_void_is_the_same_bytes_for_the_same_data(fixture_data, fixture_build, tmp_path):
    again = tmp_path / "build"
    build(fixture_data, again, reason=False)
    assert (again / VOID_DUMP.filename).read_bytes() == (fixture_build / VOID_DUMP.filename).read_bytes()


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_the_list_keeps_each_full_hash_and_names_the_void_page(client, manifest):
    page = client.get("/downloads").get_data(as_text=True)
    for entry in manifest["files"]:
        assert f'<code title="{entry["sha256"]}">{entry["sha256"]}</code>' in page
    assert '<a href="http://localhost/void">VoID description</a>' in page


def test_a_browser_asking_for_void_gets_a_page(client):
    response = client.get("/void", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Accept" in response.headers["Vary"]
    links = response.headers["Link"]
    for media_type in ("text/turtle", "application/rdf+xml", "application/ld+json"):
        assert f'rel="alternate"; type="{media_type}"' in links
    etag = response.headers["ETag"]
    assert etag != client.get("/void").headers["ETag"]
    assert client.get("/void", headers={"Accept": BROWSER_ACCEPT, "If-None-Match": etag}).status_code == 304
    # Programs that accept anything still get Turtle, and RDF/XML when they ask for it.
    assert client.get("/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get("/void", headers={"Accept": "application/rdf+xml"}).mimetype == "application/rdf+xml"


def test_the_void_page_and_formats_are_made_once_per_process(fixture_build, monkeypatch):
    # A big release describes tens of thousands of graphs: parsed and written at each request, that took seconds.
    made = []
    monkeypatch.setattr(downloads, "_void_page", lambda data: made.append("page") or "<p>VoID</p>")
    monkeypatch.setattr(downloads, "serialize", lambda *args, **kwargs: made.append("rdf/xml") or b"<rdf/>")
    client = create_app({"BUILD_DIR": fixture_build, "TESTING": True}).test_client()
    for _ in range(3):
        assert client.get("/void", headers={"Accept": BROWSER_ACCEPT}).get_data() == b"<p>VoID</p>"
        assert client.get("/void", headers={"Accept": "application/rdf+xml"}).get_data() == b"<rdf/>"
    assert made == ["page", "rdf/xml"]


def test_the_void_page_shows_what_the_rdf_says(client):
    page = re.sub(r">\s+", ">", client.get("/void", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True))
    void = _void(client)
    assert "<em>Fixture graph</em>" in page
    assert f'void:triples</th><td>{_integer(void, DATASET, VOID.triples)}</td>' in page
    for dump in void.objects(DATASET, VOID.dataDump):
        local = "/" + ids.local_path(str(dump))
        assert f'<a href="{local}">{local.rsplit("/", 1)[1]}</a>' in page
    graphs = set(void.objects(DATASET, VOID.subset))
    assert f"Graphs ({len(graphs)})" in page
    for graph in graphs:
        assert f'href="/{ids.local_path(str(graph))}"' in page
    partitions = list(void.objects(DATASET, VOID.classPartition))
    assert f"Classes ({len(partitions)})" in page
    assert '<a href="/ontology#Person">person</a></td><td>3</td>' in page
    for fmt, name in (("turtle", "Turtle"), ("rdfxml", "RDF/XML")):
        assert f'<a href="/void?format={fmt}" type="{formats.by_name(fmt).media_type}">{name}</a>' in page
    assert client.get("/void?format=rdfxml", headers={"Accept": BROWSER_ACCEPT}).mimetype == "application/rdf+xml"
