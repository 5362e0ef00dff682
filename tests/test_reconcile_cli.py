"""`kg reconcile`: Wikidata candidates for the backlog from a Wikidata-shaped endpoint on loopback, asked
politely; an editor's acceptance in data/wikidata.yaml becomes the link and its match record in the graph."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml

from kg import ids, wikidata
from kg.curation import DataError, load
from kg.pipeline import build
from kg.quads import wikidata_match_iri
from kg.store import open_store, run_query
from tests.conftest import PROJECT_ROOT
from tests.fixtures import ACTORS, WIKIDATA, write_fixture_data
from tests.wikidata_endpoint import StubEndpoint, WikidataShapedEndpoint

BOB = ids.entity("person", "bob-sample")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    server = WikidataShapedEndpoint(tmp_path_factory.mktemp("wikidata"))
    yield server
    server.stop()


def reconcile(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", "reconcile", *args], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)


def proposals_for(data, endpoint_url: str, out) -> dict:
    done = reconcile("--data", str(data), "--endpoint", endpoint_url, "--pause", "0", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return {proposal["id"]: proposal for proposal in yaml.safe_load(out.read_text(encoding="utf-8"))["proposals"]}


def test_proposes_candidates_for_the_backlog_scored_by_name_and_type(endpoint, tmp_path):
    data = write_fixture_data(tmp_path / "data")
    found = proposals_for(data, endpoint.query_url, tmp_path / "proposals.yaml")
    assert sorted(found) == ["bob-sample", "fixture-editors", "mallory-script", "strelsau"]  # the backlog, no more
    bob = found["bob-sample"]["candidates"]
    assert [(c["qid"], c["label"], c["description"], c["score"]) for c in bob] == [
        ("Q2004", "Bob Sample", "general of Ruritania", 100), ("Q2005", "Bob Sample", "rock band", 60)]
    assert bob[0]["why"] == ["its label 'Bob Sample' is our name, case and accents aside", "instance of human (Q5)"]
    assert "not an instance of human (Q5): Q215380" in bob[1]["why"]
    (strelsau,) = found["strelsau"]["candidates"]
    assert (strelsau["qid"], strelsau["score"], strelsau["why"][1]) == ("Q2006", 100, "instance of city (Q515)")
    assert strelsau["accept_as"]["kind"] == "place"
    assert found["mallory-script"]["candidates"] == [] and found["fixture-editors"]["candidates"] == []
    assert found["bob-sample"]["where"] == "data/actors.yaml:9"


def test_names_match_ignoring_case_and_accents(endpoint, tmp_path):
    data = write_fixture_data(tmp_path / "data", extra={
        "actors.yaml": ACTORS.replace("    name: Bob Sample\n", "    name: BÓB SAMPLE\n    also_known_as: [Róbert Sample]\n")})
    (best, *_) = proposals_for(data, endpoint.query_url, tmp_path / "proposals.yaml")["bob-sample"]["candidates"]
    assert (best["qid"], best["score"]) == ("Q2004", 100)
    assert best["why"][0] == "its label 'Bob Sample' is our name, case and accents aside"


def test_an_accepted_proposal_becomes_the_link_and_its_match_record(endpoint, tmp_path):
    proposals = proposals_for(write_fixture_data(tmp_path / "first"), endpoint.query_url, tmp_path / "proposals.yaml")
    accepted = {**proposals["bob-sample"]["candidates"][0]["accept_as"], "accepted_by": "fixture-editors",
                "accepted_on": "2026-11-30", "evidence": "label, description and type checked on the item's page"}
    data = write_fixture_data(tmp_path / "data", extra={
        "wikidata.yaml": WIKIDATA + "  - " + yaml.safe_dump(accepted, default_flow_style=True, width=1000),
        "actors.yaml": ACTORS.replace("    name: Bob Sample\n", "    name: Bob Sample\n    wikidata: Q2004\n")})
    manifest = build(data, tmp_path / "build", reason=False)
    assert "bob-sample" not in {item["id"] for item in manifest["reconciliation_backlog"]}
    query = """SELECT ?p ?o WHERE { GRAPH <https://w3id.org/soles/graph/reference> { #VALUES#
                 ?match ?p ?o } }""".replace("#VALUES#", f"VALUES ?match {{ {wikidata_match_iri(BOB)} }}")
    record = {(row["p"].value, row["o"].value) for row in run_query(open_store(tmp_path / "build"), query)}
    sol = "https://w3id.org/soles/ontology#"
    assert record >= {
        (f"{sol}matchOf", BOB.value), (f"{sol}wikidataItem", "http://www.wikidata.org/entity/Q2004"),
        (f"{sol}checkedIn", "https://www.wikidata.org/wiki/Q2004"),
        (f"{sol}acceptedBy", ids.entity("organization", "fixture-editors").value),
        (f"{sol}acceptedOn", "2026-11-30"),
        (f"{sol}matchEvidence", "label, description and type checked on the item's page")}
    same = run_query(open_store(tmp_path / "build"), f"ASK {{ {BOB} owl:sameAs <http://www.wikidata.org/entity/Q2004> }}")
    assert bool(same)


@pytest.mark.parametrize("entry,message", [
    ("{qid: Q2004, label: B, kind: person, checked_in: x, accepted_by: fixture-editors, evidence: e}",
     "accepted_by, evidence given without accepted_on"),
    ("{qid: Q2004, label: B, kind: person, checked_in: x, accepted_at: 2026-11-30}", "did you mean 'accepted_on'"),
    ("{qid: Q2004, label: B, kind: person, checked_in: x, accepted_by: nobody, accepted_on: 2026-11-30, "
     "evidence: e}", "unknown actor 'nobody'"),
])
def test_an_acceptance_is_checked_like_the_rest_of_the_data(tmp_path, entry, message):
    data = write_fixture_data(tmp_path / "data", extra={"wikidata.yaml": WIKIDATA + f"  - {entry}\n"})
    with pytest.raises(DataError, match=message):
        load(data)


# --- politeness -----------------------------------------------------------------------------------------


@pytest.fixture()
def stub(request):
    made = StubEndpoint(*request.param)
    yield made
    made.close()


@pytest.mark.parametrize("stub", [("429", 1, 1)], indirect=True)
def test_a_429_is_waited_out_for_its_retry_after_then_asked_again_with_our_user_agent(stub):
    client = wikidata.PoliteClient(stub.url, "editors@example.org", pause=0)
    started = time.monotonic()
    assert client.select("SELECT * WHERE { ?s ?p ?o }") == []
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    assert len(stub.requests) == 2
    agent = stub.requests[0]["user-agent"]
    assert agent.startswith("soles-reconcile/") and "https://w3id.org/soles" in agent and "editors@example.org" in agent
    assert client.select("SELECT * WHERE { ?s ?p ?o }") == [] and len(stub.requests) == 2  # answered from the cache


@pytest.mark.parametrize("stub", [("429", 1)], indirect=True)
def test_a_429_that_persists_is_an_error_naming_it(stub):
    client = wikidata.PoliteClient(stub.url, "editors@example.org", pause=0)
    with pytest.raises(wikidata.WikidataError, match="answered 429 Too Many Requests .still, after waiting"):
        client.select("SELECT * WHERE { ?s ?p ?o }")
    assert len(stub.requests) == 2  # one retry, no more


@pytest.mark.parametrize("stub", [("429", 3600)], indirect=True)
def test_a_retry_after_longer_than_we_wait_is_an_error_at_once(stub):
    client = wikidata.PoliteClient(stub.url, "editors@example.org", pause=0, max_wait=60)
    started = time.monotonic()
    with pytest.raises(wikidata.WikidataError, match="asks us to wait '3600'"):
        client.select("SELECT * WHERE { ?s ?p ?o }")
    assert time.monotonic() - started < 5 and len(stub.requests) == 1


@pytest.mark.parametrize("stub", [("hang",)], indirect=True)
def test_an_endpoint_that_hangs_fails_the_command_at_its_time_limit(stub, tmp_path):
    data = write_fixture_data(tmp_path / "data")
    started = time.monotonic()
    done = reconcile("--data", str(data), "--endpoint", stub.url, "--timeout", "1", "--out", str(tmp_path / "p.yaml"))
    assert done.returncode == 1
    assert f"error: {stub.url} could not be asked" in done.stderr and "time limit 1 s" in done.stderr
    assert time.monotonic() - started < 15
    assert not (tmp_path / "p.yaml").exists()


def test_the_pause_keeps_requests_apart(endpoint):
    client = wikidata.PoliteClient(endpoint.query_url, "editors@example.org", pause=0.5)
    started = time.monotonic()
    for number in range(3):
        client.select(f"SELECT * WHERE {{ ?s ?p {number} }}")
    assert time.monotonic() - started >= 1.0 and client.requests_made == 3


def test_wikidata_itself_is_asked_only_with_a_contact(tmp_path):
    done = reconcile("--data", str(write_fixture_data(tmp_path / "data")), "--out", str(tmp_path / "p.yaml"))
    assert done.returncode == 1 and "--contact" in done.stderr
    assert not (tmp_path / "p.yaml").exists()
