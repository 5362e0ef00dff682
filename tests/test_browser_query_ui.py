"""The query page, the downloads and the VoID page in a real browser, at desktop and phone widths: examples
run from a compact menu, results readable (our IRIs linked here and prefixed, literals as text) and in view."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from kg.layout import read_manifest
from tests.browsing import WIDTHS, browsing, no_horizontal_scroll, screenshot
from tests.conftest import page_on
from tests.test_browser import RESULT_ROWS, _run_example

RESULTS = ".tabPanel.active .yasr_results table.dataTable"
SHOTS = Path("/tmp/shots")


page = page_on("live_server")


def _shoot(page: Page, name: str, tmp_path: Path) -> None:
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, name, tmp_path)
    screenshot(page, name, SHOTS)


def test_the_editor_comes_first_and_the_examples_fold_into_a_menu(page: Page, width):
    page.goto("/sparql")
    expect(page.locator(".yasqe .CodeMirror")).to_be_in_viewport()
    expect(page.locator(".example-menu a[data-example]").first).to_be_hidden()
    expect(page.locator("#query-form")).to_be_hidden()  # the plain form gives way to the editor
    page.locator(".example-menu summary").click()
    expect(page.locator(".example-menu a[data-example]").first).to_be_in_viewport()
    no_horizontal_scroll(page)


def test_an_example_runs_from_the_menu_with_its_results_in_view_and_linked_here(page: Page, width, tmp_path):
    rows = _run_example(page, "actors-with-wikidata")
    expect(rows).to_have_count(2)  # the fixture's two actors with a verified Wikidata id
    expect(page.locator(".example-menu ul")).to_be_hidden()
    expect(page.locator(".chosen-example")).to_contain_text("Which actors are linked to Wikidata?")
    expect(page).to_have_url("/sparql?example=actors-with-wikidata")
    expect(page.locator(f"{RESULTS} thead")).to_be_in_viewport()
    no_horizontal_scroll(page)
    _shoot(page, f"query-ui-{width}", tmp_path)

    actor = rows.get_by_role("link", name="person:alice-example", exact=True)
    expect(actor).to_have_attribute("href", "/id/person/alice-example")
    expect(actor).to_have_attribute("title", "https://w3id.org/soles/id/person/alice-example")
    hrefs = rows.locator("a").evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert len(hrefs) == 4
    assert sorted(hrefs) == ["/id/organization/daily-fixture", "/id/person/alice-example",
                             "http://www.wikidata.org/entity/Q1001", "http://www.wikidata.org/entity/Q1003"]
    wikidata = rows.locator("a[href='http://www.wikidata.org/entity/Q1001']")
    expect(wikidata).to_have_text("wd:Q1001")
    expect(wikidata).to_have_attribute("rel", "external noopener")
    expect(rows.locator("td", has_text="Alice Example").filter(has_not=page.locator("a"))).to_have_text(
        "Alice Example")

    actor.click()
    expect(page.locator("h1")).to_contain_text("Alice Example")
    assert page.url.endswith("/id/person/alice-example")


def test_typed_and_tagged_literals_read_as_plain_text(page: Page):
    rows = _run_example(page, "timeline")
    expect(rows).to_have_count(1)
    date = rows.locator(".literal", has_text="2024-03")
    expect(date).to_have_text("2024-03")
    expect(date).to_have_attribute("title", "xsd:gYearMonth")
    label = rows.locator(".literal", has_text="Alice Example indicted")
    expect(label).to_have_text("Alice Example indicted")
    expect(label).to_have_attribute("lang", "en")
    text = page.locator(RESULTS).inner_text()
    for raw in ('"', "@en", "^^", "xsd:"):
        assert raw not in text, raw


def test_an_example_named_in_the_address_is_loaded_and_run(page: Page):
    page.goto("/sparql?example=timeline")
    expect(page.locator(RESULT_ROWS)).to_have_count(1)
    expect(page.locator(".chosen-example")).to_contain_text("What happened when?")
    assert page.evaluate("localStorage.length") == 0


def test_without_javascript_the_form_runs_a_query(browser, live_server, width):
    with browsing(browser, live_server.url, WIDTHS[width], javascript=False) as page:
        page.goto("/sparql?example=timeline")
        expect(page.locator("#query-text")).to_be_visible()
        no_horizontal_scroll(page)
        page.locator(".example-menu summary").click()
        page.locator(".example-menu a[data-example='actors-with-wikidata']").click()
        expect(page.locator("#query-text")).to_have_value(
            (Path(__file__).parent.parent / "data/queries/actors-with-wikidata.rq").read_text(encoding="utf-8"))
        page.get_by_role("button", name="Run query").click()
        expect(page.locator("body")).to_contain_text("https://w3id.org/soles/id/person/alice-example")


def test_the_downloads_fit_a_phone(page: Page, width, fixture_build, tmp_path):
    assert page.goto("/downloads").status == 200
    files = read_manifest(fixture_build)["files"]
    expect(page.locator("table.downloads").first.locator("tbody tr")).to_have_count(len(files))
    no_horizontal_scroll(page)
    hash_cell = page.locator("table.downloads td.hash code").first
    expect(hash_cell).to_have_attribute("title", files[0]["sha256"])
    _shoot(page, f"downloads-{width}", tmp_path)

    page.get_by_role("link", name="VoID description").click()
    expect(page.locator("h1")).to_have_text("VoID description")
    no_horizontal_scroll(page)
    _shoot(page, f"void-{width}", tmp_path)

