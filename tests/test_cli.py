"""The kg command end to end, as a curator runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.fixtures import SOURCE_ID, SOURCE_TEXT


def kg(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "kg.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_build_reports_outputs_and_backlog(fixture_data, tmp_path):
    result = kg("build", "--data", fixture_data, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "soles.trig" in result.stdout
    assert "reconciliation backlog: 4 actors and places" in result.stdout
    for unlinked in ("bob-sample", "mallory-script", "strelsau", "fixture-editors"):
        assert unlinked in result.stdout


def test_bad_data_exits_non_zero_naming_file_line_and_field(fixture_data, tmp_path):
    broken = tmp_path / "data"
    subprocess.run(["cp", "-r", str(fixture_data), str(broken)], check=True)
    places = broken / "places.yaml"
    places.write_text(places.read_text(encoding="utf-8").replace("wikidata: Q1002", "wikidata: Q42"), encoding="utf-8")
    result = kg("build", "--data", broken, "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "data/places.yaml:5: places[0].wikidata: Q42 is not in the verified list" in result.stderr
    assert not (tmp_path / "out").exists()


def test_validate_checks_quotes_against_a_local_source_text(fixture_data, tmp_path):
    text = tmp_path / "source.txt"
    text.write_text(SOURCE_TEXT, encoding="utf-8")
    result = kg("validate", "--data", fixture_data, "--source-text", f"{SOURCE_ID}={text}")
    assert result.returncode == 0, result.stderr
    assert "all 4 quotes of fixture-report appear verbatim" in result.stdout
    assert "HermiT finds them consistent" in result.stdout

    text.write_text(SOURCE_TEXT.replace("Mallory took bribes", "Mallory accepted bribes"), encoding="utf-8")
    result = kg("validate", "--data", fixture_data, "--no-reason", "--source-text", f"{SOURCE_ID}={text}")
    assert result.returncode == 1
    assert "allegations[1].attributions[0].quote: not found verbatim" in result.stderr


def test_query_prints_a_table_and_other_formats(fixture_build):
    query = "SELECT ?label WHERE { ?a a sol:Allegation ; rdfs:label ?label } ORDER BY ?label"
    table = kg("query", query, "--build", fixture_build)
    assert table.returncode == 0, table.stderr
    assert "Alice Example smuggles cheese" in table.stdout and "(2 rows)" in table.stdout
    as_json = json.loads(kg("query", query, "--build", fixture_build, "--format", "json").stdout)
    assert len(as_json["results"]["bindings"]) == 2
    assert kg("query", query, "--build", fixture_build, "--format", "csv").stdout.splitlines()[0] == "label"
    turtle = kg("query", "CONSTRUCT WHERE { ?s a sol:Event }", "--build", fixture_build, "--format", "turtle")
    assert "alice-indicted" in turtle.stdout


def test_query_syntax_error_is_reported(fixture_build):
    result = kg("query", "SELECT WHERE {", "--build", fixture_build)
    assert result.returncode == 1
    assert "error" in result.stderr


def test_stats_counts_classes_stances_and_backlog(fixture_build):
    result = kg("stats", "--build", fixture_build)
    assert result.returncode == 0, result.stderr
    lines = result.stdout
    assert "Allegation    2" in lines and "Attribution   3" in lines and "Event         1" in lines
    assert "Asserts   2" in lines and "Denies    1" in lines and "Disputes  0" in lines
    assert "reconciliation backlog: 4" in lines
