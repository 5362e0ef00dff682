"""The network of actors: the build's whole-graph GraphML and GEXF read back with networkx, and /network's
views (the overview, an actor's neighbours a page at a time, filters) as HTML, JSON, GraphML and GEXF."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections import Counter
from io import BytesIO

import networkx
import pytest

from kg import network
from kg.layout import read_manifest
from server import create_app

ID = "https://w3id.org/soles/id/"
ALICE, BOB, MALLORY = f"{ID}person/alice-example", f"{ID}person/bob-sample", f"{ID}person/mallory-script"
OFFICIALS, DAILY, EDITORS = f"{ID}group/fixture-officials", f"{ID}organization/daily-fixture", \
    f"{ID}organization/fixture-editors"
SCRIPT_NAME = "Mallory <script>window.__xss = 1</script>"
# The fixture's relations: (from, relation, to), one per record.
RELATIONS = Counter({
    (OFFICIALS, "asserts", ALICE): 1, (OFFICIALS, "asserts", BOB): 1, (DAILY, "asserts", MALLORY): 1,
    (ALICE, "denies", ALICE): 1, (ALICE, "denies", BOB): 1,
    (ALICE, "co-accused", BOB): 1,
    (OFFICIALS, "acts on", ALICE): 1,
})
CONNECTED = {ALICE, BOB, MALLORY, OFFICIALS, DAILY}
READERS = {"graphml": networkx.read_graphml, "gexf": networkx.read_gexf}


def read_back(data: bytes, kind: str) -> networkx.MultiDiGraph:
    ET.fromstring(data)  # well-formed XML, or this raises
    return READERS[kind](BytesIO(data))


def relations_of(graph: networkx.MultiDiGraph) -> Counter:
    return Counter((source, data["relation"], target) for source, target, data in graph.edges(data=True))


# ---------------------------------------------------------------- the whole network, written by the build


@pytest.mark.parametrize("kind", sorted(READERS))
def test_the_whole_network_reads_back_with_every_actor_and_relation(fixture_build, kind):
    data = (fixture_build / f"network.{kind}").read_bytes()
    graph = read_back(data, kind)
    assert set(graph.nodes) == CONNECTED | {EDITORS}  # every actor, related or not
    assert relations_of(graph) == RELATIONS
    assert graph.nodes[MALLORY]["label"] == SCRIPT_NAME and graph.nodes[MALLORY]["kind"] == "person"
    assert graph.nodes[OFFICIALS]["kind"] == "group" and graph.nodes[DAILY]["kind"] == "organization"
    assert b"<script>" not in data and b"Mallory &lt;script&gt;" in data
    asserting = next(edge for _, target, edge in graph.out_edges(DAILY, data=True) if target == MALLORY)
    assert asserting["allegation"] == f"{ID}allegation/mallory-takes-bribes"
    assert asserting["allegation_label"] == "Mallory takes bribes"
    assert asserting["status_label"] == "alleged"
    assert asserting["source_label"] == "Generals of Ruritania Accused"
    assert asserting["record"] == f"{ID}attribution/fixture-report/mallory-takes-bribes/daily-fixture/asserts"
    acting = next(edge for _, _, edge in graph.edges(data=True) if edge["relation"] == "acts on")
    assert acting["event_label"] == "Alice Example indicted" and "status" not in acting


TRICKY = "Fish & <Chips> \"quoted\" 'single'\ttabbed\nsplit"
TRICKY_GRAPH = {
    "nodes": [{"id": "urn:x:fish&chips", "label": TRICKY, "kind": "person"},
              {"id": "urn:x:b", "label": "", "kind": "group"}],
    "edges": [{"from": "urn:x:fish&chips", "to": "urn:x:b", "relation": "asserts", "allegation": "urn:x:a",
               "source": "urn:x:s", "record": "urn:x:r"}],
    "labels": {"urn:x:a": TRICKY, "urn:x:s": ""}}


@pytest.mark.parametrize("graph", [TRICKY_GRAPH, {"nodes": [], "edges": [], "labels": {}}], ids=["tricky", "empty"])
@pytest.mark.parametrize("export", network.EXPORTS, ids=lambda export: export.name)
def test_an_export_is_what_elementtree_writes_of_it(graph, export):
    """The exports are written line by line, not through ElementTree (too slow for a large network), yet must be
    byte for byte what ElementTree writes of the same document indented, whatever the text (markup, quotes, white
    space, nothing). ElementTree names the default namespace its own way, so the comparison leaves it out."""
    data = export.write(graph)
    namespace = {"graphml": network.GRAPHML_NS, "gexf": network.GEXF_NS}[export.name]
    plain = data.replace(f' xmlns="{namespace}"'.encode(), b"", 1)
    assert plain != data
    root = ET.fromstring(plain)
    ET.indent(root)
    assert ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n" == plain


def test_the_whole_network_is_on_the_downloads_page(client, fixture_build):
    network = read_manifest(fixture_build)["network"]
    assert (network["actors"], network["relations"]) == (6, 7)
    page = client.get("/downloads").get_data(as_text=True)
    listing = client.get("/downloads.json").get_json()["network"]
    assert [entry["name"] for entry in listing["files"]] == ["network.graphml", "network.gexf"]
    for entry in network["files"]:
        assert entry["name"] in page and entry["sha256"] in page
        with client.get(f"/downloads/{entry['name']}") as response:
            body = response.get_data()
        assert response.status_code == 200 and response.mimetype == entry["media_type"]
        assert hashlib.sha256(body).hexdigest() == entry["sha256"] and len(body) == entry["bytes"]


# ---------------------------------------------------------------- views


def view(client, query: str = "") -> dict:
    response = client.get(f"/network.json{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def drawn(found: dict) -> tuple[set, Counter]:
    return {node["id"] for node in found["nodes"]}, Counter((e["from"], e["relation"], e["to"]) for e in found["edges"])


def test_the_overview_shows_every_related_actor_and_every_relation_among_them(client):
    found = view(client)
    assert drawn(found) == (CONNECTED, RELATIONS)
    assert found["connected"] == 5 and found["focus"] == [] and found["hubs"] == []
    assert found["labels"][f"{ID}source/fixture-report"] == "Generals of Ruritania Accused"


def test_the_page_lists_the_relations_without_javascript(client):
    response = client.get("/network")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.count('<td data-label="Relation"') == 7
    assert "The 5 most connected of the 5 actors with a relation" in page
    assert "Mallory &lt;script&gt;window.__xss = 1&lt;/script&gt;" in page and SCRIPT_NAME not in page
    assert '<div class="network-graph"' in page and "hidden>" in page  # the drawing waits for the script
    for suffix, media_type in (("json", "application/json"), ("graphml", "application/graphml+xml"),
                               ("gexf", "application/gexf+xml")):
        assert f'</network.{suffix}>; rel="alternate"; type="{media_type}"' in response.headers["Link"]
    assert client.get("/network", headers={"Accept": "application/json"}).mimetype == "application/json"


def test_an_actor_view_shows_it_with_its_neighbours(client):
    found = view(client, "?actor=person/alice-example")
    assert drawn(found) == ({ALICE, BOB, OFFICIALS}, RELATIONS - Counter({(DAILY, "asserts", MALLORY): 1}))
    assert found["focus"] == [ALICE]
    page = client.get("/network?actor=person/alice-example").get_data(as_text=True)
    assert '<input type="hidden" name="actor" value="person/alice-example">' in page
    assert page.count('<td data-label="Relation"') == 6


@pytest.mark.parametrize("query, relations", [
    ("?relation=denies", {(ALICE, "denies", ALICE), (ALICE, "denies", BOB)}),
    ("?relation=co-accused&relation=acts+on", {(ALICE, "co-accused", BOB), (OFFICIALS, "acts on", ALICE)}),
    ("?status=Alleged", {(DAILY, "asserts", MALLORY)}),
    ("?status=Charged&relation=asserts", {(OFFICIALS, "asserts", ALICE), (OFFICIALS, "asserts", BOB)}),
    ("?source=fixture-report", set(RELATIONS)),
    ("?source=no-such-source", set()),
    ("?actor=person/alice-example&relation=asserts", {(OFFICIALS, "asserts", ALICE)}),
])
def test_filters_keep_only_the_relations_that_match(client, query, relations):
    assert set(drawn(view(client, query))[1]) == relations
    page = client.get(f"/network{query}").get_data(as_text=True)
    assert page.count('<td data-label="Relation"') == len(relations)
    if not relations:
        assert "No relation matches these filters." in page


@pytest.mark.parametrize("query, status", [
    ("?relation=befriends", 400),
    ("?actor=person/nobody-at-all", 404),
    ("?actor=place/strelsau", 404),
    ("?" + "&".join(f"actor=person/p{number}" for number in range(11)), 400),
])
def test_a_view_that_cannot_be_is_a_client_error(client, query, status):
    for path in ("/network", "/network.json", "/network.graphml"):
        assert client.get(path + query).status_code == status


@pytest.fixture()
def small_pages(fixture_build):
    """The fixture's app with pages of one item: the fixture's actors have two neighbours at most."""
    return create_app({"BUILD_DIR": fixture_build, "TESTING": True, "PAGE_SIZE": 1}).test_client()


def test_a_hub_shows_a_page_of_neighbours_at_a_time(small_pages):
    first = view(small_pages, "?actor=person/alice-example&relation=asserts&relation=denies")
    # Bob (asserted against and denied: two records with Alice) comes before the officials (one).
    assert {node["id"] for node in first["nodes"]} == {ALICE, BOB}
    assert first["hubs"] == [{"actor": ALICE, "shown": 1, "total": 2, "next": "/network.json?relation=asserts&"
                              "relation=denies&actor=person%2Falice-example&page=2"}]
    second = view(small_pages, first["hubs"][0]["next"].removeprefix("/network.json"))
    assert {node["id"] for node in second["nodes"]} == {ALICE, OFFICIALS}
    assert second["hubs"][0]["next"] is None
    page = small_pages.get("/network?actor=person/alice-example").get_data(as_text=True)
    assert 'rel="next" href="/network?actor=person%2Falice-example&amp;page=2"' in page


def test_the_overview_is_bounded(small_pages):
    found = view(small_pages)
    assert [node["id"] for node in found["nodes"]] == [ALICE]  # the most related: Bob, the officials, herself
    assert found["connected"] == 5


@pytest.mark.parametrize("kind", sorted(READERS))
def test_a_view_exports_as_what_it_shows(client, kind):
    response = client.get(f"/network.{kind}?actor=group/fixture-officials&relation=asserts")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f"attachment; filename=network.{kind}"
    graph = read_back(response.get_data(), kind)
    assert set(graph.nodes) == {ALICE, BOB, OFFICIALS}
    assert relations_of(graph) == Counter({(OFFICIALS, "asserts", ALICE): 1, (OFFICIALS, "asserts", BOB): 1})
    overview = read_back(client.get(f"/network.{kind}").get_data(), kind)
    assert set(overview.nodes) == CONNECTED and relations_of(overview) == RELATIONS
    assert overview.nodes[MALLORY]["label"] == SCRIPT_NAME


# ---------------------------------------------------------------- an actor's page


def test_an_actor_page_counts_its_neighbours_by_relation_each_count_opening_the_view(client):
    page = client.get("/id/person/alice-example").get_data(as_text=True)
    section = page[page.index('<section class="neighbourhood"'):]
    section = section[:section.index("</section>")]
    view = "/network?actor=person%2Falice-example&amp;relation="
    # The fixture's relations touching Alice (EDGES): her denial of her own allegation is left out.
    for phrase, relation in (("Allegations against Alice Example asserted by", "asserts"),
                             ("Alice Example denies allegations against", "denies"),
                             ("Accused together with Alice Example", "co-accused"),
                             ("Carried out events involving Alice Example", "acts+on")):
        assert f'{phrase}</dt>\n    <dd><a href="{view}{relation}">1 actor</a></dd>' in section
    assert section.count("<dt") == 4
    assert "bob-sample" not in section  # the counterparts name them; the network view pages them all
    assert 'href="/network?actor=person%2Falice-example"' in section
    assert '<details class="neighbourhood-graph" hidden>' in section  # the graph waits for the script


def test_an_actor_without_relations_has_no_network_section(client):
    page = client.get("/id/organization/fixture-editors").get_data(as_text=True)
    assert "neighbourhood" not in page


def test_the_source_filter_offers_the_sources_with_most_relations_and_the_chosen_one(client, monkeypatch):
    monkeypatch.setattr("server.pages.network.CHOICES", 0)
    page = client.get("/network").get_data(as_text=True)
    select = page[page.index('<select name="source">'):]
    select = select[:select.index("</select>")]
    assert 'value="fixture-report"' not in select and "<option disabled>… 1 more, each in fewer relations" in select
    chosen = client.get("/network?source=fixture-report").get_data(as_text=True)
    select = chosen[chosen.index('<select name="source">'):]
    assert '<option value="fixture-report" selected>Generals of Ruritania Accused</option>' in select
