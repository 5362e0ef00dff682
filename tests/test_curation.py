"""Bad input is refused with an error naming the file, the line and the field."""

from __future__ import annotations

import shutil
import time

import pytest

from kg import curation
from kg.cli import main
from kg.curation import DataError
from kg.void import last_curated
from tests.fixtures import SOURCE_ID

SOURCE_FILE = f"sources/{SOURCE_ID}.yaml"


@pytest.fixture()
def data(fixture_data, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(fixture_data, copy)
    return copy


def edit(data, name: str, old: str, new: str) -> None:
    path = data / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(data, name: str, needle: str) -> int:
    lines = (data / name).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def refused(data) -> DataError:
    with pytest.raises(DataError) as caught:
        curation.load(data)
    return caught.value


def test_fixture_loads(data):
    catalog = curation.load(data)
    assert set(catalog.allegations) == {"alice-smuggles-cheese", "mallory-takes-bribes"}
    assert len(catalog.sources[SOURCE_ID].attributions) == 3


def test_yaml_syntax_error(data):
    edit(data, "actors.yaml", "    name: Bob Sample", "    name: [Bob Sample")
    error = refused(data)
    assert error.file == "data/actors.yaml"
    assert error.field == "(syntax)"
    assert error.line is not None and error.line >= line_of(data, "actors.yaml", "[Bob Sample")


def test_unknown_reference(data):
    edit(data, SOURCE_FILE, "accused: [alice-example, bob-sample]", "accused: [alice-example, carol-nobody]")
    error = refused(data)
    assert (error.file, error.line) == (f"data/{SOURCE_FILE}", line_of(data, SOURCE_FILE, "carol-nobody"))
    assert error.field == "allegations[0].accused[1]"
    assert "unknown actor 'carol-nobody'" in str(error)


def test_duplicate_id(data):
    edit(data, "actors.yaml", "  - id: bob-sample", "  - id: alice-example")
    error = refused(data)
    assert error.file == "data/actors.yaml"
    lines = (data / "actors.yaml").read_text(encoding="utf-8").splitlines()
    second = [i for i, line in enumerate(lines, 1) if line == "  - id: alice-example"][1]
    assert error.line == second
    assert error.field == "actors[1].id"
    assert "duplicate actor id 'alice-example'" in str(error)


def test_malformed_date(data):
    edit(data, SOURCE_FILE, "date: 2024-03", "date: 2024-13")
    error = refused(data)
    assert (error.line, error.field) == (line_of(data, SOURCE_FILE, "2024-13"), "events[0].date")
    assert "not a real date" in str(error)


def test_date_in_another_format(data):
    edit(data, SOURCE_FILE, "date: 2024-05-01", "date: 1 May 2024")
    error = refused(data)
    assert (error.field, error.line) == ("source.date", line_of(data, SOURCE_FILE, "1 May 2024"))


def test_quote_longer_than_25_words(data):
    long_quote = " ".join(["word"] * 26)
    edit(data, SOURCE_FILE, '"Mallory took bribes"', f'"{long_quote}"')
    error = refused(data)
    assert error.field == "allegations[1].attributions[0].quote"
    assert error.line == line_of(data, SOURCE_FILE, long_quote)
    assert "26 words" in str(error)


def test_wikidata_id_not_in_the_verified_list(data):
    edit(data, "places.yaml", "    part_of: [ruritania]", "    part_of: [ruritania]\n    wikidata: Q999999")
    error = refused(data)
    assert (error.file, error.line, error.field) == ("data/places.yaml", line_of(data, "places.yaml", "Q999999"),
                                                     "places[1].wikidata")
    assert "not in the verified list" in str(error)


def test_wikidata_id_used_twice(data):
    edit(data, "places.yaml", "    part_of: [ruritania]", "    part_of: [ruritania]\n    wikidata: Q1002")
    assert "already the link of 'ruritania'" in str(refused(data))


def test_missing_required_field(data):
    edit(data, SOURCE_FILE, "    types: [bribery]\n", "")
    error = refused(data)
    assert error.field == "allegations[1].types"
    assert error.line == line_of(data, SOURCE_FILE, "id: mallory-takes-bribes")
    assert "is required" in str(error)


def test_unknown_field(data):
    edit(data, "actors.yaml", "    name: Bob Sample", "    name: Bob Sample\n    nickname: Bobby")
    error = refused(data)
    assert (error.field, error.line) == ("actors[1].nickname", line_of(data, "actors.yaml", "nickname"))


def test_unknown_choice(data):
    edit(data, SOURCE_FILE, "stance: denies", "stance: doubts")
    error = refused(data)
    assert error.field == "allegations[0].attributions[1].stance"
    assert "'doubts' is not one of: asserts, denies" in str(error)


def test_allegation_without_an_asserting_attribution(data):
    edit(data, SOURCE_FILE, "      - claimant: daily-fixture\n        stance: asserts",
         "      - claimant: daily-fixture\n        stance: denies")
    error = refused(data)
    assert error.field == "allegations[1].attributions"
    assert "at least one attribution whose stance is 'asserts'" in str(error)


def test_source_id_must_match_file_name(data):
    (data / SOURCE_FILE).rename(data / "sources" / "renamed.yaml")
    error = refused(data)
    assert error.file == "data/sources/renamed.yaml" and error.field == "source.id"


def test_all_problems_are_reported_together(data):
    edit(data, SOURCE_FILE, "date: 2024-03", "date: 2024-13")
    edit(data, "actors.yaml", "    name: Bob Sample", "    name: Bob Sample\n    nickname: Bobby")
    error = refused(data)
    assert len(error.problems) == 2
    assert "2 problems" in str(error)


@pytest.mark.parametrize(("name", "old", "new", "field"), [
    ("actors.yaml", "actors:\n", "padding: x\nactors:\n", "padding"),
    ("places.yaml", "places:\n", "places:\n  - id: lonely\n    type: city\n    name: Lonely\n    nmae: x\n",
     "places[0].nmae"),
    ("wikidata.yaml", "kind: person,", "kind: person, seen: yes,", "verified[0].seen"),
    ("dataset.yaml", "license:", "licence: x\nlicense:", "licence"),
    ("dataset.yaml", "  curated_on:", "  curated_at: 2024-06-01\n  curated_on:", "curation.curated_at"),
    (SOURCE_FILE, "source:\n", "padding: x\nsource:\n", "padding"),
    (SOURCE_FILE, "  language: en", "  language: en\n  pages: 3", "source.pages"),
    (SOURCE_FILE, "  curated_by: [fixture-editors]\n  curated_on: 2024-06-01\nallegations",
     "  curated_by: [fixture-editors]\n  curated_on: 2024-06-01\n  tool: vim\nallegations", "curation.tool"),
    (SOURCE_FILE, "stance: denies", "stance: denies\n        tone: angry", "allegations[0].attributions[1].tone"),
    (SOURCE_FILE, "    quote: \"indicted in March\"", "    quote: \"indicted in March\"\n    cost: 3",
     "events[0].cost"),
])
def test_unknown_keys_are_refused_at_every_level(data, name, old, new, field):
    edit(data, name, old, new)
    error = refused(data)
    assert len(error.problems) == 1, str(error)
    unknown_key = field.rsplit(".", 1)[-1]
    assert (error.file, error.line, error.field) == (f"data/{name}", line_of(data, name, f"{unknown_key}:"), field)
    assert "unknown field" in str(error)


def test_a_misspelt_field_is_named_with_the_likely_one(data):
    edit(data, SOURCE_FILE, "accused: [alice-example, bob-sample]", "acused: [alice-example, bob-sample]")
    error = refused(data)
    assert (error.file, error.line, error.field) == (f"data/{SOURCE_FILE}", line_of(data, SOURCE_FILE, "acused:"),
                                                     "allegations[0].acused")
    assert "did you mean 'accused'?" in str(error)


def test_invalid_utf8_is_reported_with_its_line_and_column(data):
    path = data / "actors.yaml"
    path.write_bytes(path.read_bytes().replace(b"name: Bob Sample", b"name: Bob \xffSample"))
    error = refused(data)
    assert (error.file, error.line, error.field) == ("data/actors.yaml", 11, "(encoding)")
    assert "byte 0xff at column 15" in str(error)


def test_a_file_over_the_size_limit_is_refused_before_parsing(data):
    path = data / "actors.yaml"
    padding = "# " + "x" * curation.MAX_YAML_BYTES + "\n"
    path.write_text(path.read_text(encoding="utf-8") + padding, encoding="utf-8")
    size = path.stat().st_size
    error = refused(data)
    assert (error.file, error.field) == ("data/actors.yaml", "(file)")
    assert f"{size:,} bytes" in str(error) and f"{curation.MAX_YAML_BYTES:,} bytes" in str(error)
    assert len(error.problems) == 1, "references to actors are not reported while actors.yaml is unread"


def test_an_alias_bomb_is_refused_at_its_first_anchor(data):
    levels = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 10) + "]" for i in range(1, 10)]
    edit(data, "dataset.yaml", "curation:", "\n".join(levels) + "\ncuration:")
    started = time.monotonic()
    error = refused(data)
    assert time.monotonic() - started < 1
    assert (error.file, error.line, error.field) == ("data/dataset.yaml", line_of(data, "dataset.yaml", "&lol0"),
                                                     "(yaml)")
    assert "anchors and aliases" in str(error)


def test_deep_nesting_is_refused(data):
    depth = 10_000
    edit(data, "places.yaml", "places:", "deep: " + "[" * depth + "]" * depth + "\nplaces:")
    error = refused(data)
    assert (error.file, error.line, error.field) == ("data/places.yaml", 1, "(yaml)")
    assert f"more than {curation.MAX_YAML_NESTING} levels" in str(error)


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "not a list"),
    ("", "not an empty document"),
    ("42\n", "not a single value"),
])
def test_a_file_must_be_a_mapping_at_the_top_level(data, text, message):
    (data / "places.yaml").write_text(text, encoding="utf-8")
    error = refused(data)
    assert (error.file, error.field) == ("data/places.yaml", "(file)")
    assert message in str(error) and "'places:' list" in str(error)
    assert len(error.problems) == 1, "references to places are not reported while places.yaml is unread"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("title: Fixture graph", "1: Fixture graph", "a field name must be text, but '1' reads as int"),
    ("title: Fixture graph", "? [title]\n: Fixture graph", "a field name must be plain text"),
    ("title: Fixture graph", 'title: "Fixture\\u0007graph"', "U+0007"),
    ("title: Fixture graph", 'title: "Fixture \\ud800graph"', "U+D800"),
])
def test_keys_must_be_text_and_text_must_be_printable(data, old, new, message):
    edit(data, "dataset.yaml", old, new)
    error = refused(data)
    assert (error.file, error.line, error.field) == ("data/dataset.yaml", 1, "(yaml)")
    assert message in str(error)


def test_an_unreadable_file_hides_follow_on_errors_but_not_independent_ones(data):
    edit(data, "actors.yaml", "    name: Bob Sample", "    name: [Bob Sample")
    edit(data, "wikidata.yaml", "verified:", "verified: [")
    edit(data, "places.yaml", "type: city", "type: town")
    error = refused(data)
    assert [(p.file, p.field) for p in error.problems] == [
        ("data/actors.yaml", "(syntax)"), ("data/places.yaml", "places[1].type"), ("data/wikidata.yaml", "(syntax)"),
    ]


def test_an_unreadable_source_file_hides_references_into_it(data):
    summary = """\
source:
  id: fixture-summary
  type: summary
  title: A summary of the fixture report
  summarizes: fixture-report
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-02
attributions:
  - allegation: alice-smuggles-cheese
    claimant: daily-fixture
    stance: asserts
    quote: "moved tons of cheese"
"""
    (data / "sources" / "fixture-summary.yaml").write_text(summary, encoding="utf-8")
    assert "fixture-summary" in curation.load(data).sources
    report = data / SOURCE_FILE
    report.write_bytes(b"\xfe" + report.read_bytes())
    error = refused(data)
    assert [(p.file, p.line, p.field) for p in error.problems] == [(f"data/{SOURCE_FILE}", 1, "(encoding)")]


@pytest.mark.parametrize("amount", ["-5", ".nan", ".inf", "1e+3", "lots"])
def test_an_amount_is_written_in_digits(data, amount):
    edit(data, SOURCE_FILE, "    date: 2024-03\n", f"    date: 2024-03\n    amount: {amount}\n")
    error = refused(data)
    assert (error.field, error.line) == ("events[0].amount", line_of(data, SOURCE_FILE, "amount:"))


def test_kg_validate_prints_an_unreadable_file_as_a_problem(data, capsys):
    (data / "actors.yaml").write_bytes(b"actors:\n  - id: \xc3\x28\n")
    assert main(["validate", "--data", str(data), "--no-reason"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: 1 problem in the data:")
    assert "data/actors.yaml:2: (encoding): is not UTF-8 text" in err
    assert "Traceback" not in err


def test_the_dataset_counts_as_changed_when_its_latest_source_was_curated(data):
    assert last_curated(curation.load(data)) == "2024-06-01"  # the fixture's dataset and source agree
    edit(data, SOURCE_FILE, "  curated_on: 2024-06-01\nallegations", "  curated_on: 2024-07-15\nallegations")
    assert last_curated(curation.load(data)) == "2024-07-15"  # data/dataset.yaml still says 2024-06-01
