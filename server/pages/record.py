"""The pages' own SPARQL queries (queries/*.rq), filled in and run on the record a request reads.

A query names what it is about with ``#VALUES#`` and ``#LISTS#`` placeholders, filled in as kg.query_text
fills kg's own queries (the one idiom for parameterised SPARQL).

The texts are read once, when the app is made. Pages read the whole record, or with ``?as_of=`` the
record as it stood that day; what is the same for every request of the record today they read by key from
the build's page index (``page_index()``). Nothing is written during a request.
"""

from __future__ import annotations

import threading
from importlib.resources import files

from flask import Flask, abort, current_app, g, request
from pyoxigraph import NamedNode, Store

from kg.history import graphs_as_of, parse_as_of
from kg.page_index import PAGE_INDEX, PageIndex
from kg.query_text import Terms, fill
from kg.store import run_query
from server.release import current_release, get_store, per_process

_KEY = "soles.page_queries"


def init_app(app: Flask) -> None:
    folder = files(__package__) / "queries"
    app.extensions[_KEY] = {path.name.removesuffix(".rq"): path.read_text(encoding="utf-8")
                            for path in folder.iterdir() if path.name.endswith(".rq")}


def page_index() -> PageIndex:
    """The build's page index (kg.page_index) of this request's release, the record today read by key: one
    read-only connection per thread and release, kept for the next requests (opening and closing one costs
    as much as a page's lookups), closed with the release when the process forgets it."""
    connections = per_process("page index connections", threading.local)
    index = getattr(connections, "index", None)
    if index is None:
        index = connections.index = PageIndex(current_release().path / PAGE_INDEX)
    return index


def today_index() -> PageIndex | None:
    """The page index if this request reads the record today; None with ``?as_of=``: pages read the store."""
    return page_index() if as_of_day() is None else None


def query_text(name: str, lists: str = "", **bound: Terms) -> str:
    """The text of queries/``name``.rq, with ``lists`` in place of #LISTS# and, in place of #VALUES#, a
    VALUES clause for each of ``bound`` (a variable's name -> an IRI, a list of IRIs, or None: left free)."""
    return fill(current_app.extensions[_KEY][name], f"queries/{name}.rq", lists, **bound)


def run(name: str, lists: str = "", **bound: Terms):
    """The result of queries/``name``.rq (filled in as query_text does) on the record this request reads."""
    return run_query(get_store(), query_text(name, lists, **bound), **_record_as_of())


def statements_about(iri: str) -> list[tuple]:
    """The (predicate, value) of every statement about ``iri`` in the record this request reads, each once, in
    the store's order; ValueError if ``iri`` is no IRI. The embedded store gives the record today by pattern,
    in a quarter of the time the same SPARQL query takes to be parsed, planned and run (queries/resource.rq)."""
    store = get_store()
    if as_of_day() is None and isinstance(store, Store):
        return list(dict.fromkeys((quad.predicate, quad.object) for quad in store.quads_for_pattern(NamedNode(iri), None, None)))
    return [(predicate, value) for predicate, value in run("resource", this=iri)]


def rows(name: str, lists: str = "", **bound: Terms) -> list[dict]:
    """The rows of a SELECT query as the engine gives them: RDF terms, None when unbound."""
    solutions = run(name, lists, **bound)
    variables = [variable.value for variable in solutions.variables]
    return [{variable: solution[variable] for variable in variables} for solution in solutions]


def as_of_day() -> str | None:
    """The day of ``?as_of=`` (kg.history.parse_as_of), or None; 400 if it is no date."""
    text = request.args.get("as_of")
    if not text:
        return None
    try:
        return parse_as_of(text)
    except ValueError as error:
        abort(400, description=f"as_of: {error}")


def _record_as_of() -> dict:
    """The dataset a page reads: the whole record, or with ``?as_of=`` the record as it stood that day."""
    day = as_of_day()
    if day is None:
        return {}
    if "as_of_graphs" not in g:
        g.as_of_graphs = graphs_as_of(get_store(), day)
    return {"use_default_graph_as_union": False, "default_graph": g.as_of_graphs, "named_graphs": g.as_of_graphs}
