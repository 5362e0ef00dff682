"""Every IRI of ours dereferences here: /<path> as a page for people, or as RDF for programs (its twins).

The first kind of page whose class the resource belongs to decides its page (server.pages.actor, ...).
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect

from kg import formats, ids
from server.http import HTML, choose, split_suffix, twins_of, with_alternates
from server.pages import actor, allegation, attribution, event, graph, jsonld, other, place, source
from server.pages.lists import subjects
from server.pages.ontology import ONTOLOGY_PATH
from server.pages.render import render_page
from server.pages.resources import Resource, describe, is_mentioned, last_segment

bp = Blueprint("dereference", __name__)

RDF_TWINS = tuple(formats.by_name(name) for name in ("turtle", "jsonld", "ntriples", "rdfxml"))
PAGE_FORMATS = (HTML, *RDF_TWINS)
PAGE_KINDS = (actor.PAGE, allegation.PAGE, attribution.PAGE, event.PAGE, source.PAGE, place.PAGE, graph.PAGE)


@bp.get("/<path:path>")
def resource_page(path: str):
    path, suffix = split_suffix(path)
    if path.startswith(ONTOLOGY_PATH + "/"):  # the ontology's version IRI
        return redirect("/" + ONTOLOGY_PATH, code=303)
    iri = ids.BASE + path
    try:
        resource = Resource.load(iri)
    except ValueError:  # not even an IRI
        return not_found(iri)
    if not resource.terms and not is_mentioned(iri):
        return not_found(iri)
    fmt = choose(PAGE_FORMATS, HTML, suffix)
    twins = twins_of(path, PAGE_FORMATS)
    if fmt is HTML:
        response = Response(render_resource(resource, twins), mimetype=HTML.media_type)
    else:
        response = Response(jsonld.serialized(describe(iri), fmt), mimetype=fmt.media_type)
    return with_alternates(response, [(twin.media_type, href) for twin, href in twins])


def render_resource(resource: Resource, twins: list) -> str:
    kind = next((kind for kind in PAGE_KINDS if resource.is_a(kind.cls)), other.PAGE)
    graphs = subjects("GRAPH ?item { ?this ?p ?o }", resource.ref.iri, indexed="recorded-in")
    return render_page(kind.template, twins=twins, resource=resource, recorded_in=graphs, **kind.context(resource))


def not_found(iri: str) -> tuple[str, int]:
    return render_page("not_found.html", iri=iri, guess=last_segment(iri).replace("-", " ")), 404
