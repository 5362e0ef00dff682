"""The search index of a build and its lookups: every name, alias, title, summary and quote of the resources a
reader looks for, folded (no case, no accents), ranked so that the closest names come first.

Reading every text of the graph on each search takes seconds at a million statements; the build writes this
index once (``write_index``, called by kg.release) and the server only looks things up in it (``SearchIndex``).

A query is a list of words, each matching the start of a word of a text, in any order ("mad nic" finds
"Nicolás Maduro"). Matches are ranked by tier, then by kind (``KINDS``, actors first), then by the length of
the label matched (the closer name first), then alphabetically, then by IRI. The tiers, best first: 0 an exact
name, alias or title; 1 a name or alias starting with the query; 2 the words of a name or alias; 3 a title
starting with it; 4 the words of a title; 5 a summary (description, role); 6 a quote (or its translation).
Names are those of actors and places, titles the labels of everything else.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyoxigraph import Store

from kg.sqlite_index import ReadOnlyIndex
from kg.store import run_named_query
from kg.vocab import DCTERMS, RDFS, SKOS, SOL

SEARCH_INDEX = "search.sqlite"
MAX_WORDS = 64  # distinct words in one query; a quote has at most 25, so a pasted quote is found


@dataclass(frozen=True)
class Kind:
    """What a reader filters results by (``?kind=actor``): one or more classes of the ontology."""

    name: str
    plural: str
    classes: tuple[str, ...]
    named: bool = False  # whose label is a name (a person, a place), not a title or a sentence


KINDS = (
    Kind("actor", "actors", (SOL.Person.value, SOL.Organization.value, SOL.Group.value), named=True),
    Kind("place", "places", (SOL.Place.value,), named=True),
    Kind("allegation", "allegations", (SOL.Allegation.value,)),
    Kind("event", "events", (SOL.Event.value,)),
    Kind("source", "sources", (SOL.Source.value,)),
    Kind("period", "periods", (SOL.Period.value,)),
    Kind("status", "status changes", (SOL.StatusStatement.value,)),
    Kind("attribution", "attributions", (SOL.Attribution.value,)),
)
KIND_NAMES = tuple(kind.name for kind in KINDS)
_KIND_RANK = {cls: rank for rank, kind in enumerate(KINDS) for cls in kind.classes}

# The property holding a text -> the field a reader is told matched. Labels are names or titles by kind.
LABELS = (SKOS.prefLabel.value, RDFS.label.value, DCTERMS.title.value)  # a resource's label, in this preference
FIELDS = {SKOS.altLabel.value: "alias", DCTERMS.description.value: "description", SOL.role.value: "role",
          SOL.quote.value: "quote", SOL.translation.value: "translation"}
SUMMARY_FIELDS = ("description", "role")

NAME, TITLE = 0, 1  # the role of a label: tiers 1 + 2 * role (starts with it) and 2 + 2 * role (words of it)
SUMMARY, QUOTE = 0, 1  # the role of another text: tier 5 + role

# Each text's row id in the index says all that ranks it, so that ranking reads the full-text index alone, never
# the texts: the resource's number (numbered in order of kind, label and IRI), the text's role, the length of a
# label (the shorter, the closer a match), and which of the resource's texts it is.
_ITEM_SHIFT, _ROLE_SHIFT, _LENGTH_SHIFT = 24, 22, 10
_MAX_LENGTH, _MAX_TEXTS = (1 << (_ROLE_SHIFT - _LENGTH_SHIFT)) - 1, 1 << _LENGTH_SHIFT

WORD = re.compile(r"[^\W_]+")  # a word: letters and digits


@lru_cache(maxsize=8192)  # pages sort by the same few hundred labels again and again
def folded(text: str) -> str:
    """Text without case or accents, so that 'maduro' finds 'Nicolás Maduro' and 'nicolas' too."""
    if text.isascii():
        return text.casefold()  # most of the record: nothing to decompose, and ten times as fast
    return without_accents(text).casefold()


def without_accents(text: str) -> str:
    """``text`` with its accents dropped and its case kept: "Nicolás" -> "Nicolas"."""
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def words_of(text: str) -> list[str]:
    """The folded words of ``text``, punctuation dropped: what is indexed, and what a query looks for."""
    return WORD.findall(folded(text))


# ---------------------------------------------------------------- writing the index (at build time)


def write_index(store: Store, path: Path) -> int:
    """Write the search index of ``store`` to ``path``; return how many texts it holds."""
    rows = sorted({(item.value, cls.value, prop.value, text.value, text.language or "")
                   for item, cls, prop, text in run_named_query(store, "search-texts")})
    items = _items(rows)
    order = sorted(items, key=lambda iri: (items[iri][0], folded(items[iri][2]), iri))
    numbers = {iri: number for number, iri in enumerate(order, start=1)}
    labels, texts, vocabulary, counted = [], [], Counter(), Counter()
    for iri, cls, prop, text, _ in rows:
        words = " ".join(words_of(text))
        if not words or items[iri][1] != cls:
            continue  # a resource of two kinds is indexed as its first
        vocabulary.update(words.split())
        named = KINDS[items[iri][0]].named
        field = ("name" if named else "title") if prop in LABELS else FIELDS[prop]
        if field in ("name", "title", "alias"):
            role, length, table = NAME if field != "title" else TITLE, len(words), labels
        else:
            role, length, table = SUMMARY if field in SUMMARY_FIELDS else QUOTE, 0, texts
        counted[iri] += 1
        if counted[iri] > _MAX_TEXTS:
            raise ValueError(f"{iri} has more than {_MAX_TEXTS} texts to index")
        code = (numbers[iri] << _ITEM_SHIFT | role << _ROLE_SHIFT | min(length, _MAX_LENGTH) << _LENGTH_SHIFT
                | counted[iri] - 1)
        table.append((code, words, field, text))
    with closing(sqlite3.connect(path)) as index:
        index.executescript("""
            CREATE TABLE items(number INTEGER PRIMARY KEY, iri TEXT, kind TEXT, class TEXT, label TEXT);
            CREATE TABLE kinds(rank INTEGER PRIMARY KEY, name TEXT, first INTEGER, last INTEGER);
            CREATE TABLE label_words(words TEXT, code INTEGER, PRIMARY KEY (words, code)) WITHOUT ROWID;
            CREATE VIRTUAL TABLE labels USING fts5(words, field UNINDEXED, text UNINDEXED, prefix='1 2 3');
            CREATE VIRTUAL TABLE texts USING fts5(words, field UNINDEXED, text UNINDEXED, prefix='1 2 3');
            CREATE VIRTUAL TABLE vocabulary USING fts5(word, frequency UNINDEXED, tokenize='trigram');
        """)
        index.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)",
                          [(numbers[iri], iri, KINDS[items[iri][0]].name, items[iri][1], items[iri][2]) for iri in order])
        spans: dict[int, list[int]] = {}  # the resources of a kind are numbered in a row: the first and the last
        for iri in order:
            spans.setdefault(items[iri][0], [numbers[iri], 0])[1] = numbers[iri]
        index.executemany("INSERT INTO kinds VALUES (?, ?, ?, ?)",
                          [(rank, KINDS[rank].name, first, last) for rank, (first, last) in sorted(spans.items())])
        # Rows in the order of their keys: FTS5 writes rows of rising rowids straight into its index, and flushes
        # it to a segment of its own before any other (at a million statements, five times as slow in all).
        index.executemany("INSERT INTO label_words VALUES (?, ?)", sorted((words, code) for code, words, _, _ in labels))
        index.executemany("INSERT INTO labels(rowid, words, field, text) VALUES (?, ?, ?, ?)", sorted(labels))
        index.executemany("INSERT INTO texts(rowid, words, field, text) VALUES (?, ?, ?, ?)", sorted(texts))
        index.executemany("INSERT INTO vocabulary VALUES (?, ?)", sorted(vocabulary.items()))
        index.commit()
    return len(labels) + len(texts)


def _items(rows) -> dict[str, tuple[int, str, str]]:
    """Each resource: (rank of its kind, its class, its label), the label chosen as the pages choose it:
    preferred label before label before title, English or untagged before other languages."""
    kinds: dict[str, tuple[int, str]] = {}
    labels: dict[str, tuple] = {}
    for iri, cls, prop, text, language in rows:
        kinds[iri] = min(kinds.get(iri, (len(KINDS), cls)), (_KIND_RANK[cls], cls))
        if prop in LABELS:
            rank = (LABELS.index(prop), language not in ("", "en"), text)
            labels[iri] = min(labels.get(iri, rank), rank)
    return {iri: (rank, cls, labels[iri][2] if iri in labels else iri.rsplit("/", 1)[-1])
            for iri, (rank, cls) in kinds.items()}


# ---------------------------------------------------------------- looking things up (at request time)


@dataclass(frozen=True)
class Hit:
    """A resource found, with the text of it that matched best and how it matched."""

    iri: str
    kind: str
    cls: str
    label: str
    field: str  # name, alias, title, description, role, quote or translation
    text: str


class Query:
    """The words of what a reader typed, as the index matches them."""

    def __init__(self, text: str):
        self.words = list(dict.fromkeys(words_of(text)))  # each once, in the order typed
        self.phrase = " ".join(words_of(text))

    def __bool__(self) -> bool:
        return bool(self.words)

    @property
    def too_long(self) -> bool:
        return len(self.words) > MAX_WORDS

    @property
    def match(self) -> str:
        """An FTS5 expression: every word, as the start of a word (words hold only letters and digits)."""
        return " AND ".join(f'"{word}"*' for word in self.words)


class SearchIndex(ReadOnlyIndex):
    """Lookups in a build's search index, on one read-only connection (``with SearchIndex(path) as index``)."""

    def ranked(self, query: Query, labels_only: bool = False, limit: int | None = None) -> list[tuple[str, int]]:
        """(kind, code of the best text) of every resource matching each word of ``query``, best first (only by
        its names, aliases and titles with ``labels_only``); at most ``limit`` of them. Reads only the indexes."""
        if not query or query.too_long:
            return []
        other_texts = "" if labels_only else f"""
            UNION ALL SELECT rowid, 5 + ((rowid >> {_ROLE_SHIFT}) & 3) FROM texts WHERE texts MATCH :match"""
        sql = f"""
            WITH matched(code, tier) AS (
                SELECT code, 0 FROM label_words WHERE words = :phrase
                UNION ALL SELECT code, 1 + 2 * ((code >> {_ROLE_SHIFT}) & 3) FROM label_words
                          WHERE words > :phrase AND words < :phrase || char(1114111)
                UNION ALL SELECT rowid, 2 + 2 * ((rowid >> {_ROLE_SHIFT}) & 3) FROM labels WHERE labels MATCH :match
                {other_texts}),
            best(item, score, code) AS (
                SELECT code >> {_ITEM_SHIFT}, MIN((tier << 12) | ((code >> {_LENGTH_SHIFT}) & {_MAX_LENGTH})), code
                FROM matched GROUP BY code >> {_ITEM_SHIFT})
            SELECT kinds.name, best.code FROM best JOIN kinds ON best.item BETWEEN kinds.first AND kinds.last
            ORDER BY best.score >> 12, kinds.rank, best.score, best.item
            LIMIT :limit"""
        return self.connection.execute(sql, {"match": query.match, "phrase": query.phrase,
                                             "limit": -1 if limit is None else limit}).fetchall()

    def hits(self, ranked: list[tuple[str, int]]) -> list[Hit]:
        """The resources of ``ranked`` (a slice of what ``ranked()`` gives), with their labels and the texts that
        matched best."""
        codes = [code for _, code in ranked]
        marks = ", ".join("?" * len(codes))
        texts = {code: (field, text) for table in ("labels", "texts") for code, field, text in self.connection.execute(
            f"SELECT rowid, field, text FROM {table} WHERE rowid IN ({marks})", codes)}
        items = {number: row for number, *row in self.connection.execute(
            f"SELECT number, iri, kind, class, label FROM items WHERE number IN ({marks})",
            [code >> _ITEM_SHIFT for code in codes])}
        return [Hit(*items[code >> _ITEM_SHIFT], *texts[code]) for code in codes]

    def search(self, query: Query, limit: int | None = None, labels_only: bool = False) -> list[Hit]:
        """The resources matching each word of ``query``, best first, with what matched (see ``ranked``)."""
        return self.hits(self.ranked(query, labels_only, limit))

    def closest_word(self, word: str) -> str | None:
        """The indexed word closest to ``word`` by edit distance (at most 1 for short words, 2 for longer),
        the more frequent first; None if ``word`` is indexed itself, or nothing is that close."""
        if len(word) < 3:
            return None
        indexed = "SELECT 1 FROM vocabulary WHERE vocabulary MATCH ? AND word = ?"
        if self.connection.execute(indexed, (f'"{word}"', word)).fetchone():
            return None
        allowed = 1 if len(word) <= 4 else 2
        trigrams = " OR ".join(f'"{word[start:start + 3]}"' for start in range(len(word) - 2))
        candidates = self.connection.execute(
            "SELECT word, frequency FROM vocabulary WHERE vocabulary MATCH ? AND length(word) BETWEEN ? AND ? "
            "ORDER BY rank LIMIT 200", (trigrams, len(word) - allowed, len(word) + allowed))
        scored = sorted((distance, -frequency, candidate) for candidate, frequency in candidates
                        if (distance := edit_distance(word, candidate)) <= allowed)
        return scored[0][2] if scored else None


def edit_distance(first: str, second: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions turning one into the other."""
    previous = list(range(len(second) + 1))
    for row, char in enumerate(first, start=1):
        current = [row]
        for column, other in enumerate(second, start=1):
            current.append(min(previous[column] + 1, current[column - 1] + 1, previous[column - 1] + (char != other)))
        previous = current
    return previous[-1]
