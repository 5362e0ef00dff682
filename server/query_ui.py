"""The page a browser gets at GET /sparql: Yasgui on our endpoint, with the example queries of data/queries.

The examples are read once per process, on first use, from the directory in the QUERIES_DIR setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template

from server.db import get_manifest

_KEY = "soles.example_queries"
HEADER_LINE = re.compile(r"^#\s*(?P<field>title|description):\s*(?P<value>.+?)\s*$")


@dataclass(frozen=True)
class ExampleQuery:
    name: str
    title: str
    description: str
    text: str


def read_example(path: Path) -> ExampleQuery:
    """An example query file: it opens with ``# title: ...`` and ``# description: ...`` comment lines."""
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
    return ExampleQuery(path.stem, header["title"], header["description"], text)


def example_queries() -> tuple[ExampleQuery, ...]:
    """Every example query, in file-name order; read on first use and kept for the life of the process."""
    if _KEY not in current_app.extensions:
        directory = Path(current_app.config["QUERIES_DIR"])
        current_app.extensions[_KEY] = tuple(read_example(path) for path in sorted(directory.glob("*.rq")))
    return current_app.extensions[_KEY]


def render_page() -> str:
    return render_template("query_ui.html", examples=example_queries(), dataset=get_manifest()["dataset"])
