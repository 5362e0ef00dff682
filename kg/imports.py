"""RDF files added to a build with ``kg build --import``: read, given graphs, blank nodes renamed.

Triples outside any named graph go into a graph named after the file, so every statement still
has a graph that says where it came from. Blank nodes are renamed in order of appearance, so the
same file always gives the same build.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

from pyoxigraph import DefaultGraph, NamedNode, Quad, parse

from kg import formats, ids
from kg.curation import DataError, Problem
from kg.quads import relabel_blank_nodes


def graph_for(path: Path) -> NamedNode:
    """The named graph that receives an imported file's triples that have none."""
    stem = path.name.split(".")[0]
    return ids.graph("import-" + (re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "file"))


def read(path: Path, index: int, reserved_graphs: set[str]) -> Iterator[Quad]:
    """The quads of one import; DataError on a syntax error or a graph that curated data already uses."""
    path = Path(path)
    try:
        fmt = formats.rdf_format_of_path(str(path))
    except ValueError as error:
        raise DataError([Problem(str(path), None, "(format)", str(error))]) from None
    if not path.is_file():
        raise DataError([Problem(str(path), None, "(file)", "file is missing")])
    default_graph = graph_for(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        try:
            for quad in relabel_blank_nodes(parse(file, format=fmt.rdf), prefix=f"import{index}b"):
                graph = default_graph if isinstance(quad.graph_name, DefaultGraph) else quad.graph_name
                if graph.value in reserved_graphs:
                    raise DataError([Problem(str(path), None, "(graph)",
                                             f"graph {graph.value} is already built from data/; "
                                             "imports must use graphs of their own")])
                yield Quad(quad.subject, quad.predicate, quad.object, graph)
        except SyntaxError as error:
            line = getattr(error, "lineno", None)
            raise DataError([Problem(str(path), line, "(syntax)", f"{fmt.label} syntax error: {error.msg}")]) from None


def first_line_mentioning(path: Path, iri: str) -> int | None:
    """Where an IRI first appears in an uncompressed import, to point a curator at it."""
    if path.suffix == ".gz":
        return None
    needle = iri.encode()
    with open(path, "rb") as file:
        for number, line in enumerate(file, 1):
            if needle in line:
                return number
    return None
