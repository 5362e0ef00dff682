"""kg build: dumps with one named graph per source, PROV-O, determinism and atomic replacement (see test_release)."""

from __future__ import annotations

import gzip
import os
import shutil

import pytest
import rdflib
from pyoxigraph import RdfFormat, parse, serialize
from rdflib.compare import isomorphic

from kg import curation, layout
from kg.pipeline import build
from tests.fixtures import SOURCE_ID

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
SOL = rdflib.Namespace("https://w3id.org/soles/ontology#")
GRAPH = rdflib.URIRef(f"https://w3id.org/soles/graph/{SOURCE_ID}")
SOURCE = rdflib.URIRef(f"https://w3id.org/soles/id/source/{SOURCE_ID}")


def quads_in(path, fmt: RdfFormat) -> list:
    data = path.read_bytes()
    return list(parse(gzip.decompress(data) if path.suffix == ".gz" else data, format=fmt))


def merged_graph(quads) -> rdflib.Graph:
    """The triples of all graphs, as an rdflib graph (rdflib's Dataset parser warns; pyoxigraph parses)."""
    ntriples = serialize((q.triple for q in quads), format=RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=ntriples.decode(), format="nt")


def test_build_writes_every_output(fixture_build):
    names = {entry["name"] for entry in layout.read_manifest(fixture_build)["files"]}
    assert {"soles.trig", "soles.nq.gz", "soles.ttl", "soles.jsonld", "ontology.ttl", "ontology.owl"} <= names
    for name in names:
        assert (fixture_build / name).stat().st_size > 0
    assert (fixture_build / layout.STORE_DIR).is_dir()


def test_one_named_graph_per_source_with_provenance(fixture_build):
    quads = quads_in(fixture_build / "soles.trig", RdfFormat.TRIG)
    graph_names = {q.graph_name.value for q in quads}
    assert graph_names == {str(GRAPH), "https://w3id.org/soles/graph/reference", "https://w3id.org/soles/graph/derived"}
    graph = merged_graph(q for q in quads if q.graph_name.value == str(GRAPH))
    assert (GRAPH, PROV.wasDerivedFrom, SOURCE) in graph
    assert graph.value(GRAPH, PROV.generatedAtTime) is not None
    assert (GRAPH, PROV.wasAttributedTo, rdflib.URIRef("https://w3id.org/soles/id/organization/fixture-editors")) in graph
    assert len(set(graph.subjects(rdflib.RDF.type, SOL.Attribution))) == 3


def test_dumps_hold_the_same_data(fixture_build):
    turtle = rdflib.Graph().parse(data=(fixture_build / "soles.ttl").read_text(encoding="utf-8"), format="turtle")
    for name, fmt in (("soles.trig", RdfFormat.TRIG), ("soles.nq.gz", RdfFormat.N_QUADS),
                      ("soles.jsonld", RdfFormat.JSON_LD)):
        assert isomorphic(merged_graph(quads_in(fixture_build / name, fmt)), turtle), name


def test_ontology_files_are_the_same_ontology(fixture_build):
    turtle = rdflib.Graph().parse(data=(fixture_build / "ontology.ttl").read_text(encoding="utf-8"), format="turtle")
    owl = rdflib.Graph().parse(data=(fixture_build / "ontology.owl").read_text(encoding="utf-8"), format="xml")
    assert isomorphic(turtle, owl)


def test_builds_are_byte_identical_however_many_processes_write_them(fixture_data, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    build(fixture_data, first, reason=False)
    build(fixture_data, second, reason=False)
    # More releases of the same data in the same build root, their dumps and indexes written by two processes
    # (as big builds are) rather than one, reading the store or copies of the statements in memory (as builds
    # that fit do): the same bytes every way.
    build(fixture_data, second, reason=False, processes=2, copies=False)
    build(fixture_data, second, reason=False, processes=2, copies=True)
    directories = [root / layout.RELEASES_DIR / name for root in (first, second)
                   for name in sorted(os.listdir(root / layout.RELEASES_DIR))]
    assert len(directories) == 4
    files = sorted(p.name for p in directories[0].iterdir() if p.is_file())
    for directory in (*directories, first, second):  # the build roots hold links to the current release's files
        assert sorted(p.name for p in directory.iterdir() if p.is_file()) == files, directory
    for name in files:  # the manifest too: a build's id and time are in its release's name only
        assert len({(directory / name).read_bytes() for directory in directories}) == 1, name
    ids = [directory.name for directory in directories]
    assert len(set(ids)) == 4 and len({build_id.rsplit("-", 1)[1] for build_id in ids}) == 1  # same content hash


def test_a_failed_build_leaves_the_previous_build_untouched(fixture_data, tmp_path):
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    published = layout.resolve(out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert set(before) >= {layout.MANIFEST, "soles.trig"}
    broken = tmp_path / "broken"
    shutil.copytree(fixture_data, broken)
    (broken / "actors.yaml").write_text("actors: [", encoding="utf-8")
    with pytest.raises(curation.DataError):
        build(broken, out, reason=False)
    assert layout.resolve(out) == published
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert os.listdir(out / layout.RELEASES_DIR) == [published.id]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refuses_to_replace_a_directory_that_is_not_a_build(fixture_data, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError):
        build(fixture_data, precious, reason=False)
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
