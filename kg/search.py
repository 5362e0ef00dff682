"""The name index of a build: every name of every actor, place, allegation, event and source, folded
(no case, no accents), in an SQLite full-text table that finds any part of a name.

Reading every label of the graph on each search takes seconds at a million statements; the build
writes this index once and the server only reads it.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from contextlib import closing
from functools import lru_cache
from pathlib import Path

from pyoxigraph import Store

from kg.store import run_query

SEARCH_INDEX = "search.sqlite"
NAMES_QUERY = """
SELECT DISTINCT ?item ?kind ?name WHERE {
  VALUES ?kind { sol:Person sol:Organization sol:Group sol:Place sol:Allegation sol:Event sol:Source }
  ?item a ?kind ; rdfs:label|skos:altLabel|skos:prefLabel|dcterms:title ?name .
}"""
TRIGRAM = 3  # the index finds words of at least this many characters; shorter ones are checked by scanning


@lru_cache(maxsize=8192)  # pages sort by the same few hundred labels again and again
def folded(text: str) -> str:
    """Text without case or accents, so that 'maduro' finds 'Nicolás Maduro' and 'nicolas' too."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def write_index(store: Store, path: Path) -> int:
    """Write the index of every name in ``store`` to ``path``; return how many names it holds."""
    names = sorted({(folded(row["name"].value), row["item"].value, row["kind"].value, row["name"].value)
                    for row in run_query(store, NAMES_QUERY)})
    with closing(sqlite3.connect(path)) as index:
        index.execute("CREATE VIRTUAL TABLE names USING fts5(folded, iri UNINDEXED, kind UNINDEXED, "
                      "name UNINDEXED, tokenize='trigram')")
        index.executemany("INSERT INTO names VALUES (?, ?, ?, ?)", names)
        index.commit()
    return len(names)


def find_names(path: Path, words: list[str]) -> list[tuple[str, str, str, str]]:
    """(folded name, IRI, kind IRI, name) of every name holding each of the folded ``words``."""
    # No name holds a control character, and SQLite ends a MATCH phrase at a NUL: drop them.
    words = [cleaned for word in words if (cleaned := "".join(c for c in word if c.isprintable()))]
    if not words:
        return []
    indexed = [word for word in words if len(word) >= TRIGRAM]
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as index:
        if indexed:
            phrase = " AND ".join('"' + word.replace('"', '""') + '"' for word in indexed)
            rows = index.execute("SELECT folded, iri, kind, name FROM names WHERE names MATCH ?", (phrase,))
        else:
            rows = index.execute("SELECT folded, iri, kind, name FROM names WHERE instr(folded, ?) > 0",
                                 (words[0],))
        return [row for row in rows if all(word in row[0] for word in words)]
