"""The course of a case, dissent and the record as of a date, in a real browser at desktop and phone widths."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browsing import no_horizontal_scroll
from tests.conftest import page_on, serve_build
from tests.test_history import ALLEGATION_PAGE, history_build  # noqa: F401  (the history fixture build)

history_server = serve_build("history_build")


page = page_on("history_server")


def test_the_course_of_a_case_and_its_dissent(page: Page, tmp_path):
    assert page.goto(ALLEGATION_PAGE).status == 200
    course = page.locator("ol.course > li")
    expect(course).to_have_count(4)
    superseded = page.locator("ol.course > li.superseded")  # the conviction dated only to its month, last
    expect(superseded).to_have_count(1)
    expect(superseded).to_have_class("course-step superseded")
    expect(superseded).to_contain_text("corrected by")
    expect(course.nth(3)).to_have_class("course-step superseded")
    expect(page.get_by_role("region", name="Disputing")).to_contain_text("no hay pruebas de una red")
    expect(page.get_by_role("region", name="Disputing")).to_contain_text("there is no evidence of a network")
    no_horizontal_scroll(page)
    page.screenshot(path=tmp_path / "allegation.png", full_page=True)


def test_reading_the_record_as_of_a_date(page: Page):
    page.goto(ALLEGATION_PAGE)
    page.locator("#as-of").fill("2024-12-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**as_of=2024-12-31")
    expect(page.get_by_role("status")).to_contain_text("31 December 2024")  # the day in words
    expect(page.locator("ol.course > li")).to_have_count(1)
    expect(page.get_by_role("region", name="Disputing")).to_have_count(0)
    no_horizontal_scroll(page)
    page.get_by_role("link", name="See the record today").click()
    expect(page.locator("ol.course > li")).to_have_count(4)
