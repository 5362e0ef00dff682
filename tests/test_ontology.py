"""The ontology: complete documentation, the terms the design names, and the namespace module."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg.paths import ONTOLOGY_FILE, SHAPES_FILE
from kg.vocab import SOL, Namespace, ontology_namespace

NS = rdflib.Namespace(SOL.base)

REQUIRED_CLASSES = ["Actor", "Person", "Organization", "Group", "Place", "Allegation", "Attribution", "Stance",
                    "Source", "Event"]
REQUIRED_PROPERTIES = ["accused", "involves", "allegationType", "allegation", "claimant", "stance", "source",
                       "quote", "place", "date", "startDate", "endDate", "status"]
REQUIRED_STATUSES = ["Alleged", "Reported", "Charged", "Sanctioned", "PleadedGuilty", "Convicted", "Acquitted"]


def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(data=ONTOLOGY_FILE.read_text(encoding="utf-8"), format="turtle")


def test_every_term_has_an_english_label_and_comment():
    graph = ontology()
    terms = {s for s in graph.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(SOL.base)}
    assert len(terms) > 50
    undocumented = [
        str(term) for term in terms
        for prop in (RDFS.label, RDFS.comment)
        if not any(getattr(o, "language", None) == "en" for o in graph.objects(term, prop))
    ]
    assert undocumented == []


def test_ontology_header_has_version_licence_label_and_comment():
    graph = ontology()
    (header,) = graph.subjects(RDF.type, OWL.Ontology)
    for prop in (OWL.versionIRI, rdflib.DCTERMS.license, RDFS.label, RDFS.comment):
        assert graph.value(header, prop) is not None, prop


def test_design_terms_exist_with_their_alignments():
    graph = ontology()
    for name in REQUIRED_CLASSES:
        assert (NS[name], RDF.type, OWL.Class) in graph, name
    for name in REQUIRED_PROPERTIES:
        assert set(graph.objects(NS[name], RDF.type)) & {OWL.ObjectProperty, OWL.DatatypeProperty}, name
    for name in REQUIRED_STATUSES:
        assert (NS[name], SKOS.inScheme, NS.AllegationStatusScheme) in graph, name
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert (NS.Actor, RDFS.subClassOf, prov.Agent) in graph
    assert (NS.Allegation, RDFS.subClassOf, prov.Entity) in graph
    assert (NS.claimant, RDFS.subPropertyOf, prov.wasAttributedTo) in graph
    assert (NS.source, RDFS.subPropertyOf, prov.wasDerivedFrom) in graph
    assert {NS.Asserts, NS.Denies} <= set(graph.subjects(RDF.type, NS.Stance))


def test_namespace_module_is_closed_over_the_ontology_terms():
    graph = ontology()
    declared = {str(s)[len(SOL.base):] for s in graph.subjects() if str(s).startswith(SOL.base)}
    assert set(ontology_namespace().terms) == declared
    assert SOL.Allegation.value == SOL.base + "Allegation"
    try:
        SOL.Alegation  # noqa: B018 - a typo must fail where it is made
    except AttributeError as error:
        assert "Alegation" in str(error)
    else:
        raise AssertionError("a misspelt term was accepted")


def test_a_term_read_twice_is_the_term_made_once_and_a_misspelt_one_fails_every_time(tmp_path):
    ontology_file = tmp_path / "small.ttl"
    ontology_file.write_text("@prefix vann: <http://purl.org/vocab/vann/> .\n"
                             "<https://example.org/o#> vann:preferredNamespaceUri \"https://example.org/o#\" .\n"
                             "<https://example.org/o#Thing> a <http://www.w3.org/2002/07/owl#Class> .\n", encoding="utf-8")
    namespace = ontology_namespace(ontology_file)
    first = namespace.Thing
    assert first.value == "https://example.org/o#Thing" and namespace.Thing is first  # kept after the first read
    assert namespace["Thing"] == first and namespace.base == "https://example.org/o#"
    for _ in range(2):
        with pytest.raises(AttributeError, match="'Thng' is not a term"):
            namespace.Thng  # noqa: B018
        with pytest.raises(AttributeError, match="'base' is not a term"):
            namespace["base"]  # an attribute of the namespace, not a term of it
    open_namespace = Namespace("https://example.org/open#")
    assert open_namespace.anything is open_namespace.anything
    assert open_namespace["base"].value == "https://example.org/open#base" and open_namespace.base == "https://example.org/open#"


def test_shapes_document_themselves_and_use_only_declared_terms():
    shapes = rdflib.Graph().parse(data=SHAPES_FILE.read_text(encoding="utf-8"), format="turtle")
    used = {str(t)[len(SOL.base):] for triple in shapes for t in triple if str(t).startswith(SOL.base)}
    assert used <= set(ontology_namespace().terms)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    for shape in shapes.subjects(RDF.type, sh.NodeShape):
        assert shapes.value(shape, RDFS.label) is not None, shape
