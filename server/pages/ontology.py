"""The ontology at /ontology: a page documenting every term, and the ontology files the build wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from flask import Blueprint, Response

from kg import formats, ids
from kg.vocab import SOL
from server.http import HTML, choose, with_alternates
from server.pages import schema_org
from server.pages.render import made_once_per_release, render_page
from server.pages.resources import Ref, Resource, compact, reading_order, select
from server.release import current_release

bp = Blueprint("ontology", __name__)

ONTOLOGY_PATH = ids.local_path(ids.ONTOLOGY_GRAPH.value)
# suffix -> format of the ontology files every build writes
ONTOLOGY_FILES = MappingProxyType({"ttl": formats.by_name("turtle"), "owl": formats.by_name("rdfxml")})
SECTIONS = (  # (kind of term, heading), in page order
    ("owl:Class", "Classes"),
    ("owl:ObjectProperty", "Object properties"),
    ("owl:DatatypeProperty", "Datatype properties"),
    ("skos:ConceptScheme", "Concept schemes"),
    ("skos:Concept", "Concepts"),
    ("owl:NamedIndividual", "Individuals"),
)
RELATION_NAMES = (
    ("rdf:type", "type"), ("rdfs:subClassOf", "subclass of"), ("rdfs:subPropertyOf", "subproperty of"),
    ("rdfs:domain", "domain"), ("rdfs:range", "range"), ("owl:disjointWith", "disjoint with"),
    ("skos:inScheme", "in scheme"), ("rdfs:seeAlso", "see also"),
)


@dataclass
class Term:
    ref: Ref
    anchor: str
    comment: str | None
    relations: dict[str, list[Ref]] = field(default_factory=dict)


@bp.get("/" + ONTOLOGY_PATH)
def ontology():
    twins = [(HTML, "/" + ONTOLOGY_PATH)] + [(fmt, f"/{ONTOLOGY_PATH}.{suffix}")
                                             for suffix, fmt in ONTOLOGY_FILES.items()]
    fmt = choose((HTML, *ONTOLOGY_FILES.values()), HTML)
    if fmt is HTML:
        response = Response(made_once_per_release("ontology_page", lambda: ontology_page(twins)),
                            mimetype=HTML.media_type)
    else:
        suffix = next(suffix for suffix, file_format in ONTOLOGY_FILES.items() if file_format is fmt)
        response = ontology_file(suffix)
    return with_alternates(response, [(twin.media_type, href) for twin, href in twins])


def ontology_page(twins) -> str:
    metadata = Resource.load(ids.ONTOLOGY_GRAPH.value)
    json_ld = schema_org.thing(metadata, "DefinedTermSet", name=metadata.value("dcterms:title"),
                               description=metadata.value("rdfs:comment"), version=metadata.value("owl:versionInfo"))
    return render_page("ontology.html", json_ld=json_ld, twins=twins, ontology=metadata, namespace=SOL.base,
                       sections=sections())


@bp.get(f"/{ONTOLOGY_PATH}.<any({', '.join(ONTOLOGY_FILES)}):suffix>")
def ontology_file(suffix: str):
    """An ontology file of the build, as it was written (the Turtle keeps its comments)."""
    path = current_release().path / f"{ONTOLOGY_PATH}.{suffix}"
    return Response(path.read_bytes(), mimetype=ONTOLOGY_FILES[suffix].media_type)


def sections() -> list[tuple[str, list[Term]]]:
    """The ontology's terms, kind by kind, each with what it means and how it relates to other terms."""
    ontology = ids.ONTOLOGY_GRAPH.value
    terms: dict[str, Term] = {}
    kinds: dict[str, str] = {}
    for row in select("ontology-terms", this=ontology):
        kinds.setdefault(row["term"].iri, compact(row["kind"].iri))
        terms[row["term"].iri] = Term(row["term"], row["term"].iri[len(SOL.base):], row["comment"])
    names = dict(RELATION_NAMES)
    for row in select("ontology-relations", this=ontology):
        term, relation, target = terms.get(row["term"].iri), compact(row["relation"].iri), row["target"]
        restates_kind = relation == "rdf:type" and compact(target.iri) == kinds.get(row["term"].iri)
        if term is not None and not restates_kind:
            term.relations.setdefault(names[relation], []).append(target)
    for term in terms.values():
        term.relations = {name: sorted(set(term.relations[name]), key=reading_order)
                          for _, name in RELATION_NAMES if name in term.relations}
    return [(heading, sorted((terms[iri] for iri, kind in kinds.items() if kind == section),
                             key=lambda term: term.anchor))
            for section, heading in SECTIONS]
