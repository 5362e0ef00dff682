"""The FollowTheMoney export: actors, who accuses, denies or disputes whom, court steps and designations as
FollowTheMoney entities, one JSON object per line (``soles.ftm.json``, and per actor on the server).

Each entity is ``{"id", "schema", "properties"}``, each property a sorted list of strings, the lines sorted
by id: the same build gives the same bytes. What becomes what:

===============================  ==============================================================================
soles                            FollowTheMoney
===============================  ==============================================================================
person                           Person (``position``: the roles the sources give)
organization                     PublicBody when the record shows it acting with a state's authority
                                 (kg/queries/ftm-public-bodies.rq), else Organization
group ("U.S. officials")         LegalEntity: an unnamed collective is neither a person nor a body, and
                                 LegalEntity is the most general party FollowTheMoney has
asserting attribution            UnknownLink for each accused: subject the accused, object the claimant,
                                 role "accused by"
denying / disputing attribution  UnknownLink for each actor asserting the allegation (in any source): subject
                                 the claimant, object the asserter, role "denies allegation by" or
                                 "disputes allegation by"
status: charged ... acquitted    CourtCase (one per allegation and case name) and a CourtCaseParty for each
                                 step and actor it concerns (role "defendant", status the step)
status: designated, sanctioned   Sanction for each actor concerned, and the topic ``sanction`` on the actor
member of (an organization)      Membership
===============================  ==============================================================================

Every link, court step and sanction carries the allegation's label (``summary``), the quote with our translation
(``description``), the source's date, address, publishers and our reading date, and our record's IRI
(``recordId``). Superseded status statements are left out. No crime topic is given: FollowTheMoney's
``crime.*`` topics state involvement in a crime, and an allegation is a claim.

FollowTheMoney's own validation passes an abstract schema or a missing required property, so every entity
is checked against ``SCHEMATA`` before it is written (tests/test_ftm.py checks that table against the
library's model).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from pyoxigraph import Store

from kg import ids
from kg.sqlite_index import ReadOnlyIndex
from kg.store import named_query_values
from kg.vocab import SOL

FTM_FILE = "soles.ftm.json"
FTM_INDEX = "ftm.sqlite"  # each actor's entities, for the server (not a download)
MEDIA_TYPE = "application/x-ndjson"  # one JSON object per line, as the ftm tools read and write them
ID_PREFIX = "soles-"
# The schemata the export uses, each with the properties FollowTheMoney requires of it.
SCHEMATA = {
    "Person": {"name"},
    "Organization": {"name"},
    "PublicBody": {"name"},
    "LegalEntity": {"name"},
    "UnknownLink": {"subject", "object"},
    "CourtCase": {"name"},
    "CourtCaseParty": {"party", "case"},
    "Sanction": {"entity"},
    "Membership": {"member", "organization"},
}
# Read once: the loops below compare with them by the thousand, and each SOL attribute costs microseconds.
ASSERTS, CHARGED, PERSON = SOL.Asserts.value, SOL.Charged.value, SOL.Person.value
KIND_SCHEMATA = {PERSON: "Person", SOL.Organization.value: "Organization", SOL.Group.value: "LegalEntity"}
STANCE_ROLES = {ASSERTS: "accused by", SOL.Denies.value: "denies allegation by",
                SOL.Disputes.value: "disputes allegation by"}
# The steps of a criminal case (a CourtCaseParty each) and of a sanction (a Sanction each).
COURT_STEPS = tuple(SOL[name] for name in ("Charged", "Arrested", "Extradited", "PleadedNotGuilty", "PleadedGuilty",
                                           "Convicted", "Sentenced", "ChargeDropped", "Acquitted"))
SANCTION_STEPS = (SOL.Designated, SOL.Sanctioned)
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
# ISO 3166-1 codes of the countries data/wikidata.yaml lists, by Wikidata id (Wikidata's P297); an actor's
# country without a Wikidata id, or not in this table, is left out.
COUNTRY_CODES = {"Q30": "us", "Q96": "mx", "Q142": "fr", "Q717": "ve", "Q739": "co"}

Entity = dict  # {"id": str, "schema": str, "properties": {name: [str, ...]}}


class InvalidEntity(ValueError):
    """An entity the export would write is not one FollowTheMoney can hold."""


def actor_id(iri: str) -> str:
    """``soles-person-nicolas-maduro`` for ``https://w3id.org/soles/id/person/nicolas-maduro``."""
    return ID_PREFIX + iri.removeprefix(ids.ENTITY_BASE).replace("/", "-")


def _hashed_id(kind: str, *parts: str) -> str:
    """An id made of what identifies a relationship: the same parts, the same id, in every build."""
    return f"{ID_PREFIX}{kind}-{hashlib.sha1(chr(10).join(parts).encode('utf-8')).hexdigest()[:20]}"


def _entity(entity_id: str, schema: str, properties: dict[str, Iterable[str | None]]) -> Entity:
    """An entity with each property's values deduplicated and sorted, empty ones left out; checked."""
    kept = {}
    for name in sorted(properties):
        values = {value for value in properties[name] if value}
        if values:
            kept[name] = sorted(values)
    entity = {"id": entity_id, "schema": schema, "properties": kept}
    check(entity)
    return entity


def check(entity: Entity) -> None:
    """Raise InvalidEntity unless the entity's schema is one of SCHEMATA and it has every required property."""
    required = SCHEMATA.get(entity["schema"])
    if required is None:
        raise InvalidEntity(f"{entity['id']}: schema {entity['schema']!r} is not one the export uses")
    if not entity["properties"].keys() >= required:
        missing = sorted(required - entity["properties"].keys())
        raise InvalidEntity(f"{entity['id']}: a {entity['schema']} needs {', '.join(missing)}")


def _quoted(quote: str | None, translation: str | None) -> str | None:
    """The description of a relationship: the source's words, and our English rendering if they are in another."""
    if not quote:
        return None
    return f"“{quote}”" + (f" (our translation: “{translation}”)" if translation else "")


# ---------------------------------------------------------------- relationships


def _accusations(store: Store) -> list[Entity]:
    """An UnknownLink for each asserting attribution and accused, and for each denying or disputing
    attribution and actor asserting the same allegation."""
    allegations: dict[str, tuple[str, set[str]]] = {}  # allegation -> its label and accused
    for row in named_query_values(store, "ftm-allegations"):
        allegations.setdefault(row["allegation"], (row["label"], set()))[1].add(row["accused"])
    records: dict[str, dict] = {}
    asserters: dict[str, set[str]] = defaultdict(set)
    for row in named_query_values(store, "ftm-attributions"):
        if row["allegation"] not in allegations:  # an allegation without a label or accused gives no link
            continue
        record = records.get(row["attribution"])
        if record is None:
            label, accused = allegations[row["allegation"]]
            record = records[row["attribution"]] = {
                "allegation": row["allegation"], "claimant": row["claimant"], "stance": row["stance"],
                "accused": accused, "provenance": _provenance(row, "attribution", label, [
                    _quoted(row.get("quote"), row.get("translation"))])}
        record["provenance"]["publisher"].add(row.get("publisher"))
        if row["stance"] == ASSERTS:
            asserters[row["allegation"]].add(row["claimant"])
    links = []
    for iri, record in records.items():
        if record["stance"] == ASSERTS:
            pairs = [(accused, record["claimant"]) for accused in record["accused"]]
        else:
            pairs = [(record["claimant"], asserter) for asserter in asserters[record["allegation"]]
                     if asserter != record["claimant"]]
        links += [_entity(_hashed_id("link", iri, subject, other), "UnknownLink",
                          {"subject": [actor_id(subject)], "object": [actor_id(other)],
                           "role": [STANCE_ROLES[record["stance"]]], **record["provenance"]})
                  for subject, other in pairs]
    return links


def _statements(store: Store, steps: tuple) -> dict[tuple[str, str], dict]:
    """The status statements of ``steps``, one per statement and actor it concerns."""
    found: dict[tuple[str, str], dict] = {}
    for row in named_query_values(store, "ftm-statuses", status=list(steps)):
        statement = found.setdefault((row["statement"], row["concerns"]), {
            "allegation": row["allegation"], "case": row.get("case"), "step": row["step"], "status": row["status"],
            "provenance": _provenance(row, "statement", row["label"],
                                      [row.get("detail"), _quoted(row.get("quote"), None)])})
        statement["provenance"]["publisher"].add(row.get("publisher"))
    return found


def _provenance(row: dict[str, str], record: str, label: str, description: list[str | None]) -> dict:
    """What a relationship says of where it comes from: our record ``row[record]``, its allegation's ``label``, the
    ``description``, the date, address (or the copy read) and publishers of its source, and when we read it.
    Publishers come one per row: the caller adds each to the set."""
    return {"recordId": [row[record]], "summary": [label], "description": description,
            "date": [row.get("date")], "sourceUrl": [row.get("url") or row.get("seenAt")],
            "retrievedAt": [row.get("readOn")], "publisher": set()}


def _court_cases(store: Store) -> list[Entity]:
    """A CourtCase per allegation and case name its court steps give (none: the allegation's own case), and a
    CourtCaseParty for each step and actor it concerns."""
    cases: dict[tuple[str, str], list] = defaultdict(list)
    parties = []
    for (statement, actor), step in sorted(_statements(store, COURT_STEPS).items()):
        key = (step["allegation"], step["case"] or "")
        cases[key].append(step)
        parties.append(_entity(_hashed_id("party", statement, actor), "CourtCaseParty", {
            "party": [actor_id(actor)], "case": [_hashed_id("case", *key)], "role": ["defendant"],
            "status": [step["step"]], **step["provenance"]}))
    return parties + [_court_case(key, steps) for key, steps in cases.items()]


def _court_case(key: tuple[str, str], steps: list[dict]) -> Entity:
    """The CourtCase of an allegation and case name: filed on the earliest charge among its ``steps``."""
    allegation_label = steps[0]["provenance"]["summary"][0]
    charged = [date for step in steps if step["status"] == CHARGED for date in step["provenance"]["date"]]
    return _entity(_hashed_id("case", *key), "CourtCase", {
        "name": [key[1] or f"Case on the allegation: {allegation_label}"], "summary": [allegation_label],
        "fileDate": [min(charged)] if charged else [],
        **{name: [value for step in steps for value in step["provenance"][name]]
           for name in ("sourceUrl", "publisher")}})


def _sanctions(store: Store) -> list[Entity]:
    """A Sanction for each designation or sanction step and actor it concerns."""
    return [_entity(_hashed_id("sanction", statement, actor), "Sanction",
                    {"entity": [actor_id(actor)], "status": [step["step"]], **step["provenance"]})
            for (statement, actor), step in _statements(store, SANCTION_STEPS).items()]


def _memberships(store: Store) -> list[Entity]:
    return [_entity(_hashed_id("membership", row["member"], row["organization"]), "Membership",
                    {"member": [actor_id(row["member"])], "organization": [actor_id(row["organization"])],
                     "sourceUrl": [row["member"]]})
            for row in named_query_values(store, "ftm-memberships")]


# ---------------------------------------------------------------- actors


def _actors(store: Store, sanctions: list[Entity]) -> list[Entity]:
    """The entity of every actor (``sanctions``: the export's, which give the topic ``sanction``)."""
    fields: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    kinds = {}
    for row in named_query_values(store, "ftm-actors"):
        kinds[row["actor"]] = row["kind"]
        fields[row["actor"]][row["field"]].add(row["value"])
    public_bodies = {row["actor"] for row in named_query_values(store, "ftm-public-bodies")}
    sanctioned = {entity["properties"]["entity"][0] for entity in sanctions}
    entities = []
    for iri, kind in kinds.items():
        found = fields[iri]
        qids = [value.removeprefix(WIKIDATA_ENTITY) for value in found["wikidata"]]
        properties = {
            "name": found["name"], "alias": found["alias"], "description": found["description"],
            "wikidataId": qids, "sourceUrl": [iri],
            "country": [COUNTRY_CODES.get(value.removeprefix(WIKIDATA_ENTITY)) for value in found["country"]],
            "topics": ["sanction"] if actor_id(iri) in sanctioned else []}
        if kind == PERSON:
            properties["position"] = found["role"]
        schema = "PublicBody" if iri in public_bodies else KIND_SCHEMATA[kind]
        entities.append(_entity(actor_id(iri), schema, properties))
    return entities


# ---------------------------------------------------------------- the export


ACTOR_REFERENCES = ("subject", "object", "party", "entity", "member", "organization")  # properties naming actors
ACTOR_SCHEMATA = frozenset({*KIND_SCHEMATA.values(), "PublicBody"})


def entities(store: Store) -> list[Entity]:
    """The export's entities, sorted by id."""
    sanctions = _sanctions(store)
    relations = [*_accusations(store), *_court_cases(store), *sanctions, *_memberships(store)]
    return sorted(_actors(store, sanctions) + relations, key=lambda entity: entity["id"])


def concerning(found: list[Entity]) -> dict[str, list[str]]:
    """The ids of the entities of ``found`` (the whole export) that concern each actor, by actor id, sorted: the
    actor, the relationships it is a side of, and the entities they refer to (the cases and the other sides)."""
    actors = {entity["id"] for entity in found if entity["schema"] in ACTOR_SCHEMATA}
    ids_of: dict[str, set[str]] = defaultdict(set)
    for entity in found:
        if entity["schema"] in ACTOR_SCHEMATA:
            ids_of[entity["id"]].add(entity["id"])
            continue
        sides = {value for name in ACTOR_REFERENCES for value in entity["properties"].get(name, [])}
        for side in sides & actors:
            ids_of[side].update({entity["id"], *sides & actors, *entity["properties"].get("case", [])})
    return {actor: sorted(held) for actor, held in sorted(ids_of.items())}


def write(store: Store, release_dir: Path) -> dict:
    """Write ``soles.ftm.json`` and the index of each actor's entities (``ftm.sqlite``, read by ``FtmIndex``)
    into ``release_dir``; return what the manifest says of them."""
    found = entities(store)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    lines = [encode(entity) + "\n" for entity in found]  # each entity's FollowTheMoney JSON line
    data = "".join(lines).encode("utf-8")
    (release_dir / FTM_FILE).write_bytes(data)
    with closing(sqlite3.connect(release_dir / FTM_INDEX)) as index, index:
        index.execute("CREATE TABLE entities (id TEXT PRIMARY KEY, line TEXT NOT NULL) WITHOUT ROWID")
        index.execute("CREATE TABLE concerns (actor TEXT, id TEXT, PRIMARY KEY (actor, id)) WITHOUT ROWID")
        index.executemany("INSERT INTO entities VALUES (?, ?)", zip((entity["id"] for entity in found), lines))
        index.executemany("INSERT INTO concerns VALUES (?, ?)",
                          ((actor, held) for actor, ids_held in concerning(found).items() for held in ids_held))
    counts = defaultdict(int)
    for entity in found:
        counts[entity["schema"]] += 1
    return {"entities": len(found), "schemata": dict(sorted(counts.items())),
            "files": [{"name": FTM_FILE, "format": "ftm", "media_type": MEDIA_TYPE,
                       "description": "Actors, accusations, denials, court steps and designations as "
                                      "FollowTheMoney entities (JSON lines, for Aleph and the ftm tools)",
                       "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}]}


class FtmIndex(ReadOnlyIndex):
    """Each actor's FollowTheMoney entities, as the build wrote them (``with FtmIndex(path) as index``)."""

    def lines_concerning(self, actor_iri: str) -> str:
        """The lines of ``soles.ftm.json`` that concern the actor ``actor_iri``, in its order; "" for no actor."""
        found = self.connection.execute(
            "SELECT line FROM concerns JOIN entities USING (id) WHERE actor = ? ORDER BY id", (actor_id(actor_iri),))
        return "".join(line for (line,) in found)
