"""How the record moves: status statements, the derived current status, superseded records, sources that
add to an allegation defined elsewhere, dissent, and the record as of a date (kg query and pages)."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import NamedNode

from kg.cli import main as kg_main
from kg.curation import DataError, load
from kg.history import StatusStep, current_statuses, date_order, end_of, parse_as_of
from server import create_app
from tests.conftest import build_fixture_with
from tests.fixtures import write_fixture_data

ALLEGATION = "https://w3id.org/soles/id/allegation/alice-smuggles-cheese"
ALLEGATION_PAGE = "/id/allegation/alice-smuggles-cheese"

PERIODS = """\
periods:
  - id: alice-ministry
    label: Alice Example's years as minister
    start: 2019-02
    end: 2024-11
    belongs_to: [alice-example]
    seen_in: fixture-report
"""

# A later source, in Spanish, that adds to an allegation the fixture report defines: a denial, a researcher's
# dissent, and how the case moved, with one record found wrong and corrected.
LATER_SOURCE = """\
source:
  id: fixture-court-news
  type: news-report
  title: El caso del queso
  publisher: [daily-fixture]
  url: https://news.example.org/caso-queso
  date: 2025-01-10
  language: es
  seen_at: https://archive.example.org/news.example.org/caso-queso
  read_on: 2025-02-01
  reports_on: [fixture-report]
curation:
  curated_by: [fixture-editors]
  curated_on: 2025-02-01
attributions:
  - allegation: alice-smuggles-cheese
    claimant: alice-example
    stance: denies
    quote: "una fabricación política"
    translation: a political fabrication
  - allegation: alice-smuggles-cheese
    claimant: daily-fixture
    stance: disputes
    quote: "no hay pruebas de una red"
    translation: there is no evidence of a network
status_changes:
  - id: alice-arrested
    allegation: alice-smuggles-cheese
    status: arrested
    date: 2025-01-05
    concerns: [alice-example]
    quote: "detenida el 5 de enero"
  - id: alice-convicted-wrongly-reported
    allegation: alice-smuggles-cheese
    status: convicted
    date: 2025-01
    concerns: [alice-example]
  - id: alice-charges-dropped
    allegation: alice-smuggles-cheese
    status: charge-dropped
    date: 2025-01-09
    concerns: [alice-example]
    case: Ruritania v. Example
    supersedes: alice-convicted-wrongly-reported
    correction_reason: No court convicted her; the charges were dropped four days after her arrest.
events:
  - id: alice-statement
    type: statement
    label: Alice Example speaks to the press
    summary: The minister rejects the charges in a statement to reporters.
    undated_reason: The report does not say when she spoke.
    during: [alice-ministry]
    involves: [alice-example]
"""


HISTORY_FILES = {"periods.yaml": PERIODS, "sources/fixture-court-news.yaml": LATER_SOURCE}


def history_data(directory):
    return write_fixture_data(directory, extra=HISTORY_FILES)


@pytest.fixture(scope="module")
def history_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "history", HISTORY_FILES)


@pytest.fixture(scope="module")
def client(history_build):
    return create_app({"BUILD_DIR": history_build, "TESTING": True}).test_client()


def query(build_dir, text: str, *options: str, capsys) -> dict:
    assert kg_main(["query", text, "--build", str(build_dir), "--format", "json", *options]) == 0
    return json.loads(capsys.readouterr().out)


def values(results: dict, name: str) -> list[str]:
    return sorted(row[name]["value"] for row in results["results"]["bindings"] if name in row)


# --- the rule ------------------------------------------------------------------------------------------------


def test_the_current_status_is_the_latest_statement_nothing_supersedes():
    steps = [StatusStep("s1", "a", "charged", "2024-03"), StatusStep("s2", "a", "arrested", "2025-01-05"),
             StatusStep("s3", "a", "convicted", "2025-01"), StatusStep("s4", "a", "charge-dropped", "2025-01-09", "s3"),
             StatusStep("s5", "b", "alleged", None)]
    current = current_statuses(steps)
    assert current["a"].status == "charge-dropped" and current["b"].status == "alleged"
    # "2025-01" may mean any day of the month: it was certainly past only at its end, after "2025-01-05"
    assert current_statuses(steps[:3])["a"].status == "convicted"


def test_a_date_known_only_to_its_month_or_year_sorts_after_the_days_of_it():
    dates = ["2011", "2011-09", "2011-09-08", None, "2011-10-02"]
    assert sorted(dates, key=date_order) == [None, "2011-09-08", "2011-09", "2011-10-02", "2011"]


def test_a_date_of_any_precision_ends_where_it_may():
    assert [end_of(day) for day in ("2020", "2020-02", "2020-02-03")] == ["2020-12-31", "2020-02-31", "2020-02-03"]
    assert parse_as_of("2024") == "2024-12-31" and parse_as_of("2024-01-01") == "2024-01-01"
    for bad in ("2024-13-01", "yesterday", "2024-02-30"):
        with pytest.raises(ValueError):
            parse_as_of(bad)


# --- the build ---------------------------------------------------------------------------------------------


def test_status_statements_and_the_derived_current_status(history_build, capsys):
    statements = query(history_build, f"""SELECT ?statement ?status ?g WHERE {{
        GRAPH ?g {{ ?statement sol:statusOf <{ALLEGATION}> ; sol:statusValue ?status }} }}""", capsys=capsys)
    assert len(statements["results"]["bindings"]) == 4  # the report's "charged" and the three of the court news
    assert values(statements, "g") == ["https://w3id.org/soles/graph/fixture-court-news"] * 3 + [
        "https://w3id.org/soles/graph/fixture-report"]
    current = query(history_build, f"SELECT ?status WHERE {{ GRAPH graph:derived {{ <{ALLEGATION}> sol:status ?status }} }}",
                    capsys=capsys)
    assert values(current, "status") == ["https://w3id.org/soles/ontology#ChargeDropped"]


def test_a_superseded_record_is_kept_with_its_correction(history_build, capsys):
    found = query(history_build, """SELECT ?wrong ?reason WHERE {
        ?correction sol:supersedes ?wrong ; sol:correctionReason ?reason ; sol:source ?source .
        ?wrong sol:statusValue sol:Convicted }""", capsys=capsys)
    assert values(found, "wrong") == ["https://w3id.org/soles/id/status/alice-convicted-wrongly-reported"]
    assert "No court convicted her" in values(found, "reason")[0]


def test_quotes_keep_their_language_beside_our_translation(history_build, capsys):
    found = query(history_build, """SELECT ?quote ?translation WHERE {
        ?a sol:stance sol:Disputes ; sol:quote ?quote ; sol:translation ?translation }""", capsys=capsys)
    row = found["results"]["bindings"][0]
    assert row["quote"] == {"type": "literal", "value": "no hay pruebas de una red", "xml:lang": "es"}
    assert row["translation"]["value"] == "there is no evidence of a network"


def test_events_and_periods(history_build, capsys):
    found = query(history_build, """SELECT ?reason ?period ?start ?owner WHERE {
        ?event sol:undatedReason ?reason ; sol:during ?period . ?period sol:startDate ?start ; sol:belongsTo ?owner }""",
                  capsys=capsys)
    assert values(found, "start") == ["2019-02"]
    assert values(found, "owner") == ["https://w3id.org/soles/id/person/alice-example"]


# --- as of a date -------------------------------------------------------------------------------------------


def test_kg_query_as_of_holds_only_what_was_published_by_then(history_build, capsys):
    stances = "SELECT ?stance WHERE { ?a sol:allegation ?x ; sol:stance ?stance }"
    assert len(query(history_build, stances, capsys=capsys)["results"]["bindings"]) == 5
    before = query(history_build, stances, "--as-of", "2024-12-31", capsys=capsys)
    assert len(before["results"]["bindings"]) == 3  # the fixture report's only
    assert "https://w3id.org/soles/ontology#Disputes" not in values(before, "stance")
    assert values(query(history_build, stances, "--as-of", "2024-04-30", capsys=capsys), "stance") == []


def test_the_allegation_page_today_and_as_of_a_date(client):
    today = client.get(ALLEGATION_PAGE).get_data(as_text=True)
    assert "Disputed by (not accused)" in today and "no hay pruebas de una red" in today
    assert "there is no evidence of a network" in today
    assert "How the case moved" in today and "Ruritania v. Example" in today
    assert "Superseded:" in today and "No court convicted her" in today
    assert 'class="badge badge-status" title=' in today and "charge dropped" in today

    before = client.get(ALLEGATION_PAGE, query_string={"as_of": "2024-12-31"}).get_data(as_text=True)
    assert "The record as it stood on <strong>31 December 2024</strong>" in before  # the day in words
    assert "no hay pruebas" not in before and "Disputed by" not in before
    assert "charge dropped" not in before and ">charged<" in before

    during = client.get(ALLEGATION_PAGE, query_string={"as_of": "2025-01-31"}).get_data(as_text=True)
    assert "charge dropped" in during and "no hay pruebas" in during


def test_a_bad_as_of_is_400(client):
    response = client.get(ALLEGATION_PAGE, query_string={"as_of": "2024-13-01"})
    assert response.status_code == 400 and "not a real date" in response.get_data(as_text=True)


def test_the_actor_page_as_of_a_date(client):
    today = client.get("/id/person/alice-example").get_data(as_text=True)
    before = client.get("/id/person/alice-example", query_string={"as_of": "2024-12-31"}).get_data(as_text=True)
    assert "una fabricación política" in today and "una fabricación política" not in before


# --- curation rules --------------------------------------------------------------------------------------------


def refused_with(directory, old: str, new: str) -> str:
    data = history_data(directory)
    path = data / "sources" / "fixture-court-news.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(DataError) as caught:
        load(data)
    return str(caught.value)


@pytest.mark.parametrize("old,new,message", [
    ("    translation: a political fabrication\n", "", "attributions[0].translation: is required: the quote is in 'es'"),
    ("    supersedes: alice-convicted-wrongly-reported\n", "", "supersedes and correction_reason go together"),
    ("    undated_reason: The report does not say when she spoke.\n", "", "an event needs a date"),
    ("  seen_at: https://archive.example.org/news.example.org/caso-queso\n", "", "source.seen_at: is required"),
    ("    allegation: alice-smuggles-cheese\n    status: arrested", "    allegation: no-such-claim\n    status: arrested",
     "unknown allegation 'no-such-claim'"),
    ("    status: arrested\n", "    status: jailed\n", "'jailed' is not one of"),
    ("    date: 2025-01-05\n", "", "status_changes[0].date: is required"),
])
def test_curation_rules_of_the_record(tmp_path, old, new, message):
    assert message in refused_with(tmp_path, old, new)


def test_the_history_fixture_is_valid_and_consistent(tmp_path):
    from kg.pipeline import check

    checked = check(history_data(tmp_path / "data"), reason=True)
    assert any(q.predicate == NamedNode("https://w3id.org/soles/ontology#supersedes") for q in checked.quads)


# --- the example queries --------------------------------------------------------------------------------------


def example(name: str, day: str | None = None) -> str:
    from kg.paths import DEFAULT_DATA_DIR

    text = (DEFAULT_DATA_DIR / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    return text.replace('"2024-01-01"', f'"{day}"') if day else text


def test_example_how_did_this_case_move(history_build, capsys):
    rows = query(history_build, example("how-did-this-case-move"), capsys=capsys)["results"]["bindings"]
    course = [(row["date"]["value"], row["status"]["value"], "supersededBy" in row) for row in rows
              if row["allegationLabel"]["value"] == "Alice Example smuggles cheese"]
    assert course == [("2024-05-01", "charged", False), ("2025-01", "convicted", True),
                      ("2025-01-05", "arrested", False), ("2025-01-09", "charge dropped", False)]


@pytest.mark.parametrize("day,stances,status", [
    ("2024-04-30", set(), None),
    ("2024-12-31", {"asserts", "denies"}, "charged"),
    ("2025-01-06", {"asserts", "denies"}, "arrested"),
    ("2025-01-31", {"asserts", "denies", "disputes"}, "charge dropped"),
])
def test_example_what_was_on_record_at_a_date(history_build, capsys, day, stances, status):
    rows = query(history_build, example("on-record-at-a-date", day), capsys=capsys)["results"]["bindings"]
    cheese = [row for row in rows if row["allegationLabel"]["value"] == "Alice Example smuggles cheese"]
    assert {row["stance"]["value"] for row in cheese} == stances
    assert {row.get("statusThen", {}).get("value") for row in cheese} == ({status} if stances else set())
