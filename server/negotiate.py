"""Choose a response format from a ``format=`` parameter, a file suffix or the Accept header.

Every format comes from the one table in kg.formats.
"""

from __future__ import annotations

from functools import lru_cache

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable
from werkzeug.http import parse_accept_header

from kg import formats


def _media_types(candidates) -> list[str]:
    return [media for fmt in candidates for media in (fmt.media_type, *fmt.aliases)]


def choose(candidates: tuple[formats.Format, ...], default: formats.Format, suffix: str | None = None,
           params=None) -> formats.Format:
    """The format to answer in, among ``candidates``; 406 when the client accepts none of them.

    Precedence: a ``format`` parameter (a name, extension or media type; from ``params``, the query string
    by default), then the URL suffix, then Accept. A missing or ``*/*`` Accept header gets ``default``.
    """
    explicit = (request.args if params is None else params).get("format")
    if explicit:
        fmt = _lookup(explicit)
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


def _lookup(name: str) -> formats.Format | None:
    try:
        return formats.by_name(name)
    except KeyError:
        return formats.by_extension(name) or formats.by_media_type(name)
