"""The HTML pieces written in Python (server.pages.fragments): what they show, what they leave out, and that
every value from the data is escaped."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import escape

from kg import ids
from server.pages.escaping import escaped
from server.pages.fragments import (
    allegation_list,
    attribution_items,
    blanket_statements,
    claim_blocks,
    counterpart_table,
    dossier_columns,
    event_list,
    network_row,
    pager_nav,
    quote,
    stance_columns,
    timeline_entry,
    timeline_latest,
    value,
    values,
)
from server.pages.resources import Ref, Row

HOSTILE = '<script>alert("x")</script> & "quoted"'


def ref(path: str, label: str) -> Ref:
    return Ref(ids.BASE + path, "/" + path, label)


ALICE = ref("id/person/alice-example", "Alice Example")
OFFICIALS = ref("id/group/fixture-officials", "Fixture officials")
ASSERTS = ref("ontology#asserts", "asserts")
DENIES = ref("ontology#denies", "denies")
REPORT = ref("id/source/fixture-report", "Fixture report")


def attribution(claimant: Ref, stance: Ref, quote: str | None, **more) -> Row:
    record = ref(f"id/attribution/fixture-report/x/{claimant.iri.rpartition('/')[2]}/s", "record")
    return Row({"claimant": claimant, "stance": stance, "quote": quote, "source": REPORT, "translation": None,
                "note": None, "attribution": record, **more})


def test_a_value_is_a_link_a_date_in_words_or_text():
    assert value(ALICE) == '<a href="/id/person/alice-example">Alice Example</a>'
    assert value("2020-03-26") == "26 March 2020"
    assert values([ALICE, "2019"]) == '<a href="/id/person/alice-example">Alice Example</a>, 2019'
    assert values([]) == "—" and values([], empty="") == ""
    assert "<script>" not in value(HOSTILE) and "&lt;script&gt;" in values([HOSTILE])


def test_attributions_show_who_their_stance_in_agreement_and_the_quote():
    html = attribution_items([attribution(OFFICIALS, DENIES, "We deny it.", translation="Lo negamos.")])
    assert '<a href="/id/group/fixture-officials">Fixture officials</a> <span class="stance">deny</span>' in html
    assert "“We deny it.”" in html and 'cite="/id/source/fixture-report"' in html
    assert "Quoted from <a href=\"/id/source/fixture-report\">Fixture report</a>" in html
    assert "Lo negamos." in html
    without_who = attribution_items([attribution(ALICE, ASSERTS, None)], who=False)
    assert "Alice Example" not in without_who and '<p class="source">Source: ' in without_who


def test_an_attribution_a_blanket_statement_covers_refers_to_it_instead_of_quoting():
    statement = SimpleNamespace(anchor="statement-1", pager=SimpleNamespace(total=3))
    html = attribution_items([attribution(ALICE, DENIES, "Lies, all of it.", statement=statement)])
    assert 'href="#statement-1">one statement covering\n    3 allegations</a>' in html
    assert "Lies, all of it." not in html


def test_every_value_from_the_data_is_escaped():
    hostile = Ref(ids.BASE + "id/person/x", '/id/person/x"><script>', HOSTILE)
    row = attribution(hostile, ASSERTS, HOSTILE, translation=HOSTILE, note=HOSTILE)
    for html in (attribution_items([row]),
                 stance_columns(SimpleNamespace(asserting=[row], denying=[], disputing=[])),
                 dossier_columns([([row], HOSTILE, "asserting", "")], {}, {}),
                 network_row(Row(who=hostile, relation=HOSTILE, whom=hostile, css_class=HOSTILE, about=hostile,
                                 status=hostile, source=hostile, record=hostile)),
                 timeline_entry(Row(kind=HOSTILE, date=HOSTILE, when=HOSTILE, type=hostile, title=hostile, item=hostile,
                                    source=hostile, reason=HOSTILE)),
                 allegation_list([SimpleNamespace(allegation=hostile, status=hostile, status_note=HOSTILE,
                                                  asserted_by=1, denied_by=0)]),
                 pager_nav(SimpleNamespace(split=True, first=1, last=2, total=3, size=2, previous_href=None,
                                           next_href=HOSTILE), HOSTILE),
                 blanket_statements([statement(hostile, HOSTILE, covered=[(hostile, hostile)])]),
                 claim_blocks([SimpleNamespace(allegation=hostile, status=None, asserting=[row], denying=[],
                                               disputing=[])]),
                 quote(HOSTILE, hostile),
                 timeline_latest([Row(kind=HOSTILE, date=HOSTILE, when=HOSTILE, type=hostile, link=hostile)])):
        assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/id/person/x&#34;&gt;&lt;script&gt;"' in attribution_items([row])


def statement(claimant: Ref, words: str, covered: list, total: int | None = None, **more) -> SimpleNamespace:
    """A blanket statement (server.pages.blanket.Statement) as the fragments read it."""
    pager = SimpleNamespace(split=False, total=len(covered) if total is None else total)
    return SimpleNamespace(anchor="statement-1", claimant=claimant, stance=DENIES, quote=words, source=REPORT,
                           translation=None, covered=covered, pager=pager, **more)


def test_a_blanket_statement_is_quoted_once_with_each_allegation_it_covers_and_its_record():
    allegations = [(ref(f"id/allegation/fixture-{n}", f"Fixture allegation {n}"),
                    ref(f"id/attribution/fixture-report/fixture-{n}/alice-example/denies", "record")) for n in (1, 2, 3)]
    html = blanket_statements([statement(ALICE, "All lies.", allegations)], level=4)
    assert ('<section class="blanket-statement stance-denies" id="statement-1" aria-labelledby="statement-1-heading">'
            in html)
    assert '<h4 id="statement-1-heading"><a href="/id/person/alice-example">Alice Example</a>' in html
    assert "all 3 allegations" in html and html.count("All lies.") == 1 and html.count('class="permalink"') == 3
    assert 'href="/id/attribution/fixture-report/fixture-2/alice-example/denies"' in html
    assert "both allegations" in blanket_statements([statement(ALICE, "No.", allegations[:2])])


def test_an_actors_claims_show_their_own_attributions_without_repeating_who():
    item = SimpleNamespace(allegation=ref("id/allegation/fixture", "Fixture allegation"), status=None,
                           asserting=[], denying=[attribution(ALICE, DENIES, "Not true.")], disputing=[])
    html = claim_blocks([item])
    assert '<h3><a href="/id/allegation/fixture">Fixture allegation</a></h3>' in html and "“Not true.”" in html
    assert "Alice Example" not in html and "a claim, not a finding" in html
    assert claim_blocks([]) == ""


def test_a_quote_names_its_source_when_there_is_one():
    assert 'cite="/id/source/fixture-report"' in quote("Words.", REPORT) and "Quoted from" in quote("Words.", REPORT)
    assert "cite=" not in quote("Words.") and "figcaption" not in quote("Words.") and "“Words.”" in quote("Words.")


def test_stance_columns_leave_out_disputing_when_no_one_disputes():
    item = SimpleNamespace(asserting=[attribution(ALICE, ASSERTS, "It is so.")], denying=[], disputing=[])
    html = stance_columns(item, level=3)
    assert '<h3>Asserted by</h3>' in html and "No denial on record." in html and "Disputed" not in html
    item.disputing = [attribution(OFFICIALS, ref("ontology#disputes", "disputes"), "Doubtful.")]
    assert '<section class="column disputing" aria-label="Disputing">' in stance_columns(item)


def test_dossier_columns_number_each_source_and_give_each_record_address():
    row = attribution(ALICE, ASSERTS, "It is so.")
    source = SimpleNamespace(iri=REPORT.iri, date="2020-05")
    html = dossier_columns([([row], "Asserted by", "asserting", "No one."), ([], "Denied by", "denying", "No denial."),
                            ([], "Disputed by", "disputing", None)], {REPORT.iri: source}, {REPORT.iri: 4})
    assert '<span class="date">May 2020</span>' in html and 'href="#source-4"' in html and "[4]" in html
    assert f"Record: <a href=\"{row.attribution.href}\">{row.attribution.iri}</a>" in html
    assert '<li class="none">No denial.</li>' in html and "Disputed by" not in html


def test_a_counterpart_table_counts_each_stance_or_shows_a_dash():
    item = SimpleNamespace(actor=OFFICIALS, allegations={"asserts": 3, "disputes": 1})
    html = counterpart_table([item], "Who <speaks>", "Claimant")
    assert "<caption>Who &lt;speaks&gt;</caption>" in html and '<th scope="col">Claimant</th>' in html
    assert '<th scope="row"><a href="/id/group/fixture-officials">Fixture officials</a></th>' in html
    assert ('<td data-label="Asserting">3</td><td data-label="Denying">–</td><td data-label="Disputing">1</td>'
            in html)


def test_an_event_list_dates_links_and_types_each_event():
    event = ref("id/event/fixture-arrest", "Fixture arrest")
    html = event_list([Row(event=event, date="2020-03", type=ref("ontology#Arrest", "arrest")),
                       Row(event=event, date=None, type=None)])
    assert ('<li><span class="date">March 2020</span> <a href="/id/event/fixture-arrest">Fixture arrest</a> '
            '<span class="badge">arrest</span></li>') in html
    assert '<li><span class="date">undated</span> <a href="/id/event/fixture-arrest">Fixture arrest</a></li>' in html


def test_a_network_row_links_who_whom_what_and_where_with_the_record_when_there_is_one():
    allegation = ref("id/allegation/fixture", "Fixture allegation")
    record = ref("id/attribution/fixture-report/fixture/alice-example/asserts", "record")
    row = Row(who=ALICE, relation="asserts against", whom=OFFICIALS, css_class="asserts", about=allegation,
              status=ref("ontology#Charged", "charged"), source=REPORT, record=record)
    html = network_row(row)
    assert '<td data-label="Who"><a href="/id/person/alice-example">Alice Example</a></td>' in html
    assert '<td data-label="Relation" class="asserts"><span class="swatch" aria-hidden="true"></span>asserts against' in html
    assert '<a href="/id/allegation/fixture">Fixture allegation</a> <span class="badge badge-status">charged</span>' in html
    assert f'<a class="permalink" href="{record.href}"' in html
    row.status = row.record = None
    assert "badge" not in network_row(row) and "permalink" not in network_row(row)


def test_a_timeline_entry_shows_its_date_type_and_source_or_why_it_is_undated():
    event = ref("id/event/fixture-arrest", "Fixture arrest")
    dated = timeline_entry(Row(kind="event", date="2020-03", when="March 2020", type=ref("ontology#Arrest", "arrest"),
                               title=event, item=event, source=REPORT, reason=None))
    assert '<time class="date" datetime="2020-03">March 2020</time>' in dated
    assert '<span class="badge">arrest</span>' in dated and "Source: <a href=\"/id/source/fixture-report\">" in dated
    assert "permalink" not in dated and "Why undated" not in dated
    allegation = ref("id/allegation/fixture", "Fixture allegation")
    status = timeline_entry(Row(kind="status", date=None, when="undated", type=None, title=allegation,
                                item=ref("id/status/fixture", "status"), source=None, reason="No date given."))
    assert '<time class="date">undated</time>' in status and '<span class="badge badge-status">status</span>' in status
    assert 'class="permalink" href="/id/status/fixture"' in status and "Why undated:</span> No date given." in status


def test_text_is_escaped_as_markupsafe_escapes_it():
    for text in ("", "plain words", HOSTILE, "&amp; already", "'single' “curly” <b>", "a&b<c>d\"e'f"):
        assert escaped(text) == str(escape(text))


def test_an_allegation_list_counts_the_voices_of_each():
    allegation = ref("id/allegation/fixture", "Fixture allegation")
    item = SimpleNamespace(allegation=allegation, status=ref("ontology#Charged", "charged"), status_note="Not a verdict.",
                           asserted_by=2, denied_by=1)
    html = allegation_list([item])
    assert html.startswith('<ul class="allegation-list">') and html.count("<li>") == 1
    assert '<a href="/id/allegation/fixture">Fixture allegation</a> <span class="status">' in html
    assert 'title="Not a verdict."' in html and "status-note" not in html
    assert '<span class="counts">asserted by 2, denied by 1</span>' in html


def test_a_pager_shows_only_when_the_list_is_longer_than_a_page_with_its_neighbours():
    def pager(number, total, size=10):
        link = "/id/person/alice-example?accused={}".format
        return SimpleNamespace(split=total > size, first=(number - 1) * size + 1, last=min(number * size, total),
                               total=total, size=size, previous_href=link(number - 1) if number > 1 else None,
                               next_href=link(number + 1) if number * size < total else None)
    assert pager_nav(pager(1, 10), "allegations") == ""
    first = pager_nav(pager(1, 25), "allegations against Alice")
    assert '<nav class="pager" aria-label="Pages of allegations against Alice">' in first
    assert '<span class="pager-position">1–10 of 25 allegations against Alice</span>' in first
    assert 'rel="prev"' not in first and '<a rel="next" href="/id/person/alice-example?accused=2">next 10 →</a>' in first
    last = pager_nav(pager(3, 25), "allegations")
    assert "21–25 of 25" in last and "← previous 10" in last and 'rel="next"' not in last


def test_a_timeline_section_lists_its_latest_items_with_their_dates_and_types():
    event, allegation = ref("id/event/fixture-arrest", "Fixture arrest"), ref("id/allegation/fixture", "Fixture allegation")
    html = timeline_latest([Row(kind="event", date="2020-03", when="March 2020", type=ref("ontology#Arrest", "arrest"),
                                link=event),
                            Row(kind="status", date="2021", when="2021", type=ref("ontology#Charged", "charged"),
                                link=allegation)])
    assert html.startswith('<ol class="event-list timeline-compact">') and html.count("<li>") == 2
    assert '<time class="date" datetime="2020-03">March 2020</time>' in html and '<span class="badge">arrest</span>' in html
    assert '<span class="badge badge-status">charged</span>' in html and '<a href="/id/allegation/fixture">' in html
