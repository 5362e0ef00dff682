"""An actor's page in a real browser at desktop and phone widths: co-accused, counterparts and a blanket denial
shown once, with the counts of tests/actor_fixture.py on screen, and no sideways scroll."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.actor_fixture import (
    BLANKET_COVERS,
    BLANKET_QUOTE,
    CO_ACCUSED,
    CONCERNED,
    HUB_ALLEGATIONS,
    SOURCE,
    SOURCE_URL,
    VOICES,
)
from tests.browsing import no_horizontal_scroll, screenshot
from tests.conftest import page_on, serve_build
from tests.test_actor_page import HUB, actor_build  # noqa: F401  (the actor fixture build)

actor_server = serve_build("actor_build")


page = page_on("actor_server")


def test_the_hub_shows_its_counterparts_and_one_blanket_denial(page: Page, width, tmp_path):
    assert page.goto(HUB).status == 200
    expect(page.locator("ul.co-accused > li")).to_have_count(len(CO_ACCUSED))
    for name, shared in CO_ACCUSED.items():
        expect(page.locator("ul.co-accused > li", has_text=name)).to_contain_text(f"{shared} allegation")
    voices = page.get_by_role("region", name="Who speaks to the allegations against Rex Ruler")
    expect(voices.locator("tbody tr")).to_have_count(len(VOICES))
    for row, (name, counts) in enumerate(VOICES.items()):
        expect(voices.locator("tbody th").nth(row)).to_have_text(name)
        expect(voices.locator("tbody tr").nth(row).locator("td")).to_have_text([str(n) if n else "–" for n in counts])
    concerned = page.get_by_role("region", name="Accused in the allegations Rex Ruler takes a stance on")
    expect(concerned.locator("tbody tr")).to_have_count(len(CONCERNED))

    expect(page.get_by_text(BLANKET_QUOTE)).to_have_count(1)
    statement = page.locator(".blanket-statement", has_text=BLANKET_QUOTE)
    expect(statement.get_by_role("heading")).to_have_text(f"Rex Ruler denies all {BLANKET_COVERS} allegations below, "
                                                          "in one statement")
    expect(statement.locator("ul.covered > li")).to_have_count(BLANKET_COVERS)
    references = page.locator(".blanket-ref", has_text=f"covering {BLANKET_COVERS} allegations")
    expect(references).to_have_count(HUB_ALLEGATIONS)
    no_horizontal_scroll(page)
    screenshot(page, f"actor-hub-{width}", tmp_path)

    references.first.get_by_role("link").click()
    page.wait_for_url("**#statement-1")
    expect(page.locator("#statement-1")).to_be_in_viewport()


def test_a_co_accused_is_one_click_away(page: Page):
    page.goto(HUB)
    page.locator("ul.co-accused").get_by_role("link", name="Carla Crony").click()
    page.wait_for_url("**/id/person/carla-crony")
    expect(page.locator("ul.co-accused > li")).to_have_count(1)
    expect(page.locator("ul.co-accused > li")).to_have_text("Rex Ruler 2 allegations in common")
    no_horizontal_scroll(page)


def test_a_source_with_a_long_address_fits_the_screen(page: Page, width, tmp_path):
    assert page.goto(SOURCE).status == 200
    expect(page.locator(".external-url a")).to_have_text(SOURCE_URL)
    no_horizontal_scroll(page)
    screenshot(page, f"source-long-address-{width}", tmp_path)
