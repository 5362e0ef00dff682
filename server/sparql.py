"""The read-only SPARQL 1.1 endpoint at /sparql: queries by GET and POST, results in every format.

Queries run on this request's engine (server.engines): killable, confined child processes (kg.sandbox)
in which the kernel stops any network connection but to an allow-listed SERVICE endpoint and caps each
query's memory, or a remote SPARQL engine. They are admitted fairly (server.admission): a bounded number
at once, a bounded share per client.

Before a query reaches the engine it is read once (server.query_shape), to answer SPARQL Update and
SERVICE calls outside the allowlist at once with a clear 403.

A GET the client already holds is answered 304 before the query is read (server.caching). With
RESULT_CACHE_BYTES set, whole results are also kept in each process, by build, query and format.
"""

from __future__ import annotations

import errno
import time
from contextlib import ExitStack
from io import BytesIO
from typing import Iterator

from flask import Blueprint, Response, current_app, request
from gunicorn.http.errors import ParseException
from pyoxigraph import BlankNode, NamedNode, Triple, serialize
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    RequestEntityTooLarge,
    UnsupportedMediaType,
    default_exceptions,
)
from werkzeug.formparser import FormDataParser

from kg import formats, ids
from kg.vocab import RDF, SD
from kg.void import SPARQL_ENDPOINT
from server.admission import Admission, Refused
from server.caching import ResultCache
from server.engines import QueryFailed, QueryJob, get_engine
from server.http import HTML, choose, open_to_other_origins
from server.query_shape import GRAPH_FORMS, MalformedQuery, QueryShape, inspect_query
from server.query_ui import render_page
from server.release import current_release, get_store, per_process

bp = Blueprint("sparql", __name__)
_ADMISSION = "soles.admission"
_RESULTS = "soles.result_cache"


@bp.record_once
def _init_app(state) -> None:
    app = state.app
    config = app.config
    app.extensions[_ADMISSION] = Admission(config["QUERY_SLOTS"], config["QUERY_SLOTS_PER_CLIENT"],
                                           config["QUERY_QUEUE_WAIT"], config["QUERY_WAITING_PER_WORKER"])
    if config["RESULT_CACHE_BYTES"] > 0:
        app.extensions[_RESULTS] = ResultCache(config["RESULT_CACHE_BYTES"], config["RESULT_CACHE_ENTRIES"])


UPDATE_REFUSED = "SPARQL Update is not allowed on this read-only endpoint"
FORM_ENCODINGS = ("application/x-www-form-urlencoded", "multipart/form-data")
FORM_BYTES_PER_QUERY_BYTE = 3  # a query's bytes, percent-encoded in a form, take up to three times as many
FORM_OTHER_FIELDS_BYTES = 16_384  # room for the protocol's other fields (graph IRIs, format)
# SPARQLWrapper, the common Python client, sends its own format names as format= (beside a right Accept
# header); for results they match ours, for a graph they are these.
CLIENT_GRAPH_FORMAT_NAMES = {"xml": "rdfxml", "rdf+xml": "rdfxml", "rdf": "rdfxml", "json": "jsonld",
                             "json-ld": "jsonld", "n3": "turtle"}


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
    job = QueryJob(query, fmt, default_graph=_graph_iris(params, "default-graph-uri"),
                   named_graphs=_graph_iris(params, "named-graph-uri"))
    if shape.services:  # its result depends on another endpoint, not on the build: no cache may keep it
        response = Response(_run_admitted(job), mimetype=fmt.media_type)
        response.cache_control.no_store = True
        return response
    return Response(_cached_or_run(job), mimetype=fmt.media_type)


def _cached_or_run(job: QueryJob) -> list[bytes] | Iterator[bytes]:
    """The job's result from the result cache, when there is one and it holds it; else run, and kept if whole."""
    results = current_app.extensions.get(_RESULTS)
    if results is None:
        return _run_admitted(job)
    key = (current_release().id, job)
    chunks = results.get(key)
    if chunks is None:
        chunks = _run_admitted(job)
        if isinstance(chunks, list):
            results.put(key, chunks, key_bytes=len(job.query))
    return chunks


def _run_admitted(job: QueryJob) -> list[bytes] | Iterator[bytes]:
    """Run the job in a query slot held until its result has been sent (or the client has gone)."""
    deadline = time.monotonic() + current_app.config["QUERY_TIMEOUT"]
    with ExitStack() as held:
        try:
            held.enter_context(current_app.extensions[_ADMISSION].slot(request.remote_addr or "", deadline))
            chunks = get_engine().run(job, deadline)
        except Refused as error:
            raise _refusal(error) from None
        except QueryFailed as error:
            if error.status >= 500 or error.status == 403:
                current_app.logger.warning("%s: %.200r", error, job.query)
            raise _http_error(error.status, str(error)) from None
        if isinstance(chunks, list):
            return chunks
        return _released_after(chunks, held.pop_all(), current_app.logger)


def _released_after(chunks: Iterator[bytes], held: ExitStack, logger) -> Iterator[bytes]:
    """The chunks, then the slot released; ``logger`` is the app's (a stream runs outside the app context)."""
    with held:
        try:
            yield from chunks
        except QueryFailed as error:
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


def _graph_iris(params: MultiDict, name: str) -> tuple[str, ...]:
    iris = params.getlist(name)
    for iri in iris:
        try:
            NamedNode(iri)
        except ValueError as error:
            raise BadRequest(f"{name}: {error}") from None
    return tuple(iris)


def _service_description() -> Response:
    """The SPARQL service description for programs; the query page for browsers."""
    fmt = choose((*formats.RDF_FORMATS, HTML), formats.by_name("turtle"))
    if fmt is HTML:
        return render_page()
    # The same for every request to a release; a big one names thousands of graphs, which take half a second
    # to write: written once per process and format.
    body = per_process(f"service description {fmt.name}",
                       lambda: serialize(_service_triples(), format=fmt.rdf, prefixes={"sd": SD.base}))
    return Response(body, mimetype=fmt.media_type)


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
    return open_to_other_origins(response)
