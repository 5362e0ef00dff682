"""RDF as compact JSON-LD: an ``@context`` naming our prefixes, and a node per subject that uses them.

pyoxigraph writes JSON-LD expanded, every IRI in full and no ``@context``; a reader then cannot tell
``sol:accused`` at a glance, and a JSON-LD processor that compacts the document has no prefixes to use.
"""

from __future__ import annotations

import json

from pyoxigraph import BlankNode, Literal, NamedNode, serialize

from kg import formats, ids
from kg.vocab import RDF, XSD
from server.pages.resources import compact

JSONLD = formats.by_name("jsonld")


def serialized(triples, fmt: formats.Format) -> bytes | str:
    """``triples`` in the RDF format ``fmt``, with our prefixes: JSON-LD as ``document`` writes it."""
    if fmt is JSONLD:
        return document(triples)
    return serialize(triples, format=fmt.rdf, prefixes=ids.PREFIXES)


def document(triples) -> str:
    """``triples`` as a JSON-LD document: ``@context`` (our prefixes) and ``@graph`` (a node per subject,
    in IRI order), every IRI compacted with the prefixes; reads back as the same graph. On one line: indented,
    json.dumps writes in Python, not C (a hub's dossier took half a second to write)."""
    compacted: dict[str, str] = {}  # a document names the same properties, classes and resources again and again

    def short(iri: str) -> str:
        found = compacted.get(iri)
        if found is None:
            found = compacted[iri] = compact(iri)
        return found

    def name(term: NamedNode | BlankNode) -> str:
        return f"_:{term.value}" if isinstance(term, BlankNode) else short(term.value)

    def value(term) -> dict:
        if not isinstance(term, Literal):
            return {"@id": name(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype == XSD.string:
            return {"@value": term.value}
        return {"@value": term.value, "@type": short(term.datatype.value)}

    nodes: dict[str, dict] = {}
    for triple in triples:
        subject = name(triple.subject)
        node = nodes.setdefault(subject, {"@id": subject})
        if triple.predicate == RDF.type and isinstance(triple.object, NamedNode):
            node.setdefault("@type", []).append(short(triple.object.value))
        else:
            node.setdefault(short(triple.predicate.value), []).append(value(triple.object))
    graph = [nodes[subject] for subject in sorted(nodes)]
    return json.dumps({"@context": dict(ids.PREFIXES), "@graph": graph}, ensure_ascii=False)
