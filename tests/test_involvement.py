"""The lists of an actor's or place's page in the build's page index (kg.involvement): what the store says, in
page order, read a window at a time; and a hub's page reads only the allegations of the windows it shows
(tests/actor_fixture.py: a hub accused in more allegations than a page holds, with a blanket denial)."""

from __future__ import annotations

import pytest

from kg import ids, page_index
from kg.involvement import reading_order
from kg.layout import resolve
from kg.page_index import PAGE_INDEX, PageIndex
from kg.store import open_store, run_query
from server import create_app
from server.pages.lists import BLOCKS_PER_PAGE
from tests.actor_fixture import (
    BLANKET_COVERS,
    BLANKET_QUOTE,
    CO_ACCUSED,
    CONCERNED,
    HUB_ALLEGATIONS,
    allegations_read,
    build_actor_fixture,
)
from tests.test_page_index import assert_every_window_reads_as_the_whole

HUB = ids.entity("person", "rex-ruler").value
PAGE_SIZE = 2


@pytest.fixture(scope="module")
def actor_build(tmp_path_factory):
    return build_actor_fixture(tmp_path_factory.mktemp("involvement"))


def index_of(build) -> PageIndex:
    return PageIndex(resolve(build).path / PAGE_INDEX)


def test_the_allegations_naming_each_actor_or_place_are_those_of_the_store_in_reading_order(actor_build):
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in run_query(open_store(actor_build), """SELECT ?this ?list ?allegation ?label WHERE {
            ?allegation a sol:Allegation ; rdfs:label ?label .
            { ?allegation sol:accused ?this BIND("accused" AS ?list) }
            UNION { ?allegation sol:involves ?this BIND("involved" AS ?list) }
            UNION { ?allegation sol:place ?this BIND("at" AS ?list) } }"""):
        found.setdefault((row["this"].value, row["list"].value), []).append((row["label"].value, row["allegation"].value))
    assert {name for _, name in found} >= {"accused", "at"}  # the comparison means something
    with index_of(actor_build) as index:
        for (this, name), allegations in found.items():
            assert index.involvement_of(this).whole(name) == [iri for _, iri in sorted(
                allegations, key=lambda item: reading_order(*item))], (this, name)


def test_counterparts_are_counted_and_ranked_as_the_page_shows_them(actor_build):
    with index_of(actor_build) as index:
        about = index.involvement_of(HUB)
        listed = [item for name in ("co-accused", "voices", "concerned") for item in about.whole(name)]
        names = index.names([actor for actor, _, _ in listed])
        labels = index.labels([actor for actor, _, _ in listed])
        co_accused = [(names[actor], counts) for actor, counts, _ in about.whole("co-accused")]
        concerned = {names[actor]: counts for actor, counts, _ in about.whole("concerned")}
    assert listed and all(label == labels.get(actor, actor.rsplit("/", 1)[-1]) for actor, _, label in listed), \
        "each counterpart with the label its link shows"
    assert co_accused == [(name, {"shared": count}) for name, count in CO_ACCUSED.items()]
    assert concerned == {name: {stance: count for stance, count in zip(("asserts", "denies", "disputes"), counts)
                                if count} for name, counts in CONCERNED.items()}


def test_a_blanket_statement_lists_what_it_covers_and_own_claims_leave_it_out(actor_build):
    with index_of(actor_build) as index:
        about = index.involvement_of(HUB)
        statements = about.whole("statements")
        own = [number for number, statement in enumerate(statements, 1) if statement[0] == HUB]
        assert len(own) == 1 and own[0] == 1  # the actor's own statements come first
        claimant, stance, quote, _, _, covers = statements[0]
        assert (quote, covers) == (BLANKET_QUOTE, BLANKET_COVERS)
        covered = about.whole("statement-1")
        assert len(covered) == covers and len({allegation for allegation, _ in covered}) == covers
        entries = index.allegations([allegation for allegation, _ in covered])
        assert all(any(voice.attribution == attribution and voice.claimant == claimant == HUB
                       and voice.stance == stance for voice in entries[allegation].voices)
                   for allegation, attribution in covered)
        assert about.size("claims") == 0  # the blanket denial is all Rex Ruler says
        assert about.size("accused") == HUB_ALLEGATIONS


def test_a_list_longer_than_a_chunk_reads_the_same_in_any_window(actor_build, tmp_path, monkeypatch):
    with index_of(actor_build) as index:
        parts = [iri for iri, in index.connection.execute("SELECT iri FROM involvement")]
        whole = {iri: index.involvement_of(iri).heads for iri in parts}
    monkeypatch.setattr(page_index, "LIST_CHUNK", 2)  # every list of three items or more is chunked
    page_index.write(open_store(actor_build), tmp_path / PAGE_INDEX)
    with PageIndex(tmp_path / PAGE_INDEX) as chunked:
        assert chunked.connection.execute("SELECT count(*) FROM involvement_chunks").fetchone()[0]
        assert_every_window_reads_as_the_whole(chunked.involvement_of, whole)


def test_a_hubs_page_reads_only_the_allegations_it_shows(actor_build, monkeypatch):
    read = allegations_read(monkeypatch)
    client = create_app({"BUILD_DIR": actor_build, "TESTING": True, "PAGE_SIZE": PAGE_SIZE}).test_client()
    with index_of(actor_build) as index:
        about = index.involvement_of(HUB)
        second = about.window("accused", PAGE_SIZE, PAGE_SIZE)
    assert client.get("/" + ids.local_path(HUB) + "?accused=2").status_code == 200
    assert set(second) <= set(read)
    assert len(set(read)) <= PAGE_SIZE + min(PAGE_SIZE, BLOCKS_PER_PAGE)  # the accused and involved shown
