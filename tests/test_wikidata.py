"""Federation with Wikidata: the example queries that join our actors to Wikidata run through `kg serve
--allow-service` against a Wikidata-shaped Oxigraph server on loopback; an endpoint that answers 429 or hangs
gets a clear error, never a 500 nor a stuck worker; and the User-Agent the engine sends is measured."""

from __future__ import annotations

import time

import pytest
import requests

from kg.paths import DEFAULT_DATA_DIR
from server.query_ui import ENGINE_USER_AGENT, read_example
from tests.conftest import LiveServer
from tests.wikidata_endpoint import StubEndpoint, WikidataShapedEndpoint

WIKIDATA = "https://query.wikidata.org/sparql"
TIMEOUT = 2.0
FEDERATED = sorted(path for path in (DEFAULT_DATA_DIR / "queries").glob("*.rq") if read_example(path).service)


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory):
    endpoint = WikidataShapedEndpoint(tmp_path_factory.mktemp("wikidata"))
    yield endpoint
    endpoint.stop()


@pytest.fixture(scope="module")
def stubs():
    made = {mode: StubEndpoint(mode) for mode in ("429", "hang")}
    yield made
    for stub in made.values():
        stub.close()


@pytest.fixture(scope="module")
def server(fixture_build, wikidata, stubs):
    allowed = (wikidata.query_url, stubs["429"].url, stubs["hang"].url)
    live = LiveServer(fixture_build, timeout=TIMEOUT, extra=tuple(a for url in allowed for a in ("--allow-service", url)))
    yield live
    live.stop()


def example(name: str, endpoint: str) -> str:
    """The example, calling ``endpoint`` for Wikidata, about the fixture's Alice Example (Q1001)."""
    text = (DEFAULT_DATA_DIR / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    return text.replace(f"<{WIKIDATA}>", f"<{endpoint}>").replace("wd:Q58132", "wd:Q1001")


def sparql(server: LiveServer, query: str) -> requests.Response:
    return requests.post(server.url + "/sparql", data={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)


def rows(response: requests.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return [{name: cell["value"] for name, cell in row.items()} for row in response.json()["results"]["bindings"]]


def test_the_federated_examples_say_so_and_call_wikidata():
    assert [path.stem for path in FEDERATED] == ["wikidata-family", "wikidata-positions-and-birth"]
    for path in FEDERATED:
        example_query = read_example(path)
        assert example_query.service == WIKIDATA
        assert f"SERVICE <{WIKIDATA}>" in example_query.text
        assert "--allow-service" in example_query.description


def test_positions_held_and_date_of_birth_join_our_actor(server, wikidata):
    found = rows(sparql(server, example("wikidata-positions-and-birth", wikidata.query_url)))
    assert found == [{"actor": "https://w3id.org/soles/id/person/alice-example", "name": "Alice Example",
                      "wikidata": "http://www.wikidata.org/entity/Q1001", "born": "1970-01-02T00:00:00Z",
                      "position": "http://www.wikidata.org/entity/Q2001", "positionLabel": "Minister of Examples"}]


def test_family_joins_our_actor(server, wikidata):
    found = rows(sparql(server, example("wikidata-family", wikidata.query_url)))
    assert [(row["name"], row["relation"], row["relativeLabel"]) for row in found] == [
        ("Alice Example", "sibling", "Dan Example"), ("Alice Example", "spouse", "Carol Example")]
    assert not any("relativeHere" in row for row in found)  # neither relative is in the fixture graph


def test_an_endpoint_that_answers_429_gets_a_502_with_its_reason_and_the_engine_user_agent_is_measured(server, stubs):
    stub = stubs["429"]
    response = sparql(server, example("wikidata-positions-and-birth", stub.url))
    assert response.status_code == 502, response.text
    assert "429 Too Many Requests" in response.text and stub.url in response.text
    assert "Retry-After" in response.text  # says soles cannot honour it
    assert len(stub.requests) == 1  # one request, not retried
    request = stub.requests[0]
    assert request["user-agent"] == ENGINE_USER_AGENT  # the engine's own, e.g. Oxigraph/0.5.13: no contact details
    assert (request["method"], request["content-type"]) == ("POST", "application/sparql-query")


def test_an_endpoint_that_hangs_is_given_up_at_the_time_limit_and_the_server_answers_on(server, stubs, wikidata):
    started = time.monotonic()
    response = sparql(server, example("wikidata-family", stubs["hang"].url))
    took = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert f"stopped after {TIMEOUT:g} s" in response.text
    assert took < TIMEOUT + 1.5
    assert stubs["hang"].requests  # the engine did call it
    for _ in range(3):  # every worker still answers
        assert rows(sparql(server, example("wikidata-positions-and-birth", wikidata.query_url)))


def test_an_endpoint_not_allowed_is_still_refused(server):
    response = sparql(server, example("wikidata-family", WIKIDATA))
    assert response.status_code == 403
    assert f"SERVICE <{WIKIDATA}> is not allowed" in response.text


def test_the_query_page_says_how_to_enable_federation_and_what_the_engine_sends(server, wikidata):
    page = requests.get(server.url + "/sparql", headers={"Accept": "text/html"}, timeout=10).text
    assert "kg serve --allow-service https://query.wikidata.org/sparql" in page
    assert f"User-Agent: {ENGINE_USER_AGENT}" in page
    assert f"<code>{wikidata.query_url}</code>" in page
    assert page.count("not allowed on this server") == len(FEDERATED)
