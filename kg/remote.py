"""Remote SPARQL 1.1 engines: push a build with the Graph Store Protocol, query with the Protocol.

Any engine that speaks both (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever for queries) can hold
soles data when one machine is not enough.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import requests
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from kg import formats
from kg.store import open_store

USER_AGENT = "soles-kg"
GRAPH_BODY = formats.by_name("ntriples")
SOLUTIONS_BODY = formats.by_name("json")


class RemoteError(Exception):
    """A remote engine refused a request or could not be reached."""


def _check(response: requests.Response, what: str) -> requests.Response:
    if response.status_code >= 400:
        raise RemoteError(f"{what}: HTTP {response.status_code} {response.reason}: {response.text[:500]}")
    return response


def load_into(build_dir: Path, graph_store_url: str, timeout: float = 300.0) -> list[tuple[str, int]]:
    """Replace, graph by graph, the remote copy of every named graph of a build; return (graph, bytes) pairs.

    Each graph is sent with one HTTP PUT, which the Graph Store Protocol defines as replacing that graph
    as a whole, so readers see either the old or the new version of a source, never half of it.
    """
    store = open_store(build_dir)
    sent = []
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        for graph in sorted(store.named_graphs(), key=lambda g: g.value):
            body = store.dump(format=GRAPH_BODY.rdf, from_graph=graph)
            try:
                response = session.put(graph_store_url, params={"graph": graph.value}, data=body, timeout=timeout,
                                       headers={"Content-Type": GRAPH_BODY.media_type})
            except requests.RequestException as error:
                raise RemoteError(f"PUT {graph.value} to {graph_store_url}: {error}") from None
            _check(response, f"PUT {graph.value} to {graph_store_url}")
            sent.append((graph.value, len(body)))
    return sent


class RemoteStore:
    """A remote SPARQL endpoint with the query() interface of pyoxigraph's Store, for our own queries.

    The engine must treat its default graph as the union of the named graphs, as the embedded store
    does (Oxigraph: --union-default-graph; Fuseki: tdb2:unionDefaultGraph true).
    """

    def __init__(self, endpoint: str, timeout: float = 10.0):
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT

    def post(self, query: str, accept: str) -> requests.Response:
        try:
            response = self.session.post(self.endpoint, data={"query": query}, timeout=self.timeout,
                                         headers={"Accept": accept})
        except requests.RequestException as error:
            raise RemoteError(f"query to {self.endpoint}: {error}") from None
        if response.status_code == 400:
            raise SyntaxError(response.text[:2000])
        return _check(response, f"query to {self.endpoint}")

    def query(self, query: str, *, prefixes: dict[str, str] | None = None, use_default_graph_as_union: bool = True):
        """Solutions, a boolean or triples, parsed from the engine's answer like Store.query returns them.

        The default graph is whatever the engine is configured with (see the class documentation).
        """
        declared = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in (prefixes or {}).items())
        accept = f"{SOLUTIONS_BODY.media_type}, {GRAPH_BODY.media_type};q=0.9"
        response = self.post(declared + query, accept)
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        if media_type == GRAPH_BODY.media_type:
            return _triples(response.content)
        return parse_query_results(response.content, QueryResultsFormat.JSON)


def _triples(body: bytes) -> Iterator:
    return iter(parse(body, format=RdfFormat.N_TRIPLES))
