"""An actor's dossier: the printable page, the CSV (one row per attribution), and the dossier graph as Turtle
and JSON-LD, on a fixture with a follow-up source that reports on the first one."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic

from server import create_app
from tests.actor_fixture import HUB_ALLEGATIONS, allegations_read, build_actor_fixture
from tests.conftest import build_fixture_with
from tests.fixtures import ACTORS

SOL = Namespace("https://w3id.org/soles/ontology#")
ALICE = "https://w3id.org/soles/id/person/alice-example"
BOB = "https://w3id.org/soles/id/person/bob-sample"

# A follow-up report on the fixture report: a new allegation against Bob in which Alice and a leaker speak,
# a dissent on the cheese allegation, quotes a spreadsheet would read as formulas, and a title and an
# address full of characters BibTeX and HTML give a meaning to.
FOLLOW_UP_TITLE = "Follow-up: 50% & more {cheese} #2 at ~$5_000 ^ back\\slash <b>bold</b>"
FOLLOW_UP = """\
source:
  id: fixture-follow-up
  type: news-report
  title: 'Follow-up: 50% & more {cheese} #2 at ~$5_000 ^ back\\slash <b>bold</b>'
  publisher: [daily-fixture]
  url: https://news.example.org/follow-up?id={2}&share=50%
  date: 2024-07
  language: en
  seen_at: https://archive.example.org/news.example.org/follow-up
  read_on: 2024-08-02
  reports_on: [fixture-report]
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-08-02
allegations:
  - id: bob-hoards-gouda
    label: Bob Sample hoards gouda
    summary: The follow-up reports that the general hoarded gouda.
    types: [bribery]
    status: alleged
    accused: [bob-sample]
    attributions:
      - claimant: alice-example
        stance: asserts
        quote: "=SUM(A1) was the figure Alice Example gave for the gouda"
      - claimant: fixture-leaks
        stance: asserts
        quote: "+the general kept the gouda in Strelsau"
attributions:
  - allegation: alice-smuggles-cheese
    claimant: daily-fixture
    stance: disputes
    quote: "-no proof of a cheese network, the paper said"
"""
LEAKS = """\
  - id: fixture-leaks
    type: group
    name: "@FixtureLeaks"
    description: An anonymous account.
"""

# What the dossiers hold, counted from the data above and tests/fixtures.py.
ALICE_ROWS = 4  # on the cheese allegation against her: officials assert, she denies, the paper disputes; her claim on Bob
BOB_ROWS = 5  # the same three on the cheese allegation, and two voices on the gouda allegation


DOSSIER_FILES = {"actors.yaml": ACTORS + LEAKS, "sources/fixture-follow-up.yaml": FOLLOW_UP}


@pytest.fixture(scope="module")
def dossier_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "dossier", DOSSIER_FILES)


@pytest.fixture(scope="module")
def client(dossier_build):
    return create_app({"BUILD_DIR": dossier_build, "TESTING": True}).test_client()


def csv_rows(response) -> list[dict]:
    text = response.get_data().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# ---------------------------------------------------------------- CSV


def test_the_csv_has_a_row_per_attribution_concerning_the_actor(client):
    response = client.get("/dossier/person/alice-example.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="soles-dossier-person-alice-example.csv"'
    assert response.get_data().startswith(b"\xef\xbb\xbf")  # spreadsheets then read the names as UTF-8
    rows = csv_rows(response)
    assert len(rows) == ALICE_ROWS
    assert list(rows[0]) == ["concerns", "allegation", "allegation_status", "claimant", "stance", "quote",
                             "translation", "source_title", "source_url", "source_date", "source_seen_at",
                             "source_read_on", "attribution_permalink", "allegation_permalink", "claimant_permalink",
                             "source_permalink"]
    denial = next(row for row in rows if row["stance"] == "denies")
    assert denial == denial | {
        "concerns": "accused, claimant", "allegation": "Alice Example smuggles cheese", "allegation_status": "charged",
        "claimant": "Alice Example", "quote": "Alice Example called the charges a fabrication",
        "source_title": "Generals of Ruritania Accused", "source_url": "https://news.example.org/generals-accused",
        "source_date": "2024-05-01", "source_seen_at": "https://archive.example.org/news.example.org/generals-accused",
        "source_read_on": "2024-06-01",
        "attribution_permalink":
            "https://w3id.org/soles/id/attribution/fixture-report/alice-smuggles-cheese/alice-example/denies"}
    assert sorted(row["concerns"] for row in rows) == ["accused", "accused", "accused, claimant", "claimant"]
    claim = next(row for row in rows if row["concerns"] == "claimant")
    assert claim["allegation"] == "Bob Sample hoards gouda" and claim["source_title"] == FOLLOW_UP_TITLE
    assert claim["source_date"] == "2024-07"


def test_csv_cells_that_a_spreadsheet_would_run_are_text(client):
    rows = csv_rows(client.get("/dossier/person/bob-sample.csv"))
    assert len(rows) == BOB_ROWS
    quotes = {row["quote"] for row in rows}
    assert "'=SUM(A1) was the figure Alice Example gave for the gouda" in quotes
    assert "'+the general kept the gouda in Strelsau" in quotes
    assert "'-no proof of a cheese network, the paper said" in quotes
    assert "'@FixtureLeaks" in {row["claimant"] for row in rows}
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@")), cell


# ---------------------------------------------------------------- the dossier graph


def parsed(client, path: str, rdf_format: str) -> Graph:
    response = client.get(path)
    assert response.status_code == 200, path
    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=response.get_data(as_text=True), format=rdf_format)


def test_the_dossier_graph_holds_the_quotes_and_sources_in_turtle_and_json_ld_alike(client):
    turtle = parsed(client, "/dossier/person/alice-example.ttl", "turtle")
    json_ld = parsed(client, "/dossier/person/alice-example.jsonld", "json-ld")
    assert isomorphic(turtle, json_ld)
    attributions = set(turtle.subjects(SOL.allegation, None))
    assert len(attributions) == ALICE_ROWS
    assert len(list(turtle.objects(None, SOL.quote))) == ALICE_ROWS
    assert Literal("Alice Example called the charges a fabrication", lang="en") in set(turtle.objects(None, SOL.quote))
    sources = {URIRef("https://w3id.org/soles/id/source/fixture-report"),
               URIRef("https://w3id.org/soles/id/source/fixture-follow-up")}
    assert set(turtle.objects(None, SOL.source)) == sources
    for source in sources:  # described, with where the editors read them
        assert (source, SOL.seenAt, None) in turtle and (source, SOL.readOn, None) in turtle
    assert (URIRef(ALICE), SOL.role, None) in turtle
    # the page's own twin is the actor alone: the dossier is the export with the quotes
    assert len(list(parsed(client, "/id/person/alice-example.ttl", "turtle").objects(None, SOL.quote))) == 0


def test_the_dossier_json_ld_has_a_context_with_our_prefixes(client):
    response = client.get("/dossier/person/alice-example.jsonld")
    assert response.mimetype == "application/ld+json"
    assert response.headers["Content-Disposition"].endswith('filename="soles-dossier-person-alice-example.jsonld"')
    document = json.loads(response.get_data(as_text=True))
    assert document["@context"]["sol"] == str(SOL) and document["@context"]["person"].endswith("/id/person/")
    node = next(node for node in document["@graph"] if node["@id"] == "person:alice-example")
    assert node["@type"] == ["sol:Actor", "sol:Person"] and node["rdfs:label"] == [{"@value": "Alice Example"}]


@pytest.mark.parametrize("path", ["/id/person/alice-example", "/id/allegation/alice-smuggles-cheese",
                                  "/id/source/fixture-follow-up", "/graph/fixture-report"])
def test_every_json_ld_twin_is_compact_and_the_same_graph_as_its_turtle(client, path):
    document = json.loads(client.get(path + ".jsonld").get_data(as_text=True))
    assert set(document) == {"@context", "@graph"} and document["@context"]["sol"] == str(SOL)
    assert isomorphic(parsed(client, path + ".ttl", "turtle"), parsed(client, path + ".jsonld", "json-ld"))


# ---------------------------------------------------------------- the printable page


def test_the_dossier_page_shows_every_allegation_voice_and_source(client):
    response = client.get("/dossier/person/alice-example")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'href="/static/print.css' in html
    assert '<strong class="count-accused">1</strong>' in html and '<strong class="count-claims">1</strong>' in html
    assert '<strong class="count-sources">2</strong>' in html
    assert html.count('<li class="attribution">') == ALICE_ROWS
    for quote in ("officials say the minister moved tons of cheese through Strelsau",
                  "Alice Example called the charges a fabrication", "-no proof of a cheese network, the paper said",
                  "=SUM(A1) was the figure Alice Example gave for the gouda"):
        assert quote in html
    assert "+the general kept the gouda" not in html  # another's voice on an allegation Alice is not accused in
    assert "Primary document:" in html  # the follow-up reports on the fixture report
    assert "Follow-up: 50% &amp; more {cheese} #2 at ~$5_000 ^ back\\slash &lt;b&gt;bold&lt;/b&gt;" in html
    assert 'aria-labelledby="cite-heading"' in html and "https://w3id.org/soles/id/person/alice-example" in html
    links = response.headers["Link"]
    for suffix in (".csv", ".ttl", ".jsonld"):
        assert f"</dossier/person/alice-example{suffix}>" in links


@pytest.mark.parametrize("as_of", ["", "&as_of=2030-01-01"])
def test_a_long_dossier_is_paged_with_the_sources_of_each_page_and_its_csv_keeps_everything(dossier_build, as_of):
    # One allegation a page: Bob is accused in the cheese allegation (both sources speak to it) and the gouda
    # one (the follow-up alone), in reading order; the record today reads the page index, as of a day the store.
    client = create_app({"BUILD_DIR": dossier_build, "TESTING": True, "PAGE_SIZE": 1}).test_client()
    first, second = (client.get(f"/dossier/person/bob-sample?accused={number}{as_of}").get_data(as_text=True)
                     for number in (1, 2))
    for html in (first, second):
        assert '<strong class="count-accused">2</strong>' in html and '<strong class="count-sources">2</strong>' in html
        assert html.count('class="allegation-block dossier-allegation"') == 1
        assert "A long dossier" in html and 'href="/dossier/person/bob-sample.csv"' in html
    assert "Bob Sample hoards gouda" not in first and "1–1 of 2 allegations against Bob Sample" in first
    assert "Bob Sample hoards gouda" in second and "2–2 of 2 allegations against Bob Sample" in second
    assert 'rel="prev" href="/dossier/person/bob-sample' in second
    assert first.count('<li id="source-') == 2 and second.count('<li id="source-') == 1
    assert 'href="#source-1"' in second and 'href="#source-2"' not in second
    assert len(csv_rows(client.get(f"/dossier/person/bob-sample.csv?accused=2{as_of}"))) == BOB_ROWS
    assert "A long dossier" not in client.get(f"/dossier/person/alice-example?accused=1{as_of}").get_data(as_text=True)


def test_a_hubs_dossier_reads_only_the_allegations_of_the_page_shown(tmp_path_factory, monkeypatch):
    hub_build = build_actor_fixture(tmp_path_factory.mktemp("hub-dossier"))
    read = allegations_read(monkeypatch)
    client = create_app({"BUILD_DIR": hub_build, "TESTING": True, "PAGE_SIZE": 2}).test_client()
    html = client.get("/dossier/person/rex-ruler?accused=2").get_data(as_text=True)
    assert f'<strong class="count-accused">{HUB_ALLEGATIONS}</strong>' in html
    assert html.count('class="allegation-block dossier-allegation"') == len(set(read)) <= 4  # two of each list


def test_the_print_stylesheet_hides_the_site_around_the_document(client):
    with client.get("/static/print.css") as response:
        css = response.get_data(as_text=True)
    print_rules = css[css.index("@media print"):]
    hiding = print_rules[:print_rules.index("{ display: none !important; }")]
    for hidden in (".site-header", ".site-footer", ".screen-only", ".exports", ".copy-button"):
        assert hidden in hiding


def test_the_actor_page_links_to_the_dossier_and_its_exports(client):
    html = client.get("/id/person/alice-example").get_data(as_text=True)
    for href in ("/dossier/person/alice-example", "/dossier/person/alice-example.csv",
                 "/dossier/person/alice-example.ttl", "/dossier/person/alice-example.jsonld"):
        assert f'href="{href}"' in html


@pytest.mark.parametrize("path", ["/dossier/place/ruritania", "/dossier/person/nobody-at-all",
                                  "/dossier/person/Alice", "/dossier/organization/alice-example"])
def test_only_an_actor_has_a_dossier(client, path):
    assert client.get(path).status_code == 404


def test_a_dossier_answers_by_accept_and_refuses_what_it_cannot_give(client):
    assert client.get("/dossier/person/alice-example", headers={"Accept": "text/csv"}).mimetype == "text/csv"
    assert client.get("/dossier/person/alice-example", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"
    assert client.get("/dossier/person/alice-example.nt").status_code == 406
