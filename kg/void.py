"""The VoID description of a build: what the dataset is, how big it is, where to download and query it.

It is computed at build time from the very quads that go into the store, so its counts are the
store's; the server only reads the file. It is dated by the curation date, never the clock, and
written in a fixed order, so the same data always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pyoxigraph import BlankNode, Literal, NamedNode, Store, Triple

from kg import ids
from kg import schema as sc
from kg.curation import Catalog
from kg.quads import actor_iri
from kg.store import run_named_query
from kg.vocab import DCTERMS, FOAF, RDF, VOCABULARY_PREFIXES, VOID, XSD

SPARQL_ENDPOINT = NamedNode(ids.BASE + "sparql")
DOWNLOADS_BASE = ids.BASE + "downloads/"
DESCRIPTION_DOCUMENT = NamedNode(ids.BASE + "void")
HOMEPAGE = NamedNode(ids.BASE)
ENTITY_BASE = Literal(ids.ENTITY_BASE)  # what counts as an entity: a subject under this base
DATASET_LANGUAGE = "en"  # data/dataset.yaml holds English text (kg.schema.DATASET)
INTEGER = XSD.integer  # read once: a namespace makes a new term at each read, and counts are tens of thousands


def dataset_metadata(catalog: Catalog) -> dict:
    """The fields of data/dataset.yaml that a build records, as plain JSON values."""
    values = catalog.dataset.values
    return {
        "title": values["title"],
        "description": values["description"],
        "license": values["license"],
        "publisher": actor_iri(catalog.actors[values["publisher"]]).value,
        "modified": last_curated(catalog),
    }


def last_curated(catalog: Catalog) -> str:
    """The day data/ last changed: the latest curation date of the dataset or of any source. Derived, so that a
    curator who adds a source need not also remember to move the dataset's date (dcterms:modified, and "curated
    up to" in every citation, would otherwise say the data is older than it is)."""
    days = [catalog.dataset.values["curation"].values["curated_on"]]
    days += [source.curation.values["curated_on"] for source in catalog.sources.values()]
    return max(days)


def dump_iri(filename: str) -> NamedNode:
    return NamedNode(DOWNLOADS_BASE + filename)


def _integer(count: int) -> Literal:
    return Literal(str(count), datatype=INTEGER)


def _vocabulary(term: NamedNode) -> str | None:
    """The namespace of a known vocabulary that ``term`` belongs to (the longest that matches)."""
    matches = [base for base in VOCABULARY_PREFIXES.values() if term.value.startswith(base)]
    return max(matches, key=len, default=None)


def _counts_by(store: Store, name: str, **bound) -> dict:
    return {row[0]: int(row["n"].value) for row in run_named_query(store, name, **bound)}


def _graph_sizes(store: Store) -> tuple[dict[NamedNode, int], dict[NamedNode, set[str]]]:
    """How many statements each named graph holds, and its entities (subjects under ENTITY_BASE), by graph.

    Read from the graphs' distinct subjects, a tenth as many as their statements: a query filtering the
    subject of each statement by its text makes the engine spell out every one (8 s at a million statements)."""
    triples: dict[NamedNode, int] = {}
    entities: dict[NamedNode, set[str]] = {}
    for graph, subject, count in run_named_query(store, "graph-subjects"):  # by position: quicker than by name
        triples[graph] = triples.get(graph, 0) + int(count.value)
        if isinstance(subject, NamedNode) and subject.value.startswith(ENTITY_BASE.value):
            entities.setdefault(graph, set()).add(subject.value)
    return triples, entities


def describe(store: Store, metadata: Mapping, dumps: Mapping[NamedNode, Iterable[str]]) -> list[Triple]:
    """The VoID triples describing everything ``store`` holds, as the dataset ids.DATASET.

    ``metadata`` is what dataset_metadata() returns; ``dumps`` maps ids.DATASET, or the name of one
    of its graphs, to the files of build/ that hold it. Each named graph is a subset; a class gets a
    partition when it has entities (so the ontology's own classes, of OWL terms, get none). Counts
    come from the engine, or from each graph's distinct subjects: describing millions of statements holds
    no more than those in memory.
    """
    predicates = [row["p"] for row in run_named_query(store, "void-predicates")]
    classes = [row["c"] for row in run_named_query(store, "void-classes")]
    vocabularies = {_vocabulary(term) for term in predicates + classes if isinstance(term, NamedNode)} - {None}
    graph_triples, graph_entities = _graph_sizes(store)

    dataset = ids.DATASET
    triples = [
        Triple(DESCRIPTION_DOCUMENT, RDF.type, VOID.DatasetDescription),
        Triple(DESCRIPTION_DOCUMENT, FOAF.primaryTopic, dataset),
        Triple(dataset, RDF.type, VOID.Dataset),
        Triple(dataset, DCTERMS.title, Literal(metadata["title"], language=DATASET_LANGUAGE)),
        Triple(dataset, DCTERMS.description, Literal(metadata["description"], language=DATASET_LANGUAGE)),
        Triple(dataset, DCTERMS.license, NamedNode(metadata["license"])),
        Triple(dataset, DCTERMS.publisher, NamedNode(metadata["publisher"])),
        Triple(dataset, DCTERMS.modified, sc.Date().term(metadata["modified"], resolve=None)),
        Triple(dataset, FOAF.homepage, HOMEPAGE),
        Triple(dataset, VOID.sparqlEndpoint, SPARQL_ENDPOINT),
        Triple(dataset, VOID.uriSpace, ENTITY_BASE),
        Triple(dataset, VOID.triples, _integer(sum(graph_triples.values()))),
        Triple(dataset, VOID.entities, _integer(len(set().union(*graph_entities.values())))),
        Triple(dataset, VOID.classes, _integer(len(classes))),
        Triple(dataset, VOID.properties, _integer(len(predicates))),
    ]
    triples += [Triple(dataset, VOID.vocabulary, NamedNode(base)) for base in vocabularies]
    partitions = _counts_by(store, "void-class-partitions", entity_base=ENTITY_BASE)
    for position, cls in enumerate(sorted(partitions, key=str)):
        partition = BlankNode(f"class{position}")  # fixed labels: byte-identical builds
        triples += [
            Triple(dataset, VOID.classPartition, partition),
            Triple(partition, VOID["class"], cls),
            Triple(partition, VOID.entities, _integer(partitions[cls])),
        ]
    # Read once, not for each of thousands of graphs: a namespace makes a new term at each read.
    subset, is_a, void_dataset = VOID.subset, RDF.type, VOID.Dataset
    void_triples, void_entities = VOID.triples, VOID.entities
    for graph, count in graph_triples.items():
        triples += [
            Triple(dataset, subset, graph),
            Triple(graph, is_a, void_dataset),
            Triple(graph, void_triples, _integer(count)),
            Triple(graph, void_entities, _integer(len(graph_entities.get(graph, ())))),
        ]
    for described, filenames in dumps.items():
        triples += [Triple(described, VOID.dataDump, dump_iri(name)) for name in filenames]
    return sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
