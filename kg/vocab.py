"""Namespaces. Our own terms are read from ontology/soles.ttl, the only place they are spelled.

``SOL.Allegation`` gives the NamedNode of a declared term; a name the ontology does not declare
raises AttributeError, so a typo fails at the line that makes it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pyoxigraph import NamedNode, RdfFormat, parse

from kg.paths import ONTOLOGY_FILE


class Namespace:
    """An open namespace of a vocabulary we use but do not own."""

    def __init__(self, base: str):
        self.base = base

    def __getattr__(self, name: str) -> NamedNode:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._kept(name, NamedNode(self.base + name))

    def __getitem__(self, name: str) -> NamedNode:
        return NamedNode(self.base + name)

    def _kept(self, name: str, term: NamedNode) -> NamedNode:
        """``term``, kept as the attribute ``name`` (which it is not yet, or this would not run): the next
        ``namespace.name`` is an ordinary lookup. A page reads the same terms a hundred times, and making one
        took 1.7 µs (a lookup that fails first, a check and a new NamedNode)."""
        setattr(self, name, term)
        return term


class ClosedNamespace(Namespace):
    """A namespace whose terms are exactly those an ontology declares."""

    def __init__(self, base: str, terms: frozenset[str]):
        super().__init__(base)
        self.terms = terms

    def __getattr__(self, name: str) -> NamedNode:
        return self._kept(name, self[name])

    def __getitem__(self, name: str) -> NamedNode:
        if name not in self.terms:
            raise AttributeError(f"{name!r} is not a term of {self.base}")
        return NamedNode(self.base + name)


RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")
VOID = Namespace("http://rdfs.org/ns/void#")
VANN = Namespace("http://purl.org/vocab/vann/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
WIKIDATA_ENTITY = Namespace("http://www.wikidata.org/entity/")

STANDARD_PREFIXES = {
    "rdf": RDF.base,
    "rdfs": RDFS.base,
    "owl": OWL.base,
    "xsd": XSD.base,
    "prov": PROV.base,
    "skos": SKOS.base,
    "dcterms": DCTERMS.base,
    "foaf": FOAF.base,
    "schema": SCHEMA.base,
    "wd": WIKIDATA_ENTITY.base,
    "void": VOID.base,
}


@cache
def ontology_namespace(path: Path = ONTOLOGY_FILE) -> ClosedNamespace:
    """The ``sol:`` namespace, its base and terms read from the ontology file."""
    base = None
    subjects = set()
    for triple in parse(path=str(path), format=RdfFormat.TURTLE):
        if triple.predicate == VANN.preferredNamespaceUri:
            base = triple.object.value
        if isinstance(triple.subject, NamedNode):
            subjects.add(triple.subject.value)
    if base is None:
        raise ValueError(f"{path}: the ontology declares no vann:preferredNamespaceUri")
    terms = frozenset(iri[len(base):] for iri in subjects if iri.startswith(base))
    return ClosedNamespace(base, terms)


SOL = ontology_namespace()
VOCABULARY_PREFIXES = {"sol": SOL.base, **STANDARD_PREFIXES}  # the vocabularies our graph uses
