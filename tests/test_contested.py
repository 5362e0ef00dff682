"""Contested claims at /contested: allegations someone asserts and someone denies or disputes, both sides side by
side, sorted by voices, status or latest date, a page at a time, with JSON and CSV twins."""

from __future__ import annotations

import csv
import io
import re

import pytest

from server import create_app
from server.pages import listing
from tests.test_allegation_list import lists_build  # noqa: F401  (the richer fixture build)

CONTESTED = ["alice-smuggles-cheese", "bob-runs-guns", "carol-hides-cheese"]  # of the richer fixture


@pytest.fixture(scope="module")
def rich(lists_build):  # noqa: F811
    return create_app({"BUILD_DIR": lists_build, "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def two_per_page(lists_build):  # noqa: F811
    return create_app({"BUILD_DIR": lists_build, "TESTING": True, "PAGE_SIZE": 2}).test_client()


def blocks(html: str) -> dict[str, str]:
    """Each contested allegation's block of the page, by slug, in the page's order."""
    parts = re.split(r'<section class="allegation-block contested-block"', html)[1:]
    return {re.search(r'href="/id/allegation/([^"]+)"', part)[1]: part for part in parts}


def test_the_shared_fixture_has_one_contested_allegation_with_both_sides(client):
    response = client.get("/contested")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert list(blocks(html)) == ["alice-smuggles-cheese"]
    assert '<span class="result-total">1</span> of 2 allegations' in html
    block = blocks(html)["alice-smuggles-cheese"]
    asserting = block[block.index('class="column asserting"'):block.index('class="column denying"')]
    denying = block[block.index('class="column denying"'):]
    assert "officials say the minister moved tons of cheese through Strelsau" in asserting
    assert "Alice Example called the charges a fabrication" in denying
    assert "Generals of Ruritania Accused" in asserting and "Generals of Ruritania Accused" in denying
    assert ">charged<" in block and "2 voices" in block and "1 May 2024" in block
    assert "Mallory" not in html.split("<main", 1)[1].split("</main>")[0]


def test_disputes_count_as_the_other_side(rich):
    html = rich.get("/contested").get_data(as_text=True)
    found = blocks(html)
    assert sorted(found) == CONTESTED
    assert 'class="column disputing"' in found["bob-runs-guns"]
    assert "the rifles were never found" in found["bob-runs-guns"] and "the evidence is thin" in found["bob-runs-guns"]
    assert "4 voices" in found["bob-runs-guns"] and "undated" in found["carol-hides-cheese"]


@pytest.mark.parametrize("sort, order", [
    (None, ["bob-runs-guns", "alice-smuggles-cheese", "carol-hides-cheese"]),  # most voices first
    ("voices", ["bob-runs-guns", "alice-smuggles-cheese", "carol-hides-cheese"]),
    ("label", ["alice-smuggles-cheese", "bob-runs-guns", "carol-hides-cheese"]),
    ("status", ["carol-hides-cheese", "alice-smuggles-cheese", "bob-runs-guns"]),  # alleged, charged, arrested
    ("latest", ["bob-runs-guns", "alice-smuggles-cheese", "carol-hides-cheese"]),  # 2025, 2024, undated
])
def test_sorting(rich, sort, order):
    query = {"sort": sort} if sort else {}
    assert list(blocks(rich.get("/contested", query_string=query).get_data(as_text=True))) == order
    assert [item["iri"].rsplit("/", 1)[-1] for item in rich.get("/contested.json", query_string=query)
            .get_json()["allegations"]] == order


def test_the_sort_links_name_the_current_sort(rich):
    html = rich.get("/contested?sort=status").get_data(as_text=True)
    assert 'href="/contested?sort=status" aria-current="true" data-sort="status"' in html
    assert 'href="/contested" data-sort="voices"' in html  # the default needs no parameter


def test_the_list_turns_page_by_page_keeping_the_sort(two_per_page):
    first = two_per_page.get("/contested?sort=label").get_data(as_text=True)
    assert list(blocks(first)) == CONTESTED[:2] and "1–2 of 3 contested claims" in first
    assert 'rel="next" href="/contested?page=2&amp;sort=label"' in first
    assert list(blocks(two_per_page.get("/contested?page=2&sort=label").get_data(as_text=True))) == CONTESTED[2:]


def test_json_twin_holds_both_sides_of_every_contested_allegation(two_per_page):
    found = two_per_page.get("/contested.json").get_json()
    assert found["total"] == 3 and len(found["allegations"]) == 3
    bob = found["allegations"][0]
    assert bob["status"] == "arrested" and bob["voices"] == 4 and bob["latest_date"] == "2025-02-10"
    assert [voice["claimant_name"] for voice in bob["asserting"]] == ["Fixture officials"]
    assert [voice["quote"] for voice in bob["denying"]] == ["I never sold a single rifle"]
    assert sorted(voice["claimant_name"] for voice in bob["disputing"]) == ["Carol Witness", "Daily Fixture"]
    assert bob["asserting"][0]["source_title"] == "The Fixture Gazette on the arms case"
    assert bob["asserting"][0]["source_date"] == "2025-02-10"


def test_csv_twin_has_a_row_per_attribution(rich):
    response = rich.get("/contested.csv?sort=label")
    assert response.mimetype == "text/csv"
    assert 'rel="alternate"; type="application/json"' in response.headers["Link"]
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert table[0] == ["allegation", "label", "status", "side", "claimant", "claimant_name", "quote", "translation",
                        "source", "source_title", "source_date", "attribution"]
    rows = [dict(zip(table[0], row)) for row in table[1:]]
    assert len(rows) == 3 + 4 + 2
    carol = [row for row in rows if row["label"] == "Carol Witness hides cheese"]
    assert [(row["side"], row["claimant_name"], row["quote"]) for row in carol] == [
        ("asserting", "Fixture officials", "Carol hid the cheese"), ("denying", "Carol Witness", "I hid nothing")]
    assert carol[0]["source_date"] == "" and carol[0]["attribution"].startswith("https://w3id.org/soles/id/attribution/")


def test_twins_are_sent_as_written_and_read_the_same_in_chunks_of_any_size(rich, lists_build,  # noqa: F811
                                                                           monkeypatch):
    twins = ["/contested.json", "/contested.csv?sort=label", "/allegations.json", "/allegations.csv?sort=latest",
             "/allegations.json?stance=denies", "/timeline.json", "/timeline.json?as_of=2024-12-31"]
    whole = {path: rich.get(path).get_data() for path in twins}
    # A chunk of one allegation, and labels read again for every chunk: every boundary and every reset crossed.
    monkeypatch.setattr(listing, "CHUNK", 1)
    monkeypatch.setattr(listing, "LABELS_KEPT", 0)
    chunked = create_app({"BUILD_DIR": lists_build, "TESTING": True}).test_client()
    for path in twins:
        response = chunked.get(path)
        assert response.is_streamed, path
        assert response.get_data() == whole[path], path
    assert b"I never sold a single rifle" in whole["/contested.json"]  # the comparison is of something


@pytest.mark.parametrize("query", [{"sort": "loudest"}, {"page": "-1"}, {"as_of": "2020-01-01"}])
def test_a_value_the_list_does_not_have_is_a_400(rich, query):
    for path in ("/contested", "/contested.json", "/contested.csv"):
        assert rich.get(path, query_string=query).status_code == 400
