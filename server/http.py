"""HTTP rules shared by every view: content negotiation, twins (Link and Vary), security and caching headers app-wide.

Every format comes from the one table in kg.formats. A view picks its format with ``choose()``, names its
other representations with ``with_alternates()``, and gets the security headers without asking for them:
``init_app`` adds them to every response of the app, error pages and files included, and the caching rules
of server.caching (ETag, Cache-Control, 304 before the view runs).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import islice
from types import MappingProxyType

from flask import Flask, Request, Response, request
from werkzeug.datastructures import ImmutableMultiDict, MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header

from kg import formats
from server import caching

HTML = formats.by_name("html")

# JSON-LD blocks are data, never run, so scripts need nothing beyond our own files. The two style hashes
# are the only inline styles the site allows: those the vendored Yasgui's column resizer adds to the query
# page (its table layout, and its cursor while a column is dragged).
YASGUI_STYLE_HASHES = "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=' " \
                      "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='"
CONTENT_SECURITY_POLICY = (f"default-src 'self'; script-src 'self'; style-src 'self' {YASGUI_STYLE_HASHES}; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = MappingProxyType({
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
})


class QueryArgs(ImmutableMultiDict):
    """A request's parameters. ``get`` of one that is absent gives the default at once, where werkzeug's
    raises and catches a BadRequestKeyError (a few microseconds): a page asks for absent parameters
    (``as_of``, each list's page number, ``format``) dozens of times."""

    def get(self, key, default=None, type=None):
        return super().get(key, default, type) if key in self else default


class QuickArgsRequest(Request):
    parameter_storage_class = QueryArgs


def init_app(app: Flask) -> None:
    app.request_class = QuickArgsRequest
    app.after_request(_add_headers)
    caching.init_app(app)


def _add_headers(response: Response) -> Response:
    """The security headers on every response, unless a view set its own; and every read open to pages of any
    origin (CORS): the dataset is public, and no response depends on a cookie or a login. The names present are
    read once: each ``setdefault`` lower-cased every header twice (14 µs of the 20 this took a response)."""
    present = {name.lower() for name, _ in response.headers}
    added = [(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present]
    if request.method in ("GET", "HEAD") and "access-control-allow-origin" not in present:
        added.append(("Access-Control-Allow-Origin", "*"))
    response.headers.extend(added)
    return response


# ---------------------------------------------------------------- content negotiation


def choose(candidates: tuple[formats.Format, ...], default: formats.Format, suffix: str | None = None,
           params=None) -> formats.Format:
    """The format to answer in, among ``candidates``; 406 when the client accepts none of them.

    Precedence: a ``format`` parameter (a name, extension or media type; from ``params``, the query string
    by default), then the URL suffix, then Accept. A missing or ``*/*`` Accept header gets ``default``.
    """
    explicit = (request.args if params is None else params).get("format")
    if explicit:
        fmt = _by_any_name(explicit)
        if fmt is None or fmt not in candidates:
            raise NotAcceptable(f"format {explicit!r} is not available here; "
                                f"available: {', '.join(f.name for f in candidates)}")
        return fmt
    if suffix:
        fmt = formats.by_extension(suffix)
        if fmt is None or fmt not in candidates:
            raise NotAcceptable(f"no {suffix!r} representation here")
        return fmt
    return _by_accept_header(request.headers.get("Accept", ""), candidates, default)


def split_suffix(path: str) -> tuple[str, str | None]:
    """``id/person/x.ttl`` -> (``id/person/x``, ``ttl``); our slugs hold no dots, so a known extension is a suffix."""
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and formats.by_extension(extension) is not None:
        return stem, extension
    return path, None


def _media_types(candidates) -> list[str]:
    return [media for fmt in candidates for media in (fmt.media_type, *fmt.aliases)]


@lru_cache(maxsize=1024)  # clients send few distinct Accept headers, and parsing one costs more than the rest
def _by_accept_header(header: str, candidates: tuple[formats.Format, ...], default: formats.Format) -> formats.Format:
    accept = parse_accept_header(header, MIMEAccept)
    if not accept or accept.best == "*/*" and len(accept) == 1:
        return default
    best = accept.best_match(_media_types(candidates))
    if best is None:
        raise NotAcceptable(f"none of the accepted media types can be produced; "
                            f"available: {', '.join(_media_types(candidates))}")
    if accept[best] <= accept["*/*"] and accept[default.media_type] >= accept[best]:
        return default
    return formats.by_media_type(best)


def _by_any_name(name: str) -> formats.Format | None:
    try:
        return formats.by_name(name)
    except KeyError:
        return formats.by_extension(name) or formats.by_media_type(name)


# ---------------------------------------------------------------- twins


def twins_of(path: str, twin_formats: tuple[formats.Format, ...]) -> list[tuple[formats.Format, str]]:
    """Every representation of the resource at ``/path``: the HTML page there, the others by suffix."""
    return [(fmt, f"/{path}" if fmt is HTML else f"/{path}.{fmt.extension}") for fmt in twin_formats]


def with_alternates(response: Response, alternates) -> Response:
    """The response, saying that its address answers by Accept and where each of ``alternates``
    (media type, address) is: one ``Link: <address>; rel="alternate"; type="media type"`` each."""
    response.vary.add("Accept")
    response.headers["Link"] = ", ".join(f'<{href}>; rel="alternate"; type="{media_type}"'
                                         for media_type, href in alternates)
    return response


# ---------------------------------------------------------------- CSV twins

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula


def spreadsheet_safe(cell) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: list[str], rows) -> str:
    """A CSV twin: a header row, then ``rows``, every cell spreadsheet-safe; a UTF-8 byte order mark
    first, so that spreadsheets read accented names right."""
    return "".join(csv_pieces(columns, rows))


def csv_pieces(columns: list[str], rows: Iterable, rows_a_piece: int = 500) -> Iterator[str]:
    """csv_text, a piece of ``rows_a_piece`` rows at a time: for a response sent as it is written."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(columns)
    for chunk in batches(rows, rows_a_piece):
        writer.writerows(map(spreadsheet_safe, row) for row in chunk)
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    yield out.getvalue()


def batches(items: Iterable, size: int) -> Iterator[list]:
    """``items`` in lists of ``size`` (the last may be shorter), as they are iterated."""
    items = iter(items)
    while chunk := list(islice(items, size)):
        yield chunk


# ---------------------------------------------------------------- cross-origin reads


def open_to_other_origins(response: Response) -> Response:
    """The response, readable by pages of any origin (CORS); a preflight (OPTIONS) is told which methods and
    headers a GET or POST may use."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
