"""The reconciliation index of a build and its lookups: the actors and places that a spreadsheet's names are
matched against (OpenRefine's Reconciliation Service API, served by server.reconcile), and what data extension
adds to a matched row.

The build writes the index once (``write_reconciliation_index``, called by kg.release) into ``reconcile.sqlite``: each actor and place
with its type, name and record (aliases, roles, description, Wikidata ids, countries, the allegations it is
accused in and their current statuses, who asserts them, what it denies), the folded words of its names and
aliases, and its Wikidata ids. A request reads a few rows of it and runs no SPARQL: the candidates for a name are
the entities sharing a word with it (or its Wikidata id), scored here.

Scores run from 0 to 100. A name or alias equal to the query after folding (no case, no accents) scores 100;
the same words in another order 95; otherwise the words in common, weighed by how much of the name they cover
and how much of the query ("Nicolas Maduro Moros" against "Nicolás Maduro": 87), a word one letter off counting
for most of a word. A Wikidata id given as a property adds 25 when it is the candidate's and takes 25 off when
the candidate has another; a country adds 10 or takes 10 off; an alias or role the candidate has adds a little.
A candidate is a certain match only when it is the first, its name or alias is the query itself (or its
Wikidata id is the one given), no property given contradicts it, and the next candidate is well behind.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter, defaultdict
from contextlib import closing
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from pyoxigraph import Store

from kg import ids
from kg.search import folded, words_of
from kg.sqlite_index import ReadOnlyIndex
from kg.store import named_query_values
from kg.vocab import SOL

RECONCILIATION_INDEX = "reconcile.sqlite"
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
CANDIDATES = 500  # entities scored for one query at most: those sharing the most words with it
CERTAIN_MARGIN = 10  # how far ahead of the next candidate a certain match must be
CLOSE_WORD = 0.8  # what a word one letter off counts for, against an equal word
WIKIDATA_ID = re.compile(r"(?:^|/)[Qq]([1-9][0-9]*)$")


@dataclass(frozen=True)
class EntityType:
    """A type one reconciles against: its id (the class's name in the ontology, the manifest's schemaSpace)."""

    id: str
    name: str
    cls: str
    description: str


TYPES = (
    EntityType("Person", "Person", SOL.Person.value, "A person the sources name"),
    EntityType("Organization", "Organization", SOL.Organization.value,
               "An organization: a government body, an armed force, a newspaper, an alleged network"),
    EntityType("Group", "Unnamed group", SOL.Group.value,
               "An unnamed collective the sources cite, such as \"U.S. officials\""),
    EntityType("Place", "Place", SOL.Place.value, "A country, region or city"),
)
ACTOR_TYPES = ("Person", "Organization", "Group")
ALL_TYPES = tuple(entity_type.id for entity_type in TYPES)
_TYPE_OF_CLASS = {entity_type.cls: entity_type for entity_type in TYPES}


@dataclass(frozen=True)
class Property:
    """A property of the entities: matched on when a query gives it (``matched_by``: what a value found adds to
    the score, and takes off when the entity has values and none is it), fetched by data extension."""

    id: str
    name: str
    description: str
    types: tuple[str, ...] = ALL_TYPES
    matched_by: tuple[int, int] | None = None


PROPERTIES = (
    Property("wikidata", "Wikidata item", "The Wikidata item of the same entity, as the editors checked it",
             matched_by=(25, 25)),
    Property("alias", "Other names", "Other names and spellings the sources use", matched_by=(10, 0)),
    Property("description", "Description", "What the record says the entity is, in a sentence"),
    Property("role", "Roles", "Positions and roles, as the sources describe them", ACTOR_TYPES, matched_by=(5, 0)),
    Property("country", "Country", "The country an actor belongs to, or that a place is part of",
             matched_by=(10, 10)),
    Property("accused_in", "Accused in (allegations)", "How many allegations on record accuse the actor",
             ACTOR_TYPES),
    Property("statuses", "Current statuses of those allegations",
             "Each current status of the allegations accusing the actor (alleged, charged, ...), most frequent first",
             ACTOR_TYPES),
    Property("accused_by", "Accused by (claimants asserting)",
             "Who asserts the allegations against the actor, as the sources attribute them", ACTOR_TYPES),
    Property("denies", "Denies", "The allegations the actor denies", ACTOR_TYPES),
)
PROPERTY_IDS = tuple(prop.id for prop in PROPERTIES)
MATCHED_PROPERTIES = tuple(prop.id for prop in PROPERTIES if prop.matched_by)


def type_named(text: str) -> EntityType | None:
    """The type whose id is ``text``, in any case, or whose class IRI it is (``Person``, ``person``, ``sol:Person``)."""
    wanted = folded(text.rsplit("#", 1)[-1].rsplit(":", 1)[-1])
    return next((entity_type for entity_type in TYPES if folded(entity_type.id) == wanted), None)


def wikidata_id(text: str) -> str | None:
    """``Q58132`` from ``Q58132``, ``q58132`` or ``http://www.wikidata.org/entity/Q58132``; None if no such id."""
    found = WIKIDATA_ID.search(text.strip())
    return f"Q{found.group(1)}" if found else None


def wanted_values(property_id: str, values: list[str]) -> tuple[str, ...] | None:
    """What a query's values of a property are compared with: Wikidata ids for ``wikidata`` (None if a value is
    none), folded text for the others, a country also by its Wikidata id."""
    if property_id == "wikidata":
        qids = [wikidata_id(value) for value in values]
        return None if None in qids else tuple(qids)
    keys = [folded(value.strip()) for value in values]
    if property_id == "country":
        keys += [qid for value in values if (qid := wikidata_id(value))]
    return tuple(keys)


def prefix_matches(prefix: str, texts) -> bool:
    """Whether each word of ``prefix`` starts a word of one of ``texts`` (folded): how suggestions match."""
    wanted = words_of(prefix)
    offered = {word for text in texts for word in words_of(text)}
    return all(any(word.startswith(part) for word in offered) for part in wanted)


# ---------------------------------------------------------------- writing the index (at build time)


def _records(store: Store) -> dict[str, dict]:
    """Every actor and place of ``store``: IRI -> its type, name and record, as the index holds them."""
    found: dict[str, dict] = {}
    for row in named_query_values(store, "reconcile-entities"):
        entity = found.setdefault(row["entity"], {"classes": set(), "fields": defaultdict(set)})
        entity["classes"].add(row["class"])
        entity["fields"][row["field"]].add(row["value"])
    names = {iri: min(entity["fields"]["name"]) if entity["fields"]["name"] else iri.rsplit("/", 1)[-1]
             for iri, entity in found.items()}
    accused: dict[str, dict[str, str]] = defaultdict(dict)  # actor -> its allegations -> their status
    asserters: dict[str, set[str]] = defaultdict(set)  # allegation -> the claimants asserting it
    denied: dict[str, set[str]] = defaultdict(set)
    for row in named_query_values(store, "reconcile-allegations"):
        relation = row["relation"]
        if relation == "accused":
            accused[row["actor"]][row["allegation"]] = row.get("status", "unknown")
        elif relation == "asserted by":
            asserters[row["allegation"]].add(row["other"])
        else:
            denied[row["actor"]].add(row["label"])
    records = {}
    for iri, entity in found.items():
        fields = entity["fields"]
        entity_type = next(_TYPE_OF_CLASS[cls] for cls in sorted(entity["classes"]))
        statuses = Counter(accused[iri].values())
        accusers = set().union(*(asserters[allegation] for allegation in accused[iri]))
        records[iri] = {
            "id": ids.curie(iri), "type": entity_type.id, "name": names[iri], "iri": iri,
            "description": min(fields["description"], default=None),
            "aliases": sorted(fields["alias"] - {names[iri]}),
            "roles": sorted(fields["role"]),
            "wikidata": sorted(qid for value in fields["wikidata"] if (qid := wikidata_id(value))),
            "countries": sorted(fields["country"]),
            "accused_in": len(accused[iri]),
            "statuses": sorted(statuses, key=lambda status: (-statuses[status], status)),
            "accused_by": sorted(accusers, key=lambda other: (folded(names.get(other, other)), other)),
            "denies": sorted(denied[iri], key=folded),
        }
    curie = cache(ids.curie)  # the same countries and claimants come up in thousands of records
    for record in records.values():  # each country with what a query may name it by
        record["countries"] = [{"id": country_id, "name": names.get(country, country),
                                "wikidata": records[country]["wikidata"] if country in records else []}
                               for country in record["countries"] if (country_id := curie(country))]
        record["accused_by"] = [{"id": other_id, "name": names.get(other, other)}
                                for other in record["accused_by"] if (other_id := curie(other))]
    return {iri: record for iri, record in records.items() if record["id"]}


def write_reconciliation_index(store: Store, release_dir: Path) -> dict:
    """Write the reconciliation index of ``store`` into ``release_dir``; return what the manifest says of it."""
    records = _records(store)
    order = sorted(records, key=lambda iri: (ALL_TYPES.index(records[iri]["type"]), folded(records[iri]["name"]), iri))
    with closing(sqlite3.connect(release_dir / RECONCILIATION_INDEX)) as index:
        index.executescript("""
            CREATE TABLE entities(number INTEGER PRIMARY KEY, id TEXT UNIQUE, type TEXT, name TEXT, folded TEXT,
                                  record TEXT);
            CREATE TABLE words(word TEXT, number INTEGER, PRIMARY KEY (word, number)) WITHOUT ROWID;
            CREATE TABLE wikidata(qid TEXT, number INTEGER, PRIMARY KEY (qid, number)) WITHOUT ROWID;
            CREATE INDEX entities_by_name ON entities(folded);
        """)
        for number, iri in enumerate(order, start=1):
            record = records[iri]
            index.execute("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?)",
                          (number, record["id"], record["type"], record["name"], " ".join(words_of(record["name"])),
                           json.dumps(record, ensure_ascii=False, sort_keys=True)))
            words = {word for label in (record["name"], *record["aliases"]) for word in words_of(label)}
            index.executemany("INSERT INTO words VALUES (?, ?)", [(word, number) for word in sorted(words)])
            index.executemany("INSERT INTO wikidata VALUES (?, ?)", [(qid, number) for qid in record["wikidata"]])
        index.commit()
    return {"file": RECONCILIATION_INDEX, "entities": len(order)}


# ---------------------------------------------------------------- looking things up (at request time)


@dataclass(frozen=True)
class Entity:
    """An actor or place of the index: its id (``person:nicolas-maduro``), type id, name and record."""

    id: str
    type: str
    name: str
    record: dict

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.name, *self.record["aliases"])

    @property
    def entity_type(self) -> EntityType:
        return next(entity_type for entity_type in TYPES if entity_type.id == self.type)

    def values(self, property_id: str) -> list:
        """The values of one of PROPERTIES: strings, numbers, or {id, name} of the entities it names."""
        record = self.record
        return {
            "wikidata": record["wikidata"], "alias": record["aliases"],
            "description": [record["description"]] if record["description"] else [],
            "role": record["roles"], "country": [{"id": c["id"], "name": c["name"]} for c in record["countries"]],
            "accused_in": [record["accused_in"]] if self.type in ACTOR_TYPES else [],
            "statuses": record["statuses"], "accused_by": record["accused_by"], "denies": record["denies"],
        }[property_id]


@dataclass(frozen=True)
class Query:
    """One query of a batch: a name, the types it may be of (any if none), and property values to weigh."""

    text: str
    types: tuple[str, ...] = ()
    properties: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (property id, its values, each folded or a QID)


@dataclass
class Candidate:
    """An entity found for a query, with its score and what makes it."""

    entity: Entity
    score: float
    exact: bool  # a name or alias is the query itself, after folding
    features: dict[str, float | bool] = field(default_factory=dict)
    contradicted: bool = False  # a property value given is not the entity's, though it has values for it
    match: bool = False


def one_edit_apart(first: str, second: str) -> bool:
    """Whether one insertion, deletion or substitution turns one word into the other (in a pass over them: the
    full edit distance costs a hundred times more, and names are compared by the hundred per query)."""
    if abs(len(first) - len(second)) > 1:
        return False
    if len(first) > len(second):
        first, second = second, first
    for position, (one, other) in enumerate(zip(first, second)):
        if one != other:
            return first[position + (len(first) == len(second)):] == second[position + 1:]
    return True


def name_score(query_words: list[str], label_words: list[str]) -> float:
    """How close a name is to the query, 0 to 100 (see the module's docstring)."""
    if not query_words or not label_words:
        return 0.0
    if query_words == label_words:
        return 100.0
    if sorted(query_words) == sorted(label_words):
        return 95.0
    remaining, common = list(label_words), 0.0
    for word in query_words:
        if word in remaining:
            remaining.remove(word)
            common += 1
        elif close := next((other for other in remaining if min(len(word), len(other)) >= 5
                            and one_edit_apart(word, other)), None):
            remaining.remove(close)
            common += CLOSE_WORD
    return 100 * (0.6 * common / len(label_words) + 0.4 * common / len(query_words))


def _property_effect(entity: Entity, property_id: str, wanted: tuple[str, ...]) -> tuple[bool, bool]:
    """(the entity has one of the ``wanted`` values, it has values for the property and none is wanted)."""
    record = entity.record
    if property_id == "wikidata":
        have = set(record["wikidata"])
    elif property_id == "country":
        have = {key for country in record["countries"]
                for key in (folded(country["name"]), country["id"], country["id"].partition(":")[2], *country["wikidata"])}
    else:
        have = {folded(value) for value in (entity.labels if property_id == "alias" else record["roles"])}
    found = bool(have & set(wanted))
    return found, bool(have) and not found


class ReconciliationIndex(ReadOnlyIndex):
    """Lookups in a build's reconciliation index, on one read-only connection (``with ReconciliationIndex(path)``)."""

    def _entities(self, where: str, parameters) -> list[Entity]:
        rows = self.connection.execute(f"SELECT id, type, name, record FROM entities WHERE {where}", parameters)
        return [Entity(id, entity_type, name, json.loads(record)) for id, entity_type, name, record in rows]

    def entities(self, wanted: list[str]) -> dict[str, Entity]:
        """The entities of the ids ``wanted`` that the index holds, by id."""
        found = {}
        for start in range(0, len(wanted), 500):  # SQLite binds a bounded number of parameters
            chunk = wanted[start:start + 500]
            found.update((entity.id, entity) for entity in self._entities(f"id IN ({', '.join('?' * len(chunk))})", chunk))
        return found

    def reconcile(self, query: Query, limit: int) -> list[Candidate]:
        """The ``limit`` best candidates for ``query``, best first, the first marked ``match`` if it is certain."""
        words = list(dict.fromkeys(words_of(query.text)))
        qids = dict(query.properties).get("wikidata", ())
        types = query.types or ALL_TYPES
        if not words and not qids:
            return []
        type_marks, word_marks, qid_marks = (", ".join("?" * len(values)) for values in (types, words, qids))
        numbers = [number for number, in self.connection.execute(f"""
            SELECT number FROM (
                SELECT number, COUNT(*) AS shared FROM words WHERE word IN ({word_marks}) GROUP BY number
                UNION ALL SELECT number, 1000 FROM wikidata WHERE qid IN ({qid_marks}))
            WHERE number IN (SELECT number FROM entities WHERE type IN ({type_marks}))
            GROUP BY number ORDER BY MAX(shared) DESC, number LIMIT {CANDIDATES}""", (*words, *qids, *types))]
        entities = self._entities(f"number IN ({', '.join('?' * len(numbers))})", numbers) if numbers else []
        query_words = words_of(query.text)
        candidates = [self._scored(entity, query_words, query.properties) for entity in entities]
        candidates.sort(key=lambda candidate: (-candidate.score, folded(candidate.entity.name), candidate.entity.id))
        if candidates:
            top, following = candidates[0], candidates[1:2]
            top.match = (not top.contradicted and (top.exact or top.features.get("wikidata") is True)
                         and all(other.score <= top.score - CERTAIN_MARGIN for other in following))
        for candidate in candidates:
            candidate.score = round(max(0.0, min(100.0, candidate.score)), 1)
        return candidates[:limit]

    @staticmethod
    def _scored(entity: Entity, query_words: list[str], properties) -> Candidate:
        # Without a name, a candidate is one found by its Wikidata id: its name counts as close.
        best = max(name_score(query_words, words_of(label)) for label in entity.labels) if query_words else 75.0
        candidate = Candidate(entity, best, best == 100.0, {"name": round(best, 1)})
        for property_id, wanted in properties:
            found, contradicted = _property_effect(entity, property_id, wanted)
            bonus, penalty = next(prop.matched_by for prop in PROPERTIES if prop.id == property_id)
            candidate.score += bonus if found else -penalty if contradicted else 0
            candidate.features[property_id] = found
            candidate.contradicted |= contradicted and penalty > 0
        return candidate

    def suggest(self, prefix: str, types: tuple[str, ...], offset: int, limit: int) -> list[Entity]:
        """Entities whose names or aliases have words starting with each word of ``prefix``: those whose name
        starts with it first, then by name; ``limit`` of them from ``offset``. An entity's own id finds it."""
        words = list(dict.fromkeys(words_of(prefix)))
        types = types or ALL_TYPES
        by_id = ids.from_curie(prefix.strip())
        exact = [entity for entity in self.entities([prefix.strip()]).values() if entity.type in types] \
            if by_id is not None and offset == 0 else []
        if not words:
            return exact[:limit]
        phrase = " ".join(words)
        starting = " INTERSECT ".join(["SELECT number FROM words WHERE word >= ? AND word < ? || char(1114111)"]
                                      * len(words))
        rows = self.connection.execute(f"""
            SELECT id, type, name, record FROM entities
            WHERE number IN ({starting}) AND type IN ({', '.join('?' * len(types))})
            ORDER BY folded >= ? AND folded < ? || char(1114111) DESC, folded, number
            LIMIT ? OFFSET ?""", (*(part for word in words for part in (word, word)), *types, phrase, phrase, limit,
                                  offset))
        found = [Entity(id, entity_type, name, json.loads(record)) for id, entity_type, name, record in rows]
        return exact + [entity for entity in found if entity.id not in {first.id for first in exact}][:limit - len(exact)]
