"""The rankings of the search index's common words, and how often the texts hold each word, worked out with numpy
when the build writes the index (kg.search.write_index). A module of its own: kg.search is imported by the server's
query processes, which run under a data limit (--max-query-memory) that numpy's own allocations on import exceed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import repeat

import numpy

from kg import search  # its COMMON and COMMON_FROM_LETTERS read when used: tests set them lower
from kg.search import _ITEM_BITS, _ROLE_SHIFT, _TIER_SHIFT, Ranking


def held_words(labels: list[tuple], texts: list[tuple]) -> tuple[list[str], numpy.ndarray, numpy.ndarray]:
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


def rankings(labels: list[tuple], words: list[str], starts: numpy.ndarray,
                     held: numpy.ndarray) -> Iterator[tuple]:
    """(word, labelled, runs, matched) of each indexed word that more than COMMON resources match, in order of words:
    its ranking as ``SearchIndex.ranking`` ranks a query of that word alone, packed (``Ranking.packed``). The words
    and the texts holding them are those of ``held_words``."""
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


def frequencies(starts: numpy.ndarray) -> list[int]:
    """How many times the texts hold each word of ``held_words``, from its ``starts``."""
    return numpy.diff(starts).tolist()
