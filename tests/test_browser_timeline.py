"""The timeline in a real browser at desktop and phone widths: the axis holds every dated item of the view,
an item opens its page, the filters narrow the view through the address, and the page reads without JavaScript."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browsing import WIDTHS, browsing, no_horizontal_scroll, screenshot
from tests.conftest import page_on, serve_build
from tests.test_timeline import DATED, UNDATED, timeline_build  # noqa: F401  (the timeline fixture build)

SHOTS = Path("/tmp/shots")
AXIS_ITEMS = "#timeline-axis .vis-item:is(.vis-box, .vis-range)"  # a box also draws a line and a dot


timeline_server = serve_build("timeline_build")


def axis_item(page: Page, label: str):
    """The item on the axis whose link is titled with ``label`` (a status change shows only its status)."""
    return page.locator(AXIS_ITEMS).filter(has=page.locator(f'a[title$=" · {label}"]'))


page = page_on("timeline_server")


def test_every_dated_item_is_on_the_axis(page: Page, width):
    assert page.goto("/timeline").status == 200
    expect(page.locator(AXIS_ITEMS)).to_have_count(len(DATED))
    expect(page.locator("#timeline-axis")).to_have_attribute("data-items", str(len(DATED)))
    for label in ("Alice Example indicted", "Bob Sample speaks in Strelsau", "Arrested — Alice Example smuggles cheese"):
        expect(axis_item(page, label)).to_have_count(1)
    expect(page.locator("#undated li")).to_have_count(len(UNDATED))
    no_horizontal_scroll(page)
    SHOTS.mkdir(exist_ok=True)
    screenshot(page, f"timeline-{width}", SHOTS)


def test_clicking_an_item_opens_its_page(page: Page):
    page.goto("/timeline")
    axis_item(page, "Alice Example indicted").click()
    page.wait_for_url("**/id/event/alice-indicted")
    expect(page.locator("h1")).to_have_text("Alice Example indicted")
    page.go_back()
    axis_item(page, "Arrested — Alice Example smuggles cheese").click()
    page.wait_for_url("**/id/allegation/alice-smuggles-cheese")


def test_filters_narrow_the_view_through_the_address(page: Page, width):
    page.goto("/timeline")
    page.get_by_label("Actor", exact=True).select_option("person/bob-sample")
    page.wait_for_url("**/timeline?actor=person%2Fbob-sample**")
    # Bob Sample: the charge and the arrest on the allegation he is accused in, and his statement (3 dated),
    # his leaving and the memo's report on him (2 undated).
    expect(page.locator(AXIS_ITEMS)).to_have_count(3)
    expect(page.locator("#undated li")).to_have_count(2)
    page.get_by_label("Event type or status", exact=True).select_option("Arrested")
    page.wait_for_url("**type=Arrested**")
    expect(page.locator(AXIS_ITEMS)).to_have_count(1)
    expect(page.locator(".timeline-count")).to_contain_text("1 of 8")
    no_horizontal_scroll(page)
    screenshot(page, f"timeline-filtered-{width}", SHOTS)
    page.get_by_role("link", name="Show everything").click()
    expect(page.locator(AXIS_ITEMS)).to_have_count(len(DATED))


def test_a_page_links_to_its_own_timeline(page: Page, width):
    page.goto("/id/person/bob-sample")
    section = page.get_by_role("region", name="Timeline")
    expect(section.locator("li")).to_have_count(3)
    no_horizontal_scroll(page)
    screenshot(page, f"actor-timeline-{width}", SHOTS)
    section.get_by_role("link", name="see them on the timeline").click()
    page.wait_for_url("**/timeline?actor=person%2Fbob-sample")
    expect(page.locator(AXIS_ITEMS)).to_have_count(3)


def test_without_javascript_the_timeline_is_a_dated_list(browser, timeline_server, width):
    with browsing(browser, timeline_server.url, WIDTHS[width], javascript=False) as page:
        page.goto("/timeline?source=fixture-report")
        expect(page.locator("#timeline-axis")).to_be_hidden()
        expect(page.locator(".timeline-year h3")).to_have_text(["2024"])
        expect(page.locator(".timeline-year li")).to_have_count(3)
        page.get_by_label("Source", exact=True).select_option("fixture-timeline-news")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**source=fixture-timeline-news**")
        expect(page.locator(".timeline-year li")).to_have_count(3)
        expect(page.locator("#undated li")).to_have_count(1)
        no_horizontal_scroll(page)
        screenshot(page, f"timeline-nojs-{width}", SHOTS)
