"""The release a request reads: ``current_release()``, ``get_store()``, ``get_manifest()``, ``per_process()``.

``BUILD_DIR`` is a build root whose ``current`` pointer ``kg build`` moves atomically to each new
release (kg.release). Each request resolves the pointer once, at its start (one readlink), and is
served wholly from that release: its store, manifest, search index, files and cached values. A
response never mixes two builds, and every response names the build that answered in its
``X-Soles-Build`` header.

Each process opens a release when a request first needs it: its store read-only (gunicorn workers each
open it after the fork, sharing the on-disk files and the OS page cache rather than each holding a copy
of the data) and its manifest. When the pointer moves, requests that started before keep the release they
started with until they end; the process forgets all but the two releases it used last (``kg build``
keeps at least the current release and the previous one on disk, so their files stay while in use).
"""

from __future__ import annotations

import gc
import os
import threading

from flask import Flask, Response, current_app, g
from pyoxigraph import Store

from kg.cycles import collection_paused
from kg.layout import Release, read_manifest, resolve
from kg.remote import RemoteStore
from kg.store import open_store

_KEY = "soles.build"
_G_NAME = "soles_release"  # the _Opened release of this request, on flask.g
BUILD_HEADER = "X-Soles-Build"
KEPT_OPEN = 2  # releases a process keeps open: the current one and the one requests may still finish on
# Container objects made (and not yet freed) between two collections of the youngest generation. A page makes
# thousands and frees them all by reference counting once it is sent, for a request leaves no reference cycles
# (tests/test_cycles.py): Python's default, 700, had the collector walk each hub page's live objects about once
# for nothing, and every tenth time the older ones too.
YOUNG_OBJECTS = 10_000


class _Opened:
    """One release as a process uses it: its manifest, its store (opened on first use), cached values."""

    def __init__(self, release: Release, remote: str | None, timeout: float):
        self.release = release
        self.manifest = read_manifest(release.path)
        self.cache: dict = {}
        self.making: dict[str, threading.Lock] = {}  # one lock per cached value, while it is first made
        self._remote, self._timeout = remote, timeout
        self._store: Store | RemoteStore | None = None
        self._lock = threading.Lock()

    @property
    def store(self) -> Store | RemoteStore:
        with self._lock:
            if self._store is None:
                self._store = RemoteStore(self._remote, self._timeout) if self._remote else open_store(self.release.path)
            return self._store


class _Releases:
    """The releases this process has open, newest last; reset after a fork."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.opened: dict[Release, _Opened] = {}

    def get(self, release: Release) -> _Opened:
        with self.lock:
            if self.pid != os.getpid():
                self.pid, self.opened = os.getpid(), {}
            opened = self.opened.get(release)
            if opened is None:
                config = current_app.config
                opened = _Opened(release, config["REMOTE_STORE"], config["QUERY_TIMEOUT"])
                self.opened[release] = opened
                while len(self.opened) > KEPT_OPEN:  # in-flight requests keep theirs through flask.g
                    del self.opened[next(iter(self.opened))]
            return opened


def init_app(app: Flask) -> None:
    """Resolve the release at the start of every request and name it in every response."""
    app.extensions[_KEY] = _Releases()
    young, *older = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_OBJECTS), *older)
    app.before_request(_resolve_at_start)
    app.after_request(_name_the_build)


def _resolve_at_start() -> None:
    _this_request()


def _name_the_build(response: Response) -> Response:
    opened = g.get(_G_NAME)
    if opened is not None:
        response.headers[BUILD_HEADER] = opened.release.id
    return response


def _this_request() -> _Opened:
    opened = g.get(_G_NAME)
    if opened is None:
        opened = current_app.extensions[_KEY].get(resolve(current_app.config["BUILD_DIR"]))
        setattr(g, _G_NAME, opened)
    return opened


def current_release() -> Release:
    """The release this request is served from: ``Release(path, id)`` (kg.release.Release, frozen).

    ``path`` (a pathlib.Path) is the release's directory, holding its dumps, ``manifest.json``,
    ``search.sqlite`` and ``store/``; ``id`` (a str) is its build id, sent as ``X-Soles-Build``.
    Resolved from ``BUILD_DIR``'s ``current`` pointer once per request (at its start) and the same for
    the rest of it, even if a new build is published meanwhile; needs an application context (outside
    a request, it is resolved once per app context). Anything kept across requests that depends on the
    build must be keyed by this release (or its ``path``), as ``per_process`` does.
    """
    return _this_request().release


def get_store() -> Store | RemoteStore:
    """The store of this request's release (or the remote store standing for it), opened once per process."""
    return _this_request().store


def get_manifest() -> dict:
    """The manifest of this request's release."""
    return _this_request().manifest


def per_process(name: str, compute):
    """``compute()``, run once per process and release, and kept while the process serves that release.

    A request thread that asks while another makes it waits for that one (tables of a big release take seconds
    to make: never twice). The cyclic garbage collector is paused meanwhile: a table made of millions of objects
    would have it walk them all again and again, most of the time it takes at a million statements, and the
    tables hold no cycles for it to find."""
    opened = _this_request()
    if name not in opened.cache:
        with opened._lock:
            making = opened.making.setdefault(name, threading.Lock())
        with making:
            if name not in opened.cache:
                with collection_paused():
                    opened.cache[name] = compute()
    return opened.cache[name]

