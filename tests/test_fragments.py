"""The HTML pieces written in Python (server.pages.fragments): what they show, what they leave out, and that
every value from the data is escaped."""

from __future__ import annotations

from types import SimpleNamespace

from kg import ids
from server.pages.fragments import (
    attribution_items,
    counterpart_rows,
    dossier_columns,
    event_list,
    stance_columns,
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
                 dossier_columns([([row], HOSTILE, "asserting", "")], {}, {})):
        assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="/id/person/x&#34;&gt;&lt;script&gt;"' in attribution_items([row])


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


def test_counterpart_rows_count_each_stance_or_show_a_dash():
    item = SimpleNamespace(actor=OFFICIALS, allegations={"asserts": 3, "disputes": 1})
    html = counterpart_rows([item])
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
