"""The Reconciliation Service API, version 0.2 as OpenRefine speaks it, at /reconcile: match a spreadsheet's names
against the actors and places of the record, suggest names, types and properties as one types, preview an entity,
and extend matched rows with what the record says of them.

Every answer comes from the build's reconciliation index (kg.reconciliation); a request runs no SPARQL. Ids are
``kind:slug`` (``person:nicolas-maduro``, ids.curie), without the slashes that break OpenRefine's links. Every
response under /reconcile is open to other origins (CORS), errors included; JSON answers to GET requests come
wrapped in the function a ``callback`` parameter names (JSONP), as older OpenRefine asks. Client mistakes are
answered 400 with a JSON object saying what is wrong.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, redirect, render_template, request
from werkzeug.exceptions import HTTPException

from kg import ids
from kg.reconciliation import (
    ACTOR_TYPES,
    MATCHED_PROPERTIES,
    PROPERTIES,
    PROPERTY_IDS,
    RECONCILIATION_INDEX,
    TYPES,
    Candidate,
    Entity,
    Query,
    ReconciliationIndex,
    prefix_matches,
    type_named,
    wanted_values,
)
from server.http import open_to_other_origins
from server.release import current_release, get_manifest

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")

PREFIX = "/reconcile"
VERSIONS = ("0.2",)
MAX_QUERIES = 100  # queries in one batch (OpenRefine sends 10 at a time)
MAX_QUERY_LENGTH = 500  # characters of one name to match
MAX_PROPERTIES = 20  # property values given with one query
MAX_EXTEND_IDS = 1000  # rows extended by one request
# Bytes of a request body (a form): a full batch or extension fits several times over. werkzeug bounds a url-encoded
# form by this alone (from 3.1.9 it no longer applies MAX_FORM_MEMORY_SIZE to one).
MAX_BODY_BYTES = 500_000
DEFAULT_LIMIT, MAX_LIMIT = 5, 50  # candidates per query
SUGGESTIONS, MAX_SUGGESTIONS = 10, 50
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 320
WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$")  # a JavaScript name, nothing to run
TYPE_STRICT = ("any", "should", "all")
WIKIDATA_SERVICE = "https://wikidata.reconci.link/en/api"  # OpenRefine's own Wikidata service
# The preview is made to be framed by OpenRefine, on any origin; it loads nothing and runs nothing.
PREVIEW_POLICY = ("default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *")
EXTEND_SETTINGS = ({"name": "limit", "label": "Limit", "type": "number", "default": 0,
                    "help_text": "The most values to fetch for each row (0: all of them)"},)


# ---------------------------------------------------------------- HTTP rules of the service


@bp.after_app_request
def _cross_origin(response: Response) -> Response:
    """Every response under /reconcile, routing errors and preflights included, is open to other origins."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        return open_to_other_origins(response)
    return response


@bp.before_request
def _bounded_body() -> None:
    """413 for a body over MAX_BODY_BYTES: at once when its Content-Length says so (werkzeug then reads no more
    than that), else (a chunked body) once a byte past the limit is read. werkzeug would cut a chunked form off at
    the limit and parse what it read as if it were whole."""
    size = request.content_length
    if size is None:
        request.max_content_length = MAX_BODY_BYTES + 1
        size = len(request.get_data(cache=True))  # the form is parsed from what is kept here
    if size > MAX_BODY_BYTES:
        abort(413, f"the request body is longer than the limit of {MAX_BODY_BYTES} bytes")


@bp.errorhandler(HTTPException)
def _json_error(error: HTTPException) -> Response:
    """Errors as a JSON object: the status, its name, and what was wrong."""
    body = {"status": error.code, "error": error.name, "message": error.description}
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    return Response(json.dumps(body, ensure_ascii=False), status=error.code, mimetype="application/json",
                    headers=headers)


def answer(data) -> Response:
    """``data`` as JSON, or as a call of the function ``callback`` names when a GET request gives one (JSONP)."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback is None:
        return Response(text, mimetype="application/json")
    if not CALLBACK.match(callback) or len(callback) > 100:
        abort(400, "callback must be a JavaScript function name (letters, digits, _ and $, dotted)")
    return Response(f"/**/{callback}({text});", mimetype="application/javascript")


def index() -> ReconciliationIndex:
    path = current_release().path / RECONCILIATION_INDEX
    if not path.is_file():
        abort(503, "this build has no reconciliation index; run 'kg build' again")
    return ReconciliationIndex(path)


def service_url() -> str:
    """This server's address as the client reached it, for the addresses the manifest gives."""
    return request.host_url.rstrip("/")


def whole_number(name: str, value) -> int:
    """``value`` (a number or its digits) as an int; 400 naming ``name`` if it is no whole number from 0."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if not isinstance(value, str) or not WHOLE_NUMBER.match(value):
        abort(400, f"{name} must be a whole number from 0, not {str(value)[:40]!r}")
    return int(value)


def bounded_number(name: str, default: int, most: int) -> int:
    """The integer parameter ``name`` (``default`` if absent), at most ``most``; 400 if it is none or negative."""
    text = request.args.get(name)
    return default if text is None else min(whole_number(name, text), most)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parsed_json(name: str, text: str):
    """The JSON ``text`` of the parameter ``name``; 400 if it is not JSON (NaN and Infinity are not), or nests
    deeper than the parser can follow."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        abort(400, f"{name} is not valid JSON: {str(error)[:200]}")


# ---------------------------------------------------------------- the endpoint: manifest, reconciliation, extension


@bp.route("", methods=["GET", "POST"])
def endpoint():
    """The manifest (GET with no parameters), or the answer to ``queries`` or ``extend`` (GET or POST form)."""
    given = [name for name in ("queries", "extend") if name in request.values]
    if len(given) > 1:
        abort(400, "give either queries or extend, not both")
    if not given:
        if request.method == "POST":
            abort(400, "a POST needs a form field queries (a JSON object of queries) or extend")
        return answer(manifest())
    if given == ["queries"]:
        return answer(reconciled(parsed_batch(request.values["queries"])))
    return answer(extended(*parsed_extension(request.values["extend"])))


def manifest() -> dict:
    base = service_url()
    service = {"service_url": base}
    return {
        "versions": VERSIONS,
        "name": f"{get_manifest()['dataset']['title']}: actors and places",
        "identifierSpace": ids.ENTITY_BASE,
        "schemaSpace": ids.PREFIXES["sol"],
        "defaultTypes": [{"id": entity_type.id, "name": entity_type.name} for entity_type in TYPES],
        "view": {"url": f"{base}{PREFIX}/view/{{{{id}}}}"},
        "preview": {"url": f"{base}{PREFIX}/preview?id={{{{id}}}}", "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT},
        "suggest": {kind: {**service, "service_path": f"{PREFIX}/suggest/{kind}"}
                    for kind in ("entity", "type", "property")},
        "extend": {"propose_properties": {**service, "service_path": f"{PREFIX}/propose_properties"},
                   "property_settings": EXTEND_SETTINGS},
        "batchSize": MAX_QUERIES,
    }


def parsed_batch(text: str) -> dict[str, tuple[Query, int]]:
    """The queries of a batch, each with its limit; 400 for anything the protocol does not allow."""
    batch = parsed_json("queries", text)
    if not isinstance(batch, dict):
        abort(400, "queries must be a JSON object of queries keyed by an id, such as {\"q0\": {\"query\": \"...\"}}")
    if len(batch) > MAX_QUERIES:
        abort(400, f"a batch may hold at most {MAX_QUERIES} queries, not {len(batch)}")
    return {key: parsed_query(key, query) for key, query in batch.items()}


def parsed_query(key: str, query) -> tuple[Query, int]:
    if not isinstance(query, dict):
        abort(400, f"{key} must be a JSON object with a query")
    text = query.get("query", "")
    if not isinstance(text, str):
        abort(400, f"{key}.query must be a string")
    if len(text) > MAX_QUERY_LENGTH:
        abort(400, f"{key}.query has {len(text)} characters; at most {MAX_QUERY_LENGTH} are matched")
    properties = parsed_properties(key, query.get("properties", []))
    if not text.strip() and not properties:
        abort(400, f"{key} needs a query or properties to match")
    if query.get("type_strict", "any") not in TYPE_STRICT:
        abort(400, f"{key}.type_strict must be one of {', '.join(TYPE_STRICT)}")
    limit = query.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 1:
        abort(400, f"{key}.limit must be a number from 1")
    return Query(text, parsed_types(key, query.get("type", [])), properties), int(min(limit, MAX_LIMIT))


def parsed_types(key: str, given) -> tuple[str, ...]:
    """The type ids a query asks for (one or a list), each known; none asks for every type."""
    given = [given] if isinstance(given, str) else given
    if not isinstance(given, list) or not all(isinstance(name, str) for name in given):
        abort(400, f"{key}.type must be a type id or a list of them")
    found = [type_named(name) for name in given if name]
    if None in found:
        abort(400, f"{key}.type: unknown type; the types are {', '.join(entity_type.id for entity_type in TYPES)}")
    return tuple(dict.fromkeys(entity_type.id for entity_type in found))


def parsed_properties(key: str, given) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(given, list) or len(given) > MAX_PROPERTIES:
        abort(400, f"{key}.properties must be a list of at most {MAX_PROPERTIES} {{pid, v}} objects")
    found: dict[str, list[str]] = {}
    for position, item in enumerate(given):
        where = f"{key}.properties[{position}]"
        if not isinstance(item, dict) or not isinstance(item.get("pid"), str) or "v" not in item:
            abort(400, f"{where} must be an object with pid and v")
        pid = item["pid"]
        if pid not in MATCHED_PROPERTIES:
            abort(400, f"{where}.pid: {pid[:40]!r} cannot be matched on; "
                       f"the properties matched on are {', '.join(MATCHED_PROPERTIES)}")
        found.setdefault(pid, []).extend(property_texts(where, item["v"], names=pid != "wikidata"))
    properties = []
    for pid, texts in found.items():
        wanted = wanted_values(pid, texts)
        if wanted is None:
            abort(400, f"{key}: a value of wikidata is not a Wikidata id such as Q58132")
        properties.append((pid, wanted))
    return tuple(properties)


def property_texts(where: str, value, names: bool) -> list[str]:
    """The texts a property value stands for: a string, number or boolean; an entity's id (and its name, with
    ``names``); a list of them."""
    values = value if isinstance(value, list) else [value]
    texts = []
    for single in values:
        if isinstance(single, dict) and isinstance(single.get("id"), str):
            texts += [single["id"], *([single["name"]] if names and isinstance(single.get("name"), str) else [])]
        elif isinstance(single, (str, int, float)):
            texts.append(str(single).lower() if isinstance(single, bool) else str(single))
        else:
            abort(400, f"{where}.v must be a string, number, boolean, {{id, name}} object or a list of them")
    if sum(map(len, texts)) > MAX_QUERY_LENGTH:
        abort(400, f"{where}.v is longer than {MAX_QUERY_LENGTH} characters")
    return texts


def reconciled(batch: dict[str, tuple[Query, int]]) -> dict:
    with index() as found:
        return {key: {"result": [candidate_json(candidate) for candidate in found.reconcile(query, limit)]}
                for key, (query, limit) in batch.items()}


def entity_type_json(entity: Entity) -> dict:
    return {"id": entity.type, "name": entity.entity_type.name}


def candidate_json(candidate: Candidate) -> dict:
    entity = candidate.entity
    found = {"id": entity.id, "name": entity.name, "type": [entity_type_json(entity)], "score": candidate.score,
             "match": candidate.match,
             "features": [{"id": name, "value": value} for name, value in candidate.features.items()]}
    if entity.record["description"]:
        found["description"] = entity.record["description"]
    return found


def parsed_extension(text: str) -> tuple[list[str], list[tuple[str, int]]]:
    """The ids and (property, most values) of an extension request; 400 for anything else."""
    request_body = parsed_json("extend", text)
    if not isinstance(request_body, dict) or not isinstance(request_body.get("ids"), list) \
            or not isinstance(request_body.get("properties"), list):
        abort(400, "extend must be a JSON object with ids (a list of ids) and properties (a list of {id})")
    wanted_ids, properties = request_body["ids"], request_body["properties"]
    if len(wanted_ids) > MAX_EXTEND_IDS or not all(isinstance(wanted, str) for wanted in wanted_ids):
        abort(400, f"extend.ids must be a list of at most {MAX_EXTEND_IDS} ids (strings)")
    if len(properties) > len(PROPERTIES):
        abort(400, f"extend.properties may name each of the {len(PROPERTIES)} properties once")
    parsed = []
    for position, prop in enumerate(properties):
        where = f"extend.properties[{position}]"
        if not isinstance(prop, dict) or prop.get("id") not in PROPERTY_IDS:
            abort(400, f"{where} must be an object whose id is one of {', '.join(PROPERTY_IDS)}")
        settings = prop.get("settings") or {}
        if not isinstance(settings, dict):
            abort(400, f"{where}.settings must be an object")
        parsed.append((prop["id"], whole_number(f"{where}.settings.limit", settings.get("limit", 0))))
    return wanted_ids, parsed


def property_meta(property_id: str) -> dict:
    prop = next(prop for prop in PROPERTIES if prop.id == property_id)
    meta = {"id": prop.id, "name": prop.name}
    if property_id == "wikidata":
        meta["service"] = WIKIDATA_SERVICE  # its values are Wikidata's ids, reconciled against Wikidata
    elif property_id == "country":
        meta["type"] = {"id": "Place", "name": "Place"}
    return meta


def cell(property_id: str, value) -> dict:
    """One value as data extension writes it: an entity (``id``, ``name``), a number or a string."""
    if property_id == "wikidata":
        return {"id": value, "name": value}
    if isinstance(value, dict):
        return {"id": value["id"], "name": value["name"]}
    return {"int": value} if isinstance(value, int) else {"str": value}


def extended(wanted_ids: list[str], properties: list[tuple[str, int]]) -> dict:
    with index() as found:
        entities = found.entities(list(dict.fromkeys(wanted_ids)))
    rows = {}
    for wanted in wanted_ids:
        entity = entities.get(wanted)
        rows[wanted] = {property_id: [cell(property_id, value)
                                      for value in (entity.values(property_id) if entity else [])][:limit or None]
                        for property_id, limit in properties}
    return {"meta": [property_meta(property_id) for property_id, _ in properties], "rows": rows}


# ---------------------------------------------------------------- suggest, property proposals, preview, view


def requested_types() -> tuple[str, ...]:
    given = request.args.get("type")
    return parsed_types("type", given) if given else ()


@bp.get("/suggest/entity")
def suggest_entity():
    prefix = request.args.get("prefix", "")
    if len(prefix) > MAX_QUERY_LENGTH:
        abort(400, f"prefix has {len(prefix)} characters; at most {MAX_QUERY_LENGTH}")
    offset, limit = bounded_number("cursor", 0, 10**6), bounded_number("limit", SUGGESTIONS, MAX_SUGGESTIONS)
    with index() as found:
        entities = found.suggest(prefix, requested_types(), offset, limit)
    return answer({"result": [{"id": entity.id, "name": entity.name, "notable": [entity_type_json(entity)],
                               **({"description": entity.record["description"]} if entity.record["description"]
                                  else {})}
                              for entity in entities]})


def suggested(items, texts_of) -> list:
    """The ``items`` whose texts match the ``prefix`` parameter, a page of them from ``cursor``."""
    prefix = request.args.get("prefix", "")[:MAX_QUERY_LENGTH]
    offset, limit = bounded_number("cursor", 0, 10**6), bounded_number("limit", SUGGESTIONS, MAX_SUGGESTIONS)
    return [item for item in items if prefix_matches(prefix, texts_of(item))][offset:offset + limit]


@bp.get("/suggest/type")
def suggest_type():
    return answer({"result": [{"id": entity_type.id, "name": entity_type.name, "description": entity_type.description}
                              for entity_type in suggested(TYPES, lambda t: (t.id, t.name))]})


@bp.get("/suggest/property")
def suggest_property():
    return answer({"result": [{"id": prop.id, "name": prop.name, "description": prop.description}
                              for prop in suggested(PROPERTIES, lambda p: (p.id.replace("_", " "), p.name))]})


@bp.get("/propose_properties")
def propose_properties():
    given = request.args.get("type")
    types = parsed_types("type", given) if given else ()
    limit = bounded_number("limit", len(PROPERTIES), len(PROPERTIES))
    proposed = [{"id": prop.id, "name": prop.name, "description": prop.description} for prop in PROPERTIES
                if not types or set(types) & set(prop.types)][:limit]
    return answer({**({"type": types[0]} if types else {}), "limit": limit, "properties": proposed})


def requested_entity(wanted: str) -> Entity:
    if ids.from_curie(wanted) is None:
        abort(400, "id must be the id of an actor or place, such as person:nicolas-maduro")
    with index() as found:
        entity = found.entities([wanted]).get(wanted)
    if entity is None:
        abort(404, f"no actor or place has the id {wanted}")
    return entity


@bp.get("/preview")
def preview():
    """A small HTML card of an entity, for OpenRefine to show in a frame: nothing loaded, nothing run."""
    entity = requested_entity(request.args.get("id", ""))
    page = render_template("reconcile_preview.html", entity=entity, record=entity.record,
                           url=f"/{ids.local_path(entity.record['iri'])}", actor=entity.type in ACTOR_TYPES)
    response = Response(page, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


@bp.get("/view/<id>")
def view(id: str):
    """The page of an entity, for the view links of OpenRefine (whose ids have no slashes)."""
    return redirect(f"/{ids.local_path(requested_entity(id).record['iri'])}", code=303)


@bp.route("/<path:rest>", methods=["GET", "POST"])
def unknown(rest: str):
    abort(404, f"{PREFIX}/{rest} is not part of the reconciliation service; the manifest at {PREFIX} lists its parts")
