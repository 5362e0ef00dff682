"""The tables pages look things up in, computed once per build: the label of every IRI, every allegation with
its status and attributions as pages and lists show them, and the allegations each actor or place is part of.

Looking these up in the store costs a page tens of milliseconds (a page names hundreds of resources and shows
dozens of allegations); the build writes them once (``write``, called by kg.release) into ``pages.sqlite``, and
the server reads them by key (``PageIndex``). They are the record today: a page of the record as of a day
reads its allegations from the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from itertools import product
from pathlib import Path
from typing import NamedTuple

from pyoxigraph import Literal, NamedNode, Store

from kg.history import STATUS_NAMES, STATUS_ORDER
from kg.sqlite_index import ReadOnlyIndex
from kg.store import run_named_query
from kg.vocab import DCTERMS, RDF, RDFS, SKOS, SOL

PAGE_INDEX = "pages.sqlite"
LABEL_PREDICATES = (SKOS.prefLabel.value, RDFS.label.value, DCTERMS.title.value)  # in order of preference
OPPOSING = (SOL.Denies.value, SOL.Disputes.value)
# What makes an attribution, by the names of Voice; the first four it cannot lack.
ATTRIBUTION_PROPERTIES = {"allegation": SOL.allegation, "claimant": SOL.claimant, "stance": SOL.stance,
                          "source": SOL.source, "quote": SOL.quote, "translation": SOL.translation, "note": RDFS.comment}
ALLEGATION_FACETS = {"status": SOL.status, "type": SOL.allegationType, "accused": SOL.accused, "involves": SOL.involves,
                     "places": SOL.place}
_CHUNK = 500  # keys per lookup: SQLite bounds the parameters of one statement


class Voice(NamedTuple):  # a tuple: pages read dozens from the index per request, quickly made
    """One attribution: who says it, asserting, denying or disputing, where, when, in which words."""

    attribution: str
    claimant: str
    stance: str
    source: str
    date: str | None  # the source's date, as precise as the source gives it
    quote: str | None
    translation: str | None
    note: str | None


@dataclass(frozen=True)
class Entry:
    """One allegation: its label, current status (derived by the build), kinds of wrongdoing, whom it accuses
    and involves, where, its voices (by attribution IRI; none for some) and the dates of its status statements."""

    iri: str
    label: str
    status: str | None
    types: frozenset[str]
    accused: frozenset[str]
    involves: frozenset[str]
    places: frozenset[str]
    voices: tuple[Voice, ...]
    status_dates: tuple[str, ...]

    def count(self, stance: str) -> int:
        return sum(voice.stance == stance for voice in self.voices)

    @property
    def contested(self) -> bool:
        """At least one voice asserts it and at least one denies or disputes it."""
        stances = {voice.stance for voice in self.voices}
        return SOL.Asserts.value in stances and bool(stances.intersection(OPPOSING))

    @property
    def latest(self) -> str | None:
        """The latest date on record about it: of a source that speaks to it, or of a status statement.
        Dates of any precision compare as text, a year before its months."""
        dates = [voice.date for voice in self.voices if voice.date] + list(self.status_dates)
        return max(dates, default=None)

    @property
    def status_rank(self) -> int:
        return STATUS_ORDER[STATUS_NAMES[self.status]] if self.status else len(STATUS_ORDER)


def statements(store: Store, predicate: NamedNode, value: NamedNode | None = None) -> dict[str, set]:
    """Each IRI that has ``predicate`` (with ``value``, if given) and its values, in the whole record.

    The build reads a property at a time, from the engine's index of it, and joins them here: a query
    joining them all costs the engine twice as much (measured at 100,000 statements)."""
    found: dict[str, set] = {}
    for row in run_named_query(store, "page-statements", p=predicate, o=value):
        if isinstance(row["s"], NamedNode):
            found.setdefault(row["s"].value, set()).add(row["o"])
    return found


def labels_and_names(labelled: dict[str, dict[str, set]]) -> dict[str, tuple[str, str | None]]:
    """Each IRI's label as pages show it: preferred label before label before title, English or untagged
    before other languages, then the first in code point order; and its name as lists of actors are ordered
    by it: its first ``rdfs:label`` in code point order, if it has one. ``labelled``: the statements
    (``statements``) of each of LABEL_PREDICATES."""
    best: dict[str, tuple] = {}
    for rank, predicate in enumerate(LABEL_PREDICATES):
        for iri, labels in labelled[predicate].items():
            for label in labels:
                if isinstance(label, Literal):
                    ranked = (rank, label.language not in (None, "en"), label.value)
                    best[iri] = min(best.get(iri, ranked), ranked)
    names = {iri: min(label.value for label in labels if isinstance(label, Literal))
             for iri, labels in labelled[RDFS.label.value].items() if any(isinstance(label, Literal) for label in labels)}
    return {iri: (rank[2], names.get(iri)) for iri, rank in best.items()}


def allegation_entries(store: Store, labels: dict[str, set]) -> list[Entry]:
    """Every allegation (typed and with an ``rdfs:label``: ``labels``, its statements), in IRI order."""
    read = {name: statements(store, predicate) for name, predicate in ATTRIBUTION_PROPERTIES.items()}
    issued = statements(store, DCTERMS.issued)
    status_of = statements(store, SOL.statusOf)
    status_dates = statements(store, SOL.date)
    voices: dict[str, set[Voice]] = {}
    for attribution, allegations in read["allegation"].items():
        required = [read[name].get(attribution, ()) for name in ("claimant", "stance", "source")]
        optional = [read[name].get(attribution) or {None} for name in ("quote", "translation", "note")]
        for allegation, claimant, stance, source, quote, translation, note in product(allegations, *required, *optional):
            for date in issued.get(source.value) or {None}:
                voices.setdefault(allegation.value, set()).add(Voice(
                    attribution, claimant.value, stance.value, source.value,
                    *(term.value if term is not None else None for term in (date, quote, translation, note))))
    dates: dict[str, set[str]] = {}
    for statement, allegations in status_of.items():
        for allegation in allegations:
            dates.setdefault(allegation.value, set()).update(date.value for date in status_dates.get(statement, ()))
    facets = {name: statements(store, predicate) for name, predicate in ALLEGATION_FACETS.items()}

    def values(name: str, iri: str) -> frozenset[str]:
        return frozenset(term.value for term in facets[name].get(iri, ()))

    entries = []
    for iri in sorted(statements(store, RDF.type, SOL.Allegation)):
        names = [label.value for label in labels.get(iri, ())]
        if names:
            entries.append(Entry(iri, min(names), min(values("status", iri), default=None), values("type", iri),
                                 values("accused", iri), values("involves", iri), values("places", iri),
                                 tuple(sorted(voices.get(iri, ()), key=lambda voice: voice.attribution)),
                                 tuple(sorted(dates.get(iri, ())))))
    return entries


def write(store: Store, path: Path) -> dict:
    """Write the page index of ``store`` to ``path``; return what the manifest says of it."""
    labelled = {predicate: statements(store, NamedNode(predicate)) for predicate in LABEL_PREDICATES}
    labels = labels_and_names(labelled)
    entries = allegation_entries(store, labelled[RDFS.label.value])
    parts = sorted({(part, entry.iri) for entry in entries
                    for part in (*entry.accused, *entry.involves, *entry.places,
                                  *(voice.claimant for voice in entry.voices))})
    with closing(sqlite3.connect(path)) as index:
        index.executescript("""
            CREATE TABLE labels(iri TEXT PRIMARY KEY, label TEXT, name TEXT) WITHOUT ROWID;
            CREATE TABLE allegations(iri TEXT PRIMARY KEY, entry TEXT) WITHOUT ROWID;
            CREATE TABLE parts(part TEXT, allegation TEXT, PRIMARY KEY (part, allegation)) WITHOUT ROWID;
        """)
        index.executemany("INSERT INTO labels VALUES (?, ?, ?)", [(iri, label, name)
                                                                 for iri, (label, name) in sorted(labels.items())])
        index.executemany("INSERT INTO allegations VALUES (?, ?)", [(entry.iri, _dumped(entry)) for entry in entries])
        index.executemany("INSERT INTO parts VALUES (?, ?)", parts)
        index.commit()
    return {"labels": len(labels), "allegations": len(entries)}


def _dumped(entry: Entry) -> str:
    return json.dumps([entry.label, entry.status, sorted(entry.types), sorted(entry.accused), sorted(entry.involves),
                       sorted(entry.places),
                       [list(voice) for voice in entry.voices], list(entry.status_dates)],
                      ensure_ascii=False)


def _loaded(iri: str, text: str) -> Entry:
    label, status, types, accused, involves, places, voices, status_dates = json.loads(text)
    return Entry(iri, label, status, frozenset(types), frozenset(accused), frozenset(involves), frozenset(places),
                 tuple(Voice(*voice) for voice in voices), tuple(status_dates))


class PageIndex(ReadOnlyIndex):
    """Lookups in a build's page index, on one read-only connection (``with PageIndex(path) as index``)."""

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        """The label of each of ``iris`` that has one."""
        return dict(self._by_key("SELECT iri, label FROM labels", list(iris)))

    def names(self, iris: Iterable[str]) -> dict[str, str]:
        """The name (first ``rdfs:label``) of each of ``iris`` that has one."""
        return {iri: name for iri, name in self._by_key("SELECT iri, name FROM labels", list(iris)) if name is not None}

    def allegations(self, iris: Iterable[str] | None = None) -> dict[str, Entry]:
        """Each of the allegations ``iris`` (None: every one), by IRI."""
        found = (self.connection.execute("SELECT iri, entry FROM allegations") if iris is None
                 else self._by_key("SELECT iri, entry FROM allegations", list(iris)))
        return {iri: _loaded(iri, text) for iri, text in found}

    def allegations_of(self, part: str) -> dict[str, Entry]:
        """The allegations that accuse or involve ``part``, that are about it as a place, or on which it takes
        a stance, by IRI."""
        found = self.connection.execute("SELECT iri, entry FROM parts JOIN allegations ON iri = allegation"
                                        " WHERE part = ?", (part,))
        return {iri: _loaded(iri, text) for iri, text in found}

    def _by_key(self, select: str, keys: list[str]) -> list[tuple]:
        found = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            found += self.connection.execute(f"{select} WHERE iri IN ({', '.join('?' * len(chunk))})", chunk)
        return found
