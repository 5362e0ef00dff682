"""Checks on built quads: SHACL shapes, OWL consistency (HermiT), quotes against source texts."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

import rdflib
from pyoxigraph import Literal, Quad, RdfFormat, parse, serialize
from rdflib.namespace import SH

from kg.curation import Catalog, DataError, Problem
from kg.paths import ONTOLOGY_FILE, SHAPES_FILE
from kg.vocab import XSD

# HermiT accepts only the OWL 2 datatype map; xsd:date, xsd:gYear and xsd:gYearMonth are outside it.
OWL2_UNSUPPORTED_DATATYPES = frozenset({XSD.date, XSD.gYear, XSD.gYearMonth})


class InconsistentError(Exception):
    """The ontology and data together are logically inconsistent."""


def ontology_triples():
    return parse(path=str(ONTOLOGY_FILE), format=RdfFormat.TURTLE)


def _rdflib_graph(quads) -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=serialize((q.triple for q in quads), format=RdfFormat.N_TRIPLES), format="nt")
    graph.parse(data=ONTOLOGY_FILE.read_text(encoding="utf-8"), format="turtle")
    return graph


def check_shapes(quads: list[Quad], origins: dict[str, tuple[str, int]]) -> None:
    """Validate against ontology/shapes.ttl; raise DataError naming the record behind each violation."""
    import pyshacl

    shapes = rdflib.Graph().parse(data=SHAPES_FILE.read_text(encoding="utf-8"), format="turtle")
    conforms, report, _ = pyshacl.validate(_rdflib_graph(quads), shacl_graph=shapes, advanced=True,
                                           allow_warnings=False)
    if conforms:
        return
    problems = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = str(report.value(result, SH.focusNode))
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage) or "violates a shape"
        file, line = origins.get(focus, ("(built graph)", None))
        field = path.n3(report.namespace_manager) if path is not None else "(shape)"
        problems.append(Problem(file, line, f"{focus} {field}", str(message)))
    raise DataError(sorted(problems, key=lambda p: (p.file, p.line or 0, p.field)))


def check_consistency(quads: list[Quad]) -> None:
    """Load ontology and data into owlready2 and run HermiT; raise InconsistentError if inconsistent."""
    import owlready2

    triples = [q.triple for q in quads if not (isinstance(q.object, Literal)
                                              and q.object.datatype in OWL2_UNSUPPORTED_DATATYPES)]
    triples += list(ontology_triples())
    with tempfile.TemporaryDirectory(prefix="soles-reason-") as tmp:
        path = Path(tmp) / "all.nt"
        serialize(triples, str(path), format=RdfFormat.N_TRIPLES)
        world = owlready2.World()
        with path.open("rb") as file:
            world.get_ontology(path.as_uri()).load(fileobj=file, format="ntriples")
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError as error:
            raise InconsistentError("the ontology and data are inconsistent (HermiT)") from error
        finally:
            world.close()


def _normalized(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_quotes(catalog: Catalog, source_id: str, text_path: Path) -> int:
    """Check every quote taken from ``source_id`` appears verbatim in a local copy of its text.

    Only white space may differ (line breaks in the copy). Returns the number of quotes checked.
    """
    if source_id not in catalog.sources:
        raise DataError([Problem(str(text_path), None, "--source-text", f"unknown source {source_id!r}")])
    text = _normalized(Path(text_path).read_text(encoding="utf-8"))
    sf = catalog.sources[source_id]
    quoted = [(record, "quote") for _, record in sf.attributions]
    quoted += [(record, "quote") for record in sf.events if record.get("quote")]
    problems = [
        Problem(record.file, record.line_of(name), record.field_path(name),
                f"not found verbatim in {text_path}: {record.values[name]!r}")
        for record, name in quoted
        if _normalized(record.values[name]) not in text
    ]
    if problems:
        raise DataError(problems)
    return len(quoted)
