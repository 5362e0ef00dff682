"""Search in a real browser at desktop and phone widths: suggestions as one types, the results page, and the page
that says nothing was found; with and without JavaScript."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browsing import browsing, no_horizontal_scroll, screenshot
from tests.conftest import page_on, serve_build
from tests.test_search import DENIAL, PERSON, search_build  # noqa: F401  (the search fixture build)

SHOTS = Path("/tmp/shots")


search_server = serve_build("search_build")


page = page_on("search_server")


def shot(page: Page, name: str, width: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, f"search-{name}-{width}", SHOTS)


def test_typing_shows_suggestions_with_aliases_and_choosing_one_opens_it(page: Page, width):
    page.goto("/")
    box = page.locator("#site-search-q")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("maduro mo")
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options.first).to_contain_text("Nicolás Maduro")
    expect(options.first).to_contain_text("alias: Nicolás Maduro Moros")
    no_horizontal_scroll(page)
    shot(page, "suggestions", width)
    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    box.press("Enter")
    page.wait_for_url(f"**{PERSON}")
    expect(page.locator("h1")).to_contain_text("Nicolás Maduro")


def test_a_suggestion_is_chosen_by_a_click_and_escape_closes_the_list(page: Page):
    page.goto("/search")
    box = page.locator("#search-q")
    box.press_sequentially("cheese")
    listbox = page.get_by_role("listbox", name="Suggestions")
    expect(listbox).to_be_visible()
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")  # opens the list again
    expect(listbox).to_be_visible()
    listbox.get_by_role("option", name="Maduro heads the cheese cartel allegation", exact=True).click()
    page.wait_for_url("**/id/allegation/maduro-heads-cheese-cartel")


def test_enter_without_a_suggestion_chosen_searches_for_the_text(page: Page, width):
    page.goto("/search")
    box = page.locator("#search-q")
    box.press_sequentially("fake news")
    expect(page.get_by_role("listbox", name="Suggestions")).to_be_hidden()  # a quote is no name
    box.press("Enter")
    page.wait_for_url("**/search?*")
    results = page.locator("ol.search-results > li")
    expect(results).to_have_count(1)
    expect(page.get_by_role("status")).to_have_text("1 result for “fake news”.")
    expect(results.first.get_by_role("link")).to_have_attribute("href", DENIAL)
    expect(results.first.locator("mark")).to_have_text(["fake", "news"])
    no_horizontal_scroll(page)
    shot(page, "quote", width)


def test_results_by_kind_with_the_counts_of_the_fixture(page: Page, width):
    page.goto("/search?q=maduro")
    filters = page.get_by_role("navigation", name="Results by kind")
    total = int(filters.get_by_role("link", name="All kinds").locator(".count").inner_text())
    expect(page.locator("ol.search-results > li")).to_have_count(total)
    expect(page.locator("ol.search-results > li").first.get_by_role("link").first).to_have_text("Nicolás Maduro")
    no_horizontal_scroll(page)
    shot(page, "results", width)
    filters.get_by_role("link", name="Actors").click()
    page.wait_for_url("**kind=actor")
    expect(page.locator("ol.search-results > li")).to_have_count(2)
    expect(page.get_by_role("status")).to_have_text("2 results for “maduro” among actors.")
    expect(page.locator("#search-kind")).to_have_value("actor")


def test_the_empty_result_page_says_what_was_searched_and_what_to_try(page: Page, width):
    page.goto("/search?q=Nicolas+Madura&kind=actor")
    expect(page.get_by_role("heading", name="No results")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("0 results for “Nicolas Madura” among actors.")
    expect(page.locator(".no-results")).to_contain_text("among actors only")
    expect(page.get_by_role("textbox", name="SPARQL query")).to_contain_text('VALUES ?words { "nicolas madura" }')
    no_horizontal_scroll(page)
    shot(page, "empty", width)
    page.get_by_role("link", name="nicolas maduro").click()
    page.wait_for_url("**q=nicolas+maduro&kind=actor")
    expect(page.locator("ol.search-results > li")).to_have_count(2)


def test_search_works_without_javascript(browser, search_server):
    with browsing(browser, search_server.url, javascript=False) as page:
        page.goto("/")
        box = page.locator("#site-search-q")
        expect(box).not_to_have_attribute("role", "combobox")
        box.fill("Maduro Moros")
        box.press("Enter")
        page.wait_for_url("**/search?*")
        expect(page.locator("ol.search-results > li").first).to_contain_text("matched alias: Nicolás Maduro Moros")
        page.locator("#search-kind").select_option("source")
        page.get_by_role("button", name="Search").last.click()
        page.wait_for_url("**kind=source")
        expect(page.get_by_role("heading", name="No results")).to_be_visible()
