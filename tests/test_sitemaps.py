"""What search engines may crawl: robots.txt read by Python's own robots.txt parser, and the sitemaps, which
must list every page of our IRIs once, and nothing that is not a page."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from urllib.robotparser import RobotFileParser

import pytest

from kg import ids
from kg.store import open_store, run_query
from server import create_app
from server.sitemaps import SITEMAP_NAMESPACE, VIEWS

NS = {"s": SITEMAP_NAMESPACE}
SITE = "https://soles.example.org"
URLS_A_FILE = 7  # the fixture's pages fill several files


@pytest.fixture()
def small_files(fixture_build):
    app = create_app({"BUILD_DIR": fixture_build, "TESTING": True, "SITEMAP_URLS": URLS_A_FILE})
    return app.test_client()


def _robots(client) -> tuple[str, RobotFileParser]:
    response = client.get("/robots.txt", base_url=SITE)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    parser = RobotFileParser()
    parser.modified()  # read now: until then the parser allows nothing
    parser.parse(response.text.splitlines())
    return response.text, parser


def _wildcard_rules(text: str) -> list[re.Pattern]:
    """The Disallow rules with RFC 9309's ``*`` (any characters), which Python's parser reads literally."""
    rules = [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Disallow:")]
    return [re.compile(re.escape(rule).replace(r"\*", ".*")) for rule in rules if "*" in rule]


def _allowed(robots: RobotFileParser, wildcard_rules: list[re.Pattern], path: str) -> bool:
    return robots.can_fetch("AnyBot", SITE + path) and not any(rule.match(path) for rule in wildcard_rules)


def test_robots_lets_crawlers_read_every_page_and_names_the_sitemap(client):
    text, robots = _robots(client)
    wildcards = _wildcard_rules(text)
    for path in ("/", "/id/person/alice-example", "/id/allegation/alice-smuggles-cheese", "/graph/reference",
                 "/allegations", "/contested", "/timeline", "/network", "/downloads", "/ontology", "/void",
                 "/dossier/person/alice-example", "/static/style.css", "/sitemap.xml", "/sitemap-1.xml"):
        assert _allowed(robots, wildcards, path), path
    assert robots.site_maps() == [f"{SITE}/sitemap.xml"]


def test_robots_asks_crawlers_to_leave_the_endless_views_and_the_bulk_files(client):
    text, robots = _robots(client)
    wildcards = _wildcard_rules(text)
    for path in ("/sparql", "/sparql?query=ASK%7B%7D", "/search?q=alice", "/search", "/suggest?q=al", "/reconcile",
                 "/allegations?type=corruption", "/allegations.csv", "/contested?sort=label", "/contested.json",
                 "/timeline?actor=person/alice-example", "/timeline.json", "/network?actor=person/alice-example",
                 "/network.graphml", "/downloads/soles.trig", "/id/person/alice-example?as_of=2024-01-01",
                 "/id/person/alice-example?accused=2&as_of=2020-01-01", "/id/person/alice-example.ttl?format=jsonld"):
        assert not _allowed(robots, wildcards, path), path


def _sitemap_urls(client) -> list[list[str]]:
    """The addresses each sitemap file lists, file by file, as the index names them."""
    index = client.get("/sitemap.xml", base_url=SITE)
    assert index.status_code == 200 and index.mimetype == "application/xml"
    files = [loc.text for loc in ET.fromstring(index.data).findall("s:sitemap/s:loc", NS)]
    assert files == [f"{SITE}/sitemap-{number}.xml" for number in range(1, len(files) + 1)]
    listed = []
    for address in files:
        response = client.get(address.removeprefix(SITE), base_url=SITE)
        assert response.status_code == 200 and response.mimetype == "application/xml"
        listed.append([loc.text for loc in ET.fromstring(response.data).findall("s:url/s:loc", NS)])
    return listed


def _pages_of_the_store(fixture_build) -> set[str]:
    """Our IRIs that have a page of their own, found in the store: labelled, and not an anchor in another's page."""
    labelled = run_query(open_store(fixture_build), "SELECT DISTINCT ?s WHERE { "
                         "?s rdfs:label|skos:prefLabel|dcterms:title ?label FILTER(isIRI(?s)) }")
    return {row["s"].value for row in labelled if row["s"].value.startswith(ids.BASE) and "#" not in row["s"].value}


def test_the_sitemaps_list_every_page_of_our_iris_once(small_files, fixture_build):
    files = _sitemap_urls(small_files)
    assert len(files) > 2 and all(0 < len(urls) <= URLS_A_FILE for urls in files)
    listed = [url for urls in files for url in urls]
    assert len(listed) == len(set(listed))
    pages = {f"{SITE}/{ids.local_path(iri)}" for iri in _pages_of_the_store(fixture_build)}
    views = [f"{SITE}{path}" for path in ("/", "/allegations", "/contested", "/timeline", "/network", "/downloads",
                                           "/void")]
    assert len(views) == len(VIEWS)
    assert listed[:len(views)] == views
    assert set(listed[len(views):]) == pages
    assert {f"{SITE}/id/person/alice-example", f"{SITE}/graph/reference", f"{SITE}/ontology"} <= pages


def test_every_address_in_the_sitemaps_is_a_page_for_people(small_files):
    for urls in _sitemap_urls(small_files):
        for url in urls:
            response = small_files.get(url.removeprefix(SITE), base_url=SITE, headers={"Accept": "text/html"})
            assert response.status_code == 200 and response.mimetype == "text/html", url


def test_one_sitemap_holds_every_address_at_the_default_size(client):
    files = _sitemap_urls(client)
    assert len(files) == 1 and len(files[0]) > URLS_A_FILE


def test_a_sitemap_the_index_does_not_name_is_not_found(small_files):
    count = len(_sitemap_urls(small_files))
    for number in (0, count + 1, 10**12):
        assert small_files.get(f"/sitemap-{number}.xml").status_code == 404
    assert small_files.get("/sitemap--1.xml").status_code == 404
