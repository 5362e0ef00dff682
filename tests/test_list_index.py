"""The build's list index (kg.list_index) holds what the list views computed for themselves before it: the
allegations in each order with their facet values and counts, the timeline in order with its facets, the network's
relations and each actor's neighbours; the same bytes from the same release; and a process that has served every
list view keeps none of it in memory."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter, defaultdict
from contextlib import closing
from itertools import combinations

import numpy
import pytest

from kg import list_index
from kg.history import date_order, end_of
from kg.ids import last_segment
from kg.layout import resolve
from kg.list_index import FACETS, LIST_INDEX, ORDERS, VOICE_FACETS, order_column
from kg.network import NETWORK_FILE
from kg.page_index import PAGE_INDEX, PageIndex
from kg.search import folded
from kg.timeline import TIMELINE_FILE
from kg.vocab import SOL
from server import create_app
from server.pages.listing import Recent
from tests.conftest import build_fixture_with
from tests.test_allegation_list import EXTRA


@pytest.fixture(scope="module", params=["shared", "lists"])
def release(request, fixture_build, tmp_path_factory):
    build = fixture_build if request.param == "shared" else build_fixture_with(tmp_path_factory, "list-index", EXTRA)
    return resolve(build).path


def query(release, sql: str, parameters=()) -> list[tuple]:
    with closing(sqlite3.connect(release / LIST_INDEX)) as index:
        return index.execute(sql, parameters).fetchall()


def entries(release):
    """The allegations someone speaks to, in reading order, as the lists took them from the page index."""
    with PageIndex(release / PAGE_INDEX) as pages:
        found = [entry for entry in pages.allegations().values() if entry.voices]
    return sorted(found, key=lambda entry: (folded(entry.label), entry.iri))


def test_the_allegations_are_in_each_order_of_the_lists(release):
    listed = entries(release)
    assert listed, "the fixture has allegations to list"
    for order, (key, largest_first) in ORDERS.items():
        expected = [entry.iri for entry in sorted(listed, key=key, reverse=largest_first)]
        assert [iri for iri, in query(release, f"SELECT iri FROM allegations ORDER BY {order_column(order)}")] == expected
    contested = [iri for iri, in query(release, "SELECT iri FROM allegations WHERE contested = 1 ORDER BY n")]
    assert contested == [entry.iri for entry in listed if entry.contested]


def having_each_value(listed) -> dict[tuple[str, str], list[int]]:
    """(facet, value IRI) -> the numbers of the allegations ``listed`` with it (of a facet of the voices: on a voice)."""
    having = defaultdict(set)
    for number, entry in enumerate(listed):
        having["status", entry.status].add(number) if entry.status else None
        for facet, values in (("type", entry.types), ("accused", entry.accused)):
            for iri in values:
                having[facet, iri].add(number)
        for voice in entry.voices:
            for facet in VOICE_FACETS:
                having[facet, getattr(voice, facet)].add(number)
    return {key: sorted(numbers) for key, numbers in having.items()}


def test_each_facet_value_is_counted_over_the_whole_list_the_most_frequent_first(release):
    listed = entries(release)
    terms = {number: iri for number, iri in query(release, "SELECT id, iri FROM terms")}
    expected = having_each_value(listed)
    totals = {}
    for facet, counts in query(release, "SELECT facet, counts FROM totals WHERE stance = ?", (list_index.NO_STANCE,)):
        ranked = list_index.read_counted_pairs(counts).tolist()
        assert ranked == sorted(ranked, key=lambda pair: (-pair[1], pair[0]))  # the most frequent first
        totals.update(((facet, terms[term]), count) for term, count in ranked)
    assert totals == {key: len(allegations) for key, allegations in expected.items()}
    denies = next(number for number, iri in terms.items() if iri == SOL.Denies.value)
    denied_by = {terms[term]: count for term, count in list_index.read_counted_pairs(query(
        release, "SELECT counts FROM totals WHERE facet = 'claimant' AND stance = ?", (denies,))[0][0]).tolist()}
    assert denied_by == Counter(iri for entry in listed
                                for iri in {voice.claimant for voice in entry.voices if voice.stance == SOL.Denies.value})


def test_the_facet_arrays_count_the_values_of_any_allegations_as_their_entries_do(release):
    listed = entries(release)
    terms = {iri: number for number, iri in query(release, "SELECT id, iri FROM terms")}
    with list_index.ListIndex(release / LIST_INDEX) as index:
        arrays = index.facet_arrays()

    def values(entry, facet: str, stance: str | None) -> set[str]:
        if facet not in VOICE_FACETS:
            return {"status": {entry.status} - {None}, "type": set(entry.types), "accused": set(entry.accused)}[facet]
        return {getattr(voice, facet) for voice in entry.voices if stance is None or voice.stance == stance}

    everyone = range(len(listed))
    for numbers in ([], [0], list(everyone), list(everyone)[::2], list(everyone)[1::3], [len(listed) - 1]):
        for facet in FACETS:
            for stance in (None, *([SOL.Denies.value, SOL.Asserts.value] if facet in VOICE_FACETS else [])):
                expected = Counter(terms[iri] for number in numbers for iri in values(listed[number], facet, stance))
                found = arrays.counts(numpy.array(numbers, dtype=numpy.int64), facet,
                                      None if stance is None else terms.get(stance, -1))
                assert len(found) == len(terms), "a count for every term"
                assert nonzero(found) == expected, (facet, stance, numbers)


def nonzero(counts: numpy.ndarray) -> Counter:
    """Counts by term, as a Counter of those that are not 0."""
    return Counter({term: int(counts[term]) for term in numpy.flatnonzero(counts).tolist()})


def test_the_facet_arrays_match_voices_by_their_other_facets_and_dates_as_their_entries_do(release):
    """A voice matches a view's other facets of the voices and its dates: its source's last possible day on or after
    the view's first (``from``), its first on or before the view's last (``to``); an undated voice matches no date."""
    listed = entries(release)
    term = {iri: number for number, iri in query(release, "SELECT id, iri FROM terms")}
    with list_index.ListIndex(release / LIST_INDEX) as index:
        arrays = index.facet_arrays()
    voices = [(number, *(term[getattr(voice, name)] for name in VOICE_FACETS), voice.date,
               end_of(voice.date) if voice.date else None)
              for number, entry in enumerate(listed) for voice in entry.voices]
    everyone = sorted({voice[0] for voice in voices})
    dates = sorted({voice[4] for voice in voices if voice[4]})
    assert dates, "the fixture has dated voices"
    stances = sorted({voice[2] for voice in voices})
    ranges = ((None, None), (dates[0], None), (None, end_of(dates[-1][:4])), (dates[len(dates) // 2], "2100-12-31"),
              (dates[-1][:4], None), (None, end_of(dates[0])))
    for numbers in (everyone, everyone[::2]):
        for name in VOICE_FACETS:
            for chosen in ({}, {"stance": stances[:1]}, {"stance": stances[:2]}):
                chosen = {other: terms for other, terms in chosen.items() if other != name}
                for since, until in ranges:
                    kept = [voice for voice in voices if voice[0] in set(numbers)
                            and all(voice[1 + list(VOICE_FACETS).index(other)] in terms for other, terms in chosen.items())
                            and (since is None or (voice[5] is not None and voice[5] >= since))
                            and (until is None or (voice[4] is not None and voice[4] <= until))]
                    expected = Counter(value for _, value in {(voice[0], voice[1 + list(VOICE_FACETS).index(name)])
                                                              for voice in kept})
                    found = arrays.voice_counts(numpy.array(numbers, dtype=numpy.int64), name, chosen, since, until)
                    assert nonzero(found) == expected, (name, chosen, since, until)
                    assert arrays.with_voice(numpy.array(numbers, dtype=numpy.int64), chosen, since, until).tolist() \
                        == sorted({voice[0] for voice in kept})


def test_the_facet_arrays_name_the_allegations_with_each_value(release):
    term = {iri: number for number, iri in query(release, "SELECT id, iri FROM terms")}
    with list_index.ListIndex(release / LIST_INDEX) as index:
        arrays = index.facet_arrays()
    having = {(facet, term[iri]): numbers for (facet, iri), numbers in having_each_value(entries(release)).items()}
    assert having
    for (facet, value), numbers in having.items():
        assert arrays.having(facet, [value]).tolist() == numbers
    for facet in FACETS:
        values = sorted(value for name, value in having if name == facet)[:3]
        assert arrays.having(facet, values).tolist() == sorted({n for value in values for n in having[facet, value]})


def test_terms_are_in_the_order_facets_list_ties_and_every_key_names_its_value(release):
    found = query(release, "SELECT id, iri, label FROM terms ORDER BY id")
    assert [iri for _, iri, _ in found] == [iri for _, iri, _ in sorted(found, key=lambda row: (row[2].casefold(), row[1]))]
    iris = {number: iri for number, iri, _ in found}
    for facet, key, term in query(release, "SELECT facet, key, term FROM facet_keys"):
        assert facet in FACETS
        assert key == list_index.CONCEPT_NAMES.get(iris[term], last_segment(iris[term]))


def test_the_timeline_is_in_date_order_with_its_facets(release):
    timeline = json.loads((release / TIMELINE_FILE).read_text(encoding="utf-8"))
    stored = [json.loads(item) for item, in query(release, "SELECT item FROM timeline ORDER BY n")]
    assert sorted(item["iri"] for item in stored) == sorted(item["iri"] for item in timeline["items"])
    assert stored, "the fixture has a timeline"
    order = [date_order(item["date"]) for item in stored]  # the undated first
    assert order == sorted(order)
    expected = [next(item for item in timeline["items"] if item["iri"] == shown["iri"]) for shown in stored]
    about = defaultdict(list)
    for iri, number in query(release, "SELECT iri, n FROM timeline_about ORDER BY iri, n"):
        about[iri].append(stored[number]["iri"])
    assert about == {iri: [item["iri"] for item in expected if iri in item["about"]]
                     for iri in {iri for item in expected for iri in item["about"]}}
    dated = {number for number, in query(release, "SELECT n FROM timeline WHERE dated = 1")}
    numbers = defaultdict(list)
    for iri, number in query(release, "SELECT iri, n FROM timeline_about"):
        numbers[iri].append(number)
    assert {iri: (items, dated_items) for iri, items, dated_items in query(release, "SELECT * FROM timeline_counts")} \
        == {iri: (len(found), len(dated.intersection(found))) for iri, found in numbers.items()}
    assert dated, "the fixture has dated items"


def test_an_item_known_only_to_its_month_or_year_follows_the_days_of_it():
    """An answer dated only "September 2011" is listed after the act of 8 September 2011 it answers, and an
    item dated only by its year after every day of that year."""
    def item(name: str, date: str | None) -> dict:
        return {"iri": f"https://w3id.org/soles/id/event/{name}", "kind": "event", "date": date, "end": None,
                "type": None, "source": None, "undated_reason": None, "timeframe": None, "about": []}

    found = {"items": [item("in-2011", "2011"), item("in-september", "2011-09"), item("on-8-september", "2011-09-08"),
                       item("on-2-october", "2011-10-02"), item("undated", None)], "names": {}, "issued": {}}
    with closing(sqlite3.connect(":memory:")) as index:
        list_index._write_timeline(index, found)
        order = [json.loads(text)["iri"].rsplit("/", 1)[-1] for text, in index.execute("SELECT item FROM timeline ORDER BY n")]
    assert order == ["undated", "on-8-september", "in-september", "on-2-october", "in-2011"]


def test_each_actor_counts_its_neighbours_for_each_relation(release):
    network = json.loads((release / NETWORK_FILE).read_text(encoding="utf-8"))
    actors = {iri: number for number, iri in query(release, "SELECT id, iri FROM actors")}
    assert [iri for iri, _ in sorted(actors.items(), key=lambda item: item[1])] == \
        [node["id"] for node in sorted(network["nodes"], key=lambda node: (folded(node["label"]), node["id"]))]
    for relation in ("", "asserts", "co-accused"):
        neighbours = defaultdict(set)
        for edge in network["edges"]:
            if edge["from"] != edge["to"] and relation in ("", edge["relation"]):
                neighbours[edge["from"]].add(edge["to"])
                neighbours[edge["to"]].add(edge["from"])
        found = dict(query(release, "SELECT actor, neighbours FROM connected WHERE relation = ? AND status = ''",
                           (relation,)))
        assert found == {actors[iri]: len(others) for iri, others in neighbours.items()}
        assert query(release, "SELECT actors FROM connected_views WHERE relation = ? AND status = ''",
                     (relation,)) == [(len(neighbours),)]
    assert [json.loads(edge) for edge, in query(release, "SELECT edge FROM relations ORDER BY n")] == network["edges"]


def test_each_actor_counts_its_neighbours_for_each_relation_and_side(release):
    """As the actor's page grouped the relations touching the actor before the build did it for the page, the
    actor itself left out (as in the network view)."""
    actors = [number for number, in query(release, "SELECT id FROM actors")]
    stored = {actor: json.loads(groups) for actor, groups in query(release, "SELECT actor, groups FROM neighbourhoods")}
    assert stored and set(stored) <= set(actors)
    for actor in actors:
        grouped = defaultdict(set)
        for one, other, relation in query(release, "SELECT a, b, relation FROM relations WHERE a = ? AND b != a"
                                                   " UNION ALL SELECT a, b, relation FROM relations WHERE b = ? AND a != b",
                                          (actor, actor)):
            side = "from" if one == actor or relation == "co-accused" else "to"
            grouped[f"{relation} {side}"].add(other if one == actor else one)
        assert stored.get(actor, {}) == {key: len(others) for key, others in grouped.items()}


def test_the_same_release_gives_the_same_bytes(release, tmp_path):
    copy = tmp_path / "release"
    copy.mkdir()
    for name in (PAGE_INDEX, TIMELINE_FILE, NETWORK_FILE):
        (copy / name).write_bytes((release / name).read_bytes())
    list_index.write(copy)
    assert (copy / LIST_INDEX).read_bytes() == (release / LIST_INDEX).read_bytes()


def test_a_process_that_served_every_list_keeps_no_table_of_them(fixture_build):
    app = create_app({"BUILD_DIR": fixture_build, "TESTING": True})
    client = app.test_client()
    actor = client.get("/network.json").get_json()["nodes"][0]["id"].split("/id/", 1)[1]
    for path in ("/allegations", "/allegations?stance=denies", "/allegations.json", "/contested", "/contested.csv",
                 "/timeline", "/timeline.json", "/network", "/network.json", f"/network?actor={actor}",
                 f"/id/{actor}", "/"):
        assert client.get(path).status_code == 200, path
    kept = {name: value for opened in app.extensions["soles.build"].opened.values()
            for name, value in opened.cache.items()}
    old_tables = {"allegation index", "allegation facets", "allegation rows", "contested blocks", "timeline",
                  "timeline entries", "network", "network rows"}
    assert kept and not kept.keys() & old_tables
    recent = [value for value in kept.values() if isinstance(value, Recent)]
    assert recent and all(len(value.values) <= value.size for value in recent)


def test_recent_values_are_kept_up_to_their_number_the_last_asked_for():
    recent = Recent(2)
    made = []

    def make(keys):
        made.extend(keys)
        return {key: key.upper() for key in keys}
    assert recent.get(["a", "b"], make) == ["A", "B"]
    assert recent.get(["a", "c"], make) == ["A", "C"]  # "a" asked for again: "b" is the oldest, and goes
    assert recent.get(["b", "a"], make) == ["B", "A"]
    assert made == ["a", "b", "c", "b"]
    assert set(recent.values) == {"a", "b"}


def test_the_counts_the_build_made_within_a_common_value_are_those_a_view_counts(monkeypatch, tmp_path_factory):
    """Every value counts as common when COUNTED_WITHIN_FROM is 1: each view, of one value or of several, shows
    the same counts from a list index with the build's counts within each value as from one without them."""
    counted_live = build_fixture_with(tmp_path_factory, "counted-live", EXTRA)
    counted_by_build = tmp_path_factory.mktemp("counted-by-build") / "build"
    shutil.copytree(counted_live, counted_by_build, symlinks=True)
    monkeypatch.setattr(list_index, "COUNTED_WITHIN_FROM", 1)
    list_index.write(resolve(counted_by_build).path)
    assert query(resolve(counted_by_build).path, "SELECT COUNT(*) FROM totals_within")[0][0] > 0
    assert query(resolve(counted_live).path, "SELECT COUNT(*) FROM totals_within")[0][0] == 0
    live, stored = (create_app({"BUILD_DIR": build, "TESTING": True}).test_client()
                    for build in (counted_live, counted_by_build))
    facets = live.get("/allegations.json").get_json()["facets"]
    values = [(name, value["value"]) for name, listed in facets.items() for value in listed]
    assert len(values) > 10, "the fixture has values of every facet to narrow to"
    views = [[one] for one in values] + list(combinations(values, 2))
    views += [[one, ("from", "2025")] for one in values[:4]]
    for view in views:
        assert stored.get("/allegations.json", query_string=view).get_json() == \
            live.get("/allegations.json", query_string=view).get_json(), view
    # And a view narrowed to a common value reads them: a count the build did not make shows.
    name, key = next((name, key) for name, key in values if name == "status")
    with closing(sqlite3.connect(resolve(counted_by_build).path / LIST_INDEX)) as index:
        term = index.execute("SELECT term FROM facet_keys WHERE facet = ? AND key = ?", (name, key)).fetchone()[0]
        shown = index.execute("SELECT counts FROM totals_within WHERE within_facet = ? AND within_term = ? AND "
                              "facet = 'type' AND stance = ?", (name, term, list_index.NO_STANCE)).fetchone()[0]
        first = list_index.read_counted_pairs(shown)[0].tolist()
        index.execute("UPDATE totals_within SET counts = ? WHERE within_facet = ? AND within_term = ? AND facet = 'type'"
                      " AND stance = ?", (list_index.counted_pairs([[first[0], 999]]), name, term, list_index.NO_STANCE))
        index.commit()
    made_by_build = create_app({"BUILD_DIR": counted_by_build, "TESTING": True}).test_client()
    types = made_by_build.get("/allegations.json", query_string={name: key}).get_json()["facets"]["type"]
    assert [value["count"] for value in types if value["count"]] == [999]


@pytest.mark.parametrize("iri, segment", [
    ("https://w3id.org/soles/id/person/nicolas-maduro", "nicolas-maduro"),
    ("https://w3id.org/soles/ontology#Asserts", "Asserts"),
    ("http://example.org/a#b/c", "c"),
    ("http://example.org/a/b#c", "c"),
    ("http://example.org/a/", "a"),  # a final slash is not a segment
    ("urn:isbn:0451450523", "urn:isbn:0451450523"),  # no slash or hash: the whole IRI
    ("", ""),
])
def test_an_iris_last_segment_is_what_follows_its_last_slash_or_hash(iri, segment):
    """What a reader sees of an IRI without a label (kg.ids.last_segment), and a key of a view's address."""
    assert last_segment(iri) == segment


@pytest.mark.parametrize("kept", [0, 1, 0.3, 0.5, 15 / 16, 0.99, 1.0])
def test_values_kept_by_a_mask_are_those_indexing_keeps_whichever_way_they_are_taken(kept):
    """kg.list_index._kept indexes a mask that keeps nearly every value and compresses the others: either way,
    the values ``values[mask]`` gives, in their order."""
    values = numpy.random.default_rng(7).integers(0, 1000, 4096).astype(numpy.int32)
    mask = numpy.random.default_rng(8).random(len(values)) < kept
    found = list_index._kept(values, mask)
    assert found.dtype == values.dtype
    assert found.tolist() == values[mask].tolist()
    assert list_index._kept(values[:0], mask[:0]).tolist() == []
