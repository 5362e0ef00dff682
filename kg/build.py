"""Turns checked records into quads: one named graph per source, described with PROV-O.

The output is sorted, so the same data always gives the same dumps, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from kg import ids
from kg import schema as sc
from kg.curation import Catalog, Record, SourceFile
from kg.vocab import PROV, RDF, RDFS, SOL, XSD


@dataclass
class GraphBuilder:
    """Collects quads and remembers which file and line each subject came from."""

    quads: list[Quad] = field(default_factory=list)
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    catalog: Catalog | None = None

    def add(self, subject, predicate, obj, graph) -> None:
        self.quads.append(Quad(subject, predicate, obj, graph))

    def resolve(self, registry: str, slug: str) -> NamedNode:
        if registry == "actor":
            return actor_iri(self.catalog.actors[slug])
        return ids.entity(registry, slug)

    def fields(self, subject: NamedNode, record: Record, graph: NamedNode) -> None:
        """Every field of the record that the schema maps to a predicate."""
        self.origins.setdefault(subject.value, (record.file, record.line))
        for spec in record.schema.fields:
            if spec.predicate is None or spec.name not in record.values:
                continue
            value = record.values[spec.name]
            for item in value if spec.many else [value]:
                self.add(subject, spec.predicate, spec.kind.term(item, self.resolve), graph)


def actor_iri(record: Record) -> NamedNode:
    return ids.entity(record.values["type"], record.id)


def _date_time(day: str) -> Literal:
    """PROV wants an xsd:dateTime; a curation date is taken as the start of that day, UTC."""
    padded = day + "-01" * (2 - day.count("-"))
    return Literal(f"{padded}T00:00:00Z", datatype=XSD.dateTime)


def _describe_graph(builder: GraphBuilder, graph: NamedNode, label: str, derived_from, curation: Record) -> None:
    builder.add(graph, RDF.type, SOL.SourceGraph, graph)
    builder.add(graph, RDFS.label, Literal(label, language="en"), graph)
    for source in derived_from:
        builder.add(graph, PROV.wasDerivedFrom, source, graph)
    builder.add(graph, PROV.generatedAtTime, _date_time(curation.values["curated_on"]), graph)
    for curator in curation.values["curated_by"]:
        builder.add(graph, PROV.wasAttributedTo, builder.resolve("actor", curator), graph)
    builder.origins.setdefault(graph.value, (curation.file, curation.line))


def _reference_graph(builder: GraphBuilder, catalog: Catalog) -> None:
    graph = ids.REFERENCE_GRAPH
    for record in catalog.actors.values():
        subject = actor_iri(record)
        # Superclasses are stated, not left to a reasoner, so `?x a sol:Actor` works in plain SPARQL.
        builder.add(subject, RDF.type, SOL.Actor, graph)
        builder.add(subject, RDF.type, dict(sc.ACTOR_TYPES)[record.values["type"]], graph)
        builder.fields(subject, record, graph)
    for record in catalog.places.values():
        subject = ids.entity("place", record.id)
        builder.add(subject, RDF.type, SOL.Place, graph)
        builder.add(subject, RDF.type, dict(sc.PLACE_TYPES)[record.values["type"]], graph)
        builder.fields(subject, record, graph)
    sources = [ids.entity("source", source_id) for source_id in sorted(catalog.sources)]
    _describe_graph(builder, graph, "Reference data: actors and places named by the sources", sources,
                    catalog.dataset.values["curation"])


def _source_graph(builder: GraphBuilder, sf: SourceFile) -> None:
    graph = ids.graph(sf.id)
    source = ids.entity("source", sf.id)
    builder.add(source, RDF.type, SOL.Source, graph)
    builder.add(source, RDF.type, dict(sc.SOURCE_TYPES)[sf.source.values["type"]], graph)
    builder.fields(source, sf.source, graph)
    _describe_graph(builder, graph, f"Records taken from: {sf.source.values['title']}", [source], sf.curation)

    for record in sf.allegations:
        subject = ids.entity("allegation", record.id)
        builder.add(subject, RDF.type, SOL.Allegation, graph)
        builder.fields(subject, record, graph)
    for record in sf.events:
        subject = ids.entity("event", record.id)
        builder.add(subject, RDF.type, SOL.Event, graph)
        builder.add(subject, SOL.source, source, graph)
        builder.fields(subject, record, graph)
    for allegation_id, record in sf.attributions:
        claimant = builder.catalog.actors[record.values["claimant"]]
        stance = record.values["stance"]
        subject = ids.attribution(sf.id, allegation_id, claimant.id, stance)
        allegation_label = builder.catalog.allegations[allegation_id][0].values["label"]
        builder.add(subject, RDF.type, SOL.Attribution, graph)
        builder.add(subject, RDFS.label, Literal(f"{claimant.values['name']} {stance}: {allegation_label}",
                                                 language="en"), graph)
        builder.add(subject, SOL.allegation, ids.entity("allegation", allegation_id), graph)
        builder.add(subject, SOL.claimant, actor_iri(claimant), graph)
        builder.add(subject, SOL.stance, dict(sc.STANCES)[stance], graph)
        builder.add(subject, SOL.source, source, graph)
        builder.fields(subject, record, graph)


def catalog_quads(catalog: Catalog) -> tuple[list[Quad], dict[str, tuple[str, int]]]:
    """All quads of the curated data, sorted, and the file and line each subject came from."""
    builder = GraphBuilder(catalog=catalog)
    _reference_graph(builder, catalog)
    for source_id in sorted(catalog.sources):
        _source_graph(builder, catalog.sources[source_id])
    return sort_quads(builder.quads), builder.origins


def sort_quads(quads) -> list[Quad]:
    """Distinct quads in a stable order: by graph, subject, predicate, object."""
    keyed = {(str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)): q for q in quads}
    return [keyed[key] for key in sorted(keyed)]


def relabel_blank_nodes(quads_or_triples, prefix: str = "b"):
    """Give blank nodes ids by order of first appearance, so re-parsing a file gives the same ids."""
    names: dict[str, BlankNode] = {}

    def name(term):
        if isinstance(term, BlankNode):
            if term.value not in names:
                names[term.value] = BlankNode(f"{prefix}{len(names)}")
            return names[term.value]
        return term

    for statement in quads_or_triples:
        if isinstance(statement, Quad):
            yield Quad(name(statement.subject), statement.predicate, name(statement.object), name(statement.graph_name))
        else:
            yield type(statement)(name(statement.subject), statement.predicate, name(statement.object))
