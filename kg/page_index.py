"""The tables pages look things up in, computed once per build: the label of every IRI, every allegation with
its status and attributions as pages and lists show them, the allegations each actor or place is part of,
every list a resource page shows (its events, members, places, graphs...) in the order it shows it, the lists
of an actor's or place's page (kg.involvement), each event's date and type, each allegation's course, each
graph's size, what a citation names of each source, and every IRI with a page of its own, numbered (the
sitemaps read a window of them).

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

from kg import ids
from kg.history import STATUS_NAMES, STATUS_ORDER, date_order
from kg.involvement import involvement_lists, reading_positions
from kg.search import folded
from kg.sqlite_index import ReadOnlyIndex
from kg.store import run_named_query
from kg.vocab import DCTERMS, PROV, RDF, RDFS, SKOS, SOL

PAGE_INDEX = "pages.sqlite"
LABEL_PREDICATES = (SKOS.prefLabel.value, RDFS.label.value, DCTERMS.title.value)  # in order of preference
OPPOSING = (SOL.Denies.value, SOL.Disputes.value)
# What makes an attribution, by the names of Voice; the first four it cannot lack.
ATTRIBUTION_PROPERTIES = {"allegation": SOL.allegation, "claimant": SOL.claimant, "stance": SOL.stance,
                          "source": SOL.source, "quote": SOL.quote, "translation": SOL.translation, "note": RDFS.comment}
ALLEGATION_FACETS = {"status": SOL.status, "type": SOL.allegationType, "accused": SOL.accused, "involves": SOL.involves,
                     "places": SOL.place}
_CHUNK = 500  # keys per lookup: SQLite bounds the parameters of one statement
# The items of a list kept with the resource's other lists, the rest in chunks of as many: a page's worth (the
# server's PAGE_SIZE), since a hub's page reads every list's head to show ten or fifty of each.
LIST_CHUNK = 50
# The lists of resources linked to a resource by a property of theirs (?item property ?this), as pages
# show them: the list's name -> its properties, and the class its items must have (None: any).
LINKED_LISTS = {
    "performed": ((SOL.performedBy,), SOL.Event),
    "party": ((SOL.involves,), SOL.Event),
    "events-at": ((SOL.place,), SOL.Event),
    "related-events": ((SOL.relatedAllegation,), SOL.Event),
    "reported-events": ((SOL.source,), SOL.Event),
    "members": ((SOL.memberOf,), None),
    "published": ((DCTERMS.publisher, DCTERMS.creator), None),
    "contains": ((SOL.partOf,), None),
    "actors": ((SOL.country,), SOL.Actor),
    "summarized-by": ((SOL.summarizes,), None),
    "reproduced-by": ((SOL.reproduces,), None),
    "reported-on-by": ((SOL.reportsOn,), None),
}
# The kinds of record a graph's page lists, each in its list "graph-<kind>" (see graph_list).
GRAPH_CONTENT_KINDS = (SOL.Allegation, SOL.Attribution, SOL.Event, SOL.Source, SOL.Person, SOL.Organization,
                       SOL.Group, SOL.Place)
# What an allegation's course names of each status statement: IRIs, then texts (the columns of status-course.rq).
COURSE_IRIS = {"status": SOL.statusValue, "source": SOL.source, "supersedes": SOL.supersedes}
COURSE_TEXTS = {"date": SOL.date, "case": SOL.caseName, "detail": SOL.detail, "quote": SOL.quote,
                "reason": SOL.correctionReason}
# What a citation names of a source (server.pages.citation), by property: the fields of the table documents.
DOCUMENT_FIELDS = {RDF.type.value: "kind", DCTERMS.title.value: "title", DCTERMS.publisher.value: "publisher",
                   DCTERMS.issued.value: "date", SOL.url.value: "url", SOL.seenAt.value: "seen_at",
                   SOL.readOn.value: "read_on"}


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


class Counted(NamedTuple):
    """An allegation as a list of allegations shows it: its status and how many voices assert and deny it, of
    how many in all. Written beside each Entry: a hub's list reads 50, each with dozens of voices, and counting
    them from the entries cost more than the rest of its page."""

    iri: str
    status: str | None
    asserting: int
    denying: int
    voices: int


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
    def counted(self) -> Counted:
        return Counted(self.iri, self.status, self.count(SOL.Asserts.value), self.count(SOL.Denies.value),
                       len(self.voices))

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
        subject = row[0]  # ?s, ?o by position: quicker than by name, over millions of rows
        if isinstance(subject, NamedNode):
            found.setdefault(subject.value, set()).add(row[1])
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


class Statements:
    """The statements of each property of the record (``statements``), each read once for the whole build."""

    def __init__(self, store: Store):
        self.store = store
        self.read: dict[str, dict[str, set]] = {}
        self.members: dict[str, frozenset[str]] = {}

    def __call__(self, predicate: NamedNode) -> dict[str, set]:
        if predicate.value not in self.read:
            self.read[predicate.value] = statements(self.store, predicate)
        return self.read[predicate.value]

    def of_class(self, cls: NamedNode) -> frozenset[str]:
        """The IRIs typed ``cls`` (read by class: all the types of the record are many more)."""
        if cls.value not in self.members:
            self.members[cls.value] = frozenset(statements(self.store, RDF.type, cls))
        return self.members[cls.value]


def allegation_entries(store: Store, labels: dict[str, set], read_property: Statements | None = None) -> list[Entry]:
    """Every allegation (typed and with an ``rdfs:label``: ``labels``, its statements), in IRI order."""
    statements_of = read_property or Statements(store)
    read = {name: statements_of(predicate) for name, predicate in ATTRIBUTION_PROPERTIES.items()}
    issued = statements_of(DCTERMS.issued)
    status_of = statements_of(SOL.statusOf)
    status_dates = statements_of(SOL.date)
    voices: dict[str, set[Voice]] = {}
    for attribution, allegations in read["allegation"].items():
        required = [read[name].get(attribution, ()) for name in ("claimant", "stance", "source")]
        optional = [read[name].get(attribution) or {None} for name in ("quote", "translation", "note")]
        for allegation, claimant, stance, source, quote, translation, note in product(allegations, *required, *optional):
            for date in issued.get(source.value) or {None}:
                voices.setdefault(allegation.value, set()).add(Voice(
                    attribution, claimant.value, stance.value, source.value, date and date.value,  # None stays None
                    quote and quote.value, translation and translation.value, note and note.value))
    dates: dict[str, set[str]] = {}
    for statement, allegations in status_of.items():
        for allegation in allegations:
            dates.setdefault(allegation.value, set()).update(date.value for date in status_dates.get(statement, ()))
    facets = {name: statements_of(predicate) for name, predicate in ALLEGATION_FACETS.items()}

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


def own_pages(labelled: Iterable[str]) -> list[str]:
    """Of the ``labelled`` IRIs, ours that have a page of their own, in IRI order: not a fragment of another's page
    (an ontology term is an anchor of /ontology, a Wikidata match one of its entity's page)."""
    return sorted(iri for iri in labelled if iri.startswith(ids.BASE) and "#" not in iri)


def write(store: Store, path: Path) -> dict:
    """Write the page index of ``store`` to ``path``; return what the manifest says of it."""
    read_property = Statements(store)
    labelled = {predicate: read_property(NamedNode(predicate)) for predicate in LABEL_PREDICATES}
    labels = labels_and_names(labelled)
    entries = allegation_entries(store, labelled[RDFS.label.value], read_property)
    events = event_dates_and_types(read_property)
    positions = reading_positions(entries)
    lists, graph_sizes = resource_lists(store, read_property, ReadingKeys(labelled), events, entries, positions)
    with closing(sqlite3.connect(path)) as index:
        index.executescript("""
            CREATE TABLE labels(iri TEXT PRIMARY KEY, label TEXT, name TEXT) WITHOUT ROWID;
            CREATE TABLE allegations(iri TEXT PRIMARY KEY, entry TEXT, labels TEXT) WITHOUT ROWID;
            CREATE TABLE allegation_counts(iri TEXT PRIMARY KEY, status TEXT, asserting INTEGER, denying INTEGER,
                                           voices INTEGER) WITHOUT ROWID;
            CREATE TABLE lists(iri TEXT PRIMARY KEY, lists TEXT) WITHOUT ROWID;
            CREATE TABLE list_chunks(iri TEXT, list TEXT, chunk INTEGER, items TEXT,
                                     PRIMARY KEY (iri, list, chunk)) WITHOUT ROWID;
            CREATE TABLE events(iri TEXT PRIMARY KEY, date TEXT, type TEXT, label TEXT) WITHOUT ROWID;
            CREATE TABLE courses(allegation TEXT PRIMARY KEY, course TEXT) WITHOUT ROWID;
            CREATE TABLE graphs(iri TEXT PRIMARY KEY, triples INTEGER) WITHOUT ROWID;
            CREATE TABLE documents(iri TEXT PRIMARY KEY, fields TEXT) WITHOUT ROWID;
            CREATE TABLE sitemap(position INTEGER PRIMARY KEY, iri TEXT);
        """)
        index.executemany("INSERT INTO labels VALUES (?, ?, ?)", [(iri, *labels[iri]) for iri in sorted(labels)])
        index.executemany("INSERT INTO allegations VALUES (?, ?, ?)",
                          [(entry.iri, _dumped(entry), _json(shown_labels(entry, labels))) for entry in entries])
        index.executemany("INSERT INTO allegation_counts VALUES (?, ?, ?, ?, ?)", [entry.counted for entry in entries])
        _insert_lists(index, "lists", "list_chunks", lists)
        # With its label: a list of events links each, and its page would otherwise look them up one by one.
        index.executemany("INSERT INTO events VALUES (?, ?, ?, ?)", sorted(
            (iri, *found, labels[iri][0] if iri in labels else ids.last_segment(iri)) for iri, found in events.items()))
        index.executemany("INSERT INTO courses VALUES (?, ?)",
                          sorted((allegation, _json(course)) for allegation, course in courses(read_property).items()))
        index.executemany("INSERT INTO graphs VALUES (?, ?)", sorted(graph_sizes.items()))
        index.executemany("INSERT INTO documents VALUES (?, ?)",
                          sorted((iri, _json(fields)) for iri, fields in documents(store, read_property).items()))
        index.executemany("INSERT INTO sitemap VALUES (?, ?)", enumerate(own_pages(labels)))
        involved = write_involvement(index, entries, labels, positions)
        index.commit()
    return {"labels": len(labels), "allegations": len(entries), "lists": sum(map(len, lists.values())),
            "involved": involved}


_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode  # one encoder for every row


def documents(store: Store, read_property: Statements) -> dict[str, dict[str, list[str]]]:
    """What a citation names of every source: field (DOCUMENT_FIELDS) -> its values, in code point order. Read
    once per build: a page cites a few dozen sources, and a process reading them all at its first citation took
    seconds at a million statements. The kinds by a query; the other fields from the statements of their
    properties, which the build reads for other tables too (a query of every field took three times as long)."""
    found: dict[str, dict[str, set[str]]] = {}
    kind = DOCUMENT_FIELDS[RDF.type.value]
    for cited, value in run_named_query(store, "citation-documents"):
        if isinstance(cited, NamedNode):  # as the other fields (``statements``)
            found.setdefault(cited.value, {}).setdefault(kind, set()).add(value.value)
    sources = read_property.of_class(SOL.Source)
    for predicate, field in DOCUMENT_FIELDS.items():
        if predicate != RDF.type.value:
            for cited, values in read_property(NamedNode(predicate)).items():
                if cited in sources:
                    found.setdefault(cited, {}).setdefault(field, set()).update(value.value for value in values)
    return {iri: {field: sorted(values) for field, values in sorted(fields.items())} for iri, fields in found.items()}


def _insert_lists(index: sqlite3.Connection, table: str, chunks: str, lists: dict[str, dict[str, list]]) -> None:
    """Insert ``lists`` (IRI -> name -> items) into ``table``: an IRI's lists in one row, a JSON object: name ->
    [its size, its first LIST_CHUNK items]; the rest of a longer list into ``chunks``, LIST_CHUNK items a row.
    Rows go in in key order: the IRIs sorted, then each one's names (sorting (IRI, name) pairs instead takes
    seconds at a million statements)."""
    heads, rest = [], []
    for iri in sorted(lists):
        about = lists[iri]
        found = {}
        for name in sorted(about):
            items = about[name]
            found[name] = [len(items), items[:LIST_CHUNK]]
            rest += [(iri, name, start // LIST_CHUNK, _json(items[start:start + LIST_CHUNK]))
                     for start in range(LIST_CHUNK, len(items), LIST_CHUNK)]
        heads.append((iri, _json(found)))
    index.executemany(f"INSERT INTO {table} VALUES (?, ?)", heads)
    index.executemany(f"INSERT INTO {chunks} VALUES (?, ?, ?, ?)", rest)


def write_involvement(index: sqlite3.Connection, entries: list[Entry], labels: dict[str, tuple[str, str | None]],
                      positions: dict[str, int]) -> int:
    """The lists of the page of each actor or place that allegations name (kg.involvement), in tables of
    their own (as ``lists`` and ``list_chunks``), read by PageIndex.involvement_of; return how many they are.
    ``positions``: each allegation's place in reading order (reading_positions)."""
    index.executescript("""
        CREATE TABLE involvement(iri TEXT PRIMARY KEY, lists TEXT) WITHOUT ROWID;
        CREATE TABLE involvement_chunks(iri TEXT, list TEXT, chunk INTEGER, items TEXT,
                                        PRIMARY KEY (iri, list, chunk)) WITHOUT ROWID;
    """)
    names = {iri: name for iri, (_, name) in labels.items() if name is not None}
    found = involvement_lists(entries, names, positions, {iri: label for iri, (label, _) in labels.items()})
    _insert_lists(index, "involvement", "involvement_chunks", found)
    return len(found)


class ReadingKeys:
    """How each IRI sorts in a list of resources: by its first name (preferred label, label or title, in any
    language) without case or accents, else by its last segment; then by itself. Worked out for the IRIs that
    lists put in order only (most lists hold one item), once each."""

    def __init__(self, labelled: dict[str, dict[str, set]]):
        self.labelled = labelled
        self.keys: dict[str, tuple[str, str]] = {}

    def __call__(self, iri: str) -> tuple[str, str]:
        key = self.keys.get(iri)
        if key is None:
            names = [folded(name.value) for found in self.labelled.values() for name in found.get(iri, ())
                     if isinstance(name, Literal)]
            key = self.keys[iri] = (min(names) if names else folded(iri.rsplit("/", 1)[-1]), iri)
        return key


def event_dates_and_types(read_property: Statements) -> dict[str, tuple[str | None, str | None]]:
    """Each event's date (its first, as text) and type (its first IRI), as lists of events show them."""
    dates, types = read_property(SOL.date), read_property(SOL.eventType)
    return {iri: (min((date.value for date in dates.get(iri, ())), default=None),
                  min((kind.value for kind in types.get(iri, ())), default=None))
            for iri in read_property.of_class(SOL.Event)}


def resource_lists(store: Store, read_property: Statements, reading_key: ReadingKeys,
                   events: dict[str, tuple[str | None, str | None]], entries: list[Entry],
                   positions: dict[str, int]) -> tuple[dict[str, dict[str, list[str]]], dict[str, int]]:
    """Every list a resource page shows, by resource then list name, each in its page's order; and the number
    of statements of each named graph. ``positions``: each allegation's place in reading order."""
    found: dict[str, dict[str, set[str]]] = {}

    def add(iri: str, name: str, item: str) -> None:
        found.setdefault(iri, {}).setdefault(name, set()).add(item)

    for name, (properties, cls) in LINKED_LISTS.items():
        members = read_property.of_class(cls) if cls is not None else None
        for predicate in properties:
            for item, values in read_property(predicate).items():
                if members is None or item in members:
                    for value in values:
                        if isinstance(value, NamedNode):
                            add(value.value, name, item)
    for graph, sources in read_property(PROV.wasDerivedFrom).items():
        for source in sources:
            if isinstance(source, NamedNode):
                add(graph, "derived-from", source.value)
    graph_sizes: dict[str, int] = {}
    for graph, subject, triples in run_named_query(store, "graph-subjects"):
        graph_sizes[graph.value] = graph_sizes.get(graph.value, 0) + int(triples.value)
        if isinstance(subject, NamedNode):
            add(subject.value, "recorded-in", graph.value)
    typed: dict[str, dict[str, set[str]]] = {}  # graph -> class -> what it types so
    for row in run_named_query(store, "page-typed-in-graphs",  # ?g ?item ?type
                               type=[*GRAPH_CONTENT_KINDS, SOL.SourceGraph, SOL.Source]):
        if isinstance(row[1], NamedNode):
            typed.setdefault(row[0].value, {}).setdefault(row[2].value, set()).add(row[1].value)
    for graph, kinds in typed.items():
        for kind in GRAPH_CONTENT_KINDS:
            for item in kinds.get(kind.value, ()):
                add(graph, graph_list(kind), item)
        for source in kinds.get(SOL.Source.value, ()):
            if graph in kinds.get(SOL.SourceGraph.value, ()):
                add(source, "graphs", graph)
            for allegation in kinds.get(SOL.Allegation.value, ()):
                if allegation in positions:  # as allegation-lists.rq: labelled allegations
                    add(source, "source-allegations", allegation)
    for entry in entries:
        for voice in entry.voices:
            add(voice.source, "source-attributions", entry.iri)
    add_originals(read_property, add)

    def order(name: str, items: set[str]) -> list[str]:
        if len(items) == 1:  # most lists: a resource is recorded in one graph, a graph holds one source
            return list(items)
        if name in ("source-allegations", "source-attributions"):
            return sorted(items, key=positions.__getitem__)
        if name in ("performed", "party", "events-at", "related-events", "reported-events"):
            return sorted(items, key=lambda iri: (events[iri][0] is None, *date_order(events[iri][0]), iri))
        return sorted(items, key=reading_key)
    in_order = {iri: {name: order(name, items) for name, items in about.items()} for iri, about in found.items()}
    return in_order, graph_sizes


def add_originals(read_property: Statements, add) -> None:
    """The primary documents each source reproduces or reports on (list "originals"), which a citation of a
    record names with its sources."""
    for predicate in (SOL.reproduces, SOL.reportsOn):
        for source, originals in read_property(predicate).items():
            for original in originals:
                if isinstance(original, NamedNode):
                    add(source, "originals", original.value)


def graph_list(kind: NamedNode) -> str:
    """The name of the list of a graph's records of one kind: ``graph-allegation``."""
    return "graph-" + kind.value.split("#")[-1].lower()


def courses(read_property: Statements) -> dict[str, list[dict]]:
    """Each allegation's status statements (as status-course.rq gives them: IRIs and texts by column, the
    first of each), in IRI order; the page puts them in the order of the case."""
    found: dict[str, list[dict]] = {}
    values = {name: read_property(predicate) for name, predicate in (COURSE_IRIS | COURSE_TEXTS).items()}
    for statement, allegations in sorted(read_property(SOL.statusOf).items()):
        row = {name: min((term.value for term in values[name].get(statement, ())), default=None) for name in values}
        if row["status"] is None or row["source"] is None:
            continue
        for allegation in allegations:
            found.setdefault(allegation.value, []).append({"statement": statement, "allegation": allegation.value,
                                                           **row})
    return found


def named_with(entry: Entry) -> list[str]:
    """The IRIs a page names with an allegation's voices: its own, its claimants' and its sources', in IRI order."""
    return sorted({entry.iri, *(voice.claimant for voice in entry.voices), *(voice.source for voice in entry.voices)})


def shown_labels(entry: Entry, labels: dict[str, tuple[str, str | None]]) -> list[str | None]:
    """The labels (``labels_and_names``) of what a page names with an allegation (``named_with``), in that order,
    None for those without one. Written beside its entry, so that a page of dozens of allegations reads them with
    the allegations rather than looking up hundreds of keys in the table of labels; without their IRIs, which the
    entry holds (written again, they made the page index a tenth larger at 1M)."""
    return [labels[iri][0] if iri in labels else None for iri in named_with(entry)]


def _dumped(entry: Entry) -> str:
    return json.dumps([entry.label, entry.status, sorted(entry.types), sorted(entry.accused), sorted(entry.involves),
                       sorted(entry.places),
                       [list(voice) for voice in entry.voices], list(entry.status_dates)],
                      ensure_ascii=False)


def _loaded(iri: str, text: str) -> Entry:
    label, status, types, accused, involves, places, voices, status_dates = json.loads(text)
    return Entry(iri, label, status, frozenset(types), frozenset(accused), frozenset(involves), frozenset(places),
                 tuple(Voice(*voice) for voice in voices), tuple(status_dates))


class Lists:
    """The lists about one resource in the page index, each read a window at a time (the rest of a long list
    from the table ``chunks``)."""

    def __init__(self, index: PageIndex, iri: str, heads: dict[str, list], chunks: str = "list_chunks"):
        self.index, self.iri, self.heads = index, iri, heads  # heads: name -> [size, first LIST_CHUNK items]
        self.chunks = chunks

    def size(self, name: str) -> int:
        return self.heads[name][0] if name in self.heads else 0

    def window(self, name: str, start: int, size: int) -> list[str]:
        """Items ``start`` to ``start + size`` of the list ``name``, in its order."""
        if name not in self.heads:
            return []
        head = self.heads[name][1]
        if start + size <= LIST_CHUNK:
            return head[start:start + size]
        first, last = start // LIST_CHUNK, (start + size - 1) // LIST_CHUNK
        items = head if first == 0 else []
        for chunk, in self.index.connection.execute(
                f"SELECT items FROM {self.chunks} WHERE iri = ? AND list = ? AND chunk BETWEEN ? AND ? ORDER BY chunk",
                (self.iri, name, max(first, 1), last)):
            items = items + json.loads(chunk)
        return items[start - first * LIST_CHUNK:][:size]

    def whole(self, name: str) -> list[str]:
        return self.window(name, 0, self.size(name))


class PageIndex(ReadOnlyIndex):
    """Lookups in a build's page index, on one read-only connection (``with PageIndex(path) as index``)."""

    def labels(self, iris: Iterable[str]) -> dict[str, str]:
        """The label of each of ``iris`` that has one."""
        return dict(self._by_key("SELECT iri, label FROM labels", list(iris)))

    def page_count(self) -> int:
        """How many of our IRIs have a page of their own (``sitemap``)."""
        return self.connection.execute("SELECT coalesce(max(position) + 1, 0) FROM sitemap").fetchone()[0]

    def pages(self, start: int, count: int) -> list[str]:
        """Items ``start`` to ``start + count`` of those IRIs, in IRI order."""
        return [iri for iri, in self.connection.execute(
            "SELECT iri FROM sitemap WHERE position >= ? AND position < ? ORDER BY position", (start, start + count))]

    def names(self, iris: Iterable[str]) -> dict[str, str]:
        """The name (first ``rdfs:label``) of each of ``iris`` that has one."""
        return {iri: name for iri, name in self._by_key("SELECT iri, name FROM labels", list(iris)) if name is not None}

    def allegations(self, iris: Iterable[str] | None = None) -> dict[str, Entry]:
        """Each of the allegations ``iris`` (None: every one), by IRI."""
        found = (self.connection.execute("SELECT iri, entry FROM allegations") if iris is None
                 else self._by_key("SELECT iri, entry FROM allegations", list(iris)))
        return {iri: _loaded(iri, text) for iri, text in found}

    def labelled_allegations(self, iris: Iterable[str]) -> tuple[dict[str, Entry], dict[str, str]]:
        """As ``allegations``, with the labels a page shows with them (``shown_labels``), read together."""
        entries, labels = {}, {}
        for iri, text, shown in self._by_key("SELECT iri, entry, labels FROM allegations", list(iris)):
            entry = entries[iri] = _loaded(iri, text)
            labels.update((named, label) for named, label in zip(named_with(entry), json.loads(shown))
                          if label is not None)
        return entries, labels

    def counted(self, iris: Iterable[str]) -> dict[str, Counted]:
        """Each of the allegations ``iris`` as a list shows it, by IRI (read without its voices)."""
        return {row[0]: Counted(*row) for row in self._by_key(
            "SELECT iri, status, asserting, denying, voices FROM allegation_counts", list(iris))}

    def lists_about(self, iri: str) -> Lists:
        """The lists about ``iri`` (see resource_lists), read in one lookup."""
        found = self.connection.execute("SELECT lists FROM lists WHERE iri = ?", (iri,)).fetchone()
        return Lists(self, iri, json.loads(found[0]) if found else {})

    def involvement_of(self, part: str) -> Lists:
        """The lists of the page of the actor or place ``part`` (kg.involvement.involvement_lists), read in
        one lookup."""
        found = self.connection.execute("SELECT lists FROM involvement WHERE iri = ?", (part,)).fetchone()
        return Lists(self, part, json.loads(found[0]) if found else {}, "involvement_chunks")

    def lists_of(self, iris: Iterable[str], name: str) -> dict[str, list[str]]:
        """The whole list ``name`` about each of ``iris`` that has one, in its order (only that list of each
        read: a resource's other lists hold hundreds of items)."""
        found = self._by_key(f"SELECT iri, json_extract(lists, '$.\"{name}\"') FROM lists", list(iris))
        about = (Lists(self, iri, {name: json.loads(head)}) for iri, head in found if head is not None)
        return {lists.iri: lists.whole(name) for lists in about}

    def events(self, iris: Iterable[str]) -> dict[str, tuple[str | None, str | None, str]]:
        """The date, type and label of each of the events ``iris``."""
        return {iri: (date, kind, label)
                for iri, date, kind, label in self._by_key("SELECT iri, date, type, label FROM events", list(iris))}

    def course(self, allegation: str) -> list[dict]:
        """The status statements about ``allegation`` (see courses)."""
        found = self.connection.execute("SELECT course FROM courses WHERE allegation = ?", (allegation,)).fetchone()
        return json.loads(found[0]) if found else []

    def documents(self, iris: Iterable[str]) -> dict[str, dict[str, list[str]]]:
        """What a citation names of each of the sources ``iris`` (``documents``): field -> values."""
        return {iri: json.loads(fields) for iri, fields in self._by_key("SELECT iri, fields FROM documents", list(iris))}

    def graph_size(self, graph: str) -> int:
        """How many statements the named graph ``graph`` holds."""
        found = self.connection.execute("SELECT triples FROM graphs WHERE iri = ?", (graph,)).fetchone()
        return found[0] if found else 0

    def _by_key(self, select: str, keys: list[str]) -> list[tuple]:
        found = []
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start:start + _CHUNK]
            found += self.connection.execute(f"{select} WHERE iri IN ({', '.join('?' * len(chunk))})", chunk)
        return found
