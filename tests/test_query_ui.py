"""The query page: its example queries are well formed and in its menu; without JavaScript it is a form."""

from __future__ import annotations

import html
import json
import re

import pytest

from kg import formats, ids
from kg.paths import DEFAULT_DATA_DIR
from server import create_app
from server.query_ui import DEFAULT_EXAMPLE, read_example, render_page

EXAMPLE_PATHS = sorted((DEFAULT_DATA_DIR / "queries").glob("*.rq"))
DEFAULT_EXAMPLE_TEXT = (DEFAULT_DATA_DIR / "queries" / f"{DEFAULT_EXAMPLE}.rq").read_text(encoding="utf-8")


def test_there_are_at_least_ten_examples():
    assert len(EXAMPLE_PATHS) >= 10


@pytest.mark.parametrize("path", EXAMPLE_PATHS, ids=lambda path: path.stem)
def test_each_example_has_a_question_and_declares_its_prefixes(path):
    """Whether each answers on the real data is checked in test_real_data."""
    example = read_example(path)
    assert example.title.endswith("?")
    assert example.description
    # Declared in the file, so a query copied elsewhere runs on endpoints that predeclare no prefixes.
    used = set(re.findall(r"\b([a-z]+):[A-Za-z]", example.text.split("SELECT", 1)[1]))
    declared = set(re.findall(r"^PREFIX ([a-z]+):", example.text, flags=re.MULTILINE))
    assert used <= declared, used - declared


def test_a_file_without_its_title_is_refused(tmp_path):
    path = tmp_path / "untitled.rq"
    path.write_text("# description: no title\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no title"):
        read_example(path)


def test_the_page_lists_every_example_in_its_menu_and_no_inline_script(app):
    with app.test_request_context("/sparql"):
        page = render_page()
    start = page.index('<details class="example-menu">')
    menu = page[start:page.index("</details>", start)]
    for path in EXAMPLE_PATHS:
        example = read_example(path)
        assert f'href="?example={example.name}" data-example="{example.name}"' in menu
        for text in (example.title, example.description):
            assert str(text).replace("'", "&#39;") in menu
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert all(" src=" in script for script in scripts), scripts
    assert '<script src="/static/yasgui/yasgui.min.js" defer>' in scripts
    assert '<script src="/static/query_ui.js" defer>' in scripts


def test_the_editor_comes_before_the_list_of_examples_is_opened(app):
    """The menu is one closed line above the editor, so the editor is the first thing on the page."""
    with app.test_request_context("/sparql"):
        page = render_page()
    assert '<details class="example-menu">' in page  # closed unless the reader opens it
    assert page.index('id="query-text"') < page.index('id="query-help-heading"')


def _page(client, path: str) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def _textarea(page: str) -> str:
    return html.unescape(re.search(r'<textarea id="query-text"[^>]*>(.*?)</textarea>', page, re.S)[1])


def test_without_javascript_the_page_is_a_form_that_posts_the_query_to_the_endpoint(client):
    page = _page(client, "/sparql")
    start = page.index('<form class="query-form"')
    form = page[start:page.index("</form>", start)]
    assert 'action="/sparql" method="post"' in form
    assert 'name="query"' in form
    assert re.findall(r'<option value="([a-z]+)"', form) == [fmt.name for fmt in formats.RESULTS_FORMATS]
    assert _textarea(page) == DEFAULT_EXAMPLE_TEXT

    # What the form sends: the query in the field "query", and the format chosen.
    response = client.post("/sparql", data={"query": _textarea(page), "format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "type,allegations,which"
    assert sorted(line.split(",")[0] for line in lines[1:]) == ["bribery", "drug trafficking"]


def test_an_example_named_in_the_address_fills_the_form(client):
    page = _page(client, "/sparql?example=who-denies-what")
    example = read_example(DEFAULT_DATA_DIR / "queries" / "who-denies-what.rq")
    assert _textarea(page) == example.text
    assert 'data-run="who-denies-what"' in page
    assert re.findall(r'data-example="([a-z-]+)"[^>]*aria-current="true"', page) == ["who-denies-what"]
    assert html.escape(example.description, quote=False) in page

    assert _textarea(_page(client, "/sparql?example=no-such-example")) == DEFAULT_EXAMPLE_TEXT


def test_the_script_is_told_our_iri_base_where_its_pages_are_and_the_prefixes(client):
    page = _page(client, "/sparql")
    editor = re.search(r'<div id="yasgui"[^>]*>', page)[0]
    assert f'data-iri-base="{ids.BASE}"' in editor
    local_root = re.search(r'data-local-root="([^"]*)"', editor)[1]
    assert local_root + ids.local_path(ids.entity("person", "alice-example").value) == "/id/person/alice-example"
    prefixes = json.loads(html.unescape(re.search(r"data-prefixes='([^']*)'", editor)[1]))
    assert prefixes == ids.PREFIXES
    assert prefixes["sol"] == "https://w3id.org/soles/ontology#"


def test_the_examples_come_from_the_configured_directory(fixture_build, tmp_path):
    (tmp_path / "only.rq").write_text("# title: Only?\n# description: The one example.\nASK {}\n", encoding="utf-8")
    app = create_app({"BUILD_DIR": fixture_build, "QUERIES_DIR": tmp_path})
    with app.test_request_context("/sparql"):
        page = render_page()
    assert page.count("data-example=") == 1
    assert "The one example." in page
