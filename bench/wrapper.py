"""The floor: the least code that serves SPARQL from a pyoxigraph store, run by gunicorn like ``kg serve``.

``BENCH_STORE`` names the store directory. ``python -m bench.wrapper load STORE_DIR FILE.nq...``
bulk-loads a store for when there is no soles build to serve from.
"""

import os
import sys

from flask import Flask, Response, request
from pyoxigraph import QueryBoolean, QueryResultsFormat, QuerySolutions, RdfFormat, Store

app = Flask(__name__)
_opened: dict[int, Store] = {}


def store() -> Store:
    """The store, opened once per process: each gunicorn worker opens it after the fork."""
    if os.getpid() not in _opened:
        _opened[os.getpid()] = Store.read_only(os.environ["BENCH_STORE"])
    return _opened[os.getpid()]


@app.route("/sparql", methods=["GET", "POST"])
def sparql() -> Response:
    result = store().query(request.values["query"], use_default_graph_as_union=True)
    if isinstance(result, (QuerySolutions, QueryBoolean)):
        return Response(result.serialize(format=QueryResultsFormat.JSON), mimetype="application/sparql-results+json")
    return Response(result.serialize(format=RdfFormat.N_TRIPLES), mimetype="application/n-triples")


def load(store_dir: str, *data_files: str) -> None:
    target = Store(store_dir)
    for data_file in data_files:
        target.bulk_load(path=data_file, format=RdfFormat.N_QUADS)


if __name__ == "__main__" and sys.argv[1:2] == ["load"]:
    load(*sys.argv[2:])
