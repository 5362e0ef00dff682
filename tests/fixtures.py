"""A tiny curated dataset, written as code so every test knows exactly what is in it."""

from __future__ import annotations

from pathlib import Path

DATASET = """\
title: Fixture graph
description: A tiny dataset for tests.
license: https://creativecommons.org/licenses/by/4.0/
publisher: fixture-editors
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
"""

WIKIDATA = """\
verified:
  - {qid: Q1001, label: Alice Example, kind: person, checked_in: test fixture}
  - {qid: Q1002, label: Ruritania, kind: place, checked_in: test fixture}
  - {qid: Q1003, label: Daily Fixture, kind: organization, checked_in: test fixture}
"""

ACTORS = """\
actors:
  - id: alice-example
    type: person
    name: Alice Example
    description: A minister accused in the fixture report.
    roles: [Minister of Examples]
    country: ruritania
    wikidata: Q1001
  - id: bob-sample
    type: person
    name: Bob Sample
    description: A general accused with Alice Example.
    country: ruritania
  - id: mallory-script
    type: person
    name: "Mallory <script>window.__xss = 1</script>"
    description: An actor whose name holds markup, to prove pages show it as text.
  - id: daily-fixture
    type: organization
    name: Daily Fixture
    description: A newspaper.
    roles: [newspaper]
    wikidata: Q1003
  - id: fixture-officials
    type: group
    name: Fixture officials
    description: Unnamed officials.
  - id: fixture-editors
    type: organization
    name: Fixture editors
    description: The curators.
"""

PLACES = """\
places:
  - id: ruritania
    type: country
    name: Ruritania
    wikidata: Q1002
  - id: strelsau
    type: city
    name: Strelsau
    part_of: [ruritania]
"""

SOURCE_ID = "fixture-report"

SOURCE = """\
source:
  id: fixture-report
  type: news-report
  title: Generals of Ruritania Accused
  publisher: [daily-fixture]
  url: https://news.example.org/generals-accused
  date: 2024-05-01
  language: en
  seen_at: https://archive.example.org/news.example.org/generals-accused
  read_on: 2024-06-01
curation:
  curated_by: [fixture-editors]
  curated_on: 2024-06-01
allegations:
  - id: alice-smuggles-cheese
    label: Alice Example smuggles cheese
    summary: Officials accuse the minister of smuggling cheese through Strelsau.
    types: [drug-trafficking]
    status: charged
    accused: [alice-example, bob-sample]
    places: [strelsau]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "officials say the minister moved tons of cheese through Strelsau"
      - claimant: alice-example
        stance: denies
        quote: "Alice Example called the charges a fabrication"
  - id: mallory-takes-bribes
    label: Mallory takes bribes
    summary: The newspaper reports that Mallory took bribes.
    types: [bribery]
    status: alleged
    accused: [mallory-script]
    attributions:
      - claimant: daily-fixture
        stance: asserts
        quote: "Mallory took bribes"
events:
  - id: alice-indicted
    type: indictment
    label: Alice Example indicted
    summary: Prosecutors indict the minister.
    date: 2024-03
    performed_by: [fixture-officials]
    involves: [alice-example]
    places: [strelsau]
    allegations: [alice-smuggles-cheese]
    quote: "indicted in March"
"""

SOURCE_TEXT = """\
In Ruritania, officials say the minister moved tons of cheese
through Strelsau. She was indicted in March. Alice Example called the
charges a fabrication. Mallory took bribes, the paper found.
"""

FILES = {
    "dataset.yaml": DATASET,
    "wikidata.yaml": WIKIDATA,
    "actors.yaml": ACTORS,
    "places.yaml": PLACES,
    f"sources/{SOURCE_ID}.yaml": SOURCE,
}


def write_fixture_data(directory: Path, extra: dict[str, str] | None = None) -> Path:
    """Write the fixture dataset into ``directory`` (which becomes a data/ folder) and return it.

    ``extra`` adds or replaces files (name relative to data/ -> YAML text), for tests that need more.
    """
    for name, text in {**FILES, **(extra or {})}.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return directory
