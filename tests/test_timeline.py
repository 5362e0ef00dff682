"""The timeline over HTTP: /timeline as a dated list without JavaScript, its JSON twin, the filters in the
address, dates at their precision, undated items with their reasons, and the timeline sections of pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from xml.etree import ElementTree

import pytest

from server import create_app
from tests.conftest import build_fixture_with

# Beside the fixture report (an indictment in March 2024, two allegations reported with its date, 1 May 2024):
# a later report with an arrest, a trial from one month to another, a statement dated only by its year and an
# event no one dates; and a memo without a date, whose allegation's status is therefore undated too.
LATER_REPORT = """\
source:
  id: fixture-timeline-news
  type: news-report
  title: The cheese trial
  publisher: [daily-fixture]
  url: https://news.example.org/cheese-trial
  date: 2025-02-01
  language: en
  seen_at: https://archive.example.org/news.example.org/cheese-trial
  read_on: 2025-02-02
curation:
  curated_by: [fixture-editors]
  curated_on: 2025-02-02
status_changes:
  - id: alice-arrested
    allegation: alice-smuggles-cheese
    status: arrested
    date: 2025-01-05
    concerns: [alice-example]
events:
  - id: alice-trial
    type: statement
    label: Alice Example's trial hearings
    summary: Hearings in the case against the minister.
    start_date: 2024-09
    end_date: 2024-11
    involves: [alice-example]
  - id: bob-statement
    type: statement
    label: Bob Sample speaks in Strelsau
    summary: The general speaks about the case.
    date: "2023"
    performed_by: [bob-sample]
    places: [strelsau]
  - id: bob-vanishes
    type: statement
    label: Bob Sample leaves the country
    summary: The general is reported to have left.
    undated_reason: The paper says only that he left after the indictment.
    involves: [bob-sample]
"""

UNDATED_MEMO = """\
source:
  id: fixture-undated-memo
  type: analysis
  title: A memo on gold
  publisher: [daily-fixture]
  url: https://news.example.org/gold-memo
  language: en
  seen_at: https://archive.example.org/news.example.org/gold-memo
  read_on: 2025-02-02
curation:
  curated_by: [fixture-editors]
  curated_on: 2025-02-02
allegations:
  - id: bob-hoards-gold
    label: Bob Sample hoards gold
    summary: Officials accuse the general of hoarding gold.
    types: [bribery]
    status: reported
    accused: [bob-sample]
    attributions:
      - claimant: fixture-officials
        stance: asserts
        quote: "the general hoards gold"
"""

# What the fixture holds, as the timeline must show it.
DATED = {"alice-indicted": "March 2024", "alice-trial": "September 2024 – November 2024", "bob-statement": "2023",
         "alice-smuggles-cheese-charged-in-fixture-report": "1 May 2024",
         "mallory-takes-bribes-alleged-in-fixture-report": "1 May 2024", "alice-arrested": "5 January 2025"}
UNDATED = {"bob-vanishes": "The paper says only that he left after the indictment.",
           "bob-hoards-gold-reported-in-fixture-undated-memo": "The source that reports it gives no date."}
IN_DATE_ORDER = ["bob-statement", "alice-indicted", "alice-smuggles-cheese-charged-in-fixture-report",
                 "mallory-takes-bribes-alleged-in-fixture-report", "alice-trial", "alice-arrested"]


@pytest.fixture(scope="module")
def timeline_build(tmp_path_factory):
    return build_fixture_with(tmp_path_factory, "timeline", {
        "sources/fixture-timeline-news.yaml": LATER_REPORT, "sources/fixture-undated-memo.yaml": UNDATED_MEMO})


@pytest.fixture()
def client(timeline_build):
    return create_app({"BUILD_DIR": timeline_build, "TESTING": True}).test_client()


def slug(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


class _TreeBuilder(HTMLParser):
    """HTML as an ElementTree, so that tests can find elements with its paths (the pages are well formed)."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "col", "area", "base", "wbr"}

    def __init__(self):
        super().__init__()
        self.builder = ElementTree.TreeBuilder()
        self.builder.start("document", {})

    def handle_starttag(self, tag, attrs):
        self.builder.start(tag, {name: value or "" for name, value in attrs})
        if tag in self.VOID:
            self.builder.end(tag)

    def handle_endtag(self, tag):
        if tag not in self.VOID:
            self.builder.end(tag)

    def handle_data(self, data):
        self.builder.data(data)


def parsed(response) -> ElementTree.Element:
    builder = _TreeBuilder()
    builder.feed(response.data.decode())
    builder.builder.end("document")
    return builder.builder.close()


def text(element: ElementTree.Element) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def test_the_json_twin_holds_every_event_and_status_change(client):
    response = client.get("/timeline.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert (data["total"], data["dated"], data["undated"], data["everything"]) == (8, 6, 2, 8)
    assert [slug(item["iri"]) for item in data["items"]] == IN_DATE_ORDER
    assert {slug(item["iri"]): item["when"] for item in data["items"]} == DATED
    assert {slug(item["iri"]): item["undated_reason"] for item in data["undated_items"]} == UNDATED
    assert all(item["undated_reason"] is None for item in data["items"])


def test_dates_keep_their_precision_on_the_axis(client):
    items = {slug(item["iri"]): item for item in client.get("/timeline.json").get_json()["items"]}
    assert (items["bob-statement"]["precision"], items["bob-statement"]["start"],
            items["bob-statement"]["axis_end"]) == ("year", "2023-01-01", "2024-01-01")
    assert (items["alice-indicted"]["precision"], items["alice-indicted"]["start"],
            items["alice-indicted"]["axis_end"]) == ("month", "2024-03-01", "2024-04-01")
    assert (items["alice-arrested"]["precision"], items["alice-arrested"]["axis_end"]) == ("day", None)
    assert (items["alice-trial"]["start"], items["alice-trial"]["axis_end"]) == ("2024-09-01", "2024-12-01")


def test_each_item_links_to_its_page(client):
    items = {slug(item["iri"]): item for item in client.get("/timeline.json").get_json()["items"]}
    assert items["alice-indicted"]["url"] == "/id/event/alice-indicted"
    arrest = items["alice-arrested"]
    assert arrest["url"] == "/id/allegation/alice-smuggles-cheese"
    assert arrest["record"] == "/id/status/alice-arrested"
    assert arrest["label"] == "Arrested — Alice Example smuggles cheese"
    for item in items.values():
        assert client.get(item["url"]).status_code == 200
        assert client.get(item["record"]).status_code == 200


@pytest.mark.parametrize("query, expected", [
    ("actor=person/bob-sample", {"alice-smuggles-cheese-charged-in-fixture-report", "alice-arrested", "bob-statement",
                                 "bob-vanishes", "bob-hoards-gold-reported-in-fixture-undated-memo"}),
    ("type=Arrested", {"alice-arrested"}),
    ("type=Arrested&type=Statement", {"alice-arrested", "alice-trial", "bob-statement", "bob-vanishes"}),
    ("source=fixture-report", {"alice-indicted", "alice-smuggles-cheese-charged-in-fixture-report",
                               "mallory-takes-bribes-alleged-in-fixture-report"}),
    ("place=ruritania", {"alice-indicted", "alice-smuggles-cheese-charged-in-fixture-report", "alice-arrested",
                         "bob-statement"}),
    ("allegation=alice-smuggles-cheese", {"alice-indicted", "alice-smuggles-cheese-charged-in-fixture-report",
                                          "alice-arrested"}),
    ("actor=person/bob-sample&type=Charged", {"alice-smuggles-cheese-charged-in-fixture-report"}),
    ("actor=person/nobody", set()),
])
def test_filters_are_done_by_the_server(client, query, expected):
    data = client.get(f"/timeline.json?{query}").get_json()
    assert {slug(item["iri"]) for item in data["items"] + data["undated_items"]} == expected
    assert data["total"] == len(expected)
    page = parsed(client.get(f"/timeline?{query}"))
    listed = {slug(entry.find("a").get("href")) for entry in page.iterfind(".//li[@class='timeline-entry kind-event']")}
    listed |= {slug(entry.find("a[@class='permalink']").get("href"))
               for entry in page.iterfind(".//li[@class='timeline-entry kind-status']")}
    assert listed == expected


def test_without_javascript_the_page_is_a_dated_list_grouped_by_year(client):
    response = client.get("/timeline")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = parsed(response)
    years = page.findall(".//section[@class='timeline-year']")
    assert [year.findtext("h3") for year in years] == ["2023", "2024", "2025"]
    assert [len(year.findall(".//li")) for year in years] == [1, 4, 1]
    times = [time for year in years for time in year.iterfind(".//time")]
    assert [time.text for time in times] == [DATED[name] for name in IN_DATE_ORDER]
    assert times[0].get("datetime") == "2023"
    undated = page.findall(".//section[@id='undated']//li")
    assert len(undated) == 2
    assert sorted(text(item.find("p[@class='undated-reason']")).removeprefix("Why undated: ") for item in undated) \
        == sorted(UNDATED.values())
    assert text(page.find(".//p[@class='timeline-count']")).startswith(
        "All 8 of 8 events and status changes: 6 dated, 2 undated.")
    assert all(script.get("src") for script in page.iter("script"))
    assert not [element for element in page.iter() if "style" in element.attrib]


def test_the_address_is_the_view_and_the_twin_is_linked(client):
    response = client.get("/timeline?actor=person/bob-sample&type=Arrested")
    assert '</timeline.json?actor=person%2Fbob-sample&type=Arrested>; rel="alternate"; type="application/json"' \
        in response.headers["Link"]
    page = parsed(response)
    assert [link.get("href") for link in page.iterfind(".//link[@rel='alternate'][@type='application/json']")] == \
        ["/timeline.json?actor=person%2Fbob-sample&type=Arrested"]
    assert [option.get("value") for option in page.iterfind(".//select[@name='actor']/option[@selected]")] == \
        ["person/bob-sample"]
    assert [option.get("value") for option in page.iterfind(".//select[@name='type']/option[@selected]")] == ["Arrested"]
    removals = [link.get("href") for link in page.iterfind(".//span[@class='timeline-chosen']/a")]
    assert sorted(removals) == ["/timeline?actor=person%2Fbob-sample", "/timeline?type=Arrested"]


def test_the_record_as_of_a_day(client):
    data = client.get("/timeline.json?as_of=2024-12-31").get_json()
    # Only the fixture report was published by then: the later report and the undated memo are left out.
    assert {slug(item["iri"]) for item in data["items"] + data["undated_items"]} == {
        "alice-indicted", "alice-smuggles-cheese-charged-in-fixture-report", "mallory-takes-bribes-alleged-in-fixture-report"}


@pytest.mark.parametrize("page, expected_dated, expected_undated, whole", [
    ("/id/person/bob-sample", 3, 2, "/timeline?actor=person%2Fbob-sample"),
    ("/id/allegation/alice-smuggles-cheese", 3, 0, "/timeline?allegation=alice-smuggles-cheese"),
    ("/id/place/ruritania", 4, 0, "/timeline?place=ruritania"),
])
def test_pages_have_a_timeline_section(client, page, expected_dated, expected_undated, whole):
    section = parsed(client.get(page)).find(".//section[@class='timeline-section']")
    items = section.findall(".//li")
    assert len(items) == expected_dated
    dates = [item.find("time").get("datetime") for item in items]
    assert dates == sorted(dates, reverse=True)  # the latest first
    link = section.find("p/a")
    assert link.get("href") == whole
    assert (f"and {expected_undated} undated" in text(link)) == bool(expected_undated)


@pytest.mark.parametrize("page, facet", [("/id/person/bob-sample", "actor=person/bob-sample"),
                                         ("/id/place/ruritania", "place=ruritania")])
@pytest.mark.parametrize("as_of", [None, "2024-12-31"])
def test_a_timeline_section_counts_what_the_whole_timeline_it_links_to_lists(client, page, facet, as_of):
    """Today the section counts an IRI's dated items by their numbers, without reading them; as of a day it reads
    them: both must say what the timeline narrowed to the page lists."""
    day = f"as_of={as_of}" if as_of else ""
    whole = client.get(f"/timeline.json?{facet}&{day}").get_json()
    dated, undated = len(whole["items"]), len(whole["undated_items"])
    link = text(parsed(client.get(f"{page}?{day}")).find(".//section[@class='timeline-section']/p/a"))
    assert dated  # something to count
    assert re.search(rf"\b{dated} dated item", link) and (f"{undated} undated" in link) == bool(undated), link


def test_on_an_allegation_page_a_status_change_links_to_its_record(client):
    section = parsed(client.get("/id/allegation/alice-smuggles-cheese")).find(".//section[@class='timeline-section']")
    assert "/id/status/alice-arrested" in [link.get("href") for link in section.iterfind(".//li/a")]


def test_the_home_page_lists_dated_events_latest_first(client):
    events = parsed(client.get("/")).find(".//section[@aria-labelledby='events-heading']")
    assert [item.find("a").get("href") for item in events.iterfind(".//ol/li")] == [
        "/id/event/alice-trial", "/id/event/alice-indicted", "/id/event/bob-statement"]
    assert events.find(".//a[@href='/timeline']") is not None


# --- at scale: a page at a time, and a form that offers the most frequent values --------------------------------


def test_the_list_turns_page_by_page_dated_then_undated(timeline_build):
    client = create_app({"BUILD_DIR": timeline_build, "TESTING": True, "PAGE_SIZE": 4}).test_client()
    first = parsed(client.get("/timeline"))
    assert [time.text for time in first.iterfind(".//section[@class='timeline-year']//time")] == \
        [DATED[name] for name in IN_DATE_ORDER[:4]]
    assert first.find(".//section[@id='undated']") is None  # they come after the dated ones
    assert text(first.find(".//p[@class='timeline-count']")).startswith(
        "All 8 of 8 events and status changes: 6 dated, 2 undated.")
    assert first.find(".//nav[@class='pager']/a[@rel='next']").get("href") == "/timeline?page=2"
    second = parsed(client.get("/timeline?page=2"))
    assert [time.text for time in second.iterfind(".//section[@class='timeline-year']//time")] == \
        [DATED[name] for name in IN_DATE_ORDER[4:]]
    assert len(second.findall(".//section[@id='undated']//li")) == 2
    assert second.find(".//nav[@class='pager']/a[@rel='prev']").get("href") == "/timeline"
    # A narrowed view keeps its filters from page to page; the JSON twin holds all of it.
    narrowed = parsed(client.get("/timeline?actor=person/bob-sample"))
    assert narrowed.find(".//nav[@class='pager']/a[@rel='next']").get("href") == \
        "/timeline?actor=person%2Fbob-sample&page=2"
    assert client.get("/timeline.json?actor=person/bob-sample&page=2").get_json()["total"] == 5


def test_the_form_offers_the_values_most_items_have_and_any_chosen(client, monkeypatch):
    monkeypatch.setattr("server.pages.timeline.FORM_OPTIONS", 1)
    page = parsed(client.get("/timeline"))
    actors = page.findall(".//select[@name='actor']/option")
    assert [option.get("value") for option in actors] == ["", "person/bob-sample", None]  # Any, on most items, more
    assert text(actors[-1]) == "… 3 more, each on fewer items: chosen from their pages"
    chosen = parsed(client.get("/timeline?actor=person/alice-example"))
    assert [(option.get("value"), "selected" in option.attrib)
            for option in chosen.findall(".//select[@name='actor']/option")][:3] == [
        ("", False), ("person/alice-example", True), ("person/bob-sample", False)]
    assert text(chosen.find(".//select[@name='actor']/option[@selected]")) == "Alice Example"
