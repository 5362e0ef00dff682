"""kg build --import: RDF files join the build, checked against the shapes, deterministically."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, Quad

from kg import imports, release
from kg.curation import DataError
from kg.pipeline import build
from kg.store import open_store, run_query
from tests.fixtures import write_fixture_data

PREFIXES = """\
@prefix sol: <https://w3id.org/soles/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix id: <https://w3id.org/soles/id/> .
"""

NEWSROOM_GRAPH = PREFIXES + """\
<https://w3id.org/soles/id/source/newsroom-memo> a sol:Source , sol:NewsReport ;
    dcterms:title "Newsroom memo" ;
    dcterms:publisher <https://w3id.org/soles/id/organization/daily-fixture> ;
    sol:url "https://news.example.org/memo"^^xsd:anyURI .
<https://w3id.org/soles/id/allegation/bob-sells-maps> a sol:Allegation ;
    rdfs:label "Bob Sample sells maps" ;
    sol:accused <https://w3id.org/soles/id/person/bob-sample> ;
    sol:allegationType sol:Corruption ;
    sol:status sol:Alleged .
<https://w3id.org/soles/id/attribution/newsroom-memo/bob-sells-maps/fixture-officials/asserts> a sol:Attribution ;
    sol:allegation <https://w3id.org/soles/id/allegation/bob-sells-maps> ;
    sol:claimant <https://w3id.org/soles/id/group/fixture-officials> ;
    sol:stance sol:Asserts ;
    sol:source <https://w3id.org/soles/id/source/newsroom-memo> ;
    sol:quote "Bob sold the maps" ;
    rdfs:seeAlso [ rdfs:label "an anonymous note" ] .
"""


@pytest.fixture(params=["after the checks", "beside the checks"])
def reading(request, monkeypatch) -> str:
    """Imports are read after the curated data is checked, or (large ones, as at a million statements) by a process
    of their own while it is: the tests of what a build makes of them and of their errors run both ways."""
    if request.param == "beside the checks":
        monkeypatch.setattr(release, "READ_BESIDE_FROM_BYTES", 0)
    return request.param


@pytest.fixture()
def newsroom_file(tmp_path):
    path = tmp_path / "newsroom.ttl"
    path.write_text(NEWSROOM_GRAPH, encoding="utf-8")
    return path


def test_an_imported_graph_is_served_with_curated_data(fixture_data, newsroom_file, tmp_path):
    out = tmp_path / "build"
    manifest = build(fixture_data, out, reason=False, import_paths=(newsroom_file,))
    assert manifest["imports"] == ["newsroom.ttl"]
    query = """SELECT ?g ?claimant WHERE { GRAPH ?g { ?a sol:allegation allegation:bob-sells-maps ;
                                                       sol:claimant ?c } ?c rdfs:label ?claimant }"""
    (row,) = list(run_query(open_store(out), query))
    assert row["g"].value == "https://w3id.org/soles/graph/import-newsroom"
    assert row["claimant"].value == "Fixture officials"  # the import links to curated actors
    assert b"bob-sells-maps" in (out / "soles.trig").read_bytes()


def test_builds_with_imports_are_byte_identical(fixture_data, newsroom_file, tmp_path, monkeypatch):
    """Built twice, or with the imports read beside the checks of the curated data by a process of their own."""
    first = build(fixture_data, tmp_path / "a", reason=False, import_paths=(newsroom_file,))
    second = build(fixture_data, tmp_path / "b", reason=False, import_paths=(newsroom_file,))
    monkeypatch.setattr(release, "READ_BESIDE_FROM_BYTES", 0)
    beside = build(fixture_data, tmp_path / "c", reason=False, import_paths=(newsroom_file,))
    assert first == second == beside
    for entry in first["files"]:
        assert ((tmp_path / "a" / entry["name"]).read_bytes() == (tmp_path / "b" / entry["name"]).read_bytes()
                == (tmp_path / "c" / entry["name"]).read_bytes())


def test_a_curated_data_error_stops_the_imports_being_read_beside_it(tmp_path, newsroom_file, monkeypatch):
    """The curated data's error is the build's, as when imports are read after the checks; the process reading
    them is stopped, and nothing is left behind."""
    monkeypatch.setattr(release, "READ_BESIDE_FROM_BYTES", 0)
    broken = write_fixture_data(tmp_path / "data", extra={"actors.yaml": "actors: ["})
    out = tmp_path / "build"
    with pytest.raises(DataError) as caught:
        build(broken, out, reason=False, import_paths=(newsroom_file,))
    assert caught.value.file.endswith("actors.yaml")
    assert multiprocessing.active_children() == []
    assert not out.exists()


@pytest.mark.parametrize("processes", [1, 2])
def test_an_import_that_breaks_a_shape_is_refused_with_its_line(fixture_data, tmp_path, processes, reading):
    """By one process, or by the build's processes (as at a million statements), where another process checks."""
    path = tmp_path / "broken.ttl"
    path.write_text(NEWSROOM_GRAPH.replace('    sol:status sol:Alleged .\n', '    sol:status sol:Alleged , sol:Convicted .\n'),
                    encoding="utf-8")
    out = tmp_path / "build"
    with pytest.raises(DataError) as caught:
        build(fixture_data, out, reason=False, import_paths=(path,), processes=processes)
    error = caught.value
    assert error.file == str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert error.line == 1 + next(i for i, line in enumerate(lines) if "allegation/bob-sells-maps> a" in line)
    assert error.field.endswith("ontology#status")
    assert "exactly one status" in str(error)
    assert not out.exists()


def test_an_import_may_not_overwrite_a_curated_graph(fixture_data, tmp_path, reading):
    path = tmp_path / "takeover.nq"
    path.write_text('<https://w3id.org/soles/id/x> <http://www.w3.org/2000/01/rdf-schema#label> "x" '
                    '<https://w3id.org/soles/graph/fixture-report> .\n', encoding="utf-8")
    with pytest.raises(DataError, match="already built from data/") as caught:
        build(fixture_data, tmp_path / "build", reason=False, import_paths=(path,))
    assert (caught.value.file, caught.value.field) == (str(path), "(graph)")


def test_an_import_with_a_syntax_error_names_the_line(fixture_data, tmp_path, reading):
    path = tmp_path / "bad.nq"
    path.write_text('<http://e/a> <http://e/p> "ok" <http://e/g> .\n<http://e/a> <http://e/p> "broken .\n',
                    encoding="utf-8")
    with pytest.raises(DataError) as caught:
        build(fixture_data, tmp_path / "build", reason=False, import_paths=(path,))
    assert (caught.value.file, caught.value.field) == (str(path), "(syntax)")
    assert "line 2" in str(caught.value)


def test_cli_build_accepts_repeated_imports(fixture_data, newsroom_file, tmp_path):
    second = tmp_path / "more.nq"
    second.write_text('<https://w3id.org/soles/id/place/strelsau> <http://www.w3.org/2000/01/rdf-schema#comment> '
                      '"A city." <https://w3id.org/soles/graph/import-gazetteer> .\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--no-reason", "--data", str(fixture_data),
                             "--out", str(tmp_path / "out"), "--import", str(newsroom_file), "--import", str(second)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    graphs = {g.value for g in open_store(tmp_path / "out").named_graphs()}
    assert {"https://w3id.org/soles/graph/import-newsroom", "https://w3id.org/soles/graph/import-gazetteer"} <= graphs


def test_an_import_names_its_blank_nodes_in_order_and_its_default_graph_after_the_file(tmp_path):
    """Blank nodes (as subjects, values and graphs) get ids by first appearance, so the same file gives the same
    build; statements in no graph go to the file's own; the others are kept as they are."""
    path = tmp_path / "Field Notes.nq"
    path.write_text('<http://e/a> <http://e/p> _:first <http://e/g> .\n'
                    '<http://e/a> <http://e/p> "plain" <http://e/g> .\n'
                    '_:second <http://e/p> _:first _:graph .\n'
                    '<http://e/b> <http://e/p> "no graph" .\n', encoding="utf-8")
    found = list(imports.read(path, 4))
    own = NamedNode("https://w3id.org/soles/graph/import-field-notes")
    a, b, p, g = (NamedNode(f"http://e/{name}") for name in ("a", "b", "p", "g"))
    assert found == [Quad(a, p, BlankNode("import4b0"), g), Quad(a, p, Literal("plain"), g),
                     Quad(BlankNode("import4b1"), p, BlankNode("import4b0"), BlankNode("import4b2")),
                     Quad(b, p, Literal("no graph"), own)]
