"""The search index of a build and its lookups: every name, alias, title, summary and quote of the resources a
reader looks for, folded (no case, no accents), ranked so that the closest names come first.

Reading every text of the graph on each search takes seconds at a million statements; the build writes this
index once (kg.search_build, called by kg.release) and the server only looks things up in it (``SearchIndex``).

A query is a list of words, each matching the start of a word of a text, in any order ("mad nic" finds
"Nicolás Maduro"). Matches are ranked by tier, then by kind (``KINDS``, actors first), then by the length of
the label matched (the closer name first), then alphabetically, then by IRI. The tiers, best first: 0 an exact
name, alias or title; 1 a name or alias starting with the query; 2 the words of a name or alias; 3 a title
starting with it; 4 the words of a title; 5 a summary (description, role); 6 a quote (or its translation).
Names are those of actors and places, titles the labels of everything else.

Ranking a word that a few thousand resources hold takes longer than a page may (about 4 µs a match): the build
ranks once each indexed word that more than ``COMMON`` resources match, as the lookups would (``_Ranking``), and
writes the ranking (``rankings``); a query of that one word reads it. Any other query is ranked when asked.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from itertools import chain

from kg.sqlite_index import ReadOnlyIndex
from kg.vocab import DCTERMS, RDFS, SKOS, SOL

SEARCH_INDEX = "search.sqlite"
MAX_WORDS = 64  # distinct words in one query; a quote has at most 25, so a pasted quote is found
# A word matching more resources than this has its ranking written by the build: ranking it when asked costs about
# 0.2 ms and 3.5 µs a resource at a million statements, and a page must take under 5 ms in all.
COMMON = 200
COMMON_FROM_LETTERS = 3


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

# Each text's row id in the index (its code) says all that ranks it, so that ranking reads the full-text index
# alone, never the texts. From the highest bits: the rank of its resource's kind, the length of a label (the
# shorter, the closer a match; 0 for other texts), the resource's number (numbered in order of kind, label and
# IRI), the text's role, and which of the resource's texts it is. A text matched is tier << _TIER_SHIFT | code:
# the least of a resource's is its best text (the best tier, then the shortest label, then its first text), and
# the resources' best sort as they rank (by tier, kind, length, then number).
_ROLE_SHIFT, _ITEM_SHIFT, _LENGTH_SHIFT, _KIND_SHIFT, _TIER_SHIFT = 10, 12, 36, 48, 52
_MAX_TEXTS, _ITEMS, _MAX_LENGTH = 1 << _ROLE_SHIFT, 1 << (_LENGTH_SHIFT - _ITEM_SHIFT), (1 << 12) - 1
_CODE_MASK, _ITEM_BITS = (1 << _TIER_SHIFT) - 1, (_ITEMS - 1) << _ITEM_SHIFT
TIERS, LABEL_TIERS = 7, 5  # tiers 0 to 4 match names, aliases and titles

WORD = re.compile(r"[^\W_]+")  # a word: letters and digits


@lru_cache(maxsize=8192)  # pages sort by the same few hundred labels again and again
def folded(text: str) -> str:
    """Text without case or accents, so that 'maduro' finds 'Nicolás Maduro' and 'nicolas' too."""
    if text.isascii():
        return text.casefold()  # most of the record: nothing to decompose, and ten times as fast
    return without_accents(text).casefold()


def without_accents(text: str) -> str:
    """``text`` with its accents dropped and its case kept: "Nicolás" -> "Nicolas"."""
    if text.isascii():
        return text  # nothing to decompose: most of the record
    return unicodedata.normalize("NFKD", text).translate(_MARKS)


class _CombiningMarks(dict):
    """For str.translate: each combining mark to None (dropped), any other character to itself, worked out for
    each character when first met (a quarter quicker than testing every character of a text in Python). Only
    the first MARKS_KEPT code points are remembered: searches run it on any text a visitor sends, and the
    dictionary must not grow with every character of Unicode."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if code < MARKS_KEPT:
            self[code] = kept
        return kept


MARKS_KEPT = 0x3000  # the scripts of the record, and their combining marks


_MARKS = _CombiningMarks()


def words_of(text: str) -> list[str]:
    """The folded words of ``text``, punctuation dropped: what is indexed, and what a query looks for."""
    return WORD.findall(folded(text))


# ---------------------------------------------------------------- rankings (kg.search_build's, or made when asked)


@dataclass(frozen=True)
class Ranking:
    """Every resource a query matches, best first: a run of resources of one kind after another (within each tier,
    kinds in the order of KINDS), the first ``labelled`` matched by a name, alias or title. ``read(start, stop)``
    gives the best texts matched (tier << _TIER_SHIFT | code) from ``start`` to ``stop``."""

    runs: tuple[tuple[int, int, int], ...]  # (rank of a kind, start, stop)
    labelled: int
    read: Callable[[int, int], list[int]]

    @classmethod
    def of(cls, best: list[int]) -> Ranking:
        """The ranking of ``best``, the best text matched of each resource, sorted."""
        starts = [(rank, bisect_left(best, (tier << _TIER_SHIFT | rank << _KIND_SHIFT)))
                  for tier in range(TIERS) for rank in range(len(KINDS))] + [(None, len(best))]
        runs = tuple((rank, start, stop) for (rank, start), (_, stop) in zip(starts, starts[1:]) if start < stop)
        return cls(runs, bisect_left(best, LABEL_TIERS << _TIER_SHIFT), partial(_slice, best))

    @classmethod
    def unpacked(cls, labelled: int, runs: bytes, codes: bytes) -> Ranking:
        """The ranking the build wrote as ``packed``."""
        numbers = struct.unpack(f"<{len(runs) // 4}I", runs)
        return cls(tuple(zip(numbers[::3], numbers[1::3], numbers[2::3])), labelled, partial(_unpack, codes))

    @property
    def packed(self) -> tuple[int, bytes, bytes]:
        """(labelled, runs, matched) as the build writes them: numbers little-endian, whatever the machine."""
        total = self.total()
        return (self.labelled, struct.pack(f"<{3 * len(self.runs)}I", *chain(*self.runs)),
                struct.pack(f"<{total}q", *self.read(0, total)))

    @cached_property
    def counts(self) -> Counter[str]:
        """How many resources of each kind (by name) it holds."""
        counts = Counter()
        for rank, start, stop in self.runs:
            counts[KINDS[rank].name] += stop - start
        return counts

    def total(self, kind: str | None = None) -> int:
        return self.runs[-1][2] if kind is None and self.runs else self.counts[kind] if kind else 0

    def codes(self, kind: str | None, start: int, stop: int) -> list[int]:
        """The codes of the best texts of the resources (of ``kind``, or of any) from ``start`` to ``stop`` among
        them: what ``SearchIndex.hits`` reads."""
        if kind is None:
            found = self.read(start, min(stop, self.total()))
        else:
            found, before = [], 0
            for rank, first, last in self.runs:
                if KINDS[rank].name == kind:
                    if start < before + last - first and before < stop:
                        found += self.read(first + max(start - before, 0), first + min(stop - before, last - first))
                    before += last - first
        return [value & _CODE_MASK for value in found]


def _slice(codes: list[int], start: int, stop: int) -> list[int]:
    return codes[start:stop]


def _unpack(matched: bytes, start: int, stop: int) -> list[int]:
    return list(struct.unpack_from(f"<{max(stop - start, 0)}q", matched, 8 * start))


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

    def ranking(self, query: Query, labels_only: bool = False) -> Ranking:
        """Every resource matching each word of ``query``, best first (only by its names, aliases and titles with
        ``labels_only``: those ``labelled`` first). Reads only the indexes: a common word's ranking as written."""
        if not query or query.too_long:
            return Ranking((), 0, partial(_slice, []))
        return self.written(query) or Ranking.of(self.matched(query, labels_only))

    def written(self, query: Query) -> Ranking | None:
        """The ranking the build wrote for ``query`` if it is one common word; None for any other query."""
        if query.words != [query.phrase]:
            return None
        written = self.connection.execute("SELECT labelled, runs, matched FROM rankings WHERE word = ?",
                                          query.words).fetchone()
        return Ranking.unpacked(*written) if written else None

    def matched(self, query: Query, labels_only: bool = False) -> list[int]:
        """The best text matched (tier << _TIER_SHIFT | code) of each resource matching ``query``, sorted."""
        other_texts = "" if labels_only else f"""
                UNION ALL SELECT (5 + ((rowid >> {_ROLE_SHIFT}) & 3)) << {_TIER_SHIFT} | rowid
                          FROM texts WHERE texts MATCH :match"""
        sql = f"""
            WITH matched(value) AS (
                SELECT code FROM label_words WHERE words = :phrase
                UNION ALL SELECT (1 + 2 * ((code >> {_ROLE_SHIFT}) & 3)) << {_TIER_SHIFT} | code FROM label_words
                          WHERE words > :phrase AND words < :phrase || char(1114111)
                UNION ALL SELECT (2 + 2 * ((rowid >> {_ROLE_SHIFT}) & 3)) << {_TIER_SHIFT} | rowid
                          FROM labels WHERE labels MATCH :match
                {other_texts})
            SELECT MIN(value) AS best FROM matched GROUP BY (value >> {_ITEM_SHIFT}) & {_ITEMS - 1} ORDER BY best"""
        return [value for value, in self.connection.execute(sql, {"match": query.match, "phrase": query.phrase})]

    def hits(self, codes: list[int]) -> list[Hit]:
        """The resources whose best texts are ``codes`` (what a ``Ranking`` reads), with their labels and those
        texts."""
        marks = ", ".join("?" * len(codes))
        texts = {code: (field, text) for table in ("labels", "texts") for code, field, text in self.connection.execute(
            f"SELECT rowid, field, text FROM {table} WHERE rowid IN ({marks})", codes)}
        items = {number: row for number, *row in self.connection.execute(
            f"SELECT number, iri, kind, class, label FROM items WHERE number IN ({marks})",
            [(code & _ITEM_BITS) >> _ITEM_SHIFT for code in codes])}
        return [Hit(*items[(code & _ITEM_BITS) >> _ITEM_SHIFT], *texts[code]) for code in codes]

    def search(self, query: Query, limit: int, labels_only: bool = False) -> list[Hit]:
        """The first ``limit`` resources matching each word of ``query``, with what matched (see ``ranking``)."""
        if not query or query.too_long:
            return []
        ranking = self.written(query)
        if ranking is None:
            if labels_only:  # the first names are read without ranking every match
                return self.hits(self.first_labelled(query, limit))
            ranking = Ranking.of(self.matched(query))
        return self.hits(ranking.codes(None, 0, min(limit, ranking.labelled) if labels_only else limit))

    def first_labelled(self, query: Query, limit: int) -> list[int]:
        """The codes of the best texts of the first ``limit`` resources of ``ranking(query, labels_only=True)``,
        without ranking them all (the first letters typed in a search box match most names): the texts matched,
        read tier by tier and within a tier in code order (the order of the ranking), until ``limit`` resources
        are met. The first text met of a resource is its best."""
        parameters = {"match": query.match, "phrase": query.phrase}
        in_tier_order = ["SELECT code FROM label_words WHERE words = :phrase ORDER BY code"]  # tier 0
        for role in (NAME, TITLE):  # tiers 1 + 2 * role, then 2 + 2 * role
            in_tier_order += [f"SELECT code FROM label_words WHERE words > :phrase AND words < :phrase || char(1114111)"
                              f" AND (code >> {_ROLE_SHIFT}) & 3 = {role} ORDER BY code",
                              f"SELECT rowid FROM labels WHERE labels MATCH :match"
                              f" AND (rowid >> {_ROLE_SHIFT}) & 3 = {role} ORDER BY rowid"]
        best: dict[int, int] = {}
        for sql in in_tier_order:
            for code, in self.connection.execute(sql, parameters):
                best.setdefault(code & _ITEM_BITS, code)
                if len(best) == limit:
                    return list(best.values())
        return list(best.values())

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
