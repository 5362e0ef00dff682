"""The Reconciliation Service API at /reconcile: every answer valid against the specification's JSON Schemas
(tests/reconciliation_schemas), names matched ignoring case, accents, word order and extra names, certain matches
only when certain, data extension, suggest, preview, bad input answered 400, CORS everywhere, and a spreadsheet of
name variants reconciled end to end through a running server."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
import requests
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from kg import ids
from kg.paths import DEFAULT_DATA_DIR
from kg.pipeline import build
from kg.reconciliation import PROPERTY_IDS, name_score, wikidata_id
from kg.search import words_of
from server import create_app
from server.reconcile import MAX_BODY_BYTES
from tests import fixtures
from tests.conftest import LiveServer, build_fixture_with

SCHEMAS = Path(__file__).parent / "reconciliation_schemas"
MADURO, CABELLO, CARTEL = "person:nicolas-maduro", "person:diosdado-cabello", "organization:cartel-of-the-suns"

WIKIDATA = fixtures.WIKIDATA + """\
  - {qid: Q58132, label: Nicolás Maduro, kind: person, checked_in: test fixture}
  - {qid: Q717, label: Venezuela, kind: place, checked_in: test fixture}
"""

ACTORS = fixtures.ACTORS + """\
  - id: nicolas-maduro
    type: person
    name: Nicolás Maduro
    description: A leader the fixture's officials accuse.
    roles: [Venezuelan leader]
    country: venezuela
    wikidata: Q58132
  - id: diosdado-cabello
    type: person
    name: Diosdado Cabello
    description: A minister accused with him.
    country: venezuela
  - id: hugo-chavez
    type: person
    name: Hugo Chávez
    country: venezuela
  - id: hugo-carvajal
    type: person
    name: Hugo Carvajal
    also_known_as: [Hugo Armando Carvajal Barrios]
    country: venezuela
  - id: cartel-of-the-suns
    type: organization
    name: Cartel of the Suns
    also_known_as: [Cartel de los Soles]
    description: The name officials give to an alleged network.
    country: venezuela
  - id: us-officials
    type: group
    name: U.S. officials
"""

PLACES = fixtures.PLACES + """\
  - id: venezuela
    type: country
    name: Venezuela
    wikidata: Q717
  - id: caracas
    type: city
    name: Caracas
    part_of: [venezuela]
"""

SOURCE = """\
source:
  id: suns-report
  type: news-report
  title: Officials accuse the Cartel of the Suns
  publisher: [daily-fixture]
  url: https://news.example.org/suns
  date: 2024-05-02
  language: en
  seen_at: https://archive.example.org/news.example.org/suns
  read_on: 2024-06-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
allegations:
  - id: suns-traffic-cocaine
    label: Leaders traffic cocaine
    summary: Officials accuse the leaders of trafficking cocaine.
    types: [drug-trafficking]
    status: charged
    accused: [nicolas-maduro, diosdado-cabello]
    attributions:
      - claimant: us-officials
        stance: asserts
        quote: "the leaders trafficked cocaine"
      - claimant: nicolas-maduro
        stance: denies
        quote: "Maduro called it a lie"
  - id: suns-launder-money
    label: Leaders launder money
    summary: The newspaper reports that the leader laundered money.
    types: [corruption]
    status: alleged
    accused: [nicolas-maduro]
    attributions:
      - claimant: daily-fixture
        stance: asserts
        quote: "the leader laundered money"
"""

# A spreadsheet as a journalist has it: names as other documents spell them, and one that is no one on record.
SPREADSHEET = """\
name,expected
Nicolas Maduro Moros,person:nicolas-maduro
Diosdado Cabello Rondón,person:diosdado-cabello
Cartel de los Soles,organization:cartel-of-the-suns
NICOLÁS MADURO,person:nicolas-maduro
Juan Pérez Ramírez,
"""


def validator(name: str, version: str = "0.2") -> Draft7Validator:
    """The vendored schema ``name``, its references resolved from the vendored files only."""
    resources = [(f"https://reconciliation-api.github.io/specs/0.2/schemas/{path.name}",
                  Resource.from_contents(json.loads(path.read_text(encoding="utf-8")), default_specification=DRAFT7))
                 for path in (SCHEMAS / "0.2").glob("*.json")]
    schema = json.loads((SCHEMAS / version / f"{name}.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=Registry().with_resources(resources))


def valid(name: str, instance, version: str = "0.2"):
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in validator(name, version).iter_errors(instance)]
    assert not errors, f"not a valid {name}: {errors}"
    return instance


@pytest.fixture(scope="module")
def reconcile_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "reconcile", {
        "wikidata.yaml": WIKIDATA, "actors.yaml": ACTORS, "places.yaml": PLACES, "sources/suns-report.yaml": SOURCE})


@pytest.fixture(scope="module")
def client(reconcile_build):
    return create_app({"BUILD_DIR": reconcile_build, "TESTING": True}).test_client()


def reconcile(client, queries: dict, method: str = "POST") -> dict:
    valid("reconciliation-query-batch", queries)  # what the tests send is what the protocol allows
    if method == "POST":
        response = client.post("/reconcile", data={"queries": json.dumps(queries)})
    else:
        response = client.get("/reconcile", query_string={"queries": json.dumps(queries)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return valid("reconciliation-result-batch", response.get_json())


def candidates(client, text: str, **query) -> list[dict]:
    return reconcile(client, {"q0": {"query": text, **query}})["q0"]["result"]


# ---------------------------------------------------------------- the manifest


def test_the_manifest_is_valid_and_names_every_part_of_the_service(client):
    response = client.get("/reconcile")
    manifest = valid("manifest", response.get_json())
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert manifest["versions"] == ["0.2"]
    assert manifest["identifierSpace"] == ids.ENTITY_BASE and manifest["schemaSpace"] == ids.PREFIXES["sol"]
    assert [t["id"] for t in manifest["defaultTypes"]] == ["Person", "Organization", "Group", "Place"]
    assert set(manifest["suggest"]) == {"entity", "type", "property"}
    assert manifest["extend"]["propose_properties"]["service_path"] == "/reconcile/propose_properties"
    for kind, service in manifest["suggest"].items():
        answer = client.get(service["service_path"], query_string={"prefix": "ma"})
        assert answer.status_code == 200, kind
    view = manifest["view"]["url"].replace("{{id}}", MADURO).removeprefix("http://localhost")
    page = client.get(view, follow_redirects=True)
    assert page.status_code == 200 and page.request.path == "/id/person/nicolas-maduro"
    assert "Nicolás Maduro" in page.get_data(as_text=True)
    preview = manifest["preview"]["url"].replace("{{id}}", MADURO).removeprefix("http://localhost")
    assert client.get(preview).status_code == 200


def test_the_manifest_comes_as_jsonp_when_a_callback_is_named(client):
    response = client.get("/reconcile", query_string={"callback": "jsonp123"})
    text = response.get_data(as_text=True)
    assert response.mimetype == "application/javascript"
    assert text.startswith("/**/jsonp123(") and text.endswith(");")
    valid("manifest", json.loads(text.removeprefix("/**/jsonp123(").removesuffix(");")))
    refused = client.get("/reconcile", query_string={"callback": "alert(1)//"})
    assert refused.status_code == 400 and "callback" in refused.get_json()["message"]


# ---------------------------------------------------------------- matching names


def test_names_match_ignoring_case_accents_word_order_and_extra_names(client):
    exact = candidates(client, "nicolas MADURO")
    assert exact[0]["id"] == MADURO and exact[0]["score"] == 100 and exact[0]["match"] is True
    longer = candidates(client, "Nicolas Maduro Moros")
    assert longer[0]["id"] == MADURO and longer[0]["score"] >= 80 and longer[0]["match"] is False
    reordered = candidates(client, "Maduro, Nicolás")
    assert reordered[0]["id"] == MADURO and reordered[0]["score"] == 95
    assert candidates(client, "Diosdado Cabello Rondón")[0]["id"] == CABELLO
    alias = candidates(client, "cartel de los soles")
    assert alias[0]["id"] == CARTEL and alias[0]["match"] is True
    assert alias[0]["type"] == [{"id": "Organization", "name": "Organization"}]
    assert candidates(client, "Hugo Armando Carvajal Barrios")[0]["id"] == "person:hugo-carvajal"
    assert candidates(client, "Juan Pérez Ramírez") == []


def test_every_candidate_has_a_type_and_a_score_and_they_come_best_first(client):
    found = candidates(client, "Hugo", limit=10)
    assert {c["id"] for c in found} == {"person:hugo-chavez", "person:hugo-carvajal"}
    scores = [c["score"] for c in found]
    assert scores == sorted(scores, reverse=True)
    for candidate in found:
        assert isinstance(candidate["score"], float) and candidate["type"][0]["id"] == "Person"
        assert candidate["match"] is False  # two Hugos: neither is certain


def test_a_certain_match_needs_an_exact_name_and_a_clear_lead(client):
    assert candidates(client, "Hugo Chávez")[0]["match"] is True
    assert not any(c["match"] for c in candidates(client, "Hugo Carvajal Chávez", limit=10))
    assert not any(c["match"] for c in candidates(client, "Maduro"))


def test_wikidata_and_country_raise_the_score_and_a_contradiction_lowers_it(client):
    plain = candidates(client, "Maduro")[0]
    with_qid = candidates(client, "Maduro", properties=[{"pid": "wikidata", "v": "Q58132"}])[0]
    as_entity = candidates(client, "Maduro", properties=[
        {"pid": "wikidata", "v": {"id": "http://www.wikidata.org/entity/Q58132", "name": "Nicolás Maduro"}}])[0]
    wrong_qid = candidates(client, "Nicolás Maduro", properties=[{"pid": "wikidata", "v": "Q1001"}])[0]
    in_country = candidates(client, "Maduro", properties=[{"pid": "country", "v": "venezuela"}])[0]
    by_country_qid = candidates(client, "Maduro", properties=[{"pid": "country", "v": "Q717"}])[0]
    elsewhere = candidates(client, "Maduro", properties=[{"pid": "country", "v": "Ruritania"}])[0]
    assert plain["id"] == with_qid["id"] == MADURO
    assert with_qid["score"] > plain["score"] and with_qid["match"] is True and as_entity["match"] is True
    assert {"id": "wikidata", "value": True} in with_qid["features"]
    assert wrong_qid["score"] < 100 and wrong_qid["match"] is False
    assert in_country["score"] == by_country_qid["score"] > plain["score"] > elsewhere["score"]
    only_qid = reconcile(client, {"q0": {"properties": [{"pid": "wikidata", "v": "Q58132"}]}})["q0"]["result"]
    assert [c["id"] for c in only_qid] == [MADURO] and only_qid[0]["match"] is True


def test_a_type_restricts_the_candidates(client):
    assert candidates(client, "Cartel de los Soles", type="Person", type_strict="should") == []
    assert candidates(client, "Cartel de los Soles", type=["Organization", "Group"])[0]["id"] == CARTEL
    assert candidates(client, "Venezuela", type="Place")[0]["id"] == "place:venezuela"
    assert candidates(client, "U.S. officials", type="group")[0]["id"] == "group:us-officials"


def test_a_batch_answers_each_query_by_its_key_and_limit_by_get_too(client):
    queries = {f"q{n}": {"query": name, "limit": 1} for n, name in enumerate(["Hugo", "Cabello", "Caracas"])}
    answered = reconcile(client, queries, method="GET")
    assert set(answered) == set(queries) and all(len(a["result"]) == 1 for a in answered.values())
    assert answered["q2"]["result"][0]["id"] == "place:caracas"


@pytest.mark.parametrize("queries, message", [
    ("{", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"Maduro"', "must be a JSON object"),
    (json.dumps({f"q{n}": {"query": "x"} for n in range(101)}), "at most 100 queries"),
    (json.dumps({"q0": {"query": "x" * 501}}), "at most 500"),
    (json.dumps({"q0": "Maduro"}), "q0 must be a JSON object"),
    (json.dumps({"q0": {"query": 5}}), "q0.query must be a string"),
    (json.dumps({"q0": {}}), "needs a query or properties"),
    (json.dumps({"q0": {"query": "x", "type": "Cat"}}), "unknown type"),
    (json.dumps({"q0": {"query": "x", "type": [1]}}), "type must be"),
    (json.dumps({"q0": {"query": "x", "limit": "3"}}), "limit must be a number"),
    (json.dumps({"q0": {"query": "x", "limit": 0}}), "limit must be a number"),
    ('{"q0": {"query": "x", "limit": NaN}}', "not valid JSON"),
    pytest.param("[" * 20_000 + "]" * 20_000, "not valid JSON", id="nested-too-deep"),
    (json.dumps({"q0": {"query": "x", "type_strict": "must"}}), "type_strict"),
    (json.dumps({"q0": {"query": "x", "properties": {"pid": "wikidata"}}}), "properties must be a list"),
    (json.dumps({"q0": {"query": "x", "properties": [{"pid": "wikidata"}]}}), "pid and v"),
    (json.dumps({"q0": {"query": "x", "properties": [{"pid": "height", "v": 2}]}}), "cannot be matched on"),
    (json.dumps({"q0": {"query": "x", "properties": [{"pid": "wikidata", "v": "Maduro"}]}}), "not a Wikidata id"),
    (json.dumps({"q0": {"query": "x", "properties": [{"pid": "country", "v": [[1]]}]}}), "must be a string"),
])
def test_bad_batches_are_refused_with_a_clear_reason(client, queries, message):
    for response in (client.post("/reconcile", data={"queries": queries}),
                     client.get("/reconcile", query_string={"queries": queries})):
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.mimetype == "application/json" and response.headers["Access-Control-Allow-Origin"] == "*"
        body = response.get_json()
        assert body["status"] == 400 and message in body["message"], body


def test_a_post_needs_queries_or_extend_and_not_both(client):
    assert client.post("/reconcile", data={}).status_code == 400
    both = client.post("/reconcile", data={"queries": "{}", "extend": "{}"})
    assert both.status_code == 400 and "not both" in both.get_json()["message"]
    assert reconcile(client, {}) == {}
    too_large = client.post("/reconcile", data={"queries": json.dumps({"q0": {"query": "x" * 1_000_000}})})
    assert too_large.status_code == 413 and too_large.get_json()["status"] == 413
    assert too_large.headers["Access-Control-Allow-Origin"] == "*"


def test_a_chunked_body_is_read_no_further_than_the_limit_and_refused_past_it(client):
    """A body with no Content-Length (chunked, as a server that terminates the input hands it over) is read up to
    the limit and refused with 413 past it: not cut off at the limit and parsed as if it were whole."""
    def posted(body: bytes) -> tuple[Response, int]:
        stream = io.BytesIO(body)
        environ = EnvironBuilder(path="/reconcile", method="POST", input_stream=stream,
                                 content_type="application/x-www-form-urlencoded").get_environ()
        del environ["CONTENT_LENGTH"]  # the test client would give one: the app is called as a server would
        environ["wsgi.input_terminated"] = True
        return Response.from_app(client.application, environ), stream.tell()

    query = json.dumps({"q0": {"query": "Alice Example"}}).encode()
    whole, _ = posted(b"queries=" + query + b"&pad=" + b"x" * 400_000)
    assert whole.status_code == 200 and "q0" in whole.get_json()
    refused, read = posted(b"queries=" + query + b"&pad=" + b"x" * 13_000_000)
    assert refused.status_code == 413 and "500000 bytes" in refused.get_json()["message"]
    assert read == MAX_BODY_BYTES + 1


# ---------------------------------------------------------------- data extension and property proposals


def extend(client, ids_wanted, properties) -> dict:
    query = {"ids": ids_wanted, "properties": properties}
    valid("data-extension-query", query)
    response = client.post("/reconcile", data={"extend": json.dumps(query)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return valid("data-extension-response", response.get_json())


def test_data_extension_gives_what_the_record_says_of_each_row(client):
    answer = extend(client, [MADURO, "place:caracas", "person:nobody-at-all"],
                    [{"id": property_id} for property_id in PROPERTY_IDS])
    assert [meta["id"] for meta in answer["meta"]] == list(PROPERTY_IDS)
    maduro = answer["rows"][MADURO]
    assert maduro["wikidata"] == [{"id": "Q58132", "name": "Q58132"}]
    assert maduro["accused_in"] == [{"int": 2}]
    assert maduro["statuses"] == [{"str": "alleged"}, {"str": "charged"}]
    assert maduro["accused_by"] == [{"id": "organization:daily-fixture", "name": "Daily Fixture"},
                                    {"id": "group:us-officials", "name": "U.S. officials"}]
    assert maduro["denies"] == [{"str": "Leaders traffic cocaine"}]
    assert maduro["country"] == [{"id": "place:venezuela", "name": "Venezuela"}]
    assert maduro["role"] == [{"str": "Venezuelan leader"}]
    assert answer["rows"]["place:caracas"]["country"] == [{"id": "place:venezuela", "name": "Venezuela"}]
    assert answer["rows"]["place:caracas"]["accused_in"] == []
    assert all(values == [] for values in answer["rows"]["person:nobody-at-all"].values())
    cabello = extend(client, [CABELLO], [{"id": "accused_by", "settings": {"limit": "1"}}, {"id": "denies"}])
    assert cabello["rows"][CABELLO] == {"accused_by": [{"id": "group:us-officials", "name": "U.S. officials"}],
                                        "denies": []}
    via_get = client.get("/reconcile", query_string={"extend": json.dumps({"ids": [CARTEL], "properties": [
        {"id": "alias"}]})})
    assert valid("data-extension-response", via_get.get_json())["rows"][CARTEL] == {"alias": [{"str": "Cartel de los Soles"}]}


@pytest.mark.parametrize("body, message", [
    ("{", "not valid JSON"),
    ('{"ids": "x", "properties": []}', "extend must be a JSON object with ids"),
    (json.dumps({"ids": [1], "properties": []}), "list of at most"),
    (json.dumps({"ids": ["a"] * 1001, "properties": []}), "list of at most 1000"),
    (json.dumps({"ids": [MADURO], "properties": [{"id": "height"}]}), "whose id is one of"),
    (json.dumps({"ids": [MADURO], "properties": [{"id": "alias", "settings": {"limit": "many"}}]}), "whole number"),
    (json.dumps({"ids": [MADURO], "properties": [{"id": "alias", "settings": {"limit": "²"}}]}), "whole number"),
    (json.dumps({"ids": [MADURO], "properties": [{"id": "alias", "settings": {"limit": -1}}]}), "whole number"),
])
def test_bad_extension_requests_are_refused(client, body, message):
    response = client.post("/reconcile", data={"extend": body})
    assert response.status_code == 400 and message in response.get_json()["message"]


def test_property_proposals_fit_the_type(client):
    for type_id in ("Person", "Place"):
        answer = client.get("/reconcile/propose_properties", query_string={"type": type_id, "limit": 20})
        proposal = valid("data-extension-property-proposal", answer.get_json(), version="1.0-draft")
        assert proposal["type"] == type_id and answer.headers["Access-Control-Allow-Origin"] == "*"
        proposed = [p["id"] for p in proposal["properties"]]
        assert ("accused_in" in proposed) is (type_id == "Person") and "wikidata" in proposed
    assert len(client.get("/reconcile/propose_properties?type=Person&limit=2").get_json()["properties"]) == 2
    assert client.get("/reconcile/propose_properties?type=Cat").status_code == 400


# ---------------------------------------------------------------- suggest


def suggest(client, kind: str, **parameters) -> list[dict]:
    response = client.get(f"/reconcile/suggest/{kind}", query_string=parameters)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    schema = {"entity": "suggest-entities-response", "type": "suggest-types-response",
              "property": "suggest-properties-response"}[kind]
    return valid(schema, response.get_json())["result"]


def test_entity_suggestions_complete_names_and_aliases_as_one_types(client):
    assert [s["id"] for s in suggest(client, "entity", prefix="diosd")] == [CABELLO]
    assert [s["id"] for s in suggest(client, "entity", prefix="ni ma")] == [MADURO]
    assert suggest(client, "entity", prefix="soles")[0]["id"] == CARTEL  # by its alias
    assert [s["id"] for s in suggest(client, "entity", prefix=MADURO)] == [MADURO]
    assert suggest(client, "entity", prefix="hugo")[0]["notable"] == [{"id": "Person", "name": "Person"}]
    hugos = [s["id"] for s in suggest(client, "entity", prefix="hugo")]
    assert hugos == ["person:hugo-carvajal", "person:hugo-chavez"]
    assert [s["id"] for s in suggest(client, "entity", prefix="hugo", cursor=1)] == hugos[1:]
    assert suggest(client, "entity", prefix="cara", type="Place")[0]["id"] == "place:caracas"
    assert suggest(client, "entity", prefix="cara", type="Person") == []
    for cursor in ("-1", "²", "9" * 5000):
        assert client.get(f"/reconcile/suggest/entity?prefix=x&cursor={cursor}").status_code == 400


def test_type_and_property_suggestions(client):
    assert [s["id"] for s in suggest(client, "type", prefix="pla")] == ["Place"]
    assert [s["id"] for s in suggest(client, "type", prefix="unnamed")] == ["Group"]
    assert len(suggest(client, "type")) == 4
    assert [s["id"] for s in suggest(client, "property", prefix="wiki")] == ["wikidata"]
    assert {s["id"] for s in suggest(client, "property", prefix="accused")} == {"accused_in", "accused_by"}


# ---------------------------------------------------------------- preview, view, CORS


def test_the_preview_is_a_small_escaped_card_that_loads_nothing(client):
    response = client.get("/reconcile/preview", query_string={"id": MADURO})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Nicolás Maduro" in html and "2 allegations on record" in html and "U.S. officials" in html
    assert len(response.data) < 4096
    assert not re.search(r"<(script|img|link|style|iframe)\b|\bsrc=|style=", html)
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors *" in policy  # OpenRefine frames it
    marked = client.get("/reconcile/preview", query_string={"id": "person:mallory-script"}).get_data(as_text=True)
    assert "<script>" not in marked and "&lt;script&gt;" in marked
    assert client.get("/reconcile/preview", query_string={"id": "person/x"}).status_code == 400
    missing = client.get("/reconcile/preview", query_string={"id": "person:nobody-at-all"})
    assert missing.status_code == 404 and missing.get_json()["status"] == 404


@pytest.mark.parametrize("method, path", [
    ("GET", "/reconcile"), ("OPTIONS", "/reconcile"), ("OPTIONS", "/reconcile/suggest/entity"),
    ("GET", "/reconcile/suggest/type"), ("GET", "/reconcile/suggest/property"), ("GET", "/reconcile/propose_properties"),
    ("GET", "/reconcile/preview?id=place:venezuela"), ("GET", "/reconcile/view/place:venezuela"),
    ("GET", "/reconcile/no-such-part"), ("PUT", "/reconcile"), ("POST", "/reconcile"),
    ("GET", "/reconcile/preview"),
])
def test_every_response_of_the_service_is_open_to_other_origins(client, method, path):
    response = client.open(path, method=method, headers={"Origin": "http://127.0.0.1:3333",
                                                         "Access-Control-Request-Method": "POST"})
    assert response.headers["Access-Control-Allow-Origin"] == "*", (method, path, response.status_code)
    assert response.status_code < 500
    if method == "OPTIONS":
        assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_ids_have_no_slash_and_map_back_to_iris():
    iri = ids.entity("person", "nicolas-maduro")
    assert ids.curie(iri.value) == MADURO and ids.from_curie(MADURO) == iri
    assert ids.curie("https://w3id.org/soles/id/attribution/a/b/c/asserts") is None
    assert ids.curie("http://www.wikidata.org/entity/Q58132") is None
    assert ids.from_curie("person/nicolas-maduro") is None and ids.from_curie("nobody:x") is None
    assert ids.from_curie("person:Not A Slug") is None


def test_scores_weigh_the_words_in_common():
    assert name_score(words_of("Nicolás Maduro"), words_of("nicolas maduro")) == 100
    assert 80 < name_score(words_of("Nicolas Maduro Moros"), words_of("Nicolás Maduro")) < 95
    assert name_score(words_of("Nicolas Maduro Moros"), words_of("Nicolás Maduro")) > \
        name_score(words_of("Maduro"), words_of("Nicolás Maduro"))
    assert 80 < name_score(words_of("Nicolas Madura"), words_of("Nicolás Maduro")) < 95  # one letter off
    assert name_score(words_of("Juan Pérez"), words_of("Nicolás Maduro")) == 0
    assert [wikidata_id(text) for text in ("Q58132", "q58132", "http://www.wikidata.org/entity/Q58132", "Q0", "x")] \
        == ["Q58132", "Q58132", "Q58132", None, None]


# ---------------------------------------------------------------- end to end, as OpenRefine does it


def reconcile_spreadsheet(url: str, text: str) -> list[tuple[str, str, dict | None]]:
    """Each row of the CSV ``text``: its name, the id expected, and the candidate matched (or the best one)."""
    rows = list(csv.DictReader(io.StringIO(text)))
    manifest = requests.get(url, timeout=10).json()
    valid("manifest", manifest)
    queries = {f"q{n}": {"query": row["name"], "type_strict": "should", "limit": 3} for n, row in enumerate(rows)}
    response = requests.post(url, data={"queries": json.dumps(queries)}, timeout=10,
                             headers={"Origin": "http://127.0.0.1:3333"})
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    answered = valid("reconciliation-result-batch", response.json())
    return [(row["name"], row["expected"], (answered[f"q{n}"]["result"] or [None])[0]) for n, row in enumerate(rows)]


@pytest.fixture(scope="module")
def live(reconcile_build):
    server = LiveServer(reconcile_build)
    yield server
    server.stop()


def test_a_spreadsheet_of_name_variants_is_reconciled_through_a_running_server(live):
    for name, expected, best in reconcile_spreadsheet(live.url + "/reconcile", SPREADSHEET):
        if expected:
            assert best is not None and best["id"] == expected and best["score"] >= 80, (name, best)
        else:
            assert best is None or (best["score"] < 50 and not best["match"]), (name, best)
    matched = {name: best["match"] for name, _, best in reconcile_spreadsheet(live.url + "/reconcile", SPREADSHEET)
               if best}
    assert matched == {"Nicolas Maduro Moros": False, "Diosdado Cabello Rondón": False, "Cartel de los Soles": True,
                       "NICOLÁS MADURO": True}
    view = requests.get(live.url + f"/reconcile/view/{MADURO}", timeout=10)
    assert view.status_code == 200 and view.url.endswith("/id/person/nicolas-maduro")


# ---------------------------------------------------------------- the real data


@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("real-reconcile") / "build"
    build(DEFAULT_DATA_DIR, out, reason=False)
    return out


def test_the_real_record_reconciles_the_names_journalists_use(real_build):
    client = create_app({"BUILD_DIR": real_build, "TESTING": True}).test_client()
    expected = {"Nicolas Maduro Moros": MADURO, "Diosdado Cabello Rondón": CABELLO,
                "Cartel de los Soles": CARTEL, "Vladimir Padrino López": "person:vladimir-padrino",
                "Hugo Armando Carvajal Barrios": "person:hugo-carvajal", "Cliver Alcala": "person:cliver-alcala",
                "Hugo Chavez Frias": "person:hugo-chavez", "Tareck El Aissami": "person:tareck-el-aissami",
                "Juan Pérez Ramírez": None, "Venezuela": "place:venezuela"}
    queries = {f"q{n}": {"query": name} for n, name in enumerate(expected)}
    started = time.perf_counter()
    answered = reconcile(client, queries)
    assert time.perf_counter() - started < 2.0
    for n, (name, wanted) in enumerate(expected.items()):
        best = (answered[f"q{n}"]["result"] or [None])[0]
        if wanted:
            assert best and best["id"] == wanted and best["score"] >= 80, (name, best)
        else:
            assert best is None or not best["match"], (name, best)
    assert answered["q2"]["result"][0]["match"] is True  # the alias itself
