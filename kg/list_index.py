"""What the list views read, computed once per build: /allegations with its facets, /contested, /timeline and
/network (and the timeline and network sections of resource pages), as tables in ``lists.sqlite``.

A list view filters, counts, sorts and pages thousands of records. Made from the page index, the timeline and
the network in each server process, those tables took seconds per view and hundreds of megabytes per process
at a million statements; the build writes them once (``write``, run by kg.release after the page index, the
timeline and the network it reads), and a request does a few indexed queries (``ListIndex``): the facet
counts of its view, a page of rows in its order, the options of its form.

- Allegations (those someone speaks to), numbered in reading order (``n``), each with its place in every
  other order (ORDERS), whether it is contested, and its row as the lists show it (labels included). Every
  facet value and vocabulary concept is a ``term``, numbered in the order facets list values whose counts tie
  (label without case, then IRI); ``facet_arrays`` holds, as arrays, which allegations have each value of each
  facet (for a facet of the voices: any of its voices), every allegation's values, and each voice's claimant,
  stance, source and dates (for the facets matched voice by voice): a view finds its allegations and counts its
  facets over them; ``totals`` the counts of the whole list, for each stance too, and ``totals_within`` the same
  counts among the allegations with each value that at least COUNTED_WITHIN_FROM of them have (a status, a kind,
  a hub): a view narrowed to such a value, the most common link to the list, reads its counts rather than
  counting thousands of allegations.
- The timeline's items in its order (the undated first), each with its labels; which items have each value
  of each facet, which are about each IRI and how many (dated) each is in; the facets' values with their labels
  and ranks.
- The network's actors in reading order, its relations in table order with their records, each actor's
  number of neighbours for each relation and status chosen alone or together, its sources and statuses;
  and how many actors each actor is related to by each relation and side, as its page counts them.

They are the record today: the timeline as of a day is narrowed from them by the sources' dates (each item
holds the last day its source's date may mean); the allegation lists and the network have no ``as_of``.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path

import numpy

from kg import ids
from kg import schema as sc
from kg.history import date_order, end_of
from kg.ids import last_segment
from kg.network import NETWORK_FILE
from kg.page_index import PAGE_INDEX, Entry, PageIndex
from kg.search import folded
from kg.sqlite_index import ReadOnlyIndex
from kg.timeline import TIMELINE_FILE
from kg.vocab import SOL

LIST_INDEX = "lists.sqlite"
# The names of the ontology's statuses, kinds and stances ("charged"), and of our resources their slug,
# are the values of the lists' query parameters: short, readable links.
CONCEPT_NAMES = {concept.value: name for name, concept in (*sc.ALLEGATION_STATUSES, *sc.ALLEGATION_TYPES, *sc.STANCES)}
# The facets of /allegations: of the allegation itself, then of its voices (matched together), with the
# concepts each may name even when no allegation has them (``charged`` is a status, listed or not).
ALLEGATION_FACETS = {"status": sc.ALLEGATION_STATUSES, "type": sc.ALLEGATION_TYPES, "accused": ()}
VOICE_FACETS = {"claimant": (), "stance": sc.STANCES, "source": ()}
FACETS = {**ALLEGATION_FACETS, **VOICE_FACETS}
# The orders of the allegation lists: the key of an allegation, and whether the largest comes first; every
# order is stable over reading order (by label), so reading order breaks ties.
ORDERS = {
    "label": (lambda entry: 0, False),
    "voices": (lambda entry: len(entry.voices), True),
    "status": (lambda entry: entry.status_rank, False),
    "latest": (lambda entry: (entry.latest is not None, entry.latest or ""), True),
}
ARRAY_TYPE = "<i4"  # of the facet arrays: term and allegation numbers, offsets, in 32 bits, the same on any machine
NO_STANCE = -1  # the totals of a facet over the voices of every stance
# Counting a view's facets over this many allegations costs a request a few milliseconds (their values are read
# and tallied one by one): the build counts them for each value that many allegations have (``totals_within``).
COUNTED_WITHIN_FROM = 250
TIMELINE_FACETS = ("actor", "type", "source", "place", "allegation")
# The records' JSON, by encoders made once: json.dumps with options makes one per call, a tenth or more of the
# time of encoding the build's 180,000 records.
_as_json = json.JSONEncoder(ensure_ascii=False).encode
_as_sorted_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
_as_compact_json = json.JSONEncoder(separators=(",", ":")).encode


def order_column(order: str) -> str:
    """The column of ``allegations`` that holds each allegation's place in ``order`` (by label: ``n``, its number)."""
    return "n" if order == "label" else f"by_{order}"


def write(release_dir: Path) -> dict:
    """Write the list index of the release in ``release_dir`` (from its page index, timeline and network, which
    must be written first) to ``release_dir / LIST_INDEX``; return what the manifest says of it."""
    path = release_dir / LIST_INDEX
    path.unlink(missing_ok=True)
    with PageIndex(release_dir / PAGE_INDEX) as pages, closing(sqlite3.connect(path)) as index:
        # A file of a release in the making: renamed into place when whole, so no journal and no syncs.
        index.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        allegations = _write_allegations(index, pages)
        timeline = _write_timeline(index, json.loads((release_dir / TIMELINE_FILE).read_text(encoding="utf-8")))
        network = _write_network(index, json.loads((release_dir / NETWORK_FILE).read_text(encoding="utf-8")))
        index.commit()
    return {"allegations": allegations, "timeline_items": timeline, "relations": network}


# ---------------------------------------------------------------- allegations


def _write_allegations(index: sqlite3.Connection, pages: PageIndex) -> int:
    entries = sorted((entry for entry in pages.allegations().values() if entry.voices),
                     key=lambda entry: (folded(entry.label), entry.iri))
    values = {name: [_allegation_values(name, entry) for entry in entries] for name in ALLEGATION_FACETS}
    values.update({name: [sorted({getattr(voice, name) for voice in entry.voices}) for entry in entries]
                   for name in VOICE_FACETS})
    concepts = {concept.value for vocabulary in FACETS.values() for _, concept in vocabulary}
    named = {iri for found in values.values() for iris in found for iri in iris} | concepts
    known = pages.labels(sorted(named | {entry.iri for entry in entries}))
    labels = {iri: known.get(iri) or last_segment(iri) for iri in named | {entry.iri for entry in entries}}
    terms = sorted(named, key=lambda iri: (labels[iri].casefold(), iri))
    term = {iri: number for number, iri in enumerate(terms)}
    orders = [order for order in ORDERS if order != "label"]  # by label: their number
    index.executescript(f"""
        CREATE TABLE terms(id INTEGER PRIMARY KEY, iri TEXT, label TEXT, key TEXT);
        CREATE TABLE facet_keys(facet TEXT, key TEXT, term INTEGER, PRIMARY KEY (facet, key)) WITHOUT ROWID;
        CREATE TABLE allegations(n INTEGER PRIMARY KEY, iri TEXT, contested INTEGER,
                                 {"".join(f"{order_column(order)} INTEGER, " for order in orders)}row TEXT);
        CREATE TABLE facet_arrays(name TEXT PRIMARY KEY, data BLOB) WITHOUT ROWID;
        CREATE TABLE totals(facet TEXT, stance INTEGER, counts BLOB, PRIMARY KEY (facet, stance)) WITHOUT ROWID;
        CREATE TABLE totals_within(within_facet TEXT, within_term INTEGER, facet TEXT, stance INTEGER, counts BLOB,
                                   PRIMARY KEY (within_facet, within_term, facet, stance)) WITHOUT ROWID;
    """)
    index.executemany("INSERT INTO terms VALUES (?, ?, ?, ?)",
                      ((term[iri], iri, labels[iri], CONCEPT_NAMES.get(iri) or last_segment(iri)) for iri in terms))
    for name, vocabulary in FACETS.items():
        keys = {concept_name: concept.value for concept_name, concept in vocabulary}
        # Each value once, in the order of its last use: of values with one key, the last used is kept (as when
        # every use was read in turn, which took 2 s at 1M statements).
        last_used = list(dict.fromkeys(iri for iris in reversed(values[name]) for iri in reversed(iris)))
        keys.update((CONCEPT_NAMES.get(iri) or last_segment(iri), iri) for iri in reversed(last_used))
        index.executemany("INSERT INTO facet_keys VALUES (?, ?, ?)",
                          ((name, key, term[iri]) for key, iri in sorted(keys.items())))
    places = {}
    for order in orders:
        key, largest_first = ORDERS[order]
        ranked = sorted(range(len(entries)), key=list(map(key, entries)).__getitem__, reverse=largest_first)
        places[order] = [0] * len(entries)
        for place, number in enumerate(ranked):
            places[order][number] = place
    index.executemany(f"INSERT INTO allegations VALUES (?, ?, ?, {'?, ' * len(orders)}?)", (
        (number, entry.iri, int(entry.contested), *(places[order][number] for order in orders),
         _as_json(_row(entry, labels))) for number, entry in enumerate(entries)))
    # Every allegation's values of each facet, and its voices, as arrays a view counts its facets over (a few
    # thousand allegations in a millisecond, where reading each allegation's values took a view tens of them).
    arrays = {f"{name} values": _flattened([[term[iri] for iri in iris] for iris in values[name]])
              for name in ALLEGATION_FACETS}
    arrays.update((f"voice {name}", _flattened([[term[getattr(voice, name)] for voice in entry.voices]
                                                for entry in entries]))
                  for name in VOICE_FACETS)
    index.executemany("INSERT INTO facet_arrays VALUES (?, ?)", (
        row for name in sorted(arrays) for row in _array_rows(name, *arrays[name])))
    # And each voice's source date and the last day it may mean, as day_number (no date: 0).
    index.executemany("INSERT INTO facet_arrays VALUES (?, ?)", (
        (f"voice {name}", numpy.array([day_number(day(voice.date)) for entry in entries for voice in entry.voices],
                                      dtype=ARRAY_TYPE).tobytes())
        for name, day in (("date", lambda date: date), ("date_end", lambda date: date and end_of(date)))))
    pairs = _facet_pairs(arrays, len(terms), [term[concept.value] for _, concept in sc.STANCES])
    # Term by term, the allegations with each value (of a facet of the voices: on any voice), as arrays: a view
    # finds its allegations by slicing and intersecting them.
    having = {name: _by_term(*pairs[name, NO_STANCE], len(terms)) for name in FACETS}
    index.executemany("INSERT INTO facet_arrays VALUES (?, ?)", (
        row for name in sorted(FACETS) for row in _array_rows(f"{name} allegations", *having[name])))
    # Each facet's counts in one row, [term, count] the most frequent first (ties in the order of the terms):
    # the whole list's facets read in one lookup.
    every = numpy.ones(len(entries), dtype=bool)
    index.executemany("INSERT INTO totals VALUES (?, ?, ?)", (
        (name, stance, _ranked(_counted(pairs[name, stance], every, len(terms)))) for name, stance in sorted(pairs)))
    # And among the allegations with each value that many have. Counted in numpy over each facet's (allegation,
    # value) pairs: with a Counter, allegation by allegation, they took 10 of the 23 s of the index at 1M statements.
    within = sorted((name, terms[number]) for name, (_, offsets) in having.items()
                    for number in numpy.flatnonzero(numpy.diff(offsets) >= COUNTED_WITHIN_FROM))
    index.executemany("INSERT INTO totals_within VALUES (?, ?, ?, ?, ?)", (
        (within_facet, term[iri], name, stance, _ranked(_counted(pairs[name, stance], chosen, len(terms))))
        for within_facet, iri in within
        for chosen in [_marked(len(entries), _span(*having[within_facet], term[iri]))]
        for name, stance in sorted(pairs)))
    index.executescript("".join(f"CREATE INDEX allegations_{column} ON allegations({column});"
                                for column in map(order_column, orders))
                        + "".join(f"CREATE INDEX contested_{column} ON allegations({column}) WHERE contested = 1;"
                                  for column in map(order_column, ORDERS)) + """
        CREATE INDEX terms_by_iri ON terms(iri);
    """)
    return len(entries)


def _flattened(spans: list[list[int]]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """``spans`` (the numbers of each allegation, in order) as two arrays of ARRAY_TYPE: all the numbers one after
    the other, and where each allegation's begin, with where the last ends (offsets)."""
    offsets = numpy.cumsum([0, *map(len, spans)], dtype=ARRAY_TYPE)
    return numpy.fromiter(itertools.chain.from_iterable(spans), dtype=ARRAY_TYPE, count=int(offsets[-1])), offsets


def _array_rows(name: str, numbers: numpy.ndarray, offsets: numpy.ndarray) -> list[tuple[str, bytes]]:
    """The rows of ``facet_arrays`` of the flattened spans ``numbers`` and ``offsets``: ``name``, ``name offsets``."""
    return [(name, numbers.astype(ARRAY_TYPE).tobytes()), (f"{name} offsets", offsets.astype(ARRAY_TYPE).tobytes())]


def _span(numbers: numpy.ndarray, offsets: numpy.ndarray, place: int) -> numpy.ndarray:
    """The numbers of span ``place`` of the flattened spans ``numbers`` and ``offsets``."""
    return numbers[offsets[place]:offsets[place + 1]]


def _facet_pairs(arrays: dict[str, tuple[numpy.ndarray, numpy.ndarray]], terms: int, stances: list[int]
                 ) -> dict[tuple[str, int], tuple[numpy.ndarray, numpy.ndarray]]:
    """For each facet (NO_STANCE), and each facet of the voices among the voices of each of ``stances``, every
    allegation with a value and the value, each pair once: the (allegations, terms) that ``_counted`` counts."""
    found = {}
    for name in ALLEGATION_FACETS:
        values, offsets = arrays[f"{name} values"]  # an allegation's values are distinct
        found[name, NO_STANCE] = numpy.repeat(numpy.arange(len(offsets) - 1), numpy.diff(offsets)), values
    stance_of_voice, offsets = arrays["voice stance"]
    voice_allegation = numpy.repeat(numpy.arange(len(offsets) - 1), numpy.diff(offsets))
    for name in VOICE_FACETS:
        # Several voices of an allegation may have a value: one pair, as allegation * terms + value.
        keys = voice_allegation * terms + arrays[f"voice {name}"][0]
        for stance in (NO_STANCE, *stances):
            distinct = numpy.unique(keys if stance == NO_STANCE else keys[stance_of_voice == stance])
            found[name, stance] = distinct // terms, distinct % terms
    return found


def _by_term(allegations: numpy.ndarray, values: numpy.ndarray, terms: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The pairs (``allegations``, ``values``) as the allegations with each term, in order, and where each term's
    begin (flattened as ``_flattened`` does)."""
    order = numpy.lexsort((allegations, values))
    return allegations[order], numpy.concatenate(([0], numpy.cumsum(numpy.bincount(values, minlength=terms))))


def _counted(pairs: tuple[numpy.ndarray, numpy.ndarray], chosen: numpy.ndarray, terms: int) -> numpy.ndarray:
    """How many of the allegations ``chosen`` (a mask of every allegation) have each term in ``pairs``, by term."""
    allegations, values = pairs
    return numpy.bincount(values[chosen[allegations]], minlength=terms)


def _ranked(counts: numpy.ndarray) -> bytes:
    """The terms with a count in ``counts`` (by term) as [term, count] pairs, the most frequent first (ties in the
    order of the terms)."""
    found = numpy.flatnonzero(counts)
    found = found[numpy.argsort(-counts[found], kind="stable")]
    return counted_pairs(numpy.column_stack((found, counts[found])))


def counted_pairs(pairs: list[list[int]]) -> bytes:
    """[term, count] pairs as ``totals`` and ``totals_within`` hold them: one array of ARRAY_TYPE (a view reads a
    facet of thousands of values in microseconds; as JSON it took milliseconds)."""
    return numpy.array(pairs, dtype=ARRAY_TYPE).reshape(-1, 2).tobytes()


def read_counted_pairs(data: bytes) -> numpy.ndarray:
    """The [term, count] pairs ``counted_pairs`` wrote, as rows of a numpy array."""
    return numpy.frombuffer(data, dtype=ARRAY_TYPE).reshape(-1, 2)


def _allegation_values(name: str, entry: Entry) -> list[str]:
    if name == "status":
        return [entry.status] if entry.status else []
    return sorted(entry.types if name == "type" else entry.accused)


# The counts of a row, of each stance: the IRIs read once (each read of one of SOL's is a lookup, a quarter of
# a second for the rows at 1M statements).
ROW_STANCES = {"asserting": SOL.Asserts.value, "denying": SOL.Denies.value, "disputing": SOL.Disputes.value}


def _row(entry: Entry, labels: dict[str, str]) -> dict:
    """An allegation as the lists show it: IRIs with their labels, counts and its latest date."""
    def named(iris) -> list[list[str]]:
        return [[iri, labels[iri]] for iri in sorted(iris, key=lambda iri: (labels[iri].casefold(), iri))]
    return {"label": labels[entry.iri], "status": [entry.status, labels[entry.status]] if entry.status else None,
            "types": named(entry.types), "accused": named(entry.accused),
            **{count: entry.count(stance) for count, stance in ROW_STANCES.items()}, "latest": entry.latest,
            "voices": len(entry.voices)}


# ---------------------------------------------------------------- the timeline


def _timeline_keys(item: dict) -> dict[str, dict[str, str]]:
    """The keys an item has for each facet of the timeline (key in the address -> IRI): an actor's keeps its
    kind (person/x), as the kinds have separate name spaces; the others are the IRI's last segment."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for iri in item["about"]:
        if iri.startswith(ids.ENTITY_BASE):
            by_kind[iri[len(ids.ENTITY_BASE):].split("/", 1)[0]].append(iri)
    return {"actor": {iri[len(ids.ENTITY_BASE):]: iri for kind in ids.ACTOR_KINDS for iri in by_kind[kind]},
            "type": {last_segment(item["type"]): item["type"]} if item["type"] else {},
            "source": {last_segment(item["source"]): item["source"]} if item["source"] else {},
            "place": {last_segment(iri): iri for iri in by_kind["place"]},
            "allegation": {last_segment(iri): iri for iri in by_kind["allegation"]}}


def _write_timeline(index: sqlite3.Connection, found: dict) -> int:
    names, issued = found["names"], found["issued"]
    items = sorted(found["items"], key=lambda item: (*date_order(item["date"]), item["kind"], item["iri"]))

    def label(iri: str) -> str:
        return names.get(iri) or last_segment(iri)

    index.executescript("""
        CREATE TABLE timeline(n INTEGER PRIMARY KEY, item TEXT, kind TEXT, dated INTEGER, issued_end TEXT);
        CREATE TABLE timeline_has(facet TEXT, key TEXT, n INTEGER, PRIMARY KEY (facet, key, n)) WITHOUT ROWID;
        CREATE TABLE timeline_about(iri TEXT, n INTEGER, PRIMARY KEY (iri, n)) WITHOUT ROWID;
        CREATE TABLE timeline_counts(iri TEXT PRIMARY KEY, items INTEGER, dated INTEGER) WITHOUT ROWID;
        CREATE TABLE timeline_options(facet TEXT, key TEXT, iri TEXT, label TEXT, reading INTEGER, common INTEGER,
                                      PRIMARY KEY (facet, key)) WITHOUT ROWID;
    """)
    rows, having, options = [], defaultdict(lambda: defaultdict(list)), defaultdict(dict)
    about: dict[str, list[int]] = defaultdict(list)  # IRI -> the items about it
    for number, item in enumerate(items):
        allegations = sorted(iri for iri in item["about"] if iri.startswith(ids.ENTITY_PREFIXES["allegation"]))
        title = allegations[0] if item["kind"] == "status" and allegations else item["iri"]
        shown = {"iri": item["iri"], "kind": item["kind"], "date": item["date"], "end": item["end"],
                 "type": item["type"], "source": item["source"], "title": title,
                 "undated_reason": item["undated_reason"], "timeframe": item["timeframe"],
                 "labels": {iri: label(iri) for iri in sorted({item["iri"], title, item["type"], item["source"]} - {None})}}
        source_date = issued.get(item["source"]) if item["source"] else None
        rows.append((number, _as_sorted_json(shown), item["kind"], int(bool(item["date"])),
                     end_of(source_date) if source_date else None))
        for facet, keys in _timeline_keys(item).items():
            for key, iri in keys.items():
                having[facet][key].append(number)
                options[facet][key] = iri
        for iri in set(item["about"]):
            about[iri].append(number)
    index.executemany("INSERT INTO timeline VALUES (?, ?, ?, ?, ?)", rows)
    # In the order of their keys, the items of each in order as they were numbered: the rows need no sort.
    index.executemany("INSERT INTO timeline_has VALUES (?, ?, ?)", (
        (facet, key, number) for facet in sorted(having) for key in sorted(having[facet])
        for number in having[facet][key]))
    index.executemany("INSERT INTO timeline_about VALUES (?, ?)", (
        (iri, number) for iri in sorted(about) for number in about[iri]))
    # What a page's timeline section says it holds (a hub place is in thousands of items), counted once.
    index.executemany("INSERT INTO timeline_counts VALUES (?, ?, ?)", (
        (iri, len(about[iri]), sum(rows[number][3] for number in about[iri])) for iri in sorted(about)))
    for facet in sorted(options):
        keys = options[facet]
        labels = {key: label(iri) for key, iri in keys.items()}
        reading = {key: place for place, key in enumerate(sorted(keys, key=lambda key: (labels[key].casefold(), key)))}
        common = {key: place for place, key in enumerate(sorted(keys, key=lambda key: (-len(having[facet][key]), key)))}
        index.executemany("INSERT INTO timeline_options VALUES (?, ?, ?, ?, ?, ?)",
                          ((facet, key, keys[key], labels[key], reading[key], common[key]) for key in sorted(keys)))
    index.executescript("""
        CREATE INDEX timeline_on_record ON timeline(issued_end);
        CREATE INDEX timeline_dated ON timeline(dated);
        CREATE INDEX timeline_options_common ON timeline_options(facet, common);
    """)
    return len(items)


# ---------------------------------------------------------------- the network


def _write_network(index: sqlite3.Connection, graph: dict) -> int:
    nodes = sorted(graph["nodes"], key=lambda node: (folded(node["label"]), node["id"]))
    actor = {node["id"]: number for number, node in enumerate(nodes)}
    edges = graph["edges"]
    index.executescript("""
        CREATE TABLE actors(id INTEGER PRIMARY KEY, iri TEXT, node TEXT);
        CREATE TABLE relations(n INTEGER PRIMARY KEY, a INTEGER, b INTEGER, relation TEXT, status TEXT, source TEXT,
                               edge TEXT);
        CREATE TABLE network_labels(iri TEXT PRIMARY KEY, label TEXT) WITHOUT ROWID;
        CREATE TABLE network_sources(iri TEXT PRIMARY KEY, relations INTEGER) WITHOUT ROWID;
        CREATE TABLE connected(relation TEXT, status TEXT, actor INTEGER, neighbours INTEGER,
                               PRIMARY KEY (relation, status, actor)) WITHOUT ROWID;
        CREATE TABLE connected_views(relation TEXT, status TEXT, actors INTEGER, PRIMARY KEY (relation, status))
                               WITHOUT ROWID;
        CREATE TABLE neighbourhoods(actor INTEGER PRIMARY KEY, groups TEXT);
    """)
    index.executemany("INSERT INTO actors VALUES (?, ?, ?)",
                      ((actor[node["id"]], node["id"], _as_sorted_json(node)) for node in nodes))
    index.executemany("INSERT INTO relations VALUES (?, ?, ?, ?, ?, ?, ?)", (
        (number, actor[edge["from"]], actor[edge["to"]], edge["relation"], edge.get("status"), edge["source"],
         _as_sorted_json(edge)) for number, edge in enumerate(edges)))
    index.executemany("INSERT INTO network_labels VALUES (?, ?)", sorted(graph["labels"].items()))
    index.executemany("INSERT INTO network_sources VALUES (?, ?)",
                      sorted(Counter(edge["source"] for edge in edges).items()))
    # How many actors each actor is related to, by the relations of one kind or any ("") on allegations of
    # one status or any (""): the overview's ranking of each such view, read in order from the index.
    index.executemany("INSERT INTO connected VALUES (?, ?, ?, ?)", _connected(edges, actor))
    # And how many actors each such ranking holds (counting a hub view's rows took the overview half a millisecond).
    index.execute("INSERT INTO connected_views SELECT relation, status, COUNT(*) FROM connected GROUP BY 1, 2")
    index.executemany("INSERT INTO neighbourhoods VALUES (?, ?)", _neighbourhoods(edges, actor))
    index.executescript("""
        CREATE INDEX relations_between ON relations(a, b);
        CREATE INDEX relations_to ON relations(b, a);
        CREATE INDEX relations_by_source ON relations(source);
        CREATE INDEX relations_by_status ON relations(status);  -- the statuses the filter offers
        CREATE INDEX actors_by_iri ON actors(iri);
        CREATE INDEX connected_ranked ON connected(relation, status, neighbours DESC, actor);
        CREATE INDEX network_sources_ranked ON network_sources(relations DESC, iri);
    """)
    return len(edges)


def _connected(edges: list[dict], actor: dict[str, int]) -> Iterator[tuple[str, str, int, int]]:
    """(relation, status, actor, neighbours) in order, for every relation and status of the edges or any (""): how
    many other actors each actor is related to by the edges of that relation and status. In numpy, each view's
    pairs of actors once (a set of each actor's neighbours in each view took 3 s at 1M statements)."""
    kinds: dict[tuple[str, str], int] = {}  # (relation, status) -> its number
    ones, others, kind_of_edge = [], [], []
    for edge in edges:
        if edge["from"] != edge["to"]:
            ones.append(actor[edge["from"]])
            others.append(actor[edge["to"]])
            kind_of_edge.append(kinds.setdefault((edge["relation"], edge.get("status", "")), len(kinds)))
    ones, others, kind_of_edge = (numpy.array(numbers, dtype=numpy.int64) for numbers in (ones, others, kind_of_edge))
    views = {(relation, status) for kind_relation, kind_status in kinds
             for relation in ("", kind_relation) for status in ("", kind_status)}
    for relation, status in sorted(views):
        in_view = numpy.array([relation in ("", kind_relation) and status in ("", kind_status)
                               for kind_relation, kind_status in kinds])
        kept = in_view[kind_of_edge]
        pairs = numpy.unique(numpy.concatenate((ones[kept] * len(actor) + others[kept],
                                                others[kept] * len(actor) + ones[kept])))
        neighbours = numpy.bincount(pairs // len(actor), minlength=len(actor))
        related = numpy.flatnonzero(neighbours)
        yield from zip(itertools.repeat(relation), itertools.repeat(status), related.tolist(),
                       neighbours[related].tolist())


def _neighbourhoods(edges: list[dict], actor: dict[str, int]):
    """How many actors each actor is related to, by relation and side, as its page counts them ("asserts from":
    the actor asserts allegations against them; "asserts to": they assert allegations against the actor;
    co-accused has one side, "from"): a hub is related to thousands, and its page reads one row. An actor is no
    neighbour of its own (one who denies the allegations against them), as in the network view."""
    grouped: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for edge in edges:
        one, other, relation = actor[edge["from"]], actor[edge["to"]], edge["relation"]
        if one != other:
            grouped[one][f"{relation} from"].add(other)
            grouped[other][f"{relation} {'from' if relation == 'co-accused' else 'to'}"].add(one)
    for number in sorted(grouped):
        yield number, _as_compact_json({key: len(others) for key, others in sorted(grouped[number].items())})


class ListIndex(ReadOnlyIndex):
    """Lookups in a build's list index, on one read-only connection (``with ListIndex(path) as index``); the
    views (server.pages.allegation_list, contested, timeline, network) write their own queries of it."""

    def query(self, sql: str, parameters=()) -> list[tuple]:
        return self.connection.execute(sql, parameters).fetchall()

    def each(self, sql: str, parameters=()) -> Iterator[tuple]:
        """The rows of ``sql``, read as they are iterated (a whole list's twin is sent as it is read)."""
        return iter(self.connection.execute(sql, parameters))

    def one(self, sql: str, parameters=()):
        found = self.connection.execute(sql, parameters).fetchone()
        return found[0] if found else None

    def facet_arrays(self) -> FacetArrays:
        return FacetArrays({name: numpy.frombuffer(data, dtype=ARRAY_TYPE)
                            for name, data in self.query("SELECT name, data FROM facet_arrays")})


def day_number(date: str | None) -> int:
    """A date of any precision (YYYY, YYYY-MM, YYYY-MM-DD) as a number that sorts as the text does, the parts it
    lacks as 0 (2010 -> 20100000); no date: 0. Numbers compare in a twentieth of the time text takes in numpy."""
    return int(date.replace("-", "").ljust(8, "0")) if date else 0


class FacetArrays:
    """Every allegation's values of each facet and its voices, and the allegations with each value, as the build
    wrote them (``_as_arrays``): which allegations a view keeps, and the counts of values over some allegations."""

    def __init__(self, arrays: dict[str, numpy.ndarray]):
        self.arrays = arrays
        self.voice_offsets = arrays["voice stance offsets"]  # the same for every facet of the voices
        self.allegations = len(self.voice_offsets) - 1
        # Each voice's allegation, for counting it once per allegation.
        self.voice_allegation = numpy.repeat(numpy.arange(self.allegations, dtype=numpy.int64),
                                             numpy.diff(self.voice_offsets))
        self.terms = len(arrays["status allegations offsets"]) - 1  # every facet's arrays number every term
        self.pairs = {name: _pairs(self.voice_allegation, arrays[f"voice {name}"], self.allegations)
                      for name in VOICE_FACETS}
        # Each allegation's latest last day of a voice's source, and earliest first day (no date: 0 for the one, never
        # for the other): the allegations with a voice since or until a day, with no other facet of the voices chosen.
        dates = arrays["voice date"]
        self.latest_end = _by_allegation(numpy.maximum, arrays["voice date_end"], self.voice_offsets, 0)
        self.earliest_start = _by_allegation(numpy.minimum, numpy.where(dates == 0, NEVER, dates), self.voice_offsets,
                                             NEVER)

    def having(self, name: str, terms: Iterable[int]) -> numpy.ndarray:
        """The allegations with any of ``terms`` of facet ``name`` (of a facet of the voices: on any voice), in order."""
        offsets, numbers = self.arrays[f"{name} allegations offsets"], self.arrays[f"{name} allegations"]
        found = [numbers[offsets[term]:offsets[term + 1]].astype(numpy.int64) for term in terms]
        return found[0] if len(found) == 1 else self.each_once(numpy.concatenate(found))

    def each_once(self, numbers: numpy.ndarray) -> numpy.ndarray:
        """The allegations ``numbers`` (with repeats, in any order) in order, each once: marked in an array of every
        allegation, in time linear in both (sorting them took most of the time a view of two values took)."""
        return numpy.flatnonzero(_marked(self.allegations, numbers))

    def left_out(self, numbers: numpy.ndarray) -> numpy.ndarray:
        """Every allegation but ``numbers``, in order."""
        return numpy.flatnonzero(~_marked(self.allegations, numbers))

    def among(self, numbers: numpy.ndarray, others: numpy.ndarray) -> numpy.ndarray:
        """Those of the allegations ``numbers`` (in order, each once) that are among ``others``, in order."""
        return _kept(numbers, _marked(self.allegations, others)[numbers])

    def with_voice(self, numbers: numpy.ndarray, chosen: dict[str, Iterable[int]], since: str | None = None,
                   until: str | None = None) -> numpy.ndarray:
        """Those of the allegations ``numbers`` with a voice that matches (see ``voice_counts``), in order."""
        if not chosen and since is not None and until is None:
            return _kept(numbers, self.latest_end[numbers] >= day_number(since))
        if not chosen and until is not None and since is None:
            return _kept(numbers, self.earliest_start[numbers] <= day_number(until))
        return self.each_once(self.voice_allegation[self.matching_voices(numbers, chosen, since, until)])

    def counts(self, numbers: numpy.ndarray, name: str, stance: int | None = None) -> numpy.ndarray:
        """How many of the allegations ``numbers`` (sorted, each once) have each value of facet ``name``: of a facet of
        the voices, a voice with it, of stance ``stance`` if one is given. By term: one count for every term."""
        if name not in VOICE_FACETS:
            return self._tally(self.arrays[f"{name} values"][_spans(self.arrays[f"{name} values offsets"], numbers)])
        if stance is None:  # of any voice: each allegation's values once, as a facet of the allegation is counted
            _, value_of_pair, pair_offsets = self.pairs[name]
            return self._tally(value_of_pair[_spans(pair_offsets, numbers)])
        return self.voice_counts(numbers, name, {"stance": (stance,)})

    def voice_counts(self, numbers: numpy.ndarray, name: str, chosen: dict[str, Iterable[int]],
                     since: str | None = None, until: str | None = None) -> numpy.ndarray:
        """How many of the allegations ``numbers`` (sorted, each once) have a voice with each value of facet ``name``
        of the voices that has one of the values ``chosen`` of each other facet of the voices, and a source date in
        the range: the last day it may mean on or after ``since``, its first on or before ``until`` (as the list
        index's ``voices`` are matched)."""
        return self.counts_of_voices(self.matching_voices(numbers, chosen, since, until), name)

    def counts_of_voices(self, voices: numpy.ndarray, name: str) -> numpy.ndarray:
        """How many allegations have one of the ``voices`` (places in the voice arrays) with each value of facet
        ``name`` of the voices."""
        # Several voices of an allegation may have the same value: it counts once, as the pair they share.
        pair_of_voice, value_of_pair, _ = self.pairs[name]
        return self._tally(_kept(value_of_pair, _marked(len(value_of_pair), pair_of_voice[voices])))

    def _tally(self, terms: numpy.ndarray) -> numpy.ndarray:
        return numpy.bincount(terms, minlength=self.terms)

    def matching_voices(self, numbers: numpy.ndarray, chosen: dict[str, Iterable[int]], since: str | None,
                        until: str | None) -> numpy.ndarray:
        """The places in the voice arrays of the voices of the allegations ``numbers`` that match (``voice_counts``)."""
        voices = _spans(self.voice_offsets, numbers)
        for other, terms in chosen.items():
            values, terms = self.arrays[f"voice {other}"][voices], list(terms)
            # Several terms: read in one gather from a mask of them (numpy.isin sorts).
            voices = _kept(voices, values == terms[0] if len(terms) == 1 else _marked(self.terms, terms)[values])
        if since is not None:  # no date (0) comes before any
            voices = _kept(voices, self.arrays["voice date_end"][voices] >= day_number(since))
        if until is not None:
            dates = self.arrays["voice date"][voices]
            voices = _kept(voices, (dates != 0) & (dates <= day_number(until)))
        return voices


def _spans(offsets: numpy.ndarray, numbers: numpy.ndarray) -> numpy.ndarray:
    """The places in an array of the values of the allegations ``numbers``, whose values begin at ``offsets``."""
    if len(numbers) == len(offsets) - 1:  # every allegation (``numbers`` are each once)
        return numpy.arange(offsets[-1], dtype=numpy.int64)
    starts = offsets[numbers].astype(numpy.int64)
    lengths = offsets[numbers + 1] - starts
    ends = numpy.cumsum(lengths)
    return numpy.repeat(starts - ends + lengths, lengths) + numpy.arange(ends[-1] if len(ends) else 0)


def _kept(values: numpy.ndarray, mask: numpy.ndarray) -> numpy.ndarray:
    """``values[mask]`` for a boolean ``mask``. Indexing branches on each value, ``compress`` does not: on a mask that
    mixes True and False, compress takes a third of the time (numpy 2.4, 42,000 values: 80 against 232 µs with half
    of them kept); indexing is faster only when nearly all are kept, copying their runs (26 against 70 µs, all)."""
    if numpy.count_nonzero(mask) * 16 > len(mask) * 15:
        return values[mask]
    return values.compress(mask)


def _marked(size: int, places) -> numpy.ndarray:
    """An array of ``size`` booleans, True at ``places``: sets of numbers are made, met and counted with it in time
    linear in both, with no sort."""
    marked = numpy.zeros(size, dtype=bool)
    marked[places] = True
    return marked


NEVER = 99999999  # after any day_number


def _by_allegation(reduce: numpy.ufunc, values: numpy.ndarray, offsets: numpy.ndarray, none: int) -> numpy.ndarray:
    """``reduce`` (numpy.maximum, numpy.minimum) of the values of each allegation, whose values begin at ``offsets``;
    ``none`` for an allegation with none."""
    found = numpy.full(len(offsets) - 1, none, dtype=numpy.int32)
    has = numpy.flatnonzero(numpy.diff(offsets) > 0)
    if len(has):
        found[has] = reduce.reduceat(values.astype(numpy.int64), offsets[has].astype(numpy.int64))
    return found


def _pairs(voice_allegation: numpy.ndarray, values: numpy.ndarray, allegations: int
           ) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Each voice's (allegation, value) pair, numbered, each pair's value, and where each allegation's pairs begin
    (they are numbered by allegation): voices of an allegation with the same value share their pair, so that a
    request counts the pairs of some voices by marking them, with no sort, and those of some allegations by their
    spans."""
    keys = voice_allegation << 32 | values
    order = numpy.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = numpy.concatenate(([True], ordered[1:] != ordered[:-1])) if len(ordered) else numpy.zeros(0, dtype=bool)
    pair_of_voice = numpy.empty(len(keys), dtype=numpy.int32)  # every worker holds these: half the bytes of int64
    pair_of_voice[order] = numpy.cumsum(starts) - 1
    pair_offsets = numpy.searchsorted(ordered[starts] >> 32, numpy.arange(allegations + 1)).astype(numpy.int32)
    return pair_of_voice, (ordered[starts] & 0xFFFFFFFF).astype(numpy.int32), pair_offsets

