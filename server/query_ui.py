"""The page a browser gets at GET /sparql: Yasgui on our endpoint, with the example queries of data/queries.

The examples are read once per process, on first use, from the directory in the QUERIES_DIR setting.
Without JavaScript the page is a plain form posting to /sparql; ``?example=<name>`` fills it with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
from flask import current_app, render_template, request

from kg import formats, ids
from server.release import get_manifest

# What the engine sends as User-Agent with each SERVICE request, which no setting changes (measured by
# tests/test_wikidata.py with an endpoint that records it).
ENGINE_USER_AGENT = f"Oxigraph/{pyoxigraph.__version__}"

_KEY = "soles.example_queries"
HEADER_LINE = re.compile(r"^#\s*(?P<field>title|description|service):\s*(?P<value>.+?)\s*$")


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    description: str
    text: str
    service: str = ""  # the endpoint its SERVICE clause calls: it runs only where the server allows that one


def read_example(path: Path) -> ExampleQuery:
    """An example query file: it opens with ``# title: ...`` and ``# description: ...`` comment lines, and
    ``# service: URL`` if it calls another endpoint."""
    text = path.read_text(encoding="utf-8")
    header = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = HEADER_LINE.match(line)
        if match:
            header[match["field"]] = match["value"]
    missing = {"title", "description"} - header.keys()
    if missing:
        raise ValueError(f"{path}: the opening comments give no {' and no '.join(sorted(missing))}")
    return ExampleQuery(path.stem, header["title"], header["description"], text, header.get("service", ""))


def example_queries() -> tuple[ExampleQuery, ...]:
    """Every example query, in file-name order; read on first use and kept for the life of the process."""
    if _KEY not in current_app.extensions:
        directory = Path(current_app.config["QUERIES_DIR"])
        current_app.extensions[_KEY] = tuple(read_example(path) for path in sorted(directory.glob("*.rq")))
    return current_app.extensions[_KEY]


DEFAULT_EXAMPLE = "allegations-by-type"  # what the editor holds before the reader picks one (else the first)


def render_page() -> str:
    """The query page; its script shows our IRIs as links to our own pages, by the rule of kg.ids.local_path."""
    examples = example_queries()
    chosen = next((example for example in examples if example.name == request.args.get("example")), None)
    default = next((example for example in examples if example.name == DEFAULT_EXAMPLE), next(iter(examples), None))
    return render_template("query_ui.html", examples=examples, chosen=chosen, default=default,
                           result_formats=formats.RESULTS_FORMATS, prefixes=ids.PREFIXES, iri_base=ids.BASE,
                           local_root="/" + ids.local_path(ids.BASE), dataset=get_manifest()["dataset"],
                           allowed_services=current_app.config["SERVICE_ALLOWLIST"],
                           engine_user_agent=ENGINE_USER_AGENT)
