"""The query page's example queries: each is well formed and listed with one click to run it."""

from __future__ import annotations

import re

import pytest

from kg.paths import DEFAULT_DATA_DIR
from server import create_app
from server.query_ui import read_example, render_page

EXAMPLE_PATHS = sorted((DEFAULT_DATA_DIR / "queries").glob("*.rq"))


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


def test_the_page_lists_every_example_with_a_button_and_no_inline_script(app):
    with app.test_request_context("/sparql"):
        page = render_page()
    for path in EXAMPLE_PATHS:
        example = read_example(path)
        assert f'data-example="{example.name}"' in page
        for text in (example.title, example.description):
            assert str(text).replace("'", "&#39;") in page
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts == ['<script src="/static/yasgui/yasgui.min.js" defer>', '<script src="/static/query_ui.js" defer>']


def test_the_examples_come_from_the_configured_directory(fixture_build, tmp_path):
    (tmp_path / "only.rq").write_text("# title: Only?\n# description: The one example.\nASK {}\n", encoding="utf-8")
    app = create_app({"BUILD_DIR": fixture_build, "QUERIES_DIR": tmp_path})
    with app.test_request_context("/sparql"):
        page = render_page()
    assert page.count("data-example=") == 1
    assert "The one example." in page
