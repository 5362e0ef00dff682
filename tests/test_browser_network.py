"""The network view and an actor's neighbourhood in a real browser, at desktop and phone widths: what is drawn
equals the fixture, double-click expands, filters, "more" on a hub, PNG and SVG downloads, and no script."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import Page, expect

from tests.browsing import WIDTHS, browsing, no_horizontal_scroll, screenshot
from tests.conftest import LiveServer, build_fixture_with, page_on
from tests.fixtures import ACTORS

SVG = "{http://www.w3.org/2000/svg}"
HUB_NEIGHBOURS = 53  # more than a page of 50
HUB_ACTORS = ACTORS + "".join(f"""\
  - id: hub-member-{number:02d}
    type: person
    name: Hub member {number:02d}
""" for number in range(HUB_NEIGHBOURS)) + """\
  - id: hub-officials
    type: group
    name: Hub officials
"""
HUB_SOURCE = """\
source:
  id: hub-report
  type: news-report
  title: Many accused
  publisher: [daily-fixture]
  url: https://news.example.org/many-accused
  date: 2024-05-02
  language: en
  seen_at: https://news.example.org/many-accused
  read_on: 2024-06-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
allegations:
""" + "".join(f"""\
  - id: hub-member-{number:02d}-smuggles
    label: Hub member {number:02d} smuggles
    summary: Officials accuse a member of smuggling.
    types: [drug-trafficking]
    status: alleged
    accused: [hub-member-{number:02d}]
    attributions:
      - claimant: hub-officials
        stance: asserts
        quote: "member {number:02d} smuggled"
""" for number in range(HUB_NEIGHBOURS))


page = page_on("live_server")


def drawn(page: Page) -> dict:
    """What the drawing holds, once drawn: actors, relations (records) and lines, as the graph reports them."""
    graph = page.locator(".network-graph").first
    page.wait_for_function("() => document.querySelector('.network-graph').dataset.actors !== undefined")
    return {name: int(graph.get_attribute(f"data-{name}")) for name in ("actors", "relations", "lines")}


def settled(page: Page, actors: int) -> dict:
    page.wait_for_function("actors => document.querySelector('.network-graph').dataset.actors === String(actors)",
                           arg=actors)
    return drawn(page)


def node_point(page: Page, iri: str) -> tuple[float, float]:
    """Where an actor is drawn, in the window's coordinates (the drawing scrolled into view, the actor centred).

    Cytoscape learns of a scroll or a resize of its box only from events (a resize after 100 ms), and a click
    before then lands where the box was, so the frames are let pass and the box read again before pointing."""
    page.locator(".network-canvas").first.scroll_into_view_if_needed()
    at = page.evaluate("""async iri => {
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        const cy = document.querySelector('.network-graph').network.cy;
        cy.resize();
        const node = cy.getElementById(iri); cy.center(node); return node.renderedPosition(); }""", iri)
    box = page.locator(".network-canvas").first.bounding_box()
    return box["x"] + at["x"], box["y"] + at["y"]


def test_the_overview_draws_every_related_actor_and_relation(page: Page, tmp_path, width):
    assert page.goto("/network").status == 200
    assert drawn(page) == {"actors": 5, "relations": 7, "lines": 7}
    expect(page.locator(".network-count")).to_have_text("5 actors, 7 relations drawn")
    expect(page.locator("table.relations tbody tr")).to_have_count(7)
    expect(page.locator(".network-legend li")).to_have_count(5)
    colours = page.evaluate("""() => { const cy = document.querySelector('.network-graph').network.cy;
        const css = name => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
        return [cy.edges('[relation = "denies"]')[0].data('colour'), css('--deny'),
                cy.edges('[relation = "asserts"]')[0].data('colour'), css('--assert')]; }""")
    assert colours[0] == colours[1] and colours[2] == colours[3]
    assert page.evaluate("() => typeof window.__xss") == "undefined"
    no_horizontal_scroll(page)
    screenshot(page, f"network-{width}", tmp_path)


def test_double_click_adds_the_actors_related_to_an_actor(page: Page, width):
    page.goto("/network?actor=person/bob-sample&relation=asserts")
    assert drawn(page) == {"actors": 2, "relations": 1, "lines": 1}
    page.mouse.dblclick(*node_point(page, "https://w3id.org/soles/id/group/fixture-officials"))
    assert settled(page, 3) == {"actors": 3, "relations": 2, "lines": 2}
    page.wait_for_url("**actor=group%2Ffixture-officials**")
    expect(page.locator("a[data-view-export]").first).to_have_attribute(
        "href", "/network.json?actor=person%2Fbob-sample&relation=asserts&actor=group%2Ffixture-officials")
    expect(page.locator(".network-reload")).to_be_visible()
    no_horizontal_scroll(page)


def test_filters_apply_as_they_change(page: Page):
    page.goto("/network")
    drawn(page)
    page.get_by_label("denies").check()
    page.wait_for_url("**relation=denies**")
    assert drawn(page) == {"actors": 2, "relations": 2, "lines": 2}
    expect(page.locator("table.relations tbody tr")).to_have_count(2)
    page.goto("/network")
    page.get_by_label("Status of the allegation").select_option(label="alleged")
    page.wait_for_url("**status=Alleged**")
    assert drawn(page) == {"actors": 2, "relations": 1, "lines": 1}


def test_the_drawing_downloads_as_png_and_svg(page: Page, tmp_path):
    page.goto("/network")
    drawn(page)
    with page.expect_download() as png:
        page.get_by_role("button", name="Download PNG").click()
    assert png.value.suggested_filename == "network.png"
    png.value.save_as(tmp_path / "network.png")
    assert (tmp_path / "network.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with page.expect_download() as svg:
        page.get_by_role("button", name="Download SVG").click()
    assert svg.value.suggested_filename == "network.svg"
    svg.value.save_as(tmp_path / "network.svg")
    root = ET.parse(tmp_path / "network.svg").getroot()
    assert root.tag == f"{SVG}svg"
    assert len(root.findall(f"{SVG}circle")) == 3  # Alice, Bob, Mallory
    assert len(root.findall(f"{SVG}rect")) == 2  # the background and Daily Fixture
    assert len(root.findall(f"{SVG}polygon")) == 1  # the officials
    assert len(root.findall(f"{SVG}path")) == 7
    names = [text.text for text in root.findall(f"{SVG}text")]
    assert "Mallory <script>window.__xss = 1</script>" in names and names.count("asserts") == 3


def test_an_actor_page_opens_its_neighbourhood_as_a_graph(page: Page, tmp_path, width):
    page.goto("/id/person/alice-example")
    section = page.get_by_role("region", name="Network")
    expect(section).to_contain_text("Alice Example denies allegations against")
    section.get_by_text("Show as a graph").click()
    assert drawn(page) == {"actors": 3, "relations": 6, "lines": 6}
    no_horizontal_scroll(page)
    screenshot(page, f"actor-network-{width}", tmp_path)


def test_without_javascript_the_network_is_a_list(browser, live_server, width):
    with browsing(browser, live_server.url, WIDTHS[width], javascript=False) as page:
        page.goto("/network")
        expect(page.locator(".network-graph")).to_be_hidden()
        expect(page.locator("table.relations tbody tr")).to_have_count(7)
        page.get_by_label("co-accused").check()
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("table.relations tbody tr")).to_have_count(1)
        no_horizontal_scroll(page)
        page.goto("/id/person/alice-example")
        expect(page.get_by_role("region", name="Network")).to_contain_text("Accused together with Alice Example")
        expect(page.locator("details.neighbourhood-graph")).to_be_hidden()


# ---------------------------------------------------------------- a hub


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory):
    server = LiveServer(build_fixture_with(tmp_path_factory, "hub",
                                           {"actors.yaml": HUB_ACTORS, "sources/hub-report.yaml": HUB_SOURCE}))
    yield server
    server.stop()


def test_a_hub_shows_its_neighbours_a_page_at_a_time(browser, hub_server, width, tmp_path):
    with browsing(browser, hub_server.url, WIDTHS[width]) as page:
        page.goto("/network?actor=group/hub-officials")
        assert drawn(page) == {"actors": 51, "relations": 50, "lines": 50}
        expect(page.locator(".network-scope")).to_contain_text("1–50 of the 53 related to Hub officials")
        page.mouse.click(*node_point(page, "more\nhttps://w3id.org/soles/id/group/hub-officials"))
        assert settled(page, 54) == {"actors": 54, "relations": 53, "lines": 53}
        assert page.evaluate("() => document.querySelector('.network-graph').network.cy.nodes('.more').length") == 0
        no_horizontal_scroll(page)
        screenshot(page, f"hub-{width}", tmp_path)
