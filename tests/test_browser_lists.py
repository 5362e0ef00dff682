"""The lists of allegations and of contested claims in a real browser, at desktop and phone widths: the counts on
screen are the fixture's, facet links narrow the list and the address holds the view, sorting works, the facets
fold above the results on a phone, and nothing scrolls sideways."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browsing import WIDTHS, browsing, no_horizontal_scroll, screenshot
from tests.conftest import page_on, serve_build
from tests.test_allegation_list import ALL, FACET_COUNTS, lists_build  # noqa: F401  (the richer fixture build)

SHOTS = Path("/tmp/shots")


lists_server = serve_build("lists_build")


page = page_on("lists_server")


def open_filters(page: Page, width: str) -> None:
    """On a phone the facets are folded above the results; on a desktop they are always open beside them."""
    first_value = page.locator("a.facet-value").first
    if width == "phone":
        expect(first_value).to_be_hidden()
        page.locator("details.facets > summary").click()
    expect(first_value).to_be_visible()


def rows(page: Page) -> list[str]:
    return [href.rsplit("/", 1)[-1] for href in page.locator(".allegation-row h3 a").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))")]


def test_the_counts_on_screen_are_the_fixtures(page: Page, width: str):
    assert page.goto("/allegations").status == 200
    open_filters(page, width)
    expect(page.locator(".result-total")).to_have_text("5")
    assert rows(page) == ALL
    shown: dict[str, dict[str, int]] = {}
    for link in page.locator("a.facet-value").all():
        shown.setdefault(link.get_attribute("data-facet"), {})[link.get_attribute("data-value")] = int(
            link.locator(".facet-count").inner_text())
    assert shown == FACET_COUNTS
    no_horizontal_scroll(page)
    screenshot(page, f"allegations-{width}", SHOTS)


def test_facet_links_narrow_the_list_and_the_address_holds_the_view(page: Page, width: str):
    page.goto("/allegations")
    open_filters(page, width)
    page.locator("a.facet-value[data-facet=status][data-value=alleged]").click()
    page.wait_for_url(re.compile(r"/allegations\?status=alleged$"))
    expect(page.locator(".result-total")).to_have_text("2")
    assert rows(page) == ["carol-hides-cheese", "mallory-takes-bribes"]
    open_filters(page, width)
    page.locator("a.facet-value[data-facet=claimant][data-value=carol-witness]").click()
    page.wait_for_url(re.compile(r"/allegations\?claimant=carol-witness&status=alleged$"))
    assert rows(page) == ["carol-hides-cheese"]
    expect(page.locator("a.facet-value.selected")).to_have_count(2)
    no_horizontal_scroll(page)
    screenshot(page, f"allegations-filtered-{width}", SHOTS)

    # The address alone gives the same view, and a chosen filter is taken out with one link.
    page.goto("/allegations?claimant=carol-witness&status=alleged")
    assert rows(page) == ["carol-hides-cheese"]
    page.get_by_role("link", name=re.compile("^Current status: alleged")).click()
    page.wait_for_url(re.compile(r"/allegations\?claimant=carol-witness$"))
    assert rows(page) == ["bob-runs-guns", "carol-hides-cheese"]


def test_the_date_range_form(page: Page, width: str):
    page.goto("/allegations?sort=latest")
    open_filters(page, width)
    page.locator("#date-from").fill("2025")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"/allegations\?sort=latest&from=2025&to=$"))  # the empty "to" is no filter
    assert rows(page) == ["alice-takes-bribes", "bob-runs-guns"]
    expect(page.get_by_role("list", name="Filters chosen")).to_contain_text("Source dated from 2025")


def test_contested_claims_side_by_side_and_sorted(page: Page, width: str):
    assert page.goto("/contested").status == 200
    expect(page.locator(".result-total")).to_have_text("3")
    blocks = page.locator(".contested-block")
    expect(blocks).to_have_count(3)
    expect(blocks.first.get_by_role("region", name="Asserting")).to_contain_text("Bob Sample sold rifles to the rebels")
    expect(blocks.first.get_by_role("region", name="Denying")).to_contain_text("I never sold a single rifle")
    expect(blocks.first.get_by_role("region", name="Disputing")).to_contain_text("the rifles were never found")
    no_horizontal_scroll(page)
    screenshot(page, f"contested-{width}", SHOTS)
    page.get_by_role("link", name="status, in the order a case moves").click()
    page.wait_for_url(re.compile(r"/contested\?sort=status$"))
    expect(blocks.locator("h2")).to_have_text(["Carol Witness hides cheese", "Alice Example smuggles cheese",
                                               "Bob Sample supplies arms"])
    expect(page.locator(".sort-links [aria-current]")).to_have_text("status, in the order a case moves")


def test_the_lists_work_without_javascript(browser, lists_server):
    with browsing(browser, lists_server.url, WIDTHS["desktop"], javascript=False) as page:
        page.goto("/allegations")
        page.locator("a.facet-value[data-facet=stance][data-value=disputes]").click()
        page.wait_for_url(re.compile(r"/allegations\?stance=disputes$"))
        assert rows(page) == ["bob-runs-guns"]
        page.goto("/contested")
        page.get_by_role("link", name="latest date").click()
        expect(page.locator(".contested-block h2").first).to_have_text("Bob Sample supplies arms")
