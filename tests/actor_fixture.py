"""A second fixture build for the actor page: a hub accused in more allegations than a page holds, who denies
them all (and one more) in one blanket statement, with co-accused, a group and a plural-named organization."""

from __future__ import annotations

from pathlib import Path

from kg.page_index import PageIndex
from kg.pipeline import build
from tests.fixtures import ACTORS, write_fixture_data

MORE_ACTORS = ACTORS + """\
  - id: rex-ruler
    type: person
    name: Rex Ruler
    description: A ruler accused in many allegations.
  - id: carla-crony
    type: person
    name: Carla Crony
    description: Accused with Rex Ruler.
  - id: ruritanian-officials
    type: group
    name: Ruritanian officials
    description: Unnamed officials of Ruritania.
  - id: ruritanian-armed-forces
    type: organization
    name: Ruritanian armed forces
    description: An organization named in the plural.
"""

HUB_ALLEGATIONS = 5  # against Rex Ruler
BLANKET_QUOTE = "Rex Ruler rejected every one of these accusations as lies"
GROUP_QUOTE = "Ruritanian officials rejected the accusations against their ruler"


def _allegation(number: int, accused: str, extra: str = "") -> str:
    return f"""\
  - id: rex-affair-{number}
    label: Rex Ruler affair number {number}
    summary: The paper reports that the ruler took part in affair number {number}.
    types: [bribery]
    status: alleged
    accused: [{accused}]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "officials describe affair number {number}"
      - claimant: rex-ruler
        stance: denies
        quote: "{BLANKET_QUOTE}"
{extra}"""


GROUP_DENIES = f"""\
      - claimant: ruritanian-officials
        stance: denies
        quote: "{GROUP_QUOTE}"
"""

# An address with no place to break a line (a document-sharing site's): its page must still fit a phone.
SOURCE_URL = "https://documents.example.org/document/508646571/TheRulersAffairsTheCompleteAndUnabridgedEdition"
SOURCE = "/id/source/ruler-report"

BLANKET_SOURCE = f"""\
source:
  id: ruler-report
  type: news-report
  title: The Ruler's Affairs
  publisher: [daily-fixture]
  url: {SOURCE_URL}
  date: 2024-08-15
  language: en
  seen_at: https://archive.example.org/news.example.org/ruler-affairs
  read_on: 2024-09-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-09-01
allegations:
{_allegation(1, "rex-ruler, carla-crony", GROUP_DENIES)}\
{_allegation(2, "rex-ruler, carla-crony", GROUP_DENIES)}\
{_allegation(3, "rex-ruler, bob-sample", '''      - claimant: ruritanian-armed-forces
        stance: asserts
        quote: "the armed forces say affair number 3 happened"
''')}\
{_allegation(4, "rex-ruler", '''      - claimant: daily-fixture
        stance: disputes
        quote: "the paper doubts affair number 4"
''')}\
{_allegation(5, "rex-ruler")}\
attributions:
  - allegation: alice-smuggles-cheese
    claimant: rex-ruler
    stance: denies
    quote: "{BLANKET_QUOTE}"
"""

# What Rex Ruler's page must show, from the data above, in its order (the most allegations first, then by name).
CO_ACCUSED = {"Carla Crony": 2, "Bob Sample": 1}
VOICES = {  # claimant -> (asserting, denying, disputing) allegations against Rex Ruler
    "Fixture officials": (5, 0, 0), "Ruritanian officials": (0, 2, 0),
    "Daily Fixture": (0, 0, 1), "Ruritanian armed forces": (1, 0, 0),
}
CONCERNED = {  # accused -> (asserting, denying, disputing) of Rex Ruler's statements
    "Bob Sample": (0, 2, 0), "Carla Crony": (0, 2, 0), "Alice Example": (0, 1, 0),
}
BLANKET_COVERS = HUB_ALLEGATIONS + 1  # and Alice Example's cheese


def build_actor_fixture(directory: Path) -> Path:
    """Write and build the data; returns the build."""
    data = write_fixture_data(directory / "data", extra={"actors.yaml": MORE_ACTORS,
                                                         "sources/ruler-report.yaml": BLANKET_SOURCE})
    out = directory / "build"
    build(data, out, reason=False)
    return out


def allegations_read(monkeypatch) -> list[str]:
    """The allegations the page index is asked for from now on, each time, with their labels or without (a hub's
    page must read only those it shows); asking for every one fails."""
    read: list[str] = []
    for name in ("allegations", "labelled_allegations"):
        def recorded(self, iris=None, read_them=getattr(PageIndex, name)):
            assert iris is not None
            iris = list(iris)
            read.extend(iris)
            return read_them(self, iris)

        monkeypatch.setattr(PageIndex, name, recorded)
    return read
