"""The FollowTheMoney export (kg.ftm): every entity loaded with the followthemoney library and checked against
its model, what the fixture's records become, byte-identical builds, and the file and per-actor export served."""

from __future__ import annotations

import json
import re

import pytest
from followthemoney import model, registry

from kg import ftm
from kg.pipeline import build
from server import create_app
from tests.browsing import WIDTHS, browsing, no_horizontal_scroll, screenshot
from tests.conftest import LiveServer, build_fixture_with
from tests.fixtures import ACTORS, PLACES, WIKIDATA, write_fixture_data

# A ministry's statement (in Spanish) accusing a general and a cartel, which the general denies and analysts
# dispute, with the charge (one record of it found wrong and corrected) and the cartel's designation.
MINISTRY_NOTICE = """\
source:
  id: fixture-ministry-notice
  type: official-statement
  title: Comunicado sobre el cartel
  publisher: [fixture-ministry]
  url: https://ministry.example.org/comunicado
  date: 2024-07-02
  language: es
  seen_at: https://archive.example.org/ministry.example.org/comunicado
  read_on: 2024-07-20
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-07-20
allegations:
  - id: carol-runs-fixture-cartel
    label: Carol General runs the Fixture cartel
    summary: The ministry says the general heads a trafficking group.
    types: [criminal-leadership]
    accused: [carol-general, fixture-cartel]
    attributions:
      - claimant: fixture-ministry
        stance: asserts
        quote: "el general dirige el cartel"
        translation: the general runs the cartel
      - claimant: carol-general
        stance: denies
        quote: "una mentira del ministerio"
        translation: a lie by the ministry
      - claimant: fixture-analysts
        stance: disputes
        quote: "no hay pruebas del cartel"
        translation: there is no evidence of the cartel
status_changes:
  - id: bob-charged-by-mistake
    allegation: carol-runs-fixture-cartel
    status: charged
    date: 2024-06-10
    concerns: [bob-sample]
  - id: carol-charged
    allegation: carol-runs-fixture-cartel
    status: charged
    date: 2024-06-15
    concerns: [carol-general]
    case: Ruritania v. Carol General
    quote: "acusada el 15 de junio"
    supersedes: bob-charged-by-mistake
    correction_reason: The charge named the general, not Bob Sample.
  - id: cartel-designated
    allegation: carol-runs-fixture-cartel
    status: designated
    date: 2024-07-01
    concerns: [fixture-cartel]
    detail: designated a terrorist organization
"""
MORE_ACTORS = """\
  - id: carol-general
    type: person
    name: Carol General
    also_known_as: [Carolina General]
    description: A general the ministry accuses.
    country: venezuela
    member_of: [fixture-army]
  - id: fixture-army
    type: organization
    name: Fixture army
    description: An army.
  - id: fixture-ministry
    type: organization
    name: Fixture ministry
    description: A ministry.
  - id: fixture-cartel
    type: organization
    name: Fixture cartel
    description: What the ministry calls a cartel.
  - id: fixture-analysts
    type: group
    name: Fixture analysts
    description: Unnamed analysts.
"""
MORE_PLACES = """\
  - id: venezuela
    type: country
    name: Venezuela
    wikidata: Q717
"""
BASE = "https://w3id.org/soles/id/"
CAROL, MINISTRY, ANALYSTS, CARTEL = (ftm.actor_id(BASE + path) for path in (
    "person/carol-general", "organization/fixture-ministry", "group/fixture-analysts", "organization/fixture-cartel"))
ALICE, BOB = ftm.actor_id(BASE + "person/alice-example"), ftm.actor_id(BASE + "person/bob-sample")


FTM_FILES = {
    "actors.yaml": ACTORS + MORE_ACTORS, "places.yaml": PLACES + MORE_PLACES,
    "wikidata.yaml": WIKIDATA + "  - {qid: Q717, label: Venezuela, kind: place, checked_in: test fixture}\n",
    "sources/fixture-ministry-notice.yaml": MINISTRY_NOTICE}


@pytest.fixture(scope="module")
def ftm_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "ftm", FTM_FILES)


@pytest.fixture(scope="module")
def exported(ftm_build) -> list[dict]:
    return [json.loads(line) for line in (ftm_build / ftm.FTM_FILE).read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def by_id(exported) -> dict[str, dict]:
    return {entity["id"]: entity for entity in exported}


@pytest.fixture(scope="module")
def client(ftm_build):
    return create_app({"BUILD_DIR": ftm_build, "TESTING": True}).test_client()


def of_schema(exported, schema: str) -> list[dict]:
    return [entity for entity in exported if entity["schema"] == schema]


def check_with_library(entities: list[dict]) -> None:
    """Load each entity with followthemoney, without cleaning, and check what the library itself does not:
    a concrete schema of the export's table, its required properties, values its property types accept,
    unique ids, and references to entities of the right schema in the same file."""
    schemata = {entity["id"]: model.get(entity["schema"]) for entity in entities}
    assert len(schemata) == len(entities), "ids are not unique"
    for entity in entities:
        assert list(entity) == ["id", "schema", "properties"]
        proxy = model.get_proxy(entity, cleaned=False)
        schema = proxy.schema
        assert not schema.abstract and schema.name in ftm.SCHEMATA
        assert set(schema.required) <= entity["properties"].keys(), entity
        for name, values in entity["properties"].items():
            prop = schema.get(name)
            assert prop is not None, f"{entity['id']}: {schema.name} has no property {name}"
            assert values == sorted(set(values)) and values and all(isinstance(value, str) for value in values)
            assert proxy.get(name) == values
            for value in values:
                assert prop.type.clean(value) is not None, f"{entity['id']}: {name} {value!r} is no {prop.type.name}"
                if prop.type == registry.entity:
                    assert value in schemata, f"{entity['id']}: {name} refers to {value}, which is not exported"
                    assert schemata[value].is_a(prop.range), f"{entity['id']}: {name} {value} is no {prop.range}"


# --- against the library's model -----------------------------------------------------------------------------


def test_the_table_of_schemata_is_the_library_s():
    for name, required in ftm.SCHEMATA.items():
        schema = model.get(name)
        assert schema is not None and not schema.abstract, name
        assert set(schema.required) == required, name


def test_the_exporter_refuses_what_the_library_would_pass():
    with pytest.raises(ftm.InvalidEntity, match="needs organization"):
        ftm.check({"id": "m", "schema": "Membership", "properties": {"member": ["p"]}})
    with pytest.raises(ftm.InvalidEntity, match="Interest"):  # abstract in followthemoney
        ftm.check({"id": "i", "schema": "Interest", "properties": {}})
    with pytest.raises(ftm.InvalidEntity, match="needs name"):
        ftm.check({"id": "p", "schema": "Person", "properties": {"alias": ["x"]}})


def test_every_exported_entity_loads_with_the_library(exported):
    check_with_library(exported)
    assert [entity["id"] for entity in exported] == sorted(entity["id"] for entity in exported)
    assert all(topic in registry.topic.names for entity in exported
               for topic in entity["properties"].get("topics", []))


def test_the_fixture_build_exports_valid_entities_too(fixture_build):
    lines = (fixture_build / ftm.FTM_FILE).read_text(encoding="utf-8").splitlines()
    check_with_library([json.loads(line) for line in lines])


def test_the_same_data_gives_the_same_bytes(ftm_build, tmp_path):
    again = tmp_path / "build"
    build(write_fixture_data(tmp_path / "data", extra=FTM_FILES), again, reason=False)
    assert (again / ftm.FTM_FILE).read_bytes() == (ftm_build / ftm.FTM_FILE).read_bytes()


# --- what the records become -----------------------------------------------------------------------------------


def test_actors_keep_their_kind_names_links_and_countries(exported, by_id):
    assert {schema: len(of_schema(exported, schema)) for schema in ("Person", "Organization", "PublicBody",
                                                                     "LegalEntity")} == {
        "Person": 4, "Organization": 4, "PublicBody": 1, "LegalEntity": 2}
    carol = by_id[CAROL]["properties"]
    assert by_id[CAROL]["schema"] == "Person"
    assert carol["name"] == ["Carol General"] and carol["alias"] == ["Carolina General"]
    assert carol["country"] == ["ve"] and carol["sourceUrl"] == [BASE + "person/carol-general"]
    assert by_id[ALICE]["properties"]["wikidataId"] == ["Q1001"]
    assert "country" not in by_id[ALICE]["properties"]  # Ruritania has no ISO code
    assert by_id[MINISTRY]["schema"] == "PublicBody"  # it publishes its own official statement
    assert by_id[ANALYSTS]["schema"] == "LegalEntity"


def test_topics_say_only_what_the_record_holds(exported, by_id):
    assert by_id[CARTEL]["properties"]["topics"] == ["sanction"]
    assert [entity["id"] for entity in exported if "topics" in entity["properties"]] == [CARTEL]


def links(exported, role: str) -> set[tuple[str, str]]:
    return {(entity["properties"]["subject"][0], entity["properties"]["object"][0])
            for entity in of_schema(exported, "UnknownLink") if entity["properties"]["role"] == [role]}


def test_accusations_denials_and_disputes_are_links_with_their_source(exported):
    fixture_officials, daily = ftm.actor_id(BASE + "group/fixture-officials"), ftm.actor_id(
        BASE + "organization/daily-fixture")
    mallory = ftm.actor_id(BASE + "person/mallory-script")
    assert links(exported, "accused by") == {(CAROL, MINISTRY), (CARTEL, MINISTRY), (ALICE, fixture_officials),
                                             (BOB, fixture_officials), (mallory, daily)}
    assert links(exported, "denies allegation by") == {(CAROL, MINISTRY), (ALICE, fixture_officials)}
    assert links(exported, "disputes allegation by") == {(ANALYSTS, MINISTRY)}
    assert len(of_schema(exported, "UnknownLink")) == 8
    denial = next(entity["properties"] for entity in of_schema(exported, "UnknownLink")
                  if entity["properties"]["subject"] == [CAROL]
                  and entity["properties"]["role"] == ["denies allegation by"])
    assert denial == {
        "date": ["2024-07-02"],
        "description": ["“una mentira del ministerio” (our translation: “a lie by the ministry”)"],
        "object": [MINISTRY], "publisher": ["Fixture ministry"],
        "recordId": [BASE + "attribution/fixture-ministry-notice/carol-runs-fixture-cartel/carol-general/denies"],
        "retrievedAt": ["2024-07-20"], "role": ["denies allegation by"],
        "sourceUrl": ["https://ministry.example.org/comunicado"], "subject": [CAROL],
        "summary": ["Carol General runs the Fixture cartel"]}


def test_charges_are_court_cases_and_designations_sanctions(exported, by_id):
    parties = {(entity["properties"]["party"][0], entity["properties"]["status"][0]): entity
               for entity in of_schema(exported, "CourtCaseParty")}
    assert set(parties) == {(CAROL, "charged"), (ALICE, "charged"), (BOB, "charged")}  # Bob's only from the fixture
    carol = parties[(CAROL, "charged")]["properties"]
    assert carol["date"] == ["2024-06-15"] and carol["role"] == ["defendant"]
    assert carol["recordId"] == [BASE + "status/carol-charged"]
    assert not any(BASE + "status/bob-charged-by-mistake" in entity["properties"].get("recordId", [])
                   for entity in exported)  # superseded
    case = by_id[carol["case"][0]]["properties"]
    assert case["name"] == ["Ruritania v. Carol General"] and case["fileDate"] == ["2024-06-15"]
    assert len(of_schema(exported, "CourtCase")) == 2
    (sanction,) = of_schema(exported, "Sanction")
    assert sanction["properties"]["entity"] == [CARTEL] and sanction["properties"]["date"] == ["2024-07-01"]
    assert sanction["properties"]["description"] == ["designated a terrorist organization"]


def test_memberships(exported):
    (membership,) = of_schema(exported, "Membership")
    assert membership["properties"]["member"] == [CAROL]
    assert membership["properties"]["organization"] == [ftm.actor_id(BASE + "organization/fixture-army")]


# --- served ------------------------------------------------------------------------------------------------------


def test_the_file_is_listed_and_served(client, ftm_build, exported):
    page = client.get("/downloads").get_data(as_text=True)
    assert "soles.ftm.json" in page and f"as {len(exported)}" in page
    listing = client.get("/downloads.json").get_json()
    assert listing["ftm"]["entities"] == len(exported)
    with client.get("/downloads/soles.ftm.json") as response:
        assert response.status_code == 200 and response.mimetype == ftm.MEDIA_TYPE
        assert response.data == (ftm_build / ftm.FTM_FILE).read_bytes()


def test_an_actor_s_entities_are_the_lines_that_concern_it(client, ftm_build):
    everything = set((ftm_build / ftm.FTM_FILE).read_text(encoding="utf-8").splitlines())
    response = client.get("/id/person/carol-general.ftm.json")
    assert response.status_code == 200 and response.mimetype == ftm.MEDIA_TYPE
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert set(lines) <= everything and lines == sorted(lines, key=lambda line: json.loads(line)["id"])
    entities = [json.loads(line) for line in lines]
    check_with_library(entities)  # every reference resolves within the actor's own file
    assert {entity["schema"] for entity in entities} == {"Person", "PublicBody", "Organization", "UnknownLink",
                                                          "CourtCase", "CourtCaseParty", "Membership"}
    assert ANALYSTS not in {entity["id"] for entity in entities}  # their dispute is of the ministry, not of Carol
    assert {entity["id"] for entity in entities if entity["schema"] == "UnknownLink"} == {
        entity["id"] for entity in map(json.loads, everything) if entity["schema"] == "UnknownLink"
        and CAROL in entity["properties"]["subject"] + entity["properties"]["object"]}
    [link] = re.findall(r'href="([^"]+\.ftm\.json)"', client.get("/id/person/carol-general").get_data(as_text=True))
    with client.get(link) as linked:  # the actor page links to the very file
        assert linked.status_code == 200 and linked.get_data() == response.get_data()


@pytest.mark.parametrize("path", ["/id/person/nobody.ftm.json", "/id/place/venezuela.ftm.json",
                                  "/id/person/Not_A_Slug.ftm.json"])
def test_no_entities_for_what_is_no_actor(client, path):
    assert client.get(path).status_code == 404


def test_the_downloads_section_reads_at_every_width(browser, ftm_build, tmp_path, exported):
    server = LiveServer(ftm_build)
    try:
        for name, width in WIDTHS.items():
            with browsing(browser, server.url, width) as page:
                page.goto("/downloads#ftm-files")
                section = page.locator("#ftm-files + p")
                assert f"as {len(exported)} FollowTheMoney entities" in " ".join(section.inner_text().split())
                assert page.locator("a[href$='/downloads/soles.ftm.json']").count() == 1
                no_horizontal_scroll(page)
                screenshot(page, f"ftm-downloads-{name}", tmp_path)
    finally:
        server.stop()


def test_each_actor_s_file_holds_every_side_and_case_its_relationships_name(exported):
    """Every actor's entities (the build's index of them) close over references: each relationship it is a side
    of, the other sides and the cases they name, and nothing that does not concern it."""
    by_id = {entity["id"]: entity for entity in exported}
    for actor, held in ftm.concerning(exported).items():
        assert by_id[actor]["schema"] in ftm.ACTOR_SCHEMATA and actor in held
        relations = [by_id[entity_id] for entity_id in held if by_id[entity_id]["schema"] not in ftm.ACTOR_SCHEMATA]
        sides = {relation["id"] for relation in relations
                 if actor in {value for name in ftm.ACTOR_REFERENCES for value in relation["properties"].get(name, [])}}
        named = {value for relation in relations if relation["id"] in sides
                 for name in (*ftm.ACTOR_REFERENCES, "case") for value in relation["properties"].get(name, [])}
        assert sides == {entity["id"] for entity in exported if entity["schema"] not in ftm.ACTOR_SCHEMATA
                         and actor in {value for values in entity["properties"].values() for value in values}}
        assert set(held) == {actor} | sides | (named & by_id.keys())
