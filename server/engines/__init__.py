"""The engines that run /sparql queries, behind one interface; ``get_engine()`` gives this request's.

The local engine (server.engines.local) runs each query in a confined, killable child process on the
build's store, from a pool the server's web workers share (QUERY_POOL, started by ``kg serve``; a process
without one starts its own on its first query); the remote one (server.engines.remote) sends it to the SPARQL endpoint named by the
REMOTE_STORE setting. Both take a QueryJob and give its serialized result, or raise a QueryFailed
(server.engines.interface).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, current_app

from server.engines.interface import Engine, QueryFailed, QueryJob
from server.engines.local import Limits, QueryPool, QueryRunner
from server.engines.remote import RemoteRunner
from server.release import current_release

__all__ = ["Engine", "QueryFailed", "QueryJob", "get_engine", "init_app"]

_KEY = "soles.engines"
ENGINES_KEPT = 2  # the current release's and the previous one's, for queries still streaming from it


class _EnginesOfThisProcess:
    """The engines this process has made, by release, and its view of the query pool; forgotten after a fork."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.by_release: dict[Path, Engine] = {}
        self.pool: QueryPool | None = None


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = _EnginesOfThisProcess()


def get_engine() -> Engine:
    """This process's engine for this request's release, made on first use (gunicorn forks its workers
    before any request). A new release gets a new engine, whose queries name its store to the query
    processes; the previous one is kept for the requests still streaming from it."""
    engines = current_app.extensions[_KEY]
    config = current_app.config
    release = current_release().path
    with engines.lock:
        if engines.pid != os.getpid():
            engines.pid, engines.by_release, engines.pool = os.getpid(), {}, None
        engine = engines.by_release.get(release)
        if engine is None:
            if config["REMOTE_STORE"]:
                engine = RemoteRunner(config["REMOTE_STORE"], config["QUERY_TIMEOUT"])
            else:
                engine = QueryRunner(release, _pool(engines, config))
            engines.by_release[release] = engine
            while len(engines.by_release) > ENGINES_KEPT:
                del engines.by_release[next(iter(engines.by_release))]
        return engine


def _pool(engines: _EnginesOfThisProcess, config) -> QueryPool:
    """The server's query pool as this process reaches it, or one of this process's own if there is none."""
    if engines.pool is None:
        limits = Limits.from_config(config)
        if config["QUERY_POOL"]:
            engines.pool = QueryPool(config["QUERY_POOL"], config["QUERY_SLOTS"], limits)
        else:
            engines.pool = QueryPool.start(config["QUERY_SLOTS"], limits)
    return engines.pool
