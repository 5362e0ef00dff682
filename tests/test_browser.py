"""The site in a real browser (Debian's chromium driven by Playwright) against ``kg serve`` on the fixture build.

Every test fails on any console error or uncaught exception in the page, and on any request that
leaves the machine: the site must work with no third-party host at all.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browsing import browsing

RESULT_ROWS = ".tabPanel.active .yasr_results table.dataTable tbody tr:not(:has(td.dt-empty))"
SCRIPT_NAME = "Mallory <script>window.__xss = 1</script>"


@pytest.fixture()
def page(browser, live_server):
    """A fresh page on the live server; the test fails on console errors and on requests to other hosts."""
    with browsing(browser, live_server.url) as page:
        yield page


def test_the_home_page_loads(page: Page):
    response = page.goto("/")
    assert response.status == 200
    expect(page).to_have_title(re.compile("Fixture graph"))
    expect(page.locator("h1").first).to_be_visible()


def test_a_search_finds_an_actor(page: Page):
    page.goto("/")
    search = page.locator("input[name=q]").first
    search.fill("Alice")
    search.press("Enter")
    page.wait_for_url("**/search?*")
    expect(page.get_by_role("link", name="Alice Example").first).to_be_visible()


def test_an_actor_page_shows_who_asserts_and_who_denies(page: Page):
    assert page.goto("/id/person/alice-example").status == 200
    expect(page.locator("h1")).to_contain_text("Alice Example")
    asserting = page.get_by_role("region", name="Asserting").filter(
        has_text="officials say the minister moved tons of cheese through Strelsau")
    denying = page.get_by_role("region", name="Denying").filter(
        has_text="Alice Example called the charges a fabrication")
    expect(asserting.first).to_be_visible()
    expect(denying.first).to_be_visible()


def _run_example(page: Page, name: str):
    page.goto("/sparql")
    page.locator(".example-menu summary").click()
    page.locator(f"a[data-example='{name}']").click()
    rows = page.locator(RESULT_ROWS)
    expect(rows.first).to_be_visible()
    return rows


def test_the_query_page_runs_an_example_query(page: Page):
    response = page.goto("/sparql")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    examples = page.locator("a[data-example]")
    assert examples.count() >= 10
    rows = _run_example(page, "allegations-by-type")
    expect(rows.filter(has_text="drug trafficking")).to_have_count(1)
    expect(rows.filter(has_text="bribery")).to_have_count(1)
    assert page.evaluate("localStorage.length") == 0


def test_markup_in_the_data_is_shown_as_text_and_never_run(page: Page):
    assert page.goto("/id/person/mallory-script").status == 200
    expect(page.get_by_text(SCRIPT_NAME).first).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"

    for path in ("/", "/search?q=Mallory"):
        page.goto(path)
        expect(page.get_by_text(SCRIPT_NAME).first).to_be_visible()
        assert page.evaluate("typeof window.__xss") == "undefined", path

    rows = _run_example(page, "allegations-by-status")
    expect(rows.filter(has_text=SCRIPT_NAME)).to_have_count(1)
    assert page.evaluate("typeof window.__xss") == "undefined"
