"""The read-only SPARQL 1.1 endpoint at /sparql: queries by GET and POST, results in every format.

Queries run in killable, confined child processes (server.query_runner, kg.sandbox): the kernel stops
any network connection but to an allow-listed SERVICE endpoint, and caps each query's memory. They are
admitted fairly (server.admission): a bounded number at once, a bounded share per client.

Before a query reaches the engine it is read once, token by token, for SPARQL Update and SERVICE calls
outside the allowlist, to answer those at once with a clear 403. That reading is a courtesy, not the
guard: a spelling it misreads still cannot make a connection.
"""

from __future__ import annotations

import errno
import re
import time
from contextlib import ExitStack
from io import BytesIO
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from flask import Blueprint, Response, current_app, request
from gunicorn.http.errors import ParseException
from pyoxigraph import BlankNode, NamedNode, Triple, serialize
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.exceptions import (BadRequest, Forbidden, HTTPException, RequestEntityTooLarge, UnsupportedMediaType,
                                 default_exceptions)

from kg import formats, ids
from kg.vocab import RDF, SD
from kg.void import SPARQL_ENDPOINT
from server import query_runner
from server.admission import Admission, Refused
from server.db import get_store
from server.negotiate import choose
from server.query_ui import render_page

bp = Blueprint("sparql", __name__)
_ADMISSION = "soles.admission"


@bp.record_once
def _init_app(state) -> None:
    app = state.app
    query_runner.init_app(app)
    config = app.config
    app.extensions[_ADMISSION] = Admission(config["QUERY_SLOTS"], config["QUERY_SLOTS_PER_CLIENT"],
                                           config["QUERY_QUEUE_WAIT"], config["QUERY_WAITING_PER_WORKER"])


UPDATE_REFUSED = "SPARQL Update is not allowed on this read-only endpoint"
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset({"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"})
FORM_ENCODINGS = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_BYTES_PER_QUERY_BYTE = 3  # a query's bytes, percent-encoded in a form, take up to three times as many
FORM_OTHER_FIELDS_BYTES = 16_384  # room for the protocol's other fields (graph IRIs, format)
# SPARQLWrapper, the common Python client, sends its own format names as format= (beside a right Accept
# header); for results they match ours, for a graph they are these.
CLIENT_GRAPH_FORMAT_NAMES = {"xml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml", "json": "jsonld",
                             "json-ld": "jsonld", "n3": "turtle"}

# SPARQL reads \u and \U escapes anywhere in a query before parsing it, keywords included.
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# The tokens of SPARQL that matter for finding keywords: everything inside an IRI, a string, a comment,
# a variable, a language tag or a prefixed name is not a keyword.
_TOKEN = re.compile(r"""
    (?P<skip>\s+|\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
  | (?P<unterminated>["'])
  | (?P<variable>[?$]\w+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%-]|\\.|\.(?=[\w:%-]))*)
  | (?P<word>[^\W\d]\w*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LOCAL_NAME_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class QueryShape:
    """What a query is, as far as the endpoint needs to know before running it."""

    form: str | None  # its first keyword (SELECT, ..., or an update operation); None if there is none
    services: tuple[str | None, ...] = ()  # SERVICE endpoints; None when not a known IRI

    @property
    def is_update(self) -> bool:
        return self.form in UPDATE_OPERATIONS


class MalformedQuery(ValueError):
    """A query the engine would refuse too, found so while looking for keywords."""


@lru_cache(maxsize=512)  # the same queries come again and again (applications, the example queries)
def inspect_query(text: str) -> QueryShape:
    """The form of a query and the endpoints its SERVICE clauses call, found without running it."""
    text = _CODEPOINT_ESCAPE.sub(_unescape_codepoint, text)
    tokens = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "unterminated":
            # Stop here: looking for its end from every later quote would take time quadratic in the query.
            line = text.count("\n", 0, match.start()) + 1
            raise MalformedQuery(f"the string that starts on line {line} does not end")
        if match.lastgroup != "skip":
            tokens.append((match.lastgroup, match.group()))
    prefixes = dict(ids.PREFIXES)  # predeclared by kg.store.run_query
    form, services = None, []
    for position, (kind, token) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = token.upper()
        following = tokens[position + 1:position + 3]
        if keyword == "PREFIX" and [part for part, _ in following] == ["pname", "iri"]:
            prefixes[following[0][1][:-1]] = following[1][1][1:-1]
        elif keyword == "SERVICE":
            if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
                following = following[1:]
            services.append(_service_iri(following[0] if following else None, prefixes))
        elif form is None and keyword != "BASE":
            form = keyword
    return QueryShape(form, tuple(services))


def _unescape_codepoint(match: re.Match) -> str:
    try:
        return chr(int(match.group(1) or match.group(2), 16))
    except ValueError:  # beyond Unicode: the engine will refuse the query
        return match.group()


def _service_iri(token: tuple[str, str] | None, prefixes: dict[str, str]) -> str | None:
    """The absolute IRI a SERVICE clause calls, or None (a variable, a relative IRI, an unknown prefix)."""
    if token is None:
        return None
    kind, text = token
    if kind == "iri":
        iri = text[1:-1]
    elif kind == "pname":
        prefix, _, local = text.partition(":")
        if prefix not in prefixes:
            return None
        iri = prefixes[prefix] + _LOCAL_NAME_ESCAPE.sub(r"\1", local)
    else:
        return None
    return iri if _ABSOLUTE_IRI.match(iri) else None


def _check_services(shape: QueryShape) -> None:
    allowed = current_app.config["SERVICE_ALLOWLIST"]
    for iri in shape.services:
        if iri is None:
            raise Forbidden("SERVICE is only allowed with the absolute IRI of an allowed endpoint, "
                            "not a variable or relative IRI")
        if iri not in allowed:
            raise Forbidden(f"SERVICE <{iri}> is not allowed: this endpoint may only call "
                            f"{', '.join(f'<{endpoint}>' for endpoint in allowed) or 'no other endpoint'}")


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    query, params = _protocol_request()
    if query is None:
        return _service_description()
    try:
        shape = inspect_query(query)
    except MalformedQuery as error:
        raise BadRequest(str(error)) from None
    if shape.is_update:
        raise Forbidden(UPDATE_REFUSED)
    _check_services(shape)
    fmt = _result_format(params, graph=shape.form in GRAPH_FORMS)
    job = {"query": query, "format": fmt.name,
           "default_graph": _graph_iris(params, "default-graph-uri"),
           "named_graphs": _graph_iris(params, "named-graph-uri")}
    return Response(_run_admitted(job), mimetype=fmt.media_type)


def _run_admitted(job: dict) -> list[bytes] | Iterator[bytes]:
    """Run the job in a query slot held until its result has been sent (or the client has gone)."""
    deadline = time.monotonic() + current_app.config["QUERY_TIMEOUT"]
    with ExitStack() as held:
        try:
            held.enter_context(current_app.extensions[_ADMISSION].slot(request.remote_addr or "", deadline))
            chunks = query_runner.get_runner().run(job, deadline)
        except Refused as error:
            raise _refusal(error) from None
        except query_runner.QueryFailed as error:
            if error.status >= 500 or error.status == 403:
                current_app.logger.warning("%s: %.200r", error, job["query"])
            raise _http_error(error.status, str(error)) from None
        if isinstance(chunks, list):
            return chunks
        return _released_after(chunks, held.pop_all(), current_app.logger)


def _released_after(chunks: Iterator[bytes], held: ExitStack, logger) -> Iterator[bytes]:
    """The chunks, then the slot released; ``logger`` is the app's (a stream runs outside the app context)."""
    with held:
        try:
            yield from chunks
        except query_runner.QueryFailed as error:
            logger.warning("response cut short: %s", error)
            # The status line has gone out: the response can only end without its last chunk, so that the
            # client sees it is incomplete. A broken pipe is how the WSGI server is told to drop the
            # connection; it is the query's limit, not a fault of the server, so no traceback is logged.
            raise ResponseCutShort(errno.EPIPE, f"response cut short: {error}") from None


class ResponseCutShort(BrokenPipeError):
    """A streamed result stopped by its limit after it had begun: the connection is dropped."""


def _refusal(refused: Refused) -> HTTPException:
    return default_exceptions[refused.status](str(refused), retry_after=refused.retry_after)


def _http_error(status: int, message: str) -> HTTPException:
    return default_exceptions[status](message)


def _result_format(params: MultiDict, graph: bool) -> formats.Format:
    if not graph:
        return choose(formats.RESULTS_FORMATS, formats.by_name("json"), params=params)
    client_name = CLIENT_GRAPH_FORMAT_NAMES.get(params.get("format", ""))
    if client_name:
        return formats.by_name(client_name)
    return choose(formats.RDF_FORMATS, formats.by_name("turtle"), params=params)


def _protocol_request() -> tuple[str | None, MultiDict]:
    """The query and the parameters that come with it, as the SPARQL 1.1 Protocol passes them."""
    if request.method in ("GET", "HEAD"):  # Flask answers HEAD with the GET view, without the body
        params, query = request.args, request.args.get("query")
    elif request.mimetype == "application/sparql-query":
        params, query = request.args, _decoded(_read_body(current_app.config["MAX_QUERY_BYTES"]))
    elif request.mimetype in FORM_ENCODINGS:
        body = _read_body(FORM_BYTES_PER_QUERY_BYTE * current_app.config["MAX_QUERY_BYTES"] + FORM_OTHER_FIELDS_BYTES)
        _, params, _ = FormDataParser().parse(BytesIO(body), request.mimetype, len(body), request.mimetype_params)
        query = params.get("query")
    elif request.mimetype == "application/sparql-update":
        raise Forbidden(UPDATE_REFUSED)
    else:
        raise UnsupportedMediaType("POST a query as application/sparql-query or as the form field 'query'")
    if "update" in params:
        raise Forbidden(UPDATE_REFUSED)
    if query is None and request.method == "POST":
        raise BadRequest("no query: POST one as application/sparql-query or as the form field 'query'")
    if query is not None:
        _refuse_if_too_large(len(query.encode()))
    return query, params


def _read_body(limit: int) -> bytes:
    """The whole request body, at most ``limit`` bytes (413 past it), refused with 400 if the client sent it
    badly: a broken chunked encoding, or fewer bytes than its Content-Length announced."""
    try:
        body = request.stream.read(limit + 1)  # never more than the limit into memory
    except (ParseException, OSError) as error:
        raise BadRequest(f"the request body could not be read: {error or type(error).__name__}") from None
    if len(body) > limit:
        raise RequestEntityTooLarge(f"the request body is longer than the limit of {limit} bytes")
    if request.content_length is not None and len(body) < request.content_length:
        raise BadRequest(f"the request body ended after {len(body)} of the {request.content_length} bytes "
                         "its Content-Length announced")
    return body


def _decoded(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"the query is not UTF-8: {error}") from None


def _refuse_if_too_large(size: int) -> None:
    limit = current_app.config["MAX_QUERY_BYTES"]
    if size > limit:
        raise RequestEntityTooLarge(f"the query is longer than the limit of {limit} bytes")


def _graph_iris(params: MultiDict, name: str) -> list[str]:
    iris = params.getlist(name)
    for iri in iris:
        try:
            NamedNode(iri)
        except ValueError as error:
            raise BadRequest(f"{name}: {error}") from None
    return iris


def _service_description() -> Response:
    """The SPARQL service description for programs; the query page for browsers."""
    html = formats.by_name("html")
    fmt = choose((*formats.RDF_FORMATS, html), formats.by_name("turtle"))
    if fmt is html:
        return render_page()
    return Response(serialize(_service_triples(), format=fmt.rdf, prefixes={"sd": SD.base}), mimetype=fmt.media_type)


def _service_triples() -> list[Triple]:
    service, dataset = SPARQL_ENDPOINT, ids.DATASET
    triples = [
        Triple(service, RDF.type, SD.Service),
        Triple(service, SD.endpoint, SPARQL_ENDPOINT),
        Triple(service, SD.supportedLanguage, SD.SPARQL11Query),
        Triple(service, SD.feature, SD.UnionDefaultGraph),
        Triple(service, SD.defaultDataset, dataset),
        Triple(dataset, RDF.type, SD.Dataset),
    ]
    if current_app.config["SERVICE_ALLOWLIST"]:
        triples.append(Triple(service, SD.feature, SD.BasicFederatedQuery))
    triples += [Triple(service, SD.resultFormat, NamedNode((fmt.rdf or fmt.results).iri))
                for fmt in (*formats.RESULTS_FORMATS, *formats.RDF_FORMATS)]
    for name in sorted(get_store().named_graphs(), key=str):
        graph = BlankNode()
        triples += [Triple(dataset, SD.namedGraph, graph), Triple(graph, RDF.type, SD.NamedGraph),
                    Triple(graph, SD.name, name)]
    return triples


@bp.errorhandler(HTTPException)
def _plain_text_error(error: HTTPException) -> Response:
    """Errors as one line of text, for the programs that call the endpoint (with Retry-After where it applies)."""
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return Response(f"{error.code} {error.name}: {error.description}\n", status=error.code, mimetype="text/plain",
                    headers=headers)


@bp.after_request
def _vary_and_cross_origin_headers(response: Response) -> Response:
    response.vary.add("Accept")  # the same URL answers in the format the Accept header asks for
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
