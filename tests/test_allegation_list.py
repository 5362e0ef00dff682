"""The list of allegations at /allegations: facets and their counts, the view in the address, paging, sorting,
its JSON and CSV twins, and 400 (never 500) for values it does not have.

The fixture adds to the shared one a dated gazette and an undated blog, so that every facet has several
values: five allegations, three of them contested (tests/test_contested.py uses the same build).
"""

from __future__ import annotations

import csv
import io
import re

import numpy
import pytest

from server import create_app
from server.pages.allegation_list import Tally
from tests.conftest import build_fixture_with
from tests.fixtures import ACTORS

MORE_ACTORS = ACTORS + """\
  - id: carol-witness
    type: person
    name: Carol Witness
    description: A witness, accused in the blog.
"""

GAZETTE = """\
source:
  id: fixture-gazette
  type: news-report
  title: The Fixture Gazette on the arms case
  publisher: [daily-fixture]
  url: https://news.example.org/gazette-arms
  date: 2025-02-10
  language: en
  seen_at: https://archive.example.org/news.example.org/gazette-arms
  read_on: 2025-03-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2025-03-01
allegations:
  - id: bob-runs-guns
    label: Bob Sample supplies arms
    summary: Officials accuse the general of selling rifles to rebels.
    types: [arms-supply]
    accused: [bob-sample]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "Bob Sample sold rifles to the rebels"
      - claimant: bob-sample
        stance: denies
        quote: "I never sold a single rifle"
      - claimant: daily-fixture
        stance: disputes
        quote: "the evidence is thin"
      - claimant: carol-witness
        stance: disputes
        quote: "the rifles were never found"
  - id: alice-takes-bribes
    label: Alice Example takes bribes
    summary: The newspaper reports that the minister took bribes.
    types: [bribery, corruption]
    status: reported
    accused: [alice-example]
    attributions:
      - claimant: daily-fixture
        stance: asserts
        quote: "the minister took bribes"
status_changes:
  - id: bob-charged
    allegation: bob-runs-guns
    status: charged
    date: 2025-01-15
    concerns: [bob-sample]
  - id: bob-arrested
    allegation: bob-runs-guns
    status: arrested
    date: 2025-02-01
    concerns: [bob-sample]
"""

BLOG = """\
source:
  id: fixture-blog
  type: analysis
  title: An undated blog post
  publisher: [daily-fixture]
  url: https://blog.example.org/cheese
  language: en
  seen_at: https://blog.example.org/cheese
  read_on: 2025-03-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2025-03-01
allegations:
  - id: carol-hides-cheese
    label: Carol Witness hides cheese
    summary: Officials accuse the witness of hiding smuggled cheese.
    types: [drug-trafficking]
    status: alleged
    accused: [carol-witness]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "Carol hid the cheese"
      - claimant: carol-witness
        stance: denies
        quote: "I hid nothing"
attributions:
  - allegation: alice-smuggles-cheese
    claimant: fixture-officials
    stance: asserts
    quote: "the cheese trade continued"
"""

EXTRA = {"actors.yaml": MORE_ACTORS, "sources/fixture-gazette.yaml": GAZETTE, "sources/fixture-blog.yaml": BLOG}

# What the fixture holds, worked out by hand: the counts every view must show.
ALL = ["alice-smuggles-cheese", "alice-takes-bribes", "bob-runs-guns", "carol-hides-cheese", "mallory-takes-bribes"]
FACET_COUNTS = {
    "status": {"alleged": 2, "arrested": 1, "charged": 1, "reported": 1},
    "type": {"arms-supply": 1, "bribery": 2, "corruption": 1, "drug-trafficking": 2},
    "accused": {"alice-example": 2, "bob-sample": 2, "carol-witness": 1, "mallory-script": 1},
    "claimant": {"alice-example": 1, "bob-sample": 1, "carol-witness": 2, "daily-fixture": 3, "fixture-officials": 3},
    "stance": {"asserts": 5, "denies": 3, "disputes": 1},
    "source": {"fixture-blog": 2, "fixture-gazette": 2, "fixture-report": 2},
}


@pytest.fixture(scope="module")
def lists_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "lists", EXTRA)


@pytest.fixture(scope="module")
def client(lists_build):
    return create_app({"BUILD_DIR": lists_build, "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def two_per_page(lists_build):
    return create_app({"BUILD_DIR": lists_build, "TESTING": True, "PAGE_SIZE": 2}).test_client()


def listed(client, **query) -> dict:
    response = client.get("/allegations.json", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def slugs(found: dict) -> list[str]:
    return [item["iri"].rsplit("/", 1)[-1] for item in found["allegations"]]


def counts(found: dict) -> dict[str, dict[str, int]]:
    return {name: {value["value"]: value["count"] for value in values} for name, values in found["facets"].items()}


def shown_counts(html: str) -> dict[str, dict[str, int]]:
    """The facet counts the page shows, read from its links."""
    found: dict[str, dict[str, int]] = {}
    for facet, value, count in re.findall(r'data-facet="([^"]+)" data-value="([^"]+)".*?class="facet-count">(\d+)<',
                                          html, flags=re.DOTALL):
        found.setdefault(facet, {})[value] = int(count)
    return found


def rows_shown(html: str) -> list[str]:
    return re.findall(r'<li class="allegation-row">\s*<h3><a href="/id/allegation/([^"]+)"', html)


# --- facets and their counts --------------------------------------------------------------------------------


def test_every_allegation_is_listed_with_the_facet_counts_of_the_fixture(client):
    found = listed(client)
    assert found["total"] == 5 and slugs(found) == ALL
    assert counts(found) == FACET_COUNTS
    html = client.get("/allegations").get_data(as_text=True)
    assert rows_shown(html) == ALL
    assert shown_counts(html) == FACET_COUNTS
    assert '<span class="result-total">5</span> of 5 allegations' in html


def test_the_status_is_the_current_one_derived_from_the_latest_statement(client):
    by_slug = dict(zip(slugs(listed(client)), listed(client)["allegations"]))
    assert by_slug["bob-runs-guns"]["status"] == "arrested"  # charged on 2025-01-15, arrested on 2025-02-01
    assert slugs(listed(client, status="charged")) == ["alice-smuggles-cheese"]


def test_values_of_one_facet_widen_and_facets_narrow(client):
    assert slugs(listed(client, status="alleged")) == ["carol-hides-cheese", "mallory-takes-bribes"]
    assert slugs(listed(client, status=["alleged", "charged"])) == [
        "alice-smuggles-cheese", "carol-hides-cheese", "mallory-takes-bribes"]
    narrowed = listed(client, status=["alleged", "charged"], type="drug-trafficking")
    assert slugs(narrowed) == ["alice-smuggles-cheese", "carol-hides-cheese"]
    # Each facet counts with the other facets as chosen, and its own values as if chosen alone.
    assert counts(narrowed)["status"] == {"alleged": 1, "charged": 1}
    assert counts(narrowed)["type"] == {"bribery": 1, "drug-trafficking": 2}
    assert counts(narrowed)["accused"] == {"alice-example": 1, "bob-sample": 1, "carol-witness": 1}


def test_who_speaks_their_stance_and_the_source_match_one_attribution_together(client):
    assert slugs(listed(client, claimant="carol-witness")) == ["bob-runs-guns", "carol-hides-cheese"]
    assert slugs(listed(client, claimant="carol-witness", stance="denies")) == ["carol-hides-cheese"]
    assert slugs(listed(client, claimant="bob-sample", stance="asserts")) == []
    found = listed(client, claimant="alice-example")
    assert counts(found)["stance"] == {"denies": 1}
    assert counts(found)["source"] == {"fixture-report": 1}
    assert slugs(listed(client, stance="disputes", source="fixture-gazette")) == ["bob-runs-guns"]


def test_the_date_range_reads_the_dates_of_the_sources(client):
    assert slugs(listed(client, **{"from": "2025"})) == ["alice-takes-bribes", "bob-runs-guns"]
    assert slugs(listed(client, to="2024-06")) == ["alice-smuggles-cheese", "mallory-takes-bribes"]
    # A month overlaps the day of the report; undated sources are never in a range.
    assert slugs(listed(client, **{"from": "2024-05", "to": "2024-05"})) == ["alice-smuggles-cheese",
                                                                            "mallory-takes-bribes"]
    assert slugs(listed(client, **{"from": "2024-05-02", "to": "2025-02-09"})) == []
    assert counts(listed(client, **{"from": "2025"}))["source"] == {"fixture-gazette": 2}


# --- the view in the address --------------------------------------------------------------------------------


def test_each_facet_value_links_to_the_view_with_it_added_or_removed(client):
    html = client.get("/allegations?status=alleged").get_data(as_text=True)
    assert 'href="/allegations?status=alleged&amp;type=bribery"' in html
    assert 'href="/allegations?status=alleged&amp;status=charged"' in html
    assert re.search(r'class="facet-value selected" href="/allegations"[^>]*data-facet="status" data-value="alleged"',
                     html)
    assert 'href="/allegations" title="Remove this filter">Current status: alleged' in html
    assert rows_shown(client.get("/allegations?status=alleged&type=bribery").get_data(as_text=True)) == [
        "mallory-takes-bribes"]


def test_the_date_form_keeps_the_rest_of_the_view(client):
    html = client.get("/allegations?status=alleged&sort=latest&page=1&from=2024").get_data(as_text=True)
    form = html[html.index('<form class="date-range"'):]
    form = form[:form.index("</form>")]
    assert re.findall(r'type="hidden" name="([^"]+)" value="([^"]+)"', form) == [("status", "alleged"),
                                                                                ("sort", "latest")]
    assert 'name="from" value="2024"' in form


def test_a_status_no_allegation_has_is_a_filter_that_leaves_none(client):
    found = listed(client, status="sentenced")
    assert found["total"] == 0 and found["facets"]["status"][0] == {"value": "sentenced", "label": "sentenced",
                                                                      "count": 0, "selected": True}
    html = client.get("/allegations?status=sentenced").get_data(as_text=True)
    assert "No allegation on record matches all of these filters" in html and "Current status: sentenced" in html


def test_empty_values_are_no_filter_and_unknown_parameters_are_ignored(client):
    assert listed(client, status="", to="", utm_source="newsletter")["total"] == 5


@pytest.mark.parametrize("query, reason", [
    ({"status": "nope"}, "status: no current status 'nope'"),
    ({"accused": "nobody-at-all"}, "accused: no accused 'nobody-at-all'"),
    ({"stance": "maybe"}, "stance: no stance 'maybe'"),
    ({"from": "2020-13"}, "from: '2020-13' is not a real date"),
    ({"to": "yesterday"}, "to: 'yesterday' is not a date"),
    ({"from": "2025", "to": "2020"}, "the range starts after it ends"),
    ({"sort": "popularity"}, "sort: 'popularity' is not a way to sort"),
    ({"page": "0"}, "page: '0' is not a page number"),
    ({"page": "²"}, "page: '²' is not a page number"),
    ({"page": "9" * 40}, "is not a page number"),
    ({"as_of": "2020"}, "as_of: the lists show the record today"),
])
def test_a_value_the_list_does_not_have_is_a_400_with_the_reason(client, query, reason):
    for path in ("/allegations", "/allegations.json", "/allegations.csv"):
        response = client.get(path, query_string=query)
        assert response.status_code == 400, path
        assert reason in response.get_data(as_text=True).replace("&#39;", "'"), path


def test_every_problem_is_named_at_once(client):
    text = client.get("/allegations?status=nope&sort=x&from=soon").get_data(as_text=True).replace("&#39;", "'")
    assert "status: no current status 'nope'" in text and "sort: 'x'" in text and "from: 'soon'" in text


# --- paging and sorting ---------------------------------------------------------------------------------------


def test_the_list_turns_page_by_page_keeping_the_view(two_per_page):
    first = two_per_page.get("/allegations?type=bribery&type=drug-trafficking").get_data(as_text=True)
    assert rows_shown(first) == ["alice-smuggles-cheese", "alice-takes-bribes"]
    assert "1–2 of 4 allegations" in first
    assert 'rel="next" href="/allegations?page=2&amp;type=bribery&amp;type=drug-trafficking"' in first
    second = two_per_page.get("/allegations?page=2&type=bribery&type=drug-trafficking").get_data(as_text=True)
    assert rows_shown(second) == ["carol-hides-cheese", "mallory-takes-bribes"]
    # Facet links start the new view on its first page.
    assert "page=2&amp;status" not in second and 'href="/allegations?status=alleged&amp;type=bribery' in second
    assert rows_shown(two_per_page.get("/allegations?page=99").get_data(as_text=True)) == ["mallory-takes-bribes"]


def test_sorting(client):
    assert slugs(listed(client, sort="voices")) == ["bob-runs-guns", "alice-smuggles-cheese", "carol-hides-cheese",
                                                    "alice-takes-bribes", "mallory-takes-bribes"]
    assert slugs(listed(client, sort="status")) == ["carol-hides-cheese", "mallory-takes-bribes", "alice-takes-bribes",
                                                    "alice-smuggles-cheese", "bob-runs-guns"]
    assert slugs(listed(client, sort="latest")) == ["alice-takes-bribes", "bob-runs-guns", "alice-smuggles-cheese",
                                                    "mallory-takes-bribes", "carol-hides-cheese"]
    html = client.get("/allegations?sort=voices&status=alleged").get_data(as_text=True)
    assert 'href="/allegations?status=alleged" data-sort="label"' in html
    assert 'aria-current="true" data-sort="voices"' in html


# --- twins ------------------------------------------------------------------------------------------------------


def test_twins_hold_the_whole_filtered_list_and_name_each_other(two_per_page):
    response = two_per_page.get("/allegations?stance=denies&sort=latest")
    assert response.headers["Link"] == ('</allegations?sort=latest&stance=denies>; rel="alternate"; type="text/html", '
                                        '</allegations.json?sort=latest&stance=denies>; rel="alternate"; '
                                        'type="application/json", '
                                        '</allegations.csv?sort=latest&stance=denies>; rel="alternate"; type="text/csv"')
    assert "Accept" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert 'href="/allegations.csv?sort=latest&amp;stance=denies" type="text/csv"' in html
    found = two_per_page.get("/allegations.json?stance=denies&sort=latest").get_json()
    assert slugs(found) == ["bob-runs-guns", "alice-smuggles-cheese", "carol-hides-cheese"]
    assert found["total"] == 3 and len(found["allegations"]) == 3  # all of them, not a page of two
    assert found["filters"] == {"stance": ["denies"]} and found["sort"] == "latest"
    assert found["allegations"][0]["accused"] == [{"iri": "https://w3id.org/soles/id/person/bob-sample",
                                                   "label": "Bob Sample"}]
    table = list(csv.reader(io.StringIO(two_per_page.get("/allegations.csv?stance=denies").get_data().decode("utf-8-sig"))))
    assert table[0][:3] == ["allegation", "label", "status"]
    assert [row[0].rsplit("/", 1)[-1] for row in table[1:]] == ["alice-smuggles-cheese", "bob-runs-guns",
                                                                 "carol-hides-cheese"]
    cheese = dict(zip(table[0], table[1]))
    assert cheese["accused"] == "Alice Example; Bob Sample" and cheese["asserting"] == "2"
    assert cheese["latest_date"] == "2024-05-01" and cheese["page"].endswith("/id/allegation/alice-smuggles-cheese")


def test_the_list_answers_by_accept_too(client):
    response = client.get("/allegations?status=alleged", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json" and response.get_json()["total"] == 2
    assert client.get("/allegations", headers={"Accept": "text/csv"}).mimetype == "text/csv"
    assert client.get("/allegations", headers={"Accept": "image/png"}).status_code == 406


def test_markup_in_names_stays_text(client):
    html = client.get("/allegations?accused=mallory-script").get_data(as_text=True)
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in html



# --- at scale: a page lists the most frequent values of a facet, and counts them from the view's side ------------


@pytest.fixture()
def fresh(lists_build):
    """An app of its own: the facets of the whole list are made once per process, with the limits then set."""
    return create_app({"BUILD_DIR": lists_build, "TESTING": True}).test_client()


def test_a_page_lists_the_most_frequent_values_and_the_chosen_ones(fresh, monkeypatch):
    client = fresh
    monkeypatch.setattr("server.pages.allegation_list.LISTED_VALUES", 2)
    html = client.get("/allegations").get_data(as_text=True)
    shown = shown_counts(html)
    # The most frequent first, ties by label; every count as the JSON twin has it.
    assert list(shown["claimant"].items()) == [("daily-fixture", 3), ("fixture-officials", 3)]
    assert "3 other values, each on fewer allegations: choose other filters to see them." in html
    chosen = shown_counts(client.get("/allegations?claimant=carol-witness").get_data(as_text=True))
    assert list(chosen["claimant"]) == ["carol-witness", "daily-fixture"]


@pytest.mark.parametrize("query", [{}, {"stance": "asserts"}, {"stance": "denies"}, {"status": "alleged"},
                                   {"stance": ["asserts", "denies"]}, {"claimant": "daily-fixture", "stance": "asserts"},
                                   {"from": "2024"}, {"type": "bribery", "stance": "asserts"}])
def test_the_values_listed_are_the_first_of_all_the_values(fresh, monkeypatch, query):
    """A view that keeps most of the list counts what it leaves out; one that keeps few counts what it keeps."""
    client = fresh
    everything = counts(listed(client, **query))
    monkeypatch.setattr("server.pages.allegation_list.LISTED_VALUES", 3)
    shown = shown_counts(client.get("/allegations", query_string=query).get_data(as_text=True))
    for facet, values in shown.items():
        assert list(values.items()) == list(everything[facet].items())[:len(values)]
        assert len(values) == min(len(everything[facet]), 3)  # none of these views chooses more than 3 values


def test_a_tally_lists_its_most_frequent_values_first_ties_by_term_and_the_chosen_aside():
    counts = numpy.random.default_rng(7).integers(0, 5, size=400)  # many ties, some values with none
    tally = Tally(counts)
    everyone = sorted(numpy.flatnonzero(counts).tolist(), key=lambda term: (-counts[term], term))
    assert len(tally) == len(everyone)
    assert tally.first(None) == everyone
    chosen = frozenset(everyone[:3] + everyone[50:52])
    for listed in (0, 1, 24, len(everyone) - 4, len(everyone) + 10):
        assert tally.first(listed) == everyone[:listed]
        assert tally.first(listed, chosen) == [term for term in everyone if term not in chosen][:listed]
    assert Tally(numpy.zeros(5, dtype=numpy.int64)).first(24) == []
