"""Bad input is refused with an error naming the file, the line and the field."""

from __future__ import annotations

import shutil

import pytest

from kg import curation
from kg.curation import DataError
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
    edit(data, SOURCE_FILE, "    status: alleged\n", "")
    error = refused(data)
    assert error.field == "allegations[1].status"
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
