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
    # Bytes of private memory a query process may keep after a query (the store's caches, what the allocator
    # holds) beyond what it had once its store was open: one that keeps this much is replaced by a fresh one.
    "QUERY_PROCESS_MEMORY_KEPT": 64 << 20,
    # Fair admission (server.admission): queries running at once in the whole server (it keeps up to this
    # many query processes, shared by its web workers), the share of them one client may hold, how long a
    # query waits for a slot before a 503, and how many queries one web worker lets wait: all but 4 of its
    # threads, which stay for pages. (With 8, one worker holding 10 of 16 busy clients' connections, as the
    # kernel's share of accepted connections often makes it, refused a quarter of their lookups.)
    "QUERY_SLOTS": 4,
    "QUERY_SLOTS_PER_CLIENT": 2,
    "QUERY_QUEUE_WAIT": 1.0,
    "WORKER_THREADS": 16,
    "QUERY_WAITING_PER_WORKER": 12,
    # A SPARQL 1.1 query endpoint to query instead of the build's embedded store (kg serve --store URL);
    # the build still provides the manifest and the dumps.
    "REMOTE_STORE": None,
    # The directory of the query pool the web workers share (server.engines.local.QueryPool), which kg serve
    # starts before forking them; None: a process starts its own pool on its first query.
    "QUERY_POOL": None,
    "QUERIES_DIR": DEFAULT_DATA_DIR / "queries",  # example queries (.rq) listed by the query page
    "PAGE_SIZE": 50,  # items per page of a long list on a page (an actor's allegations, the home page's lists)
    # Every successful GET also carries an ETag naming its build (server.caching): a cache may keep an answer a
    # minute, then serve it while it asks again (a 304 costs no query), and serve it a day if the server is down.
    "CACHE_CONTROL": "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400",
    # The in-process cache of /sparql results, per worker, by (build, query, format): off (0 bytes) by default.
    # It wins repeated queries, which a CDN keeps better, and lookups across the graph only when it holds them
    # all, in every worker (bench/README.md has the figures).
    "RESULT_CACHE_BYTES": 0,
    "RESULT_CACHE_ENTRIES": 10_000,
    # Addresses a sitemap file lists (sitemaps.org allows 50,000): a file of 10,000 took 22 ms to write at 1M.
    "SITEMAP_URLS": 10_000,
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULT_CONFIG)
    app.config.update(config or {})
    app.config["BUILD_DIR"] = Path(app.config["BUILD_DIR"])

    from server import downloads, engines, http, pages, reconcile, release, sitemaps, sparql

    release.init_app(app)
    http.init_app(app)
    engines.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(reconcile.bp)
    app.register_blueprint(sitemaps.bp)
    pages.init_app(app)
    return app
