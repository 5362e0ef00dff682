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

from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, parse

from kg import formats, ids
from kg.curation import DataError, Problem
from kg.quads import blank_node_namer


def graph_for(path: Path) -> NamedNode:
    """The named graph that receives an imported file's triples that have none."""
    stem = path.name.split(".")[0]
    return ids.graph("import-" + (re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "file"))


def read(path: Path, index: int) -> Iterator[Quad]:
    """The quads of one import; DataError on a syntax error (``refuse_curated_graphs`` checks its graphs)."""
    path = Path(path)
    try:
        fmt = formats.rdf_format_of_path(str(path))
    except ValueError as error:
        raise DataError([Problem(str(path), None, "(format)", str(error))]) from None
    if not path.is_file():
        raise DataError([Problem(str(path), None, "(file)", "file is missing")])
    default_graph = graph_for(path)
    opener = gzip.open if path.suffix == ".gz" else open
    rename = blank_node_namer(prefix=f"import{index}b")
    with opener(path, "rb") as file:
        try:
            for quad in parse(file, format=fmt.rdf):
                subject, value, graph = quad.subject, quad.object, quad.graph_name
                if type(subject) is BlankNode or type(value) is BlankNode or type(graph) is not NamedNode:
                    subject, value = rename(subject), rename(value)  # named in this order: ids as ever
                    graph = default_graph if type(graph) is DefaultGraph else rename(graph)
                    quad = Quad(subject, quad.predicate, value, graph)
                yield quad
        except SyntaxError as error:
            line = getattr(error, "lineno", None)
            raise DataError([Problem(str(path), line, "(syntax)", f"{fmt.label} syntax error: {error.msg}")]) from None


def refuse_curated_graphs(path: Path, graphs: set[str], curated_graphs: set[str]) -> None:
    """DataError if the import ``path``, whose statements are in ``graphs``, uses a graph built from data/."""
    taken = sorted(graphs & curated_graphs)
    if taken:
        raise DataError([Problem(str(path), None, "(graph)", f"graph {graph} is already built from data/; "
                                 "imports must use graphs of their own") for graph in taken])


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
