"""No page leaves reference cycles: everything a request makes is freed by reference counting once it is sent.

server.release raises the collector's young threshold on that promise: a page that left cycles would keep its
objects (a hub's thousands) alive until a collection found them, and each collection would walk them first.
"""

from __future__ import annotations

import gc

import pytest

from server import create_app

PAGES = ("/", "/id/person/alice-example", "/id/allegation/alice-smuggles-cheese", "/id/event/alice-indicted",
         "/id/source/fixture-report", "/graph/fixture-report",
         "/id/attribution/fixture-report/alice-smuggles-cheese/alice-example/denies", "/id/place/ruritania",
         "/dossier/person/alice-example", "/timeline", "/network", "/contested", "/allegations", "/search?q=alice",
         "/downloads", "/ontology", "/sparql", "/id/person/nobody-at-all")
# Where what a page is made of comes from: our code, the templates' and the escaping's.
OURS = ("server", "kg", "jinja2", "markupsafe", "pyoxigraph")


@pytest.fixture(scope="module")
def client(fixture_build):
    return create_app({"BUILD_DIR": fixture_build}).test_client()


def left_in_cycles(client, path: str) -> list:
    """The objects of ours that one request for ``path`` left unreachable but not freed."""
    client.get(path)  # the process's own tables are made once, by the first request
    gc.collect()
    gc.disable()
    try:
        client.get(path)
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return [item for item in gc.garbage if type(item).__module__.split(".")[0] in OURS]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize("path", PAGES)
def test_a_page_leaves_no_reference_cycles(client, path):
    left = left_in_cycles(client, path)
    assert not left, f"{path}: {sorted({type(item).__qualname__ for item in left})}"


def test_the_check_sees_a_cycle(client, monkeypatch):
    """A page that keeps a cycle is caught: its Refs and Labels, when not unlinked at the end of the request."""
    from server.pages import resources
    monkeypatch.setattr(resources, "_let_refs_go", lambda error: None)
    app = create_app({"BUILD_DIR": client.application.config["BUILD_DIR"]})
    assert {type(item).__qualname__ for item in left_in_cycles(app.test_client(), "/id/person/alice-example")} \
        >= {"Ref", "Labels"}


def test_the_server_collects_young_objects_less_often(client):
    assert gc.get_threshold()[0] >= 10_000
