"""Parameterised SPARQL, one idiom for kg and the server: a query is an .rq file one can read and run as it is,
and a caller binds its variables with VALUES clauses put in place of its ``#VALUES#`` line.

A placeholder is a comment line of its own, so the file stays a valid query:

* ``#VALUES#``: VALUES clauses binding the variables a caller gives (``this=iri``, ``allegation=[...]``),
  at the head of the pattern, so that the engine starts from those resources. Binding them later would
  evaluate the pattern for every resource of the graph first, which is slow once the graph holds
  millions of statements.
* ``#LISTS#``: the union of a page's lists (server.pages.lists.sections).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib.resources import files

from pyoxigraph import Literal, NamedNode

VALUES_SLOT = "#VALUES#"
LISTS_SLOT = "#LISTS#"
Terms = str | NamedNode | Literal | Iterable[str | NamedNode | Literal] | None


def values(variable: str, terms: Iterable[str | NamedNode | Literal]) -> str:
    """``VALUES ?variable { <iri> ... }``: each of ``terms`` an IRI (ValueError if it is none) or a Literal."""
    written = " ".join(str(t if isinstance(t, (Literal, NamedNode)) else NamedNode(t)) for t in terms)
    return f"VALUES ?{variable} {{ {written} }}"


def fill(text: str, name: str, lists: str = "", **bound: Terms) -> str:
    """``text`` (the query ``name``) with ``lists`` in place of #LISTS# and, in place of #VALUES#, a VALUES
    clause for each of ``bound`` (a variable's name -> a term, a list of terms, or None: left free)."""
    clauses = " ".join(values(variable, [terms] if isinstance(terms, (str, NamedNode, Literal)) else terms)
                       for variable, terms in bound.items() if terms is not None)
    for slot, filling in ((VALUES_SLOT, clauses), (LISTS_SLOT, lists)):
        line = re.compile(rf"^[ \t]*{slot}[ \t]*$", re.MULTILINE)
        if filling and not line.search(text):
            raise ValueError(f"{name} has no {slot} line to fill")
        text = line.sub(lambda _: filling, text)
    return text


@cache
def read(name: str) -> str:
    """The text of kg/queries/``name``.rq, the queries kg itself runs."""
    return files("kg").joinpath("queries", f"{name}.rq").read_text(encoding="utf-8")


def named(name: str, **bound: Terms) -> str:
    """kg/queries/``name``.rq filled in with ``bound`` as fill() does."""
    return fill(read(name), f"kg/queries/{name}.rq", **bound)
