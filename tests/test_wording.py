"""Words on the pages: verbs agree with who speaks (a group takes a plural verb), nouns with their counts, dates
read as dates, and the licence is named."""

from __future__ import annotations

import html as markup
import re

import pytest

from kg.wording import agree, plural_verb, takes_plural
from server.pages.wording import counted, licence_name, plural

PERSON = "/id/person/alice-example"
GROUP = "/id/group/fixture-officials"
ALLEGATION = "/id/allegation/alice-smuggles-cheese"


def visible(response) -> str:
    page = re.sub(r"<script.*?</script>|<[^>]+>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(markup.unescape(page).split())


@pytest.mark.parametrize("kind, name, plural_subject", [
    ("group", "U.S. officials", True),
    ("group", "Analysts", True),
    ("person", "Nicolás Maduro", False),
    ("organization", "Cartel of the Suns", False),
    ("organization", "Reuters", False),
    ("organization", "The New York Times", False),
    ("organization", "Venezuelan armed forces", True),
    ("organization", "Spanish police", True),
    ("organization", "soles editors", True),
    ("organization", "lapost.us", False),
    ("organization", "Venezuelan Ministry of Foreign Affairs", False),
])
def test_who_takes_a_plural_verb(kind, name, plural_subject):
    assert takes_plural(kind, name) is plural_subject
    assert agree("denies", kind, name) == ("deny" if plural_subject else "denies")


@pytest.mark.parametrize("singular, plural_form", [
    ("asserts", "assert"), ("denies", "deny"), ("disputes", "dispute"), ("alleges", "allege"), ("takes", "take"),
    ("is", "are"), ("has", "have"), ("pushes", "push"), ("says", "say"),
])
def test_verbs_in_the_plural(singular, plural_form):
    assert plural_verb(singular) == plural_form


def test_nouns_agree_with_their_counts():
    assert counted(1, "allegation") == "1 allegation"
    assert counted(14, "allegation") == "14 allegations"
    assert counted(0, "event") == "0 events"
    assert plural("status statement") == "status statements"
    assert plural("person") == "people"
    assert plural("summary") == "summaries"
    assert plural("news report", 1) == "news report"


def test_known_licences_are_named():
    assert licence_name("https://creativecommons.org/licenses/by/4.0/") == "CC BY 4.0"
    assert licence_name("http://creativecommons.org/licenses/by/4.0/legalcode") == "CC BY 4.0"
    assert licence_name("https://example.org/our-licence") == "https://example.org/our-licence"


def test_a_group_takes_plural_verbs_on_every_page(client):
    allegation = visible(client.get(ALLEGATION))
    assert "Fixture officials assert" in allegation and "Fixture officials asserts" not in allegation
    assert "Alice Example denies" in allegation
    group = visible(client.get(GROUP))
    assert "What Fixture officials allege or deny" in group
    attribution = visible(client.get("/id/attribution/fixture-report/alice-smuggles-cheese/fixture-officials/asserts"))
    assert "Fixture officials assert" in attribution and "officials asserts" not in attribution
    person = visible(client.get(PERSON))
    assert "What Alice Example alleges or denies" in person


def test_the_build_labels_attributions_with_agreeing_verbs(client):
    graph = visible(client.get("/graph/fixture-report"))
    assert "Fixture officials assert: Alice Example smuggles cheese" in graph
    assert "Alice Example denies: Alice Example smuggles cheese" in graph
    assert "Allegations (2)" in graph and "Allegation (2)" not in graph


def test_counts_agree_with_their_nouns(client):
    home = visible(client.get("/"))
    assert "1 event" in home and "1 events" not in home
    assert "1 attribution denying" in home and "2 attributions asserting" in home
    graph = visible(client.get("/graph/fixture-report"))
    assert re.search(r"It has \d+ statements\.", graph)


def test_dates_read_as_dates(client):
    event = visible(client.get("/id/event/alice-indicted"))
    assert "March 2024" in event and "2024-03" not in event
    graph = visible(client.get("/graph/fixture-report"))
    assert "Curated on 1 June 2024" in graph and "T00:00:00" not in graph
    source = visible(client.get("/id/source/fixture-report"))
    assert "1 May 2024" in source
    actor = visible(client.get(PERSON))
    assert "March 2024 Alice Example indicted" in actor
    as_of = visible(client.get(ALLEGATION + "?as_of=2024-05-02"))
    assert "The record as it stood on 2 May 2024" in as_of


def test_the_licence_is_named_and_linked(client):
    for path in ("/", PERSON, "/ontology"):
        page = client.get(path).get_data(as_text=True)
        assert re.search(r'<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY 4.0</a>', page), path
        assert ">https://creativecommons.org/licenses/by/4.0/<" not in page, path
