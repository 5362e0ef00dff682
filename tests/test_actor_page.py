"""An actor's page: co-accused and counterparts with their counts, a blanket denial shown once with what it
covers, and long lists paged (tests/actor_fixture.py: a hub accused in more allegations than a page holds)."""

from __future__ import annotations

import html as markup
import re

import pytest

from server import create_app
from tests.actor_fixture import (
    BLANKET_COVERS,
    BLANKET_QUOTE,
    CO_ACCUSED,
    CONCERNED,
    GROUP_QUOTE,
    HUB_ALLEGATIONS,
    VOICES,
    build_actor_fixture,
)

HUB = "/id/person/rex-ruler"


@pytest.fixture(scope="module")
def actor_build(tmp_path_factory):
    return build_actor_fixture(tmp_path_factory.mktemp("actor-fixture"))


def client_of(build, **config):
    return create_app({"BUILD_DIR": build, "TESTING": True, **config}).test_client()


@pytest.fixture(scope="module")
def hub_html(actor_build) -> str:
    response = client_of(actor_build).get(HUB)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def text(fragment: str) -> str:
    """What a reader sees of an HTML fragment: its text, spaces collapsed."""
    return " ".join(markup.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def between(page: str, start: str, end: str | None = None) -> str:
    first = page.index(start)
    return page[first:page.index(end, first) if end else len(page)]


def table_rows(fragment: str) -> dict[str, tuple[int, int, int]]:
    """A counterparts table as {actor: (asserting, denying, disputing)}; a dash is none."""
    found = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", fragment, flags=re.S):
        name, *counts = re.split(r"</th>|</td>", row)
        found[text(name)] = tuple(0 if text(count) == "–" else int(text(count)) for count in counts if text(count))
    return found


def test_co_accused_are_named_with_how_many_allegations_they_share(hub_html):
    co_accused = between(hub_html, 'id="co-accused-heading"', "</ul>")
    items = [text(item) for item in re.findall(r"<li>(.*?)</li>", co_accused, flags=re.S)]
    assert items == [f"{name} {count} allegation{'s' if count > 1 else ''} in common"
                     for name, count in CO_ACCUSED.items()]
    assert 'href="/id/person/carla-crony">Carla Crony</a>' in co_accused


def test_the_co_accused_of_a_co_accused_name_each_other(actor_build):
    bob = client_of(actor_build).get("/id/person/bob-sample").get_data(as_text=True)
    co_accused = text(between(bob, 'id="co-accused-heading"', "</ul>"))
    assert "Alice Example 1 allegation in common" in co_accused and "Rex Ruler 1 allegation in common" in co_accused


def test_counterparts_on_both_sides_with_their_stances(hub_html):
    voices = table_rows(between(hub_html, 'id="voices-heading"', "</table>"))
    assert list(voices.items()) == list(VOICES.items())  # the most allegations first, then by name
    concerned = table_rows(between(hub_html, 'id="concerned-heading"', "</table>"))
    assert list(concerned.items()) == list(CONCERNED.items())
    assert "Rex Ruler" not in voices and "Rex Ruler" not in concerned  # never their own counterpart


def test_a_blanket_denial_is_shown_once_with_the_allegations_it_covers(hub_html):
    assert hub_html.count(BLANKET_QUOTE) == 1
    claims = between(hub_html, 'id="claims-heading"')
    statement = between(claims, 'class="blanket-statement ', "</section>")
    assert f"Rex Ruler denies all {BLANKET_COVERS} allegations below, in one statement" in text(statement)
    covered = re.findall(r'<li><a href="(/id/allegation/[^"]+)">', statement)
    assert len(covered) == BLANKET_COVERS and "/id/allegation/alice-smuggles-cheese" in covered
    # Each attribution it stands for keeps its record.
    assert statement.count('href="/id/attribution/ruler-report/') == BLANKET_COVERS
    # The allegations against him refer to it, once per allegation, without repeating the quote.
    accused = between(hub_html, 'id="accused-heading"', 'id="claims-heading"')
    assert text(accused).count(f"In one statement covering {BLANKET_COVERS} allegations") == HUB_ALLEGATIONS
    anchor = re.search(r'id="(statement-\d+)"', statement)[1]
    assert accused.count(f'href="#{anchor}"') == HUB_ALLEGATIONS
    # Nothing else he says is left to list under his claims: the only allegation blocks are those against him.
    assert hub_html.count('class="allegation-block"') == HUB_ALLEGATIONS
    assert "No statement by Rex Ruler" not in hub_html


def test_a_group_blanket_statement_is_grouped_in_the_allegations_against(hub_html):
    assert hub_html.count(GROUP_QUOTE) == 1
    accused = between(hub_html, 'id="accused-heading"', 'id="claims-heading"')
    assert "Ruritanian officials deny both allegations below, in one statement" in text(accused)
    assert "Ruritanian armed forces assert" in text(accused)  # an organization named in the plural


def test_a_quote_on_one_allegation_is_not_grouped(actor_build):
    alice = client_of(actor_build).get("/id/person/alice-example").get_data(as_text=True)
    assert "blanket-statement" not in alice
    assert "Alice Example called the charges a fabrication" in between(alice, 'id="claims-heading"')


def test_hub_lists_come_a_page_at_a_time(actor_build):
    two_per_page = client_of(actor_build, PAGE_SIZE=2)
    first = text(two_per_page.get(HUB).get_data(as_text=True))
    assert f"1–2 of {HUB_ALLEGATIONS} allegations against Rex Ruler" in first
    assert f"1–2 of {BLANKET_COVERS} allegations this statement covers" in first
    assert f"1–2 of {len(VOICES)} claimants" in first
    assert f"1–2 of {len(CONCERNED)} accused" in first
    last_page = two_per_page.get(HUB + "?accused=3&statement-1=3").get_data(as_text=True)
    assert f"5–5 of {HUB_ALLEGATIONS} allegations against" in text(last_page)
    assert f"5–6 of {BLANKET_COVERS} allegations this statement covers" in text(last_page)
    accused = between(last_page, 'id="accused-heading"', 'id="claims-heading"')
    assert re.findall(r'<h3><a href="/id/allegation/([^"]+)"', accused) == ["rex-affair-5"]
    # The quote is still shown once, and the blocks still point at it, whatever page of each list.
    assert last_page.count(BLANKET_QUOTE) == 1
    assert 'href="#statement-1"' in accused


def test_a_long_page_links_to_its_sections_with_their_counts(actor_build, hub_html):
    contents = between(hub_html, '<nav class="page-contents"', "</nav>")
    anchors = re.findall(r'href="#([^"]+)"', contents)
    assert anchors[:2] == ["accused-heading", "counterparts-heading"] and "claims-heading" in anchors
    for anchor in anchors:  # every link lands on a heading of the page
        assert f'id="{anchor}"' in hub_html
    # Each list counted whole, not the page of it shown: two a page still counts all five allegations.
    two_per_page = text(between(client_of(actor_build, PAGE_SIZE=2).get(HUB).get_data(as_text=True),
                                '<nav class="page-contents"', "</nav>"))
    assert f"Allegations against Rex Ruler ({HUB_ALLEGATIONS})" in two_per_page
    assert two_per_page == text(contents)
    # A short page (Carla Crony: two allegations, her sections a screen or two) is read whole.
    assert 'class="page-contents"' not in client_of(actor_build).get("/id/person/carla-crony").get_data(as_text=True)
