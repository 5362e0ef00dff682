"""The soles web server: ``create_app(config)`` registers one blueprint per concern and the HTTP rules app-wide.

Where things are made: a page kind in server/pages/<kind>.py (its template in templates/<kind>.html), a
page's queries in server/pages/queries/*.rq, an HTTP header in server/http.py, /sparql in server/sparql.py
with its engines in server/engines/, the files of the build in server/downloads.py.

Nothing happens at import time; the build is opened read-only, lazily, once per process.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from kg.paths import DEFAULT_BUILD_DIR, DEFAULT_DATA_DIR

DEFAULT_CONFIG = {
    "BUILD_DIR": DEFAULT_BUILD_DIR,
    "QUERY_TIMEOUT": 10.0,  # seconds a SPARQL query may run before it is stopped
    "MAX_QUERY_BYTES": 100_000,
    "SERVICE_ALLOWLIST": (),  # SPARQL endpoints SERVICE may reach, e.g. ("https://query.wikidata.org/sparql",)
    "MAX_QUERY_MEMORY": 1 << 30,  # bytes of private memory a query process may use before it is stopped
    # Fair admission (server.admission): queries running at once in the whole server (each web worker keeps
    # up to this many query processes), the share of them one client may hold, how long a query waits for
    # a slot before a 503, and how many queries one web worker lets wait (its other threads serve pages).
    "QUERY_SLOTS": 4,
    "QUERY_SLOTS_PER_CLIENT": 2,
    "QUERY_QUEUE_WAIT": 1.0,
    "WORKER_THREADS": 16,
    "QUERY_WAITING_PER_WORKER": 8,
    # A SPARQL 1.1 query endpoint to query instead of the build's embedded store (kg serve --store URL);
    # the build still provides the manifest and the dumps.
    "REMOTE_STORE": None,
    "QUERIES_DIR": DEFAULT_DATA_DIR / "queries",  # example queries (.rq) listed by the query page
    "PAGE_SIZE": 50,  # items per page of a long list on a page (an actor's allegations, the home page's lists)
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    app.config["BUILD_DIR"] = Path(app.config["BUILD_DIR"])

    from server import downloads, engines, http, pages, reconcile, release, sparql

    release.init_app(app)
    http.init_app(app)
    engines.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(reconcile.bp)
    pages.init_app(app)
    return app
