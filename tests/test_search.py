"""Search: names, aliases, titles, summaries and quotes, ranked, filtered by kind, suggested as one types, and an
empty result that says what was searched and what to try."""

from __future__ import annotations

import re
import shutil
import sqlite3
from contextlib import closing

import pytest
from markupsafe import escape

from kg import search
from kg.search import (
    KIND_NAMES,
    SEARCH_INDEX,
    Hit,
    Query,
    Ranking,
    SearchIndex,
    edit_distance,
    words_of,
)
from kg.search_build import write_index
from kg.store import open_store
from server import create_app
from server.pages.search import Result
from tests.conftest import build_fixture_with
from tests.fixtures import ACTORS

PERSON = "/id/person/nicolas-maduro"
SON = "/id/person/nicolas-maduro-guerra"
ALLEGATION = "/id/allegation/maduro-heads-cheese-cartel"
SOURCE = "/id/source/search-report"
DENIAL = "/id/attribution/search-report/maduro-heads-cheese-cartel/nicolas-maduro/denies"
ASSERTION = "/id/attribution/search-report/maduro-heads-cheese-cartel/fixture-officials/asserts"

# Two more people, one with an alias, and a source whose allegation starts with a surname, whose title holds
# it, and whose denial quotes words found nowhere else ("fake news").
SEARCH_ACTORS = ACTORS + """\
  - id: nicolas-maduro
    type: person
    name: Nicolás Maduro
    also_known_as: [Nicolás Maduro Moros]
    description: A leader accused in the search fixture.
  - id: nicolas-maduro-guerra
    type: person
    name: Nicolás Ernesto Maduro Guerra
    description: A son of the leader.
"""

SEARCH_SOURCE = """\
source:
  id: search-report
  type: news-report
  title: Maduro Denies the Cheese Charges
  publisher: [daily-fixture]
  url: https://news.example.org/maduro-denies
  date: 2024-05-02
  language: en
  seen_at: https://archive.example.org/news.example.org/maduro-denies
  read_on: 2024-06-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
allegations:
  - id: maduro-heads-cheese-cartel
    label: Maduro heads the cheese cartel
    summary: Officials accuse the leader of heading a cartel that moves cheese through Strelsau.
    types: [drug-trafficking]
    status: alleged
    accused: [nicolas-maduro]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "the leader heads the cheese cartel"
      - claimant: nicolas-maduro
        stance: denies
        quote: "Maduro called the charges “fake news” designed to justify a conflict"
"""


@pytest.fixture(scope="module")
def search_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "search", {"actors.yaml": SEARCH_ACTORS,
                                                           "sources/search-report.yaml": SEARCH_SOURCE})


@pytest.fixture(scope="module")
def client(search_build):
    return create_app({"BUILD_DIR": search_build, "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def common_build(search_build, tmp_path_factory):
    """The search fixture's build, its index written as if every word were common: each ranked by the build."""
    build = tmp_path_factory.mktemp("search-common") / "build"
    shutil.copytree(search_build, build, symlinks=True)
    path = build / "current" / SEARCH_INDEX
    path.unlink()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "COMMON", 0)
        patch.setattr(search, "COMMON_FROM_LETTERS", 1)
        write_index(open_store(build), path)
    return build


def found(client, q: str, **params) -> dict:
    response = client.get("/search", query_string={"q": q, "format": "json", **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def urls(client, q: str, **params) -> list[str]:
    return [result["url"] for result in found(client, q, **params)["results"]]


def html(client, path: str, **params) -> str:
    response = client.get(path, query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- ranking


def test_the_person_comes_first_then_other_names_then_titles_then_summaries_and_quotes(client):
    assert urls(client, "maduro")[:4] == [PERSON, SON, ALLEGATION, SOURCE]
    assert DENIAL in urls(client, "maduro")
    data = found(client, "leader")
    assert [(result["url"], result["matched"]["field"]) for result in data["results"]] == [
        (SON, "description"), (PERSON, "description"), (ALLEGATION, "description"), (ASSERTION, "quote")]


def test_an_exact_name_or_alias_comes_first(client):
    assert urls(client, "Nicolás Ernesto Maduro Guerra")[0] == SON
    assert urls(client, "Nicolás Maduro")[:2] == [PERSON, SON]
    [first, *_] = found(client, "Nicolás Maduro Moros")["results"]
    assert first["url"] == PERSON
    assert first["matched"] == {"field": "alias", "text": "Nicolás Maduro Moros"}


def test_ties_are_broken_the_same_way_every_time(client):
    results = [urls(client, "cheese") for _ in range(3)]
    assert results[0] == results[1] == results[2]
    assert len(results[0]) == len(set(results[0]))  # each resource once, by its best match


# ---------------------------------------------------------------- accents, case, aliases, words in any order


@pytest.mark.parametrize("q", ["nicolas maduro", "NICOLÁS MADURO", "Nicolás Maduro", "nicolás", "NICOLA"])
def test_case_and_accents_are_ignored_both_ways(client, q):
    assert PERSON in urls(client, q)


def test_accents_typed_find_text_without_them(client):
    assert urls(client, "Strélsau")[0] == "/id/place/strelsau"


def test_an_alias_is_found_in_any_order_and_said_to_be_an_alias(client):
    for q in ("Maduro Moros", "moros nicolas", "Nicolas Maduro Moros"):
        [first, *_] = found(client, q)["results"]
        assert first["url"] == PERSON, q
        assert first["matched"]["field"] == "alias", q
    page = html(client, "/search", q="Maduro Moros")
    # Only the words typed are marked.
    assert re.search(r"matched alias:</span>\s*Nicolás <mark>Maduro</mark> <mark>Moros</mark>", page)


def test_words_match_the_start_of_words_only(client):
    assert PERSON in urls(client, "mad nic")
    assert urls(client, "aduro") == []


# ---------------------------------------------------------------- summaries and quotes


def test_a_quote_is_found_and_shown_with_the_words_marked(client):
    data = found(client, "fake news")
    assert [result["url"] for result in data["results"]] == [DENIAL]
    assert data["results"][0]["matched"] == {
        "field": "quote", "text": "Maduro called the charges “fake news” designed to justify a conflict"}
    page = html(client, "/search", q="fake news")
    assert "matched quote:</span>" in page
    assert "<q>Maduro called the charges “<mark>fake</mark> <mark>news</mark>” designed to justify a conflict</q>" in page


def test_a_summary_is_found_below_every_name(client):
    data = found(client, "heading cartel")
    assert [result["url"] for result in data["results"]] == [ALLEGATION]
    assert data["results"][0]["matched"]["field"] == "description"


def test_a_snippet_is_escaped_and_cut_around_the_match():
    long_text = "<b>markup</b> " + "word " * 60 + "Maduro said something " + "more " * 60
    hit = Hit("https://w3id.org/soles/id/person/x", "actor", "", "X", "description", long_text)
    snippet = str(Result(hit, ("maduro",)).snippet)
    assert "<mark>Maduro</mark> said something" in snippet
    assert snippet.startswith("…") and snippet.endswith("…") and len(snippet) < 220
    short = Hit("https://w3id.org/soles/id/person/x", "actor", "", "X", "description", "<script>x</script> maduro")
    assert str(Result(short, ("maduro",)).snippet) == "&lt;script&gt;x&lt;/script&gt; <mark>maduro</mark>"


def test_markup_in_a_name_stays_text_on_the_results_page(client):
    page = html(client, "/search", q="mallory")
    assert "Mallory &lt;script&gt;window.__xss = 1&lt;/script&gt;" in page
    assert "<script>window" not in page


# ---------------------------------------------------------------- kinds


def test_a_kind_filter_keeps_one_kind_and_counts_every_kind(client):
    data = found(client, "maduro", kind="actor")
    assert [result["url"] for result in data["results"]] == [PERSON, SON]
    assert data["total"] == 2 and data["kind"] == "actor"
    everything = found(client, "maduro")
    assert data["kinds"] == everything["kinds"]
    assert sum(everything["kinds"].values()) == everything["total"] == len(everything["results"])
    assert set(everything["kinds"]) <= set(KIND_NAMES)
    assert urls(client, "maduro", kind="source") == [SOURCE]


def test_the_kind_filter_is_in_the_page_and_its_links(client):
    page = html(client, "/search", q="maduro", kind="actor")
    assert '<option value="actor" selected>Actors</option>' in page
    assert "2 results for “maduro” among actors." in page
    assert 'href="/search?q=maduro&amp;kind=actor" aria-current="page">Actors <span class="count">2</span>' in page
    assert 'href="/search?q=maduro">All kinds' in page


def test_an_unknown_kind_is_400(client):
    response = client.get("/search", query_string={"q": "maduro", "kind": "planet"})
    assert response.status_code == 400
    assert "actor" in response.get_data(as_text=True)


def test_results_come_a_page_at_a_time(client, search_build):
    one_by_one = create_app({"BUILD_DIR": search_build, "TESTING": True, "PAGE_SIZE": 1}).test_client()
    every_url = urls(client, "maduro")
    assert urls(one_by_one, "maduro") == every_url[:1]
    assert urls(one_by_one, "maduro", page="2") == every_url[1:2]
    page = html(one_by_one, "/search", q="maduro", kind="actor")
    assert '<a rel="next" href="/search?kind=actor&amp;page=2&amp;q=maduro">' in page
    assert "1–1 of 2 results" in page


# ---------------------------------------------------------------- nothing found


def test_a_misspelling_suggests_the_closest_words(client):
    data = found(client, "Nicolas Madura")
    assert data["results"] == [] and data["total"] == 0
    spelt = [alternative for alternative in data["alternatives"] if alternative["reason"] == "spelt as in the record"]
    assert spelt and spelt[0]["query"] == "nicolas maduro" and spelt[0]["examples"][0] == "Nicolás Maduro"
    assert spelt[0]["total"] == len(urls(client, "nicolas maduro"))


def test_fewer_words_and_every_kind_are_suggested(client):
    data = found(client, "maduro zebra")
    assert {alternative["query"] for alternative in data["alternatives"]} >= {"maduro"}
    data = found(client, "strelsau", kind="actor")
    [everywhere] = [alternative for alternative in data["alternatives"] if alternative["kind"] is None]
    assert everywhere["reason"] == "in every kind" and everywhere["href"] == "/search?q=strelsau"


def test_the_empty_result_page_says_what_was_searched_and_what_to_try(client):
    page = html(client, "/search", q="Madura zebra", kind="actor")
    assert "No results" in page
    assert "0 results for “Madura zebra” among actors." in page
    assert "Searched for <q>madura</q>, <q>zebra</q>" in page and "among actors only" in page
    assert '<a href="/search?q=maduro+zebra&amp;kind=actor">' not in page  # no suggestion that finds nothing
    assert '<a href="/search?q=madura&amp;kind=actor">' not in page
    page = html(client, "/search", q="Madura")
    assert '<a href="/search?q=maduro">maduro</a>' in page and "<i>Nicolás Maduro</i>" in page
    assert "holds no letter or digit" in html(client, "/search", q="!!!")


def test_the_sparql_fallback_is_a_query_the_endpoint_runs(client):
    # Words are found by their start: "aduro" finds nothing, and the SPARQL query finds it inside a word.
    data = found(client, "aduro Moros")
    assert data["results"] == []
    query = data["sparql"]
    assert 'VALUES ?words { "aduro moros" }' in query
    page = html(client, "/search", q="aduro Moros")
    assert f">{escape(query)}</textarea>" in page and '<form class="sparql-fallback" action="/sparql" method="post">' in page
    answer = client.post("/sparql", data={"query": query, "format": "json"})
    assert "Nicolás Maduro Moros" in [row["text"]["value"] for row in answer.get_json()["results"]["bindings"]]
    assert "sparql" not in found(client, "maduro")  # only when nothing is found


# ---------------------------------------------------------------- JSON twin


def test_the_json_twin_by_accept_and_format_and_its_link(client):
    by_accept = client.get("/search", query_string={"q": "maduro"}, headers={"Accept": "application/json"})
    assert by_accept.mimetype == "application/json"
    assert by_accept.get_json() == found(client, "maduro")
    page = client.get("/search", query_string={"q": "maduro", "kind": "actor"})
    assert page.mimetype == "text/html"
    assert '</search?q=maduro&kind=actor&format=json>; rel="alternate"; type="application/json"' \
        in page.headers["Link"]
    assert "Accept" in page.headers["Vary"]
    assert set(found(client, "maduro")) == {"query", "kind", "total", "kinds", "page", "results", "alternatives"}


def test_too_many_words_is_400(client):
    response = client.get("/search", query_string={"q": " ".join(f"word{n}" for n in range(100))})
    assert response.status_code == 400


# ---------------------------------------------------------------- suggestions as one types


def test_suggestions_match_names_and_aliases_not_quotes(client):
    data = client.get("/suggest", query_string={"q": "maduro mo"}).get_json()
    assert data["suggestions"][0]["url"] == PERSON
    assert data["suggestions"][0]["matched"] == {"field": "alias", "text": "Nicolás Maduro Moros"}
    assert client.get("/suggest", query_string={"q": "fake"}).get_json()["suggestions"] == []
    assert [s["url"] for s in client.get("/suggest", query_string={"q": "mad"}).get_json()["suggestions"]][:2] \
        == [PERSON, SON]


def test_suggestions_are_limited(client):
    assert len(client.get("/suggest", query_string={"q": "a", "limit": "2"}).get_json()["suggestions"]) == 2
    for limit in ("0", "21", "x", "²"):
        assert client.get("/suggest", query_string={"q": "a", "limit": limit}).status_code == 400
    assert client.get("/suggest", query_string={"q": ""}).get_json()["suggestions"] == []


def test_every_page_offers_suggestions_to_the_script_and_searches_without_it(client):
    page = html(client, "/id/person/nicolas-maduro")
    assert '<script src="/static/search.js" defer></script>' in page
    assert re.search(r'<form class="site-search" action="/search" method="get" role="search">', page)
    script = client.get("/static/search.js")
    script.close()
    assert script.status_code == 200 and script.mimetype == "text/javascript"


# ---------------------------------------------------------------- the index


def test_the_index_is_written_by_the_build_and_read_only_by_requests(search_build):
    path = search_build / "current" / SEARCH_INDEX
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as index:
        fields = {row[0] for row in index.execute("SELECT field FROM labels UNION SELECT field FROM texts")}
    assert fields == {"name", "alias", "title", "description", "role", "quote"}
    with SearchIndex(path) as index:
        assert index.closest_word("madura") == "maduro"
        assert index.closest_word("maduro") is None  # spelt as indexed
        assert index.closest_word("zzzzzz") is None


def test_a_ranking_written_by_the_build_is_the_one_made_when_asked(common_build):
    with SearchIndex(common_build / "current" / SEARCH_INDEX) as index:
        vocabulary = [word for word, in index.connection.execute("SELECT word FROM vocabulary ORDER BY word")]
        written = [word for word, in index.connection.execute("SELECT word FROM rankings ORDER BY word")]
        assert written == [word for word in vocabulary if word.isascii()] and "maduro" in written
        for word in written:
            stored, asked = index.ranking(Query(word)), Ranking.of(index.matched(Query(word)))
            assert (stored.runs, stored.labelled) == (asked.runs, asked.labelled), word
            assert stored.read(0, stored.total()) == asked.read(0, asked.total()), word


def test_a_common_word_finds_what_it_found_when_ranked_at_each_request(search_build, common_build):
    ranked, read = (create_app({"BUILD_DIR": build, "TESTING": True, "PAGE_SIZE": 2}).test_client()
                    for build in (search_build, common_build))
    with SearchIndex(common_build / "current" / SEARCH_INDEX) as index:
        written = [word for word, in index.connection.execute("SELECT word FROM rankings ORDER BY word")]
    for word in written:
        everything = found(ranked, word)
        assert found(read, word) == everything, word
        assert found(read, word, page="2") == found(ranked, word, page="2"), word
        for kind in everything["kinds"]:
            assert found(read, word, kind=kind) == found(ranked, word, kind=kind), (word, kind)
            assert found(read, word, kind=kind, page="2") == found(ranked, word, kind=kind, page="2"), (word, kind)
        suggest = {"q": word, "limit": "3"}
        assert read.get("/suggest", query_string=suggest).get_json() == ranked.get(
            "/suggest", query_string=suggest).get_json(), word


def test_a_common_word_is_read_not_ranked(common_build, monkeypatch):
    def ranked_when_asked(*_):
        raise AssertionError("ranked when asked")

    client = create_app({"BUILD_DIR": common_build, "TESTING": True}).test_client()
    monkeypatch.setattr(SearchIndex, "matched", ranked_when_asked)
    assert urls(client, "maduro")[:4] == [PERSON, SON, ALLEGATION, SOURCE]
    assert urls(client, "maduro", kind="source") == [SOURCE]
    with pytest.raises(AssertionError, match="ranked when asked"):
        urls(client, "nicolas maduro")  # two words: ranked when asked


def test_words_and_edit_distance():
    assert words_of("Nicolás MADURO, “fake-news”!") == ["nicolas", "maduro", "fake", "news"]
    assert Query("Maduro maduro moros").words == ["maduro", "moros"]
    assert edit_distance("madura", "maduro") == 1 and edit_distance("cabelo", "cabello") == 1
    assert edit_distance("", "abc") == 3 and edit_distance("kitten", "sitting") == 3


def test_suggestions_are_the_first_names_of_the_ranking_read_without_ranking_every_match(search_build, monkeypatch):
    """What the search box suggests for each prefix typed (of every word of every name, alias and title, and of
    two words together) is the first of the whole ranking by names, aliases and titles; and it is read without
    making that ranking."""
    with SearchIndex(search_build / "current" / SEARCH_INDEX) as index:
        texts = [text for text, in index.connection.execute("SELECT text FROM labels")]
        words = {word for text in texts for word in words_of(text)}
        prefixes = {word[:length] for word in words for length in range(1, len(word) + 1)}
        prefixes |= {" ".join(pair) for text in texts for pair in zip(words_of(text), words_of(text)[1:])}
        assert len(prefixes) > 50, "the fixture's names give prefixes to type"
        for prefix in sorted(prefixes):
            query = Query(prefix)
            whole = index.ranking(query, labels_only=True)
            for limit in (1, 2, 5, 50):
                assert index.first_labelled(query, limit) == whole.codes(None, 0, min(limit, whole.labelled)), prefix

    def ranked_when_asked(*_):
        raise AssertionError("ranked when asked")

    client = create_app({"BUILD_DIR": search_build, "TESTING": True}).test_client()
    monkeypatch.setattr(SearchIndex, "matched", ranked_when_asked)
    assert client.get("/suggest", query_string={"q": "madu"}).get_json()["suggestions"][0]["url"].endswith(
        "/id/person/nicolas-maduro")


def test_accents_are_dropped_from_any_script_and_the_marks_remembered_stay_few():
    assert search.without_accents("Nicolás Maduro, Ñañez, Ωμέγα") == "Nicolas Maduro, Nanez, Ωμεγα"
    assert search.without_accents("ﬁ ½") == "fi 1⁄2"  # compatibility forms decompose too
    assert search.without_accents("a\U0001D167b") == "ab"  # a combining mark past those remembered
    assert search.without_accents("漢字 Ελλάδα") == "漢字 Ελλαδα"
    search.without_accents("".join(map(chr, range(0x10000, 0x10400))))  # characters a visitor may send
    assert all(code < search.MARKS_KEPT for code in search._MARKS)
