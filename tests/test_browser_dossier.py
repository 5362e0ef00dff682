"""The "Cite" box, an actor's exports and the printable dossier in a real browser, at desktop and phone widths,
with and without JavaScript, on screen and in print."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browsing import browsing, no_horizontal_scroll, screenshot
from tests.conftest import page_on, serve_build
from tests.test_dossier import ALICE_ROWS, dossier_build  # noqa: F401  (the dossier fixture build)

SHOTS = Path("/tmp/shots")
CITED_PAGES = ["/id/allegation/alice-smuggles-cheese", "/id/attribution/fixture-report/alice-smuggles-cheese/alice-example/denies",
               "/id/event/alice-indicted", "/id/source/fixture-follow-up", "/id/person/alice-example"]


dossier_server = serve_build("dossier_build")


page = page_on("dossier_server")


@pytest.mark.parametrize("path", CITED_PAGES)
def test_each_page_has_a_cite_box_that_fits(page: Page, width, path):
    assert page.goto(path).status == 200
    box = page.locator("section.cite")
    expect(box.locator(".permanent-iri")).to_have_text("https://w3id.org/soles" + path)
    expect(box.locator(".dataset-version")).to_contain_text("Fixture graph, version")
    expect(box.locator("details.cite-format")).to_have_count(3)
    expect(box.locator("details[open] pre.cite-text")).to_contain_text("https://w3id.org/soles" + path)
    box.locator("summary", has_text="CSL-JSON").click()
    json.loads(box.locator("pre[data-copy-label='CSL-JSON']").inner_text())
    no_horizontal_scroll(page)
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, f"cite{path.replace('/', '-')}-{width}", SHOTS)


def test_the_copy_button_copies_the_citation(page: Page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/id/allegation/alice-smuggles-cheese")
    page.get_by_role("button", name="Copy plain text").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("pre[data-copy-label='plain text']").inner_text()
    assert "Generals of Ruritania Accused" in copied


def test_the_actor_page_offers_the_dossier_and_its_exports(page: Page, tmp_path):
    page.goto("/id/person/alice-example")
    exports = page.get_by_role("region", name="Dossier and exports")
    expect(exports.locator("a[href^='/dossier/person/alice-example']")).to_have_count(4)
    with page.expect_download() as download:
        exports.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename == "soles-dossier-person-alice-example.csv"
    path = tmp_path / "dossier.csv"
    download.value.save_as(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == ALICE_ROWS
    exports.get_by_role("link", name="Printable dossier").click()
    page.wait_for_url("**/dossier/person/alice-example")
    expect(page.locator("h1")).to_have_text("Alice Example")


def test_the_dossier_shows_every_voice_and_fits(page: Page, width):
    assert page.goto("/dossier/person/alice-example").status == 200
    expect(page.locator(".count-accused")).to_have_text("1")
    expect(page.locator(".count-claims")).to_have_text("1")
    expect(page.locator(".count-sources")).to_have_text("2")
    expect(page.locator("li.attribution")).to_have_count(ALICE_ROWS)
    expect(page.locator(".dossier-allegation")).to_have_count(2)
    expect(page.get_by_role("region", name="Asserted by").first).to_contain_text("officials say the minister")
    expect(page.get_by_role("region", name="Denied by").first).to_contain_text("called the charges a fabrication")
    expect(page.get_by_role("region", name="Disputed by (not accused)")).to_contain_text("no proof of a cheese network")
    expect(page.locator("ol.dossier-sources > li")).to_have_count(2)
    no_horizontal_scroll(page)
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, f"dossier-{width}", SHOTS)


def test_the_printed_dossier_is_the_document_alone(page: Page, width):
    page.goto("/dossier/person/alice-example")
    page.emulate_media(media="print")
    for hidden in (".site-header", ".site-footer", ".exports", ".screen-only", ".copy-button"):
        for element in page.locator(hidden).all():
            expect(element).to_be_hidden()
    expect(page.locator("details.cite-format[open] pre")).to_be_visible()
    expect(page.locator("li.attribution")).to_have_count(ALICE_ROWS)
    no_horizontal_scroll(page)
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, f"dossier-print-{width}", SHOTS)
    if width == "desktop":
        assert page.pdf(path=SHOTS / "dossier.pdf")[:5] == b"%PDF-"


def test_without_javascript_the_citation_is_there_to_select(browser, dossier_server):
    with browsing(browser, dossier_server.url, javascript=False) as page:
        page.goto("/dossier/person/alice-example")
        expect(page.locator("pre[data-copy-label='plain text']")).to_contain_text(
            "https://w3id.org/soles/id/person/alice-example")
        expect(page.locator(".copy-button")).to_have_count(0)
        expect(page.locator("li.attribution")).to_have_count(ALICE_ROWS)
