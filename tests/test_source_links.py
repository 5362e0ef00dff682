"""A document and the copies and reports of it the editors read: each page links to the others, both ways, in the
record today (read from the page index) and as of a day (read from the store).

A primary document the editors could not read has a metadata-only file and no quote of its own; without these
links its page would be a dead end ("None." taken from it) with nothing to say where its words were read.
"""

from __future__ import annotations

import re

import pytest

from server import create_app
from tests.conftest import build_fixture_with
from tests.fixtures import SOURCE

# The indictment the fixture report speaks of, never read; a reprint of it that was, and the fixture report
# (tests/fixtures.py) reporting on it.
INDICTMENT = """\
source:
  id: fixture-indictment
  type: indictment
  title: Indictment of the Ruritanian generals
  publisher: [fixture-officials]
  date: 2024-04
  language: en
  access_note: Metadata only.
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
"""
REPRINT = """\
source:
  id: fixture-indictment-reprint
  type: indictment
  title: The generals' indictment, in full
  publisher: [daily-fixture]
  url: https://news.example.org/indictment-in-full
  date: 2024-04
  language: en
  seen_at: https://news.example.org/indictment-in-full
  read_on: 2024-06-01
  reproduces: fixture-indictment
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
attributions:
  - allegation: alice-smuggles-cheese
    claimant: fixture-officials
    stance: asserts
    quote: "the minister conspired to move cheese"
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    report = SOURCE.replace("  read_on: 2024-06-01\n", "  read_on: 2024-06-01\n  reports_on: [fixture-indictment]\n", 1)
    assert report != SOURCE
    build = build_fixture_with(tmp_path_factory, "source-links", {
        "sources/fixture-indictment.yaml": INDICTMENT, "sources/fixture-indictment-reprint.yaml": REPRINT,
        "sources/fixture-report.yaml": report})
    return create_app({"BUILD_DIR": build, "TESTING": True}).test_client()


def facts(client, path: str) -> dict[str, list[str]]:
    """The page's facts list: each heading and the addresses its values link to."""
    response = client.get(path)
    assert response.status_code == 200
    listed = re.search(r'<dl class="facts">(.*?)</dl>', response.get_data(as_text=True), re.S).group(1)
    return {heading: re.findall(r'href="([^"]+)"', values)
            for heading, values in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", listed, re.S)}


@pytest.mark.parametrize("as_of", ["", "?as_of=2024-12-31"])
def test_a_document_and_its_copies_and_reports_link_both_ways(client, as_of):
    indictment = facts(client, "/id/source/fixture-indictment" + as_of)
    assert indictment["Copies the editors read"] == ["/id/source/fixture-indictment-reprint"]
    assert indictment["Reported on in"] == ["/id/source/fixture-report"]
    assert facts(client, "/id/source/fixture-indictment-reprint" + as_of)["Copy of"] == ["/id/source/fixture-indictment"]
    assert facts(client, "/id/source/fixture-report" + as_of)["Reports on"] == ["/id/source/fixture-indictment"]


def test_a_document_read_in_no_copy_lists_none(client):
    report = facts(client, "/id/source/fixture-report")
    assert "Copies the editors read" not in report and "Copy of" not in report and "Reported on in" not in report


def test_a_copy_is_based_on_its_document_for_search_engines(client):
    page = client.get("/id/source/fixture-indictment-reprint").get_data(as_text=True)
    assert '"isBasedOn": [{"@type": "CreativeWork", "@id": "https://w3id.org/soles/id/source/fixture-indictment"' in page
