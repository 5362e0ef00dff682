"""The "Cite" box of every resource page: the permanent IRI, the dataset's version (the build that answered),
the sources with their dates and where they were read, and ready text as plain text, BibTeX and CSL-JSON."""

from __future__ import annotations

import html
import json
import re

import pytest

from kg.layout import resolve
from server import create_app
from server.pages import citation
from server.pages.citation import bibtex_text, bibtex_url, csl_date
from tests.test_dossier import FOLLOW_UP_TITLE, client, dossier_build  # noqa: F401  (the dossier fixture build)

PAGES = {  # page -> its permanent IRI and the sources its record was taken from
    "/id/allegation/alice-smuggles-cheese": ["fixture-report", "fixture-follow-up"],
    "/id/attribution/fixture-report/alice-smuggles-cheese/alice-example/denies": ["fixture-report"],
    "/id/attribution/fixture-follow-up/alice-smuggles-cheese/daily-fixture/disputes": ["fixture-follow-up"],
    "/id/event/alice-indicted": ["fixture-report"],
    "/id/source/fixture-follow-up": ["fixture-follow-up"],
    "/id/person/alice-example": None,  # an actor's sources are listed in the dossier
    "/dossier/person/alice-example": ["fixture-report", "fixture-follow-up"],
}
TEXT = re.compile(r'<pre class="cite-text" data-copy-label="([^"]+)">(.*?)</pre>', re.S)


def cite_box(client, path: str) -> tuple[str, dict[str, str]]:  # noqa: F811
    response = client.get(path)
    assert response.status_code == 200, path
    page = response.get_data(as_text=True)
    box = page[page.index('<section class="cite"'):]
    box = box[:box.index("</section>")]
    return box, {label: html.unescape(text) for label, text in TEXT.findall(box)}


def bibtex_entries(text: str) -> list[tuple[str, dict[str, str]]]:
    """Each ``@misc{key, name = {value}, ...}`` entry, read as BibTeX reads it: a value ends at the brace
    that balances its opening one, and an escaped brace does not count."""
    entries, position = [], 0
    while (start := text.find("@misc{", position)) != -1:
        key_end = text.index(",", start)
        key, fields, position = text[start + 6:key_end], {}, key_end + 1
        while True:
            match = re.compile(r"\s*(\w+) = \{|\s*\}").match(text, position)
            assert match, f"not BibTeX at {text[position:position + 40]!r}"
            position = match.end()
            if match.group(1) is None:
                break
            depth, value_start = 1, position
            while depth:
                char = text[position]
                if char == "\\":
                    position += 2
                    continue
                depth += {"{": 1, "}": -1}.get(char, 0)
                position += 1
            fields[match.group(1)] = text[value_start:position - 1]
            assert text[position] == ",", "a field ends with a comma"
            position += 1
        entries.append((key, fields))
    return entries


def unescaped_specials(value: str) -> list[str]:
    """LaTeX's special characters in ``value`` that no backslash escapes."""
    return re.findall(r"(?<!\\)[&%$#_]", value.replace("\\textbackslash{}", ""))


@pytest.mark.parametrize("path", sorted(PAGES))
def test_each_page_shows_its_permanent_iri_and_the_build_it_was_read_from(client, dossier_build, path):  # noqa: F811
    box, texts = cite_box(client, path)
    iri = "https://w3id.org/soles/" + path.removeprefix("/").replace("dossier/", "id/")
    assert f'<code class="permanent-iri">{iri}</code>' in box
    build_id = resolve(dossier_build).id
    day, content_hash = build_id[:8], build_id.rsplit("-", 1)[1]
    assert f"version <code>{content_hash}</code>" in box and f"<code>{build_id}</code>" in box
    assert f'<time datetime="{day[:4]}-{day[4:6]}-{day[6:]}T' in box
    assert sorted(texts) == ["BibTeX", "CSL-JSON", "plain text"]
    assert iri in texts["plain text"] and content_hash in texts["plain text"]


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_sources_are_named_with_their_date_and_where_they_were_read(client, path):  # noqa: F811
    box, texts = cite_box(client, path)
    sources = PAGES[path]
    if sources is None:
        assert 'href="/dossier/person/alice-example">dossier</a>' in box
        assert "Taken from:" not in texts["plain text"]
        return
    if "fixture-report" in sources:
        assert ("Daily Fixture (1 May 2024). Generals of Ruritania Accused. https://news.example.org/generals-accused. "
                "Read at https://archive.example.org/news.example.org/generals-accused on 1 June 2024.") in texts["plain text"]
    if "fixture-follow-up" in sources:
        assert (f"Daily Fixture (July 2024). {FOLLOW_UP_TITLE}. https://news.example.org/follow-up?id={{2}}&share=50%. "
                "Read at https://archive.example.org/news.example.org/follow-up on 2 August 2024.") in texts["plain text"]
        # the follow-up reports on the fixture report: its primary document, cited too
        assert "  Primary document: Daily Fixture (1 May 2024). Generals of Ruritania Accused." in texts["plain text"]
    assert texts["plain text"].count("\n- ") == len(sources)


def test_a_process_that_keeps_fewer_sources_than_a_page_cites_cites_them_the_same(client, dossier_build,  # noqa: F811
                                                                                     monkeypatch):
    # A process keeps the sources it cited last (CITED_KEPT), and reads those it no longer keeps again: here one is
    # kept, so each page of two sources evicts and reads again.
    monkeypatch.setattr(citation, "CITED_KEPT", 1)
    forgetful = create_app({"BUILD_DIR": dossier_build, "TESTING": True}).test_client()
    for _ in range(2):
        for path in sorted(PAGES):
            assert cite_box(forgetful, path) == cite_box(client, path)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_csl_json_is_valid_and_names_the_record_and_its_sources(client, path):  # noqa: F811
    _, texts = cite_box(client, path)
    items = json.loads(texts["CSL-JSON"])
    record = items[0]
    assert record["type"] == "dataset" and record["URL"].startswith("https://w3id.org/soles/id/")
    assert record["container-title"] == "Fixture graph" and re.fullmatch(r"[0-9a-f]{12}", record["version"])
    assert len(record["issued"]["date-parts"][0]) == 3
    documents = {item["id"]: item for item in items[1:]}
    assert len(documents) == len(items) - 1
    for source in PAGES[path] or []:
        assert source in documents
    if PAGES[path] and "fixture-follow-up" in PAGES[path]:
        follow_up = documents["fixture-follow-up"]
        assert follow_up == follow_up | {
            "type": "article-newspaper", "title": FOLLOW_UP_TITLE, "author": [{"literal": "Daily Fixture"}],
            "issued": {"date-parts": [[2024, 7]]}, "accessed": {"date-parts": [[2024, 8, 2]]},
            "URL": "https://news.example.org/follow-up?id={2}&share=50%",
            "note": "Read at https://archive.example.org/news.example.org/follow-up on 2024-08-02"}


@pytest.mark.parametrize("path", sorted(PAGES))
def test_the_bibtex_is_balanced_and_escaped(client, path):  # noqa: F811
    _, texts = cite_box(client, path)
    entries = bibtex_entries(texts["BibTeX"])
    keys = [key for key, _ in entries]
    record = "soles-" + re.sub(r"[^a-z0-9]+", "-", path.replace("/dossier/", "/id/")).strip("-")
    assert keys[0] == record and len(keys) == len(set(keys))
    assert set(keys[1:]) == documents_of(path)
    for key, fields in entries:
        assert re.fullmatch(r"[A-Za-z0-9-]+", key)
        for name, value in fields.items():
            if name == "url":
                assert "{" not in value and "}" not in value, value
            elif name not in ("urldate", "date", "year", "version", "related"):
                assert not unescaped_specials(value), (name, value)
    if "fixture-follow-up" in documents_of(path):
        follow_up = dict(entries)["fixture-follow-up"]
        assert follow_up["title"] == ("{Follow-up: 50\\% \\& more \\{cheese\\} \\#2 at \\textasciitilde{}\\$5\\_000 "
                                      "\\textasciicircum{} back\\textbackslash{}slash <b>bold</b>}")
        assert follow_up["url"] == "https://news.example.org/follow-up?id=%7B2%7D&share=50%"
        assert follow_up["related"] == "fixture-report"


def documents_of(path: str) -> set[str]:
    """The sources a page cites, and the primary documents they report on."""
    sources = set(PAGES[path] or ())
    return sources | ({"fixture-report"} if "fixture-follow-up" in sources else set())


def test_markup_in_a_name_is_shown_as_text_in_the_cite_box(client):  # noqa: F811
    box, texts = cite_box(client, "/id/person/mallory-script")
    assert "<script>" not in box and "Mallory &lt;script&gt;window.__xss = 1&lt;/script&gt;" in box
    assert json.loads(texts["CSL-JSON"])[0]["title"] == "Mallory <script>window.__xss = 1</script>"


def test_the_special_characters_helpers():
    assert bibtex_text("a & b {c} 100% $x #1 _ ~ ^ \\") == \
        "a \\& b \\{c\\} 100\\% \\$x \\#1 \\_ \\textasciitilde{} \\textasciicircum{} \\textbackslash{}"
    assert bibtex_url("https://x.org/a b{c}\\") == "https://x.org/a%20b%7Bc%7D%5C"
    assert csl_date("2024") == {"date-parts": [[2024]]} and csl_date("2024-05-01") == {"date-parts": [[2024, 5, 1]]}
    assert csl_date("around 2020") is None and csl_date(None) is None
