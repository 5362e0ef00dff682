"""The search index written by the build (``write_index``, called by kg.release), which kg.search reads: each
resource's texts folded and ranked, the words for spelling suggestions, and the rankings of the common words and
how often the texts hold each word, worked out with numpy. A module of its own: kg.search is imported by the
processes that fork the server's query processes, which run under a data limit (--max-query-memory) that numpy's
own allocations on import exceed.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing
from functools import cache
from itertools import repeat
from pathlib import Path

import numpy
from pyoxigraph import Store

from kg import search  # its COMMON and COMMON_FROM_LETTERS read when used: tests set them lower
from kg.search import (
    _ITEM_BITS,
    _ITEM_SHIFT,
    _KIND_RANK,
    _KIND_SHIFT,
    _LENGTH_SHIFT,
    _MAX_LENGTH,
    _MAX_TEXTS,
    _ROLE_SHIFT,
    _TIER_SHIFT,
    FIELDS,
    KINDS,
    LABELS,
    NAME,
    QUOTE,
    SUMMARY,
    SUMMARY_FIELDS,
    TITLE,
    Ranking,
    folded,
    words_of,
)
from kg.store import run_named_query

# The classes and properties above by their local names, as the query search-texts gives them.
_BY_LOCAL_NAME = {re.split("[#/]", iri)[-1]: iri for iri in (*_KIND_RANK, *LABELS, *FIELDS)}


def write_index(store: Store, path: Path) -> int:
    """Write the search index of ``store`` to ``path``; return how many texts it holds."""
    rows = sorted({(item.value, _BY_LOCAL_NAME[cls.value], _BY_LOCAL_NAME[prop.value], text.value,
                    text.language or "") for item, cls, prop, text in run_named_query(store, "search-texts")})
    items = _items(rows)
    folding = _Folding()
    order = sorted((rank, folding.folded(label), iri) for iri, (rank, _, label) in items.items())
    numbers = {iri: number for number, (_, _, iri) in enumerate(order, start=1)}
    labels, texts, counted = [], [], Counter()
    for iri, cls, prop, text, _ in rows:
        words = folding.words(text)
        if not words or items[iri][1] != cls:
            continue  # a resource of two kinds is indexed as its first
        named = KINDS[items[iri][0]].named
        field = ("name" if named else "title") if prop in LABELS else FIELDS[prop]
        if field in ("name", "title", "alias"):
            role, length, table = NAME if field != "title" else TITLE, len(words), labels
        else:
            role, length, table = SUMMARY if field in SUMMARY_FIELDS else QUOTE, 0, texts
        counted[iri] += 1
        if counted[iri] > _MAX_TEXTS:
            raise ValueError(f"{iri} has more than {_MAX_TEXTS} texts to index")
        code = (items[iri][0] << _KIND_SHIFT | min(length, _MAX_LENGTH) << _LENGTH_SHIFT
                | numbers[iri] << _ITEM_SHIFT | role << _ROLE_SHIFT | counted[iri] - 1)
        table.append((code, words, field, text))
    vocabulary, starts, held = _held_words(labels, texts)
    with closing(sqlite3.connect(path)) as index:
        index.executescript("""
            CREATE TABLE items(number INTEGER PRIMARY KEY, iri TEXT, kind TEXT, class TEXT, label TEXT);
            CREATE TABLE label_words(words TEXT, code INTEGER, PRIMARY KEY (words, code)) WITHOUT ROWID;
            CREATE VIRTUAL TABLE labels USING fts5(words, field UNINDEXED, text UNINDEXED, prefix='1 2 3');
            CREATE VIRTUAL TABLE texts USING fts5(words, field UNINDEXED, text UNINDEXED, prefix='1 2 3');
            CREATE VIRTUAL TABLE vocabulary USING fts5(word, frequency UNINDEXED, tokenize='trigram');
        """)
        index.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)",
                          [(number, iri, KINDS[rank].name, items[iri][1], items[iri][2])
                           for number, (rank, _, iri) in enumerate(order, start=1)])
        # Rows in the order of their keys: FTS5 writes rows of rising rowids straight into its index, and flushes
        # it to a segment of its own before any other (at a million statements, five times as slow in all).
        index.executemany("INSERT INTO label_words VALUES (?, ?)", sorted((words, code) for code, words, _, _ in labels))
        index.executemany("INSERT INTO labels(rowid, words, field, text) VALUES (?, ?, ?, ?)", sorted(labels))
        index.executemany("INSERT INTO texts(rowid, words, field, text) VALUES (?, ?, ?, ?)", sorted(texts))
        frequencies = numpy.diff(starts).tolist()  # how many times the texts hold each word
        index.executemany("INSERT INTO vocabulary VALUES (?, ?)", zip(vocabulary, frequencies))
        index.execute("CREATE TABLE rankings(word TEXT PRIMARY KEY, labelled INTEGER, runs BLOB, matched BLOB)")
        index.executemany("INSERT INTO rankings VALUES (?, ?, ?, ?)",
                          _common_rankings(labels, vocabulary, starts, held))
        index.commit()
    return len(labels) + len(texts)


class _Folding:
    """``folded`` and ``words_of`` for every text of a record, each piece of text between spaces worked out once:
    the texts repeat the same few thousand pieces, and folding a text costs three times as much as looking up its
    pieces. Folding changes each character on its own and keeps a space a space, so a text folded is its pieces
    folded, and its words are theirs."""

    def __init__(self):
        self.folded_piece = cache(folded)
        self.words_of_piece = cache(lambda piece: " ".join(words_of(piece)))

    def folded(self, text: str) -> str:
        return " ".join(map(self.folded_piece, text.split(" ")))

    def words(self, text: str) -> str:
        """The words of ``text`` (``words_of``), joined by spaces."""
        return " ".join(filter(None, map(self.words_of_piece, text.split(" "))))


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


def _held_words(labels: list[tuple], texts: list[tuple]) -> tuple[list[str], numpy.ndarray, numpy.ndarray]:
    """(words, starts, held): every word the texts hold, sorted, and the texts holding them, grouped by word: those
    holding ``words[i]`` are ``held[starts[i]:starts[i + 1]]``, a text once for each time it holds the word, as a
    query of the word alone ranks it (tier << _TIER_SHIFT | code): tier 1 + 2 * role a label starting with the
    word, 2 + 2 * role a label holding it further on, 5 + role another text."""
    indexed = labels + texts
    indexed_words = [words for _, words, _, _ in indexed]
    held_words = " ".join(indexed_words).split()
    counts = numpy.fromiter(map(str.count, indexed_words, repeat(" ")), numpy.int64, len(indexed)) + 1
    codes = numpy.fromiter((code for code, _, _, _ in indexed), numpy.int64, len(indexed))
    roles = (codes >> _ROLE_SHIFT) & 3
    tiers = numpy.concatenate((2 + 2 * roles[:len(labels)], 5 + roles[len(labels):]))
    values = numpy.repeat(tiers << _TIER_SHIFT | codes, counts)  # each word of each text, in the order of the texts
    values[(numpy.cumsum(counts) - counts)[:len(labels)]] -= 1 << _TIER_SHIFT  # each label's first word
    words = sorted(set(held_words))
    ranks = {word: rank for rank, word in enumerate(words)}
    word_ranks = numpy.fromiter(map(ranks.__getitem__, held_words), numpy.int64, len(held_words))
    starts = numpy.concatenate(([0], numpy.cumsum(numpy.bincount(word_ranks, minlength=len(words)))))
    return words, starts, values[numpy.argsort(word_ranks, kind="stable")]


def _common_rankings(labels: list[tuple], words: list[str], starts: numpy.ndarray,
                     held: numpy.ndarray) -> Iterator[tuple]:
    """(word, labelled, runs, matched) of each indexed word that more than COMMON resources match, in order of words:
    its ranking as ``SearchIndex.ranking`` ranks a query of that word alone, packed (``Ranking.packed``). The words
    and the texts holding them are those of ``_held_words``."""
    alone: dict[str, list[int]] = defaultdict(list)  # word -> the labels that are that word alone (tier 0)
    for code, label_words, _, _ in labels:
        if " " not in label_words:
            alone[label_words].append(code)
    for start, word in enumerate(words):
        # A word of one or two letters starts half the words: ranking each would double the time the index takes to
        # write. FTS5 matches an ASCII word as words_of reads it; another is ranked when asked, to be sure.
        if len(word) < search.COMMON_FROM_LETTERS or not word.isascii():
            continue
        stop = start + 1
        while stop < len(words) and words[stop].startswith(word):  # a query word matches the words it starts
            stop += 1
        if starts[stop] - starts[start] <= search.COMMON:
            continue  # fewer words held, so fewer texts and resources
        matched = numpy.concatenate((held[starts[start]:starts[stop]], numpy.array(alone[word], numpy.int64)))
        matched.sort()
        # Each resource's first text matched, the least: its best.
        _, firsts = numpy.unique(matched & _ITEM_BITS, return_index=True)
        if len(firsts) > search.COMMON:
            yield word, *Ranking.of(numpy.sort(matched[firsts]).tolist()).packed
