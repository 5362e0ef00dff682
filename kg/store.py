"""The built query store, opened read-only, and results written in any format of kg.formats."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pyoxigraph import QueryBoolean, QuerySolutions, Store

from kg import formats, query_text
from kg.ids import PREFIXES
from kg.layout import STORE_DIR, read_manifest, resolve


def open_store(build_dir: Path) -> Store:
    """The store of the release a build root publishes (or of a release directory), read-only: many
    processes may open it at once. It stays that release's store when a newer build is published."""
    release = resolve(build_dir)
    read_manifest(release.path)  # a clear error if there is no build
    return Store.read_only(str(release.path / STORE_DIR))


def run_query(store: Store, query: str, **options):
    """Run a SPARQL query with our prefixes predeclared and the union of all graphs as default graph."""
    options.setdefault("use_default_graph_as_union", True)
    return store.query(query, prefixes=PREFIXES, **options)


def run_named_query(store: Store, name: str, **bound: query_text.Terms):
    """Run kg/queries/``name``.rq as run_query does, with variables bound as kg.query_text.fill() binds them."""
    return run_query(store, query_text.named(name, **bound))


def named_query_values(store: Store, name: str, **bound: query_text.Terms) -> Iterator[dict[str, str]]:
    """The solutions of run_named_query, each as the values (``term.value``) of its bound variables by name: for
    code reading many of them, since a solution's term by name (``row["x"]``) costs microseconds each time."""
    solutions = run_named_query(store, name, **bound)
    variables = [variable.value for variable in solutions.variables]
    for row in solutions:  # its terms, in the order of the variables
        yield {variable: term.value for variable, term in zip(variables, row) if term is not None}


def named_query_rows(store: Store, name: str, **bound: query_text.Terms) -> Iterator[list[str | None]]:
    """The solutions of run_named_query, each as the values (``term.value``) of its variables in the order the
    query selects them, None for one unbound: cheaper than named_query_values for code reading many rows."""
    for row in run_named_query(store, name, **bound):
        yield [None if term is None else term.value for term in row]


def write_result(result, fmt: formats.Format, output=None):
    """Serialize a query result in ``fmt``; raise ValueError if the format cannot carry it."""
    if isinstance(result, (QuerySolutions, QueryBoolean)):
        if fmt.results is None:
            raise ValueError(f"{fmt.label} cannot carry SELECT or ASK results")
        return result.serialize(output, fmt.results)
    if fmt.rdf is None:
        raise ValueError(f"{fmt.label} cannot carry a graph (CONSTRUCT or DESCRIBE results)")
    return result.serialize(output, fmt.rdf)
