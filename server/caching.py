"""HTTP caching of a read-only dataset: an ETag per build and representation, Cache-Control, 304 before any view runs.

Every successful GET or HEAD carries a weak ETag made of the build id (``X-Soles-Build``), a digest of the code
and settings that render it, and a digest of the representation asked for: the whole URL, the Accept header (a URL
that answers in several formats by Accept gives each its own tag) and the UTC day (the Cite box names the day
the record was read). It also carries the ``CACHE_CONTROL`` setting. A request whose ``If-None-Match`` names
the tag it would get is answered 304 before its view runs: no page is rendered and no query reaches an engine.
The tag is weak because two answers to one query on one build are equivalent, not byte-identical (blank node
labels are drawn afresh per query).

Files have validators of their own: a dump its SHA-256 (strong, so that ranges resume), a static file
werkzeug's (its time, size and name), each with ``Last-Modified`` for ``If-Modified-Since``. Errors, POST
answers and answers a view marks ``no-store`` (a federated query's) carry no ETag and ``Cache-Control: no-store``.

``ResultCache`` is the optional in-process cache of /sparql results (``RESULT_CACHE_BYTES``, off by default).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from pathlib import Path

from flask import Flask, Response, current_app, request

from server.release import current_release

_KEY = "soles.caching"
READS = ("GET", "HEAD")
# Views that validate their own answer: the release's files and the static files.
OWN_VALIDATORS = frozenset({"static", "downloads.download", "downloads.void_description"})
CODE_PACKAGES = ("kg", "server")  # what renders a response, besides the build and the settings
NOT_CODE = frozenset({"__pycache__", "static"})  # static files are validated one by one


def init_app(app: Flask) -> None:
    """After server.release's hooks, which resolve the request's release: the tag names it."""
    settings = repr(sorted((name, repr(value)) for name, value in app.config.items() if name.isupper()))
    examples = sorted(Path(app.config["QUERIES_DIR"]).glob("*.rq")) if app.config.get("QUERIES_DIR") else []
    digest = hashlib.blake2b(_code_digest().encode(), digest_size=4)
    digest.update(settings.encode())
    for example in examples:
        digest.update(example.name.encode() + example.read_bytes())
    app.extensions[_KEY] = digest.hexdigest()
    app.before_request(_answer_unchanged)
    app.after_request(_cache_headers)


def _code_digest() -> str:
    """What the code says, read once per app (about 15 ms): a deploy of new code changes every tag."""
    digest = hashlib.blake2b(digest_size=8)
    for package in CODE_PACKAGES:
        root = Path(__file__).resolve().parent.parent / package
        for path in sorted(root.rglob("*")):
            if path.is_file() and not NOT_CODE & set(path.relative_to(root).parts):
                digest.update(f"{package}/{path.relative_to(root)}\0".encode() + path.read_bytes())
    return digest.hexdigest()


def representation_tag() -> str:
    """The ETag (without ``W/``) of what this GET or HEAD asks for, on this request's build."""
    environ = request.environ  # read raw: rebuilding request.url costs more than the rest of the tag
    asked = "\n".join((environ["wsgi.url_scheme"], environ.get("HTTP_HOST", ""), environ.get("SCRIPT_NAME", ""),
                       environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT", ""),
                       time.strftime("%Y-%m-%d", time.gmtime())))
    asked_digest = hashlib.blake2b(asked.encode(), digest_size=8).hexdigest()
    return f"{current_release().id}-{current_app.extensions[_KEY]}-{asked_digest}"


def _answer_unchanged() -> Response | None:
    """304 when the client already holds what the view would answer: the view does not run. A view's own
    refusals (a 400 for a bad query) cannot be skipped this way: no error was ever given a tag. ``*`` (any
    representation) is left to the view, which alone knows whether there is one."""
    asked = request.if_none_match
    if request.method not in READS or not asked or asked.star_tag or request.endpoint in OWN_VALIDATORS \
            or request.endpoint is None:
        return None
    tag = representation_tag()
    if not asked.contains_weak(tag):  # If-None-Match compares weakly (RFC 9110, 13.1.2)
        return None
    response = Response(status=304)
    response.set_etag(tag, weak=True)
    response.vary.add("Accept")  # as the full answer would say, where it negotiates
    return response


def _cache_headers(response: Response) -> Response:
    if request.method not in READS:
        if request.method == "POST":
            response.headers["Cache-Control"] = "no-store"
        return response
    # Parsing Cache-Control costs four times as much as looking for it, and most responses have none yet.
    if response.status_code >= 400 or "Cache-Control" in response.headers and response.cache_control.no_store:
        response.headers.pop("ETag", None)
        response.headers["Cache-Control"] = "no-store"
    elif 200 <= response.status_code < 300 or response.status_code == 304:
        if "ETag" not in response.headers and request.endpoint not in OWN_VALIDATORS:
            response.set_etag(representation_tag(), weak=True)
        response.headers["Cache-Control"] = current_app.config["CACHE_CONTROL"]
    return response


# ---------------------------------------------------------------- the optional result cache


class ResultCache:
    """Serialized /sparql results by (build id, query job), least recently used out first, bounded in bytes
    (of results and query texts) and entries. A key names its build, so no result is ever served for another build; those of
    a build no longer asked for age out. Only whole results are kept (an engine streams the large ones)."""

    def __init__(self, max_bytes: int, max_entries: int):
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self._kept: OrderedDict[tuple, tuple[list[bytes], int]] = OrderedDict()  # key: (chunks, bytes held)
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[bytes] | None:
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            self._kept.move_to_end(key)
            return kept[0]

    def put(self, key: tuple, chunks: list[bytes], key_bytes: int = 0) -> None:
        """Keep ``chunks`` under ``key``, which holds ``key_bytes`` bytes (the query's text) of its own."""
        size = sum(map(len, chunks)) + key_bytes
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._kept:
                return
            self._kept[key] = (chunks, size)
            self._bytes += size
            while self._bytes > self.max_bytes or len(self._kept) > self.max_entries:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._kept)
