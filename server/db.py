"""Access to the build from a request: ``get_store()`` and ``get_manifest()``.

The store is opened read-only once per process (gunicorn workers each open it after the fork,
sharing the on-disk files and the OS page cache rather than each holding a copy of the data).
"""

from __future__ import annotations

import os

from flask import Flask, current_app
from pyoxigraph import Store

from kg.release import read_manifest
from kg.remote import RemoteStore
from kg.store import open_store

_KEY = "soles.build"


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = {}


def _opened() -> dict:
    state = current_app.extensions[_KEY]
    if state.get("pid") != os.getpid():
        build_dir = current_app.config["BUILD_DIR"]
        remote = current_app.config["REMOTE_STORE"]
        store = RemoteStore(remote, current_app.config["QUERY_TIMEOUT"]) if remote else open_store(build_dir)
        state.clear()
        state.update(pid=os.getpid(), store=store, manifest=read_manifest(build_dir))
    return state


def get_store() -> Store | RemoteStore:
    return _opened()["store"]


def get_manifest() -> dict:
    return _opened()["manifest"]


def per_process(name: str, compute):
    """``compute()``, run once per process and kept while it serves the build (which never changes under it)."""
    state = _opened()
    if name not in state:
        state[name] = compute()
    return state[name]
