"""The pages' own SPARQL queries (queries/*.rq), filled in and run on the record a request reads.

A query names what it is about with placeholders, each a comment line of its own, so that the text stays
a query one can read and run as it is:

* ``#VALUES#``: VALUES clauses binding the variables a caller gives (``this=iri``, ``allegation=[...]``),
  at the head of the pattern, so that the engine starts from those resources. Binding them later would
  evaluate the pattern for every resource of the graph first, which is slow once the graph holds
  millions of statements.
* ``#LISTS#``: the union of a page's lists (server.pages.lists.sections), each binding ?this again.

The texts are read once, when the app is made. Pages read the whole record, or with ``?as_of=`` the
record as it stood that day; nothing is written during a request.
"""

from __future__ import annotations

import re
from importlib.resources import files

from flask import Flask, abort, current_app, g, request
from pyoxigraph import NamedNode

from kg.history import DATED_SOURCE_GRAPHS, graphs_as_of, parse_as_of
from kg.store import run_query
from server.db import get_store

_KEY = "soles.page_queries"
VALUES_SLOT = "#VALUES#"
LISTS_SLOT = "#LISTS#"


def init_app(app: Flask) -> None:
    folder = files(__package__) / "queries"
    app.extensions[_KEY] = {path.name.removesuffix(".rq"): path.read_text(encoding="utf-8")
                            for path in folder.iterdir() if path.name.endswith(".rq")}


def values(variable: str, iris) -> str:
    """``VALUES ?variable { <iri> ... }``; ValueError if one of ``iris`` is no IRI."""
    return f"VALUES ?{variable} {{ {' '.join(str(NamedNode(iri)) for iri in iris)} }}"


def query_text(name: str, lists: str = "", **bound: str | list[str] | None) -> str:
    """The text of queries/``name``.rq, with ``lists`` in place of #LISTS# and, in place of #VALUES#, a
    VALUES clause for each of ``bound`` (a variable's name -> an IRI, a list of IRIs, or None: left free)."""
    text = current_app.extensions[_KEY][name]
    clauses = " ".join(values(variable, [iris] if isinstance(iris, str) else iris)
                       for variable, iris in bound.items() if iris is not None)
    for slot, filling in ((VALUES_SLOT, clauses), (LISTS_SLOT, lists)):
        line = re.compile(rf"^[ \t]*{slot}[ \t]*$", re.MULTILINE)
        if filling and not line.search(text):
            raise ValueError(f"queries/{name}.rq has no {slot} line to fill")
        text = line.sub(lambda _: filling, text)
    return text


def run(name: str, lists: str = "", **bound: str | list[str] | None):
    """The result of queries/``name``.rq (filled in as query_text does) on the record this request reads."""
    return run_query(get_store(), query_text(name, lists, **bound), **_record_as_of())


def rows(name: str, lists: str = "", **bound: str | list[str] | None) -> list[dict]:
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
        g.as_of_graphs = graphs_as_of(run_query(get_store(), DATED_SOURCE_GRAPHS), day)
    return {"use_default_graph_as_union": False, "default_graph": g.as_of_graphs, "named_graphs": g.as_of_graphs}
