"""HTTP caching: an ETag per build and representation, Cache-Control, 304 before any view or query runs; errors
and POSTs never stored; the optional /sparql result cache bounded and keyed by build."""

from __future__ import annotations

import pytest
from werkzeug.http import parse_date

from kg.pipeline import build
from server import DEFAULT_CONFIG, create_app, sparql
from server.caching import ResultCache
from server.engines import get_engine
from server.engines.interface import QueryTimeout
from tests.fixtures import write_fixture_data

POLICY = DEFAULT_CONFIG["CACHE_CONTROL"]
PERSON = "/id/person/alice-example"
ASK = "ASK { ?s ?p ?o }"
SELECT = "SELECT ?s WHERE { ?s a ?kind } ORDER BY ?s LIMIT 3"
HTML, JSON_RESULTS = "text/html", "application/sparql-results+json"


@pytest.fixture(scope="module")
def rebuildable(tmp_path_factory):
    """A build of its own, published once more by the test that needs a second release."""
    folder = tmp_path_factory.mktemp("caching")
    data = write_fixture_data(folder / "data")
    build(data, folder / "build", reason=False)
    return data, folder / "build"


def app_on(build_dir, **config):
    return create_app({"BUILD_DIR": build_dir, "TESTING": True, "QUERY_TIMEOUT": 2.0, **config})


@pytest.fixture()
def client(fixture_build):
    return app_on(fixture_build).test_client()


class CountingEngine:
    """This request's real engine, counting the queries handed to it."""

    def __init__(self, monkeypatch):
        self.calls = 0
        monkeypatch.setattr(sparql, "get_engine", self)

    def __call__(self):
        engine = get_engine()
        counting = self

        class Counted:
            timeout = engine.timeout

            def run(self, job, deadline=None):
                counting.calls += 1
                return engine.run(job, deadline)
        return Counted()


def read(response):
    """The response, its body read and its file (a download's) closed."""
    response.get_data()
    response.close()
    return response


def counting_views(app, endpoint: str) -> list:
    """Calls of the view ``endpoint``, recorded as they happen."""
    calls, view = [], app.view_functions[endpoint]

    def counted(**kwargs):
        calls.append(kwargs)
        return view(**kwargs)
    app.view_functions[endpoint] = counted
    return calls


@pytest.mark.parametrize("path, accept", [
    ("/", HTML),
    (PERSON, HTML),
    (PERSON + ".jsonld", None),
    ("/dossier/person/alice-example.csv", None),
    (PERSON + ".ttl", None),
    (PERSON, "text/turtle"),
    ("/timeline", HTML),
    ("/contested.json", None),
    ("/search?q=alice", HTML),
    ("/downloads", HTML),
    ("/downloads/soles.nq.gz", None),
    ("/void", "text/turtle"),
    ("/sparql?query=ASK%20%7B%7D", JSON_RESULTS),
    ("/sparql", "text/turtle"),
    ("/reconcile", None),
    ("/static/cite.css", None),
])
def test_every_successful_read_has_a_validator_and_the_policy_and_answers_304(client, path, accept):
    headers = {"Accept": accept} if accept else {}
    first = read(client.get(path, headers=headers))
    assert first.status_code == 200, first.text[:300]
    assert first.headers["ETag"] and first.headers["Cache-Control"] == POLICY
    again = read(client.get(path, headers={**headers, "If-None-Match": first.headers["ETag"]}))
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"] and again.headers["Cache-Control"] == POLICY
    head = read(client.head(path, headers=headers))
    assert head.headers["ETag"] == first.headers["ETag"]


def test_generated_answers_are_tagged_by_their_build(client):
    response = client.get(PERSON, headers={"Accept": HTML})
    assert response.headers["ETag"].startswith(f'W/"{response.headers["X-Soles-Build"]}-')


def test_each_format_of_one_address_has_its_own_tag(client):
    tags = set()
    for accept in (HTML, "text/turtle", "application/ld+json"):
        response = client.get(PERSON, headers={"Accept": accept})
        assert response.status_code == 200 and "Accept" in response.headers["Vary"]
        tags.add(response.headers["ETag"])
    assert len(tags) == 3
    turtle = client.get(PERSON, headers={"Accept": "text/turtle"}).headers["ETag"]
    html = client.get(PERSON, headers={"Accept": HTML, "If-None-Match": turtle})
    assert html.status_code == 200 and html.mimetype == HTML


def test_a_conditional_query_gets_304_before_it_reaches_an_engine(client, monkeypatch):
    engine = CountingEngine(monkeypatch)
    asked = {"query_string": {"query": SELECT}, "headers": {"Accept": JSON_RESULTS}}
    first = client.get("/sparql", **asked)
    assert first.status_code == 200 and engine.calls == 1
    again = client.get("/sparql", query_string=asked["query_string"],
                       headers={**asked["headers"], "If-None-Match": f'"other", {first.headers["ETag"]}'})
    assert again.status_code == 304 and engine.calls == 1
    stale = client.get("/sparql", query_string=asked["query_string"],
                       headers={**asked["headers"], "If-None-Match": first.headers["ETag"].replace("W/\"", "W/\"x")})
    assert stale.status_code == 200 and engine.calls == 2


def test_a_conditional_page_gets_304_without_its_view_or_its_store(fixture_build, monkeypatch):
    app = app_on(fixture_build)
    client = app.test_client()
    tag = client.get(PERSON, headers={"Accept": HTML}).headers["ETag"]
    calls = counting_views(app, "dereference.resource_page")

    def unreadable(self):
        raise AssertionError("the store was opened")
    monkeypatch.setattr("server.release._Opened.store", property(unreadable))
    assert client.get(PERSON, headers={"Accept": HTML, "If-None-Match": tag}).status_code == 304
    assert calls == []
    with pytest.raises(AssertionError, match="the store was opened"):  # the control: without the tag, it runs
        client.get("/id/person/alice-example.ttl")
    assert len(calls) == 1


def test_a_new_build_changes_every_tag(rebuildable):
    data, build_dir = rebuildable
    client = app_on(build_dir).test_client()
    before = client.get(PERSON, headers={"Accept": HTML})
    build(data, build_dir, reason=False)  # the same data, published again: a new release all the same
    after = client.get(PERSON, headers={"Accept": HTML, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["X-Soles-Build"] != before.headers["X-Soles-Build"]
    assert after.headers["ETag"] != before.headers["ETag"]


def test_dumps_answer_if_modified_since_and_ranges(client):
    first = read(client.get("/downloads/soles.nq.gz"))
    assert parse_date(first.headers["Last-Modified"]) is not None
    since = read(client.get("/downloads/soles.nq.gz", headers={"If-Modified-Since": first.headers["Last-Modified"]}))
    assert since.status_code == 304
    part = read(client.get("/downloads/soles.nq.gz", headers={"Range": "bytes=0-9", "If-Range": first.headers["ETag"]}))
    assert part.status_code == 206 and part.data == first.data[:10]


@pytest.mark.parametrize("path, accept, status", [
    ("/id/person/nobody-at-all", HTML, 404),
    ("/no/such/page.ttl", None, 404),
    ("/sparql?query=SELEC", None, 400),
    (f"/sparql?query={ASK}", "image/png", 406),
    ("/contested?sort=nonsense", HTML, 400),
])
def test_errors_are_never_stored_nor_tagged(client, path, accept, status):
    response = client.get(path, headers={"Accept": accept} if accept else {})
    assert response.status_code == status
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"
    star = client.get(path, headers={**({"Accept": accept} if accept else {}), "If-None-Match": "*"})
    assert star.status_code == status


def test_a_query_stopped_at_its_limit_is_never_stored(client, monkeypatch):
    class Stopped:
        timeout = 2.0

        def run(self, job, deadline=None):
            raise QueryTimeout.after(2.0)
    monkeypatch.setattr(sparql, "get_engine", Stopped)
    response = client.get("/sparql", query_string={"query": ASK})
    assert response.status_code == 503
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_posted_queries_are_not_cacheable(client):
    response = client.post("/sparql", data={"query": ASK}, headers={"Accept": JSON_RESULTS})
    assert response.status_code == 200
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


def test_a_federated_query_is_never_stored(fixture_build, listener):
    client = app_on(fixture_build, SERVICE_ALLOWLIST=(listener.iri,)).test_client()
    response = client.get("/sparql", query_string={
        "query": f"SELECT ?greeting WHERE {{ SERVICE <{listener.iri}> {{ ?s ?p ?greeting }} }}"})
    assert response.status_code == 200 and "hello from the listener" in response.text
    assert "ETag" not in response.headers and response.headers["Cache-Control"] == "no-store"


# ---------------------------------------------------------------- the result cache


def test_the_result_cache_is_off_by_default(client, monkeypatch):
    engine = CountingEngine(monkeypatch)
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": SELECT}).status_code == 200
    assert engine.calls == 2


def test_the_result_cache_answers_a_repeated_query_once_per_build_and_format(rebuildable, monkeypatch):
    data, build_dir = rebuildable
    client = app_on(build_dir, RESULT_CACHE_BYTES=1 << 20).test_client()
    engine = CountingEngine(monkeypatch)
    first = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": JSON_RESULTS})
    again = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": JSON_RESULTS})
    assert engine.calls == 1 and again.data == first.data
    assert client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": "text/csv"}).status_code == 200
    assert engine.calls == 2
    build(data, build_dir, reason=False)  # a new release: the results kept for the old one are never served
    newer = client.get("/sparql", query_string={"query": SELECT}, headers={"Accept": JSON_RESULTS})
    assert newer.headers["X-Soles-Build"] != first.headers["X-Soles-Build"] and engine.calls == 3


def test_the_result_cache_is_bounded_in_entries_and_bytes():
    kept = ResultCache(max_bytes=100, max_entries=3)
    for name in "abcd":
        kept.put((name,), [b"x" * 10])
    assert len(kept) == 3 and kept.get(("a",)) is None and kept.get(("d",)) == [b"x" * 10]
    kept.get(("b",))  # used: "c" is now the least recently used
    kept.put(("e",), [b"y" * 85])
    assert kept.get(("c",)) is None and kept.get(("d",)) is None and kept.get(("b",)) == [b"x" * 10]
    kept.put(("too big",), [b"z" * 91], key_bytes=10)
    assert kept.get(("too big",)) is None and len(kept) == 2
