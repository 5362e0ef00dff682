"""Linked-data pages on the fixture dataset: dereferencing, conneg, page contents, search, escaping."""

from __future__ import annotations

import gzip
import json
import re
from xml.etree import ElementTree

import pytest
import rdflib
import requests
from pyoxigraph import NamedNode, Triple, parse

from kg import formats, ids
from kg.search import folded
from kg.vocab import PROV, RDF, RDFS, SOL
from server import create_app
from server.pages.record import run, statements_about

PERSON = "/id/person/alice-example"
ALLEGATION = "/id/allegation/alice-smuggles-cheese"
EVENT = "/id/event/alice-indicted"
SOURCE = "/id/source/fixture-report"
GRAPH = "/graph/fixture-report"
ATTRIBUTION = "/id/attribution/fixture-report/alice-smuggles-cheese/alice-example/denies"
RDF_SUFFIXES = ("ttl", "jsonld", "nt", "rdf")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def iri(path: str) -> NamedNode:
    return NamedNode(ids.BASE + path.lstrip("/"))


def triples_of(response) -> set[Triple]:
    """The triples of an RDF response, read in the format its Content-Type names."""
    return {quad.triple for quad in parse(response.get_data(), format=formats.by_media_type(response.mimetype).rdf)}


def json_ld_blocks(html: str) -> list:
    return [json.loads(block) for block in
            re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S)]


def section(html: str, start_marker: str, end_marker: str | None = None) -> str:
    start = html.index(start_marker)
    end = html.index(end_marker, start) if end_marker else len(html)
    return html[start:end]


def our_iris(build_dir) -> set[str]:
    """Every IRI under https://w3id.org/soles/ that the fixture dump mentions, graph names included."""
    data = gzip.decompress((build_dir / "soles.nq.gz").read_bytes()).decode("utf-8")
    return {iri for iri in re.findall(r"<([^>]+)>", data) if iri.startswith(ids.BASE)}


# ---------------------------------------------------------------- dereferencing every IRI


def test_every_iri_in_the_dump_dereferences_to_html_and_turtle(live_server, fixture_build):
    iris = our_iris(fixture_build)
    assert f"{ids.BASE}id/person/alice-example" in iris and f"{ids.BASE}graph/reference" in iris
    assert any(iri.startswith(SOL.base) for iri in iris)  # ontology terms resolve too, at /ontology#Term
    for iri in sorted(iris):
        url = live_server.url + "/" + ids.local_path(iri).split("#")[0]
        page = requests.get(url, headers={"Accept": BROWSER_ACCEPT}, timeout=10)
        assert page.status_code == 200, iri
        assert page.headers["Content-Type"].startswith("text/html"), iri
        turtle = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
        assert turtle.status_code == 200, iri
        assert turtle.headers["Content-Type"].startswith("text/turtle"), iri
        graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
        assert (rdflib.URIRef(iri), None, None) in graph, f"{iri}: its Turtle does not describe it"


# ---------------------------------------------------------------- content negotiation and headers


@pytest.mark.parametrize("suffix", RDF_SUFFIXES)
def test_rdf_twin_by_suffix_describes_the_resource(client, suffix):
    response = client.get(f"{PERSON}.{suffix}")
    assert response.status_code == 200
    assert response.mimetype == formats.by_extension(suffix).media_type
    triples = triples_of(response)
    assert any(t.subject == iri(PERSON) and t.predicate == RDFS.label for t in triples)
    # Links to the resource come along: the allegation that accuses her.
    assert Triple(iri(ALLEGATION), SOL.accused, iri(PERSON)) in triples


@pytest.mark.parametrize("suffix", RDF_SUFFIXES)
def test_rdf_twin_by_accept_header(client, suffix):
    media_type = formats.by_extension(suffix).media_type
    response = client.get(ALLEGATION, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert Triple(iri(ALLEGATION), RDF.type, SOL.Allegation) in triples_of(response)


@pytest.mark.parametrize("accept", [None, "*/*", BROWSER_ACCEPT, "text/html"])
def test_html_by_default_and_for_browsers(client, accept):
    response = client.get(PERSON, headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_suffix_wins_over_accept_and_format_parameter_works(client):
    assert client.get(f"{PERSON}.nt", headers={"Accept": "text/html"}).mimetype == "application/n-triples"
    assert client.get(PERSON, query_string={"format": "turtle"}).mimetype == "text/turtle"
    assert client.get(f"{PERSON}.html").mimetype == "text/html"


def test_unavailable_format_is_406(client):
    assert client.get(PERSON, headers={"Accept": "text/csv"}).status_code == 406
    assert client.get(f"{PERSON}.csv").status_code == 406


@pytest.mark.parametrize("path", [PERSON, f"{PERSON}.ttl", GRAPH, f"{GRAPH}.jsonld"])
def test_vary_and_link_headers_name_every_twin(client, path):
    response = client.get(path)
    assert response.headers["Vary"] == "Accept"
    links = dict((type_, href) for href, type_ in
                 re.findall(r'<([^>]+)>; rel="alternate"; type="([^"]+)"', response.headers["Link"]))
    base = path.split(".")[0]
    assert links == {"text/html": base, "text/turtle": f"{base}.ttl", "application/ld+json": f"{base}.jsonld",
                     "application/n-triples": f"{base}.nt", "application/rdf+xml": f"{base}.rdf"}
    for media_type, href in links.items():
        twin = client.get(href)
        assert twin.status_code == 200 and twin.mimetype == media_type


def test_graph_twin_holds_the_graph_and_its_provenance(client):
    triples = triples_of(client.get(f"{GRAPH}.ttl"))
    assert Triple(iri(GRAPH), PROV.wasDerivedFrom, iri(SOURCE)) in triples
    assert Triple(iri(ALLEGATION), RDF.type, SOL.Allegation) in triples


def test_unknown_iri_is_a_helpful_404(client):
    response = client.get("/id/person/nobody-at-all", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = text_of(response)
    assert "https://w3id.org/soles/id/person/nobody-at-all" in html
    assert 'href="/search?q=nobody%20at%20all"' in html
    assert client.get("/id/person/nobody-at-all.ttl").status_code == 404
    assert client.get("/id/person/not%20an%20iri").status_code == 404


def test_html_pages_carry_a_content_security_policy(client):
    for path in ("/", PERSON, "/ontology", "/search?q=alice", "/id/person/nobody"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy


def test_pages_write_nothing(client, fixture_build):
    before = {path: path.stat().st_mtime_ns for path in fixture_build.rglob("*") if path.is_file()}
    for path in ("/", PERSON, ALLEGATION, SOURCE, GRAPH, "/ontology", "/search?q=a"):
        client.get(path)
    assert {path: path.stat().st_mtime_ns for path in fixture_build.rglob("*") if path.is_file()} == before


# ---------------------------------------------------------------- what the pages say


def test_actor_page_shows_names_roles_wikidata_and_both_sides(client):
    html = text_of(client.get(PERSON))
    assert "<h1>Alice Example</h1>" in html
    assert "Minister of Examples" in html
    assert "A minister accused in the fixture report." in html
    assert 'href="https://www.wikidata.org/wiki/Q1001"' in html
    assert 'href="/id/place/ruritania">Ruritania</a>' in html
    accused = section(html, 'id="accused-heading"', 'id="claims-heading"')
    assert "Alice Example smuggles cheese" in accused
    assert "a claim, not a finding" in accused
    assert "charged" in accused and "presumed innocent" in accused
    asserting = section(accused, 'class="column asserting"', 'class="column denying"')
    denying = section(accused, 'class="column denying"')
    assert "Fixture officials" in asserting and "officials say the minister moved tons of cheese" in asserting
    assert "Alice Example" in denying and "Alice Example called the charges a fabrication" in denying
    assert "<blockquote" in asserting and "Quoted from" in asserting
    assert 'href="/id/source/fixture-report">Generals of Ruritania Accused</a>' in asserting
    own = section(html, 'id="claims-heading"')
    assert "denies" in own and "called the charges a fabrication" in own
    assert 'href="/id/event/alice-indicted">Alice Example indicted</a>' in html


def test_actor_without_wikidata_says_so(client):
    html = text_of(client.get("/id/person/bob-sample"))
    assert "No confirmed Wikidata link" in html
    assert "Alice Example smuggles cheese" in html


def test_claimant_page_lists_what_they_assert(client):
    html = text_of(client.get("/id/group/fixture-officials"))
    own = section(html, 'id="claims-heading"')
    assert "Alice Example smuggles cheese" in own and "asserts" in own
    assert "Carried out by Fixture officials" in html


def test_allegation_page_sets_assertions_beside_denials(client):
    html = text_of(client.get(ALLEGATION))
    assert "Allegation — a claim, not a finding" in html
    assert "presumed innocent" in html
    assert "drug trafficking" in html
    assert 'href="/id/person/bob-sample">Bob Sample</a>' in html
    assert 'href="/id/place/strelsau">Strelsau</a>' in html
    asserting = section(html, 'class="column asserting"', 'class="column denying"')
    denying = section(html, 'class="column denying"')
    assert "Fixture officials" in asserting and "officials say the minister moved tons of cheese" in asserting
    assert "called the charges a fabrication" not in asserting
    assert 'href="/id/person/alice-example">Alice Example</a>' in denying
    assert "called the charges a fabrication" in denying and "Fixture officials" not in denying
    assert 'href="/id/event/alice-indicted"' in html


def test_attribution_page(client):
    html = text_of(client.get(ATTRIBUTION))
    assert "denies" in html
    assert "Alice Example called the charges a fabrication" in html
    assert 'href="/id/allegation/alice-smuggles-cheese"' in html


def test_source_page_lists_metadata_and_what_was_taken(client):
    html = text_of(client.get(SOURCE))
    assert "<h1>Generals of Ruritania Accused</h1>" in html
    assert '<a href="https://news.example.org/generals-accused" rel="external noopener">' in html
    assert "2024-05-01" in html
    assert 'href="/id/organization/daily-fixture">Daily Fixture</a>' in html
    assert 'href="/graph/fixture-report"' in html
    assert "Alice Example smuggles cheese" in html and "Mallory takes bribes" in html
    assert "Alice Example indicted" in html


def test_event_page(client):
    html = text_of(client.get(EVENT))
    assert "2024-03" in html and "indictment" in html
    assert 'href="/id/group/fixture-officials">Fixture officials</a>' in html
    assert 'href="/id/allegation/alice-smuggles-cheese"' in html
    assert "indicted in March" in html and "<blockquote" in html


def test_place_page(client):
    html = text_of(client.get("/id/place/ruritania"))
    assert "https://www.wikidata.org/wiki/Q1002" in html
    assert 'href="/id/place/strelsau">Strelsau</a>' in html  # a place within it
    assert 'href="/id/person/alice-example">Alice Example</a>' in html  # an actor from there
    strelsau = text_of(client.get("/id/place/strelsau"))
    assert "Alice Example smuggles cheese" in strelsau and "Alice Example indicted" in strelsau


def test_graph_page_shows_provenance_and_contents(client):
    html = text_of(client.get(GRAPH))
    provenance = section(html, 'id="provenance-heading"', 'id="contents-heading"')
    assert "Generals of Ruritania Accused" in provenance and "Fixture editors" in provenance
    assert "1 June 2024" in provenance  # the curation date, in words
    contents = section(html, 'id="contents-heading"')
    assert "Alice Example smuggles cheese" in contents and "Alice Example indicted" in contents


def test_pages_show_labels_not_iris(client):
    for path in (PERSON, ALLEGATION, EVENT, SOURCE, GRAPH):
        html = text_of(client.get(path))
        # The "Cite" box shows the permanent IRI on purpose (tests/test_citation.py); the rest shows labels.
        html = re.sub(r'<section class="cite".*?</section>', " ", html, flags=re.S)
        visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
        assert "https://w3id.org/soles/id/" not in visible, path


def test_home_page(client):
    html = text_of(client.get("/"))
    assert "<h1>Fixture graph</h1>" in html and "A tiny dataset for tests." in html
    counts = dict((name, int(count)) for count, name in
                  re.findall(r'<span class="count">(\d+)</span> ([a-z ]+)</li>', html))
    assert counts == {"actors": 6, "allegations": 2, "attributions asserting": 2, "attribution denying": 1,
                      "attributions disputing": 0, "event": 1, "source": 1}
    for href in ("/sparql", "/downloads", "/ontology", "/search", PERSON, ALLEGATION, EVENT, SOURCE):
        assert f'href="{href}"' in html or f'action="{href}"' in html, href


# ---------------------------------------------------------------- search


def test_search_json_is_case_insensitive(client):
    response = client.get("/search", query_string={"q": "ALICE"}, headers={"Accept": "application/json"})
    assert response.mimetype == "application/json"
    results = response.get_json()["results"]
    assert results[0] == {"iri": iri(PERSON).value, "label": "Alice Example", "type": "person",
                          "url": PERSON}
    assert {result["url"] for result in results} >= {PERSON, ALLEGATION, EVENT}


def test_search_by_format_parameter_and_html_otherwise(client):
    # Search reaches summaries and quotes too (issue 10): among places, the name alone matches.
    data = client.get("/search", query_string={"q": "strelsau", "kind": "place", "format": "json"}).get_json()
    assert [result["url"] for result in data["results"]] == ["/id/place/strelsau"]
    html = text_of(client.get("/search", query_string={"q": "strelsau"}))
    assert 'href="/id/place/strelsau">Strelsau</a>' in html
    assert client.get("/search", query_string={"q": "", "format": "json"}).get_json()["results"] == []


def test_search_ignores_accents():
    assert folded("Nicolás MADURO") == "nicolas maduro"
    assert folded("Clíver Alcalá") == folded("cliver alcala")


# ---------------------------------------------------------------- escaping and embedded data


def test_markup_in_data_is_shown_as_text(client):
    for path in ("/id/person/mallory-script", "/", "/search?q=mallory", "/id/allegation/mallory-takes-bribes",
                 "/graph/reference"):
        html = text_of(client.get(path))
        assert "Mallory &lt;script&gt;window.__xss = 1&lt;/script&gt;" in html, path
        assert "<script>window.__xss" not in html, path
        for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.S):
            assert "<" not in block, path


def test_markup_in_data_stays_data_in_json_ld(client):
    [data] = json_ld_blocks(text_of(client.get("/id/person/mallory-script")))
    assert data["name"] == "Mallory <script>window.__xss = 1</script>"


@pytest.mark.parametrize("path, schema_type", [
    (PERSON, "Person"), ("/id/organization/daily-fixture", "Organization"), ("/id/place/ruritania", "Place"),
    (SOURCE, "NewsArticle"), (EVENT, "Event"), (ALLEGATION, "Claim"), (ATTRIBUTION, "Claim"), (GRAPH, "Dataset"),
    ("/", "Dataset"), ("/ontology", "DefinedTermSet"),
])
def test_pages_embed_schema_org_json_ld(client, path, schema_type):
    [data] = json_ld_blocks(text_of(client.get(path)))
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == schema_type


def test_schema_org_claims_and_people_carry_their_links(client):
    [person] = json_ld_blocks(text_of(client.get(PERSON)))
    assert person["sameAs"] == ["https://www.wikidata.org/wiki/Q1001"]
    [claim] = json_ld_blocks(text_of(client.get(ALLEGATION)))
    assert [author["name"] for author in claim["author"]] == ["Fixture officials"]
    assert [work["@id"] for work in claim["appearance"]] == [iri(SOURCE).value]


def test_schema_org_actors_carry_only_the_properties_of_their_type(client):
    [person] = json_ld_blocks(text_of(client.get(PERSON)))
    assert person["jobTitle"] == ["Minister of Examples"]
    [newspaper] = json_ld_blocks(text_of(client.get("/id/organization/daily-fixture")))
    assert newspaper["@type"] == "Organization" and "jobTitle" not in newspaper  # its role has no schema.org property
    assert newspaper["sameAs"] == ["https://www.wikidata.org/wiki/Q1003"]
    [group] = json_ld_blocks(text_of(client.get("/id/group/fixture-officials")))
    assert group["@type"] == "Thing" and not {"jobTitle", "memberOf"} & set(group)


def test_the_home_page_describes_the_dataset_for_dataset_search(client, fixture_build):
    [data] = json_ld_blocks(text_of(client.get("/")))
    assert data["@id"] == ids.DATASET.value and data["dateModified"] == "2024-06-01"
    assert data["publisher"] == {"@type": "Organization", "@id": ids.ENTITY_BASE + "organization/fixture-editors",
                                 "name": "Fixture editors"}
    void = rdflib.Graph().parse(data=text_of(client.get("/void", headers={"Accept": "text/turtle"})), format="turtle")
    dumps = {str(dump) for dump in void.objects(rdflib.URIRef(ids.DATASET.value), rdflib.VOID.dataDump)}
    assert {download["contentUrl"] for download in data["distribution"]} == dumps
    manifest = json.loads((fixture_build / "manifest.json").read_text())
    data_dumps = [entry for entry in manifest["files"] if entry["name"].startswith("soles.")]
    assert [(download["encodingFormat"], download["contentSize"]) for download in data["distribution"]] == [
        (entry["media_type"], f"{entry['bytes']} B") for entry in data_dumps]


# ---------------------------------------------------------------- the ontology


def test_ontology_page_documents_every_term(client):
    response = client.get("/ontology")
    assert response.mimetype == "text/html"
    html = text_of(response)
    graph = rdflib.Graph().parse(data=text_of(client.get("/ontology.ttl")), format="turtle")
    terms = {str(s) for s in graph.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(SOL.base)}
    assert len(terms) > 40
    for term in terms:
        assert f'id="{term[len(SOL.base):]}"' in html, term
    allegation = section(html, 'id="Allegation"', "</section>")
    assert "allegation" in allegation and "It is a claim, not a fact" in allegation and "prov:Entity" in allegation
    claimant = section(html, 'id="claimant"', "</section>")
    assert "domain" in claimant and 'href="/ontology#Attribution"' in claimant
    involves = section(html, 'id="involves"', "</section>")  # a union domain reads as its members
    assert 'href="/ontology#Allegation"' in involves and 'href="/ontology#Event"' in involves


def test_ontology_files_and_conneg(client):
    turtle = client.get("/ontology.ttl")
    assert turtle.mimetype == "text/turtle"
    assert "sol:Allegation a owl:Class" in text_of(turtle)  # the hand-written file, as written
    owl = client.get("/ontology.owl")
    assert owl.mimetype == "application/rdf+xml"
    ElementTree.fromstring(owl.get_data())
    assert client.get("/ontology", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"
    negotiated = client.get("/ontology", headers={"Accept": "application/rdf+xml"})
    assert negotiated.mimetype == "application/rdf+xml"
    assert negotiated.headers["Vary"] == "Accept"
    assert '</ontology.ttl>; rel="alternate"; type="text/turtle"' in negotiated.headers["Link"]


def test_ontology_version_iri_leads_to_the_ontology(client):
    response = client.get("/ontology/0.1.0")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ontology")


def test_favicon_is_served_not_a_404(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    icon.close()
    assert 'rel="icon"' in text_of(client.get("/"))


# ---------------------------------------------------------------- long lists


@pytest.fixture()
def one_per_page(fixture_build):
    """The fixture's lists are short: with one item per page, every list of two or more is paged."""
    return create_app({"BUILD_DIR": fixture_build, "TESTING": True, "PAGE_SIZE": 1}).test_client()


def test_long_lists_turn_page_by_page(one_per_page):
    first = text_of(one_per_page.get("/id/place/ruritania"))
    assert "1–1 of 2 actors from here" in first
    assert 'href="/id/person/alice-example"' in first and 'href="/id/person/bob-sample"' not in first
    assert 'rel="next" href="/id/place/ruritania?actors=2"' in first and 'rel="prev"' not in first
    second = text_of(one_per_page.get("/id/place/ruritania?actors=2"))
    assert "2–2 of 2 actors from here" in second
    assert 'href="/id/person/bob-sample"' in second and 'href="/id/person/alice-example"' not in second
    assert 'rel="prev" href="/id/place/ruritania"' in second and 'rel="next"' not in second
    assert "2–2 of 2" in text_of(one_per_page.get("/id/place/ruritania?actors=9"))  # past the end: the last page
    assert "1–1 of 2" in text_of(one_per_page.get("/id/place/ruritania?actors=x"))


def test_each_list_keeps_its_own_page(one_per_page):
    html = text_of(one_per_page.get("/graph/fixture-report?allegation=2"))
    contents = section(html, 'id="contents-heading"')
    assert "Allegations (2)" in contents and "2–2 of 2 allegations" in contents
    assert 'href="/id/allegation/mallory-takes-bribes"' in contents
    assert 'href="/id/allegation/alice-smuggles-cheese"' not in contents
    assert 'href="/graph/fixture-report?allegation=2&amp;attribution=2"' in contents  # the other list's next page


def test_home_page_shows_the_head_of_long_lists(one_per_page):
    html = text_of(one_per_page.get("/"))
    assert "(3; the 1 most accused)" in html  # people
    allegations = section(html, 'id="allegations-heading"', 'id="events-heading"')
    assert "The first 1 of 2, in alphabetical order" in allegations
    assert 'href="/id/allegation/alice-smuggles-cheese"' in allegations
    assert 'href="/id/allegation/mallory-takes-bribes"' not in allegations


def test_a_resource_reads_the_same_statements_by_pattern_as_by_its_query(app):
    """Resource pages read the record today by pattern from the embedded store (record.statements_about), the
    record as of a day and a remote store by queries/resource.rq: the same statements, in the same order."""
    for path in (PERSON, ALLEGATION, SOURCE, ATTRIBUTION):
        with app.test_request_context(path):
            app.preprocess_request()
            by_pattern = statements_about(iri(path).value)
            assert by_pattern and by_pattern == [(predicate, value) for predicate, value in run("resource", this=iri(path).value)]
