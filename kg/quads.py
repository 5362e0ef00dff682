"""Turns checked records into quads: one named graph per source, described with PROV-O.

The output is sorted, so the same data always gives the same dumps, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from kg import ids
from kg import schema as sc
from kg.curation import Catalog, Record, SourceFile
from kg.history import StatusStep, current_statuses
from kg.vocab import PROV, RDF, RDFS, SOL, XSD
from kg.wording import agree, human_date


@dataclass
class GraphBuilder:
    """Collects quads and remembers which file and line each subject came from."""

    quads: list[Quad] = field(default_factory=list)
    origins: dict[str, tuple[str, int]] = field(default_factory=dict)
    catalog: Catalog | None = None
    quote_language: str = "en"  # the language of the source being built: its quotes are tagged with it

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
                term = (Literal(item, language=self.quote_language) if isinstance(spec.kind, sc.Quote)
                        else spec.kind.term(item, self.resolve))
                self.add(subject, spec.predicate, term, graph)


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
    for record in [*catalog.actors.values(), *catalog.places.values()]:
        if record.get("wikidata") in catalog.wikidata:
            _wikidata_match(builder, record, catalog.wikidata[record.values["wikidata"]], graph)
    for record in catalog.periods.values():
        subject = ids.entity("period", record.id)
        builder.add(subject, RDF.type, SOL.Period, graph)
        builder.fields(subject, record, graph)
    sources = [ids.entity("source", source_id) for source_id in sorted(catalog.sources)]
    _describe_graph(builder, graph, "Reference data: actors, places and periods named by the sources", sources,
                    catalog.dataset.values["curation"])


def wikidata_match_iri(entity: NamedNode) -> NamedNode:
    """The record of an entity's Wikidata link: a fragment of the entity's own IRI, so its page holds it."""
    return NamedNode(f"{entity.value}#wikidata")


def _wikidata_match(builder: GraphBuilder, record: Record, entry: Record, graph: NamedNode) -> None:
    """Why the entity's owl:sameAs link holds (ontology/decisions/20261130-wikidata-match-provenance.md)."""
    entity = actor_iri(record) if record.schema is sc.ACTOR else ids.entity("place", record.id)
    match = wikidata_match_iri(entity)
    builder.add(match, RDF.type, SOL.WikidataMatch, graph)
    builder.add(match, RDFS.label, Literal(f"{record.values['name']} is Wikidata {entry.values['qid']}"), graph)
    builder.add(match, SOL.matchOf, entity, graph)
    builder.fields(match, entry, graph)


def status_steps(catalog: Catalog) -> list[StatusStep]:
    """Every status statement: those written as status changes, and the status an allegation's defining
    source reports (dated with that source's date, if it has one)."""
    steps = []
    for sf in catalog.sources.values():
        for record in sf.status_changes:
            superseded = record.get("supersedes")
            steps.append(StatusStep(ids.entity("status", record.id).value, record.values["allegation"],
                                    record.values["status"], record.values["date"],
                                    ids.entity("status", superseded).value if superseded else None))
        for record in sf.allegations:
            if record.get("status"):
                steps.append(StatusStep(_reported_status_iri(record, sf).value, record.id, record.values["status"],
                                        sf.source.get("date")))
    return steps


def _reported_status_iri(allegation: Record, sf: SourceFile) -> NamedNode:
    return ids.entity("status", f"{allegation.id}-{allegation.values['status']}-in-{sf.id}")


def status_statement_label(status: str, day: str | None, allegation_label: str) -> str:
    """A status statement's label: "Charged (8 March 2019): <the allegation's label>"."""
    when = f" ({human_date(day)})" if day else ""
    return f"{status.replace('-', ' ').capitalize()}{when}: {allegation_label}"


def _status_statement(builder: GraphBuilder, subject: NamedNode, status: str, allegation_id: str,
                      day: str | None, source: NamedNode, graph: NamedNode) -> None:
    allegation_label = builder.catalog.allegations[allegation_id][0].values["label"]
    builder.add(subject, RDF.type, SOL.StatusStatement, graph)
    builder.add(subject, RDFS.label, Literal(status_statement_label(status, day, allegation_label), language="en"),
                graph)
    builder.add(subject, SOL.source, source, graph)


def _source_graph(builder: GraphBuilder, sf: SourceFile) -> None:
    graph = ids.graph(sf.id)
    source = ids.entity("source", sf.id)
    builder.quote_language = sf.source.get("language", "en")
    builder.add(source, RDF.type, SOL.Source, graph)
    builder.add(source, RDF.type, dict(sc.SOURCE_TYPES)[sf.source.values["type"]], graph)
    builder.fields(source, sf.source, graph)
    _describe_graph(builder, graph, f"Records taken from: {sf.source.values['title']}", [source], sf.curation)

    for record in sf.allegations:
        subject = ids.entity("allegation", record.id)
        builder.add(subject, RDF.type, SOL.Allegation, graph)
        builder.fields(subject, record, graph)
        if record.get("status"):  # the status this source reports: a status statement of its own
            statement = _reported_status_iri(record, sf)
            status = record.values["status"]
            _status_statement(builder, statement, status, record.id, sf.source.get("date"), source, graph)
            builder.add(statement, SOL.statusOf, subject, graph)
            builder.add(statement, SOL.statusValue, dict(sc.ALLEGATION_STATUSES)[status], graph)
            if sf.source.get("date"):
                builder.add(statement, SOL.date, sc.Date().term(sf.source.values["date"], builder.resolve), graph)
            builder.origins.setdefault(statement.value, (record.file, record.line_of("status")))
    for record in sf.status_changes:
        subject = ids.entity("status", record.id)
        _status_statement(builder, subject, record.values["status"], record.values["allegation"],
                          record.values["date"], source, graph)
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
        name = claimant.values["name"]
        builder.add(subject, RDFS.label, Literal(f"{name} {agree(stance, claimant.values['type'], name)}: "
                                                 f"{allegation_label}", language="en"), graph)
        builder.add(subject, SOL.allegation, ids.entity("allegation", allegation_id), graph)
        builder.add(subject, SOL.claimant, actor_iri(claimant), graph)
        builder.add(subject, SOL.stance, dict(sc.STANCES)[stance], graph)
        builder.add(subject, SOL.source, source, graph)
        builder.fields(subject, record, graph)


def _derived_graph(builder: GraphBuilder, catalog: Catalog) -> None:
    """Each allegation's current status, derived from its status statements, in a graph of its own: the
    sources' graphs hold only what the sources say."""
    graph = ids.DERIVED_GRAPH
    steps = status_steps(catalog)
    for allegation_id, step in sorted(current_statuses(steps).items()):
        builder.add(ids.entity("allegation", allegation_id), SOL.status, dict(sc.ALLEGATION_STATUSES)[step.status],
                    graph)
    sources = sorted({ids.entity("source", sf.id) for sf in catalog.sources.values()
                      if sf.status_changes or any(a.get("status") for a in sf.allegations)}, key=str)
    _describe_graph(builder, graph, "Derived by the build: each allegation's current status, from the latest "
                                    "status statement that no other supersedes", sources,
                    catalog.dataset.values["curation"])


def catalog_quads(catalog: Catalog) -> tuple[list[Quad], dict[str, tuple[str, int]]]:
    """All quads of the curated data, sorted, and the file and line each subject came from."""
    builder = GraphBuilder(catalog=catalog)
    _reference_graph(builder, catalog)
    for source_id in sorted(catalog.sources):
        _source_graph(builder, catalog.sources[source_id])
    _derived_graph(builder, catalog)
    return sort_quads(builder.quads), builder.origins


def sort_quads(quads) -> list[Quad]:
    """Distinct quads in a stable order: by graph, subject, predicate, object."""
    keyed = {(str(q.graph_name), str(q.subject), str(q.predicate), str(q.object)): q for q in quads}
    return [keyed[key] for key in sorted(keyed)]


def blank_node_namer(prefix: str = "b"):
    """A function that gives each blank node it is given an id by order of first appearance (``<prefix><n>``), so
    re-parsing a file gives the same ids, and returns any other term as it is."""
    names: dict[str, BlankNode] = {}

    def name(term):
        if isinstance(term, BlankNode):
            if term.value not in names:
                names[term.value] = BlankNode(f"{prefix}{len(names)}")
            return names[term.value]
        return term
    return name


def relabel_blank_nodes(quads_or_triples, prefix: str = "b"):
    """The statements with their blank nodes named by ``blank_node_namer``."""
    name = blank_node_namer(prefix)
    for statement in quads_or_triples:
        if isinstance(statement, Quad):
            yield Quad(name(statement.subject), statement.predicate, name(statement.object), name(statement.graph_name))
        else:
            yield type(statement)(name(statement.subject), statement.predicate, name(statement.object))
