"""`kg reconcile`: Wikidata candidates for the reconciliation backlog, proposed to an editor, never linked here.

For each named actor and place without a Wikidata id (kg.curation.Catalog.unlinked) it asks a Wikidata-shaped
SPARQL endpoint for the items whose label or alias is one of its names (kg/queries/wikidata-candidates.rq),
scores them by how the name matched and by type, and writes the proposals to a YAML file. An editor checks a
candidate on wikidata.org and accepts it by copying its ``accept_as`` entry into data/wikidata.yaml, saying who
accepted it, when and on what evidence; the build turns that into the entity's owl:sameAs link and a
sol:WikidataMatch record (ontology/decisions/20261130-wikidata-match-provenance.md).

The endpoint is asked politely, as Wikimedia's User-Agent and robot policies ask: our own User-Agent naming
soles and a contact, one request at a time with a pause between requests, answers cached for the run, a 429
or 503 waited out for its Retry-After (up to a bound) before one retry, and a time limit on each request.

Score (0-100): the name matched as the item's label (60) or alias (50), or our alias matched (50 and 40),
ignoring case and accents; plus 40 when the item's type (P31) is what the entity is (human for a person,
country or city for those places), 20 when it is at least not a human for an organization or region; minus 30
when data/wikidata.yaml already lists the item. A candidate of the wrong type keeps its name points only.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml
from pyoxigraph import Literal

from kg import query_text
from kg.curation import Catalog, Record
from kg.schema import PLACE
from kg.search import folded, without_accents
from kg.vocab import WIKIDATA_ENTITY

WIKIDATA_SPARQL = "https://query.wikidata.org/sparql"
PROJECT_URL = "https://w3id.org/soles"
LANGUAGES = ("en", "es", "mul")  # "mul": the language-neutral labels Wikidata now keeps names in
MAX_GET_QUERY = 2000  # longer queries are POSTed, as URLs that long are refused by some servers
HUMAN = "Q5"
# What a Wikidata item is (P31) when it is the kind of place we record; a region is any non-human item.
PLACE_TYPES = {
    "country": {"Q6256": "country", "Q3624078": "sovereign state", "Q3024240": "historical country"},
    "city": {"Q515": "city", "Q1549591": "big city", "Q5119": "capital", "Q1637706": "million city",
             "Q200250": "metropolis"},
}
NAME_POINTS = {("name", "label"): 60, ("name", "alias"): 50, ("alias", "label"): 50, ("alias", "alias"): 40}
TYPE_POINTS, WEAK_TYPE_POINTS, ALREADY_LISTED_PENALTY = 40, 20, 30


class WikidataError(RuntimeError):
    """The endpoint could not be asked, or refused for longer than we wait."""


def user_agent(contact: str) -> str:
    try:
        ours = version("soles")
    except PackageNotFoundError:
        ours = "0"
    return f"soles-reconcile/{ours} ({PROJECT_URL}; {contact})"


@dataclass
class PoliteClient:
    """One SPARQL endpoint, asked one request at a time, with a pause between requests and answers cached."""

    endpoint: str
    contact: str
    timeout: float = 30.0
    pause: float = 1.0  # seconds between the end of one request and the start of the next
    max_wait: float = 300.0  # the longest Retry-After we wait out
    retries: int = 1  # after a 429 or 503
    requests_made: int = 0
    _cache: dict[str, list[dict]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _last: float = float("-inf")

    def select(self, query: str) -> list[dict]:
        """The rows of a SELECT query, as {variable: value} (IRIs and literals as their text)."""
        with self._lock:
            if query not in self._cache:
                self._cache[query] = self._ask(query)
            return self._cache[query]

    def _ask(self, query: str) -> list[dict]:
        for attempt in range(self.retries + 1):
            wait = self._last + self.pause - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                with urllib.request.urlopen(self._request(query), timeout=self.timeout) as response:
                    body = response.read()
                break
            except urllib.error.HTTPError as error:
                if error.code not in (429, 503) or attempt == self.retries:
                    raise WikidataError(f"{self.endpoint} answered {error.code} {error.reason}"
                                        f"{' (still, after waiting as it asked)' if attempt else ''}") from None
                time.sleep(self._retry_after(error))
            except (urllib.error.URLError, TimeoutError, OSError) as error:
                raise WikidataError(f"{self.endpoint} could not be asked: {getattr(error, 'reason', error)} "
                                    f"(time limit {self.timeout:g} s)") from None
            finally:
                self._last = time.monotonic()
                self.requests_made += 1
        try:
            results = json.loads(body)
            return [{name: cell["value"] for name, cell in row.items()} for row in results["results"]["bindings"]]
        except (ValueError, KeyError, TypeError) as error:
            raise WikidataError(f"{self.endpoint} did not answer with SPARQL JSON results: {error}") from None

    def _request(self, query: str) -> urllib.request.Request:
        headers = {"User-Agent": user_agent(self.contact), "Accept": "application/sparql-results+json"}
        encoded = urllib.parse.urlencode({"query": query})
        if len(encoded) <= MAX_GET_QUERY:  # GET, which the Wikidata Query Service can answer from its cache
            return urllib.request.Request(f"{self.endpoint}?{encoded}", headers=headers)
        return urllib.request.Request(self.endpoint, data=encoded.encode(), method="POST",
                                      headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})

    def _retry_after(self, error: urllib.error.HTTPError) -> float:
        """Seconds the endpoint asked us to wait (a number or an HTTP date); the pause if it did not say."""
        given = (error.headers.get("Retry-After") or "").strip()
        if not given:
            return max(self.pause, 1.0)
        if given.isdigit():
            seconds = float(given)
        else:
            try:
                seconds = (email.utils.parsedate_to_datetime(given) - datetime.now(timezone.utc)).total_seconds()
            except (TypeError, ValueError):
                seconds = self.max_wait + 1
        if seconds > self.max_wait:
            raise WikidataError(f"{self.endpoint} answered {error.code} and asks us to wait {given!r}, longer "
                                f"than the {self.max_wait:g} s we wait: try again later") from None
        return max(seconds, 0.0)


@dataclass
class Candidate:
    qid: str
    label: str = ""
    description: str = ""
    types: set[str] = field(default_factory=set)
    matches: set[tuple[str, str, str]] = field(default_factory=set)  # (our name or alias, label or alias, text)


def _names(record: Record) -> list[tuple[str, str]]:
    """(``name`` or ``alias``, text) for each name we know the entity by."""
    return [("name", record.values["name"])] + [("alias", alias) for alias in record.many("also_known_as")]


def _looked_up(names: list[tuple[str, str]]) -> list[Literal]:
    """The literals asked for: each name as written, without its accents, and capitalised as a name, in each
    of LANGUAGES. A label lookup matches exact text only (the Wikidata Query Service cannot search labels
    ignoring accents in time), so a spelling none of these reaches, such as an accent we do not write, is
    found only through an alias we record; what comes back is compared here ignoring case and accents."""
    texts = []
    for _, text in names:
        for variant in (text, without_accents(text), text.title(), without_accents(text).title()):
            if variant not in texts:
                texts.append(variant)
    return [Literal(text, language=language) for text in texts for language in LANGUAGES]


def candidates(client: PoliteClient, record: Record) -> list[Candidate]:
    """The items one of whose labels or aliases is one of the record's names, as the endpoint answers."""
    names = _names(record)
    ours: dict[str, str] = {}
    for which, text in names:  # the name first: an alias spelled like it does not lower the match
        ours.setdefault(folded(text), which)
    found: dict[str, Candidate] = {}
    for row in client.select(query_text.named("wikidata-candidates", spelling=_looked_up(names))):
        qid = row["item"].removeprefix(WIKIDATA_ENTITY.base)
        candidate = found.setdefault(qid, Candidate(qid))
        candidate.label = candidate.label or row.get("label", "")
        candidate.description = candidate.description or row.get("description", "")
        if "type" in row:
            candidate.types.add(row["type"].removeprefix(WIKIDATA_ENTITY.base))
        which = ours.get(folded(row["spelling"]))
        if which:
            candidate.matches.add((which, row["via"], row["spelling"]))
    return [candidate for candidate in found.values() if candidate.matches]


def score(candidate: Candidate, kind: str, listed: dict[str, Record]) -> tuple[int, list[str]]:
    """The candidate's score for an entity of ``kind``, with the reasons, as kg reconcile writes them."""
    which, via, text = max(candidate.matches, key=lambda match: (NAME_POINTS[match[:2]], match))
    points = NAME_POINTS[which, via]
    why = [f"its {via} {text!r} is our {which}, case and accents aside"]
    types = sorted(candidate.types)
    if kind == "person":
        if HUMAN in candidate.types:
            points += TYPE_POINTS
            why.append("instance of human (Q5)")
        else:
            why.append(f"not an instance of human (Q5): {', '.join(types) or 'no type given'}")
    elif kind in PLACE_TYPES:
        matching = sorted(PLACE_TYPES[kind][qid] + f" ({qid})" for qid in candidate.types & PLACE_TYPES[kind].keys())
        if matching:
            points += TYPE_POINTS
            why.append(f"instance of {', '.join(matching)}")
        else:
            why.append(f"not an instance of a {kind} type we know: {', '.join(types) or 'no type given'}")
    elif HUMAN in candidate.types:
        why.append(f"an instance of human (Q5), not a {kind}")
    elif candidate.types:
        points += WEAK_TYPE_POINTS
        why.append(f"instance of {', '.join(types)}, not a human")
    if candidate.qid in listed:
        points -= ALREADY_LISTED_PENALTY
        why.append(f"data/wikidata.yaml already lists it, as {listed[candidate.qid].values['label']!r}")
    return max(points, 0), why


def propose(catalog: Catalog, client: PoliteClient, limit: int = 3, today: date | None = None) -> dict:
    """The proposals document for the catalog's backlog: per entity, its best ``limit`` candidates."""
    today = today or date.today()
    proposals = []
    for record in catalog.unlinked():
        kind = record.values["type"]
        scored = []
        for candidate in candidates(client, record):
            points, why = score(candidate, kind, catalog.wikidata)
            scored.append((points, candidate, why))
        scored.sort(key=lambda item: (-item[0], int(item[1].qid[1:])))
        proposals.append({
            "id": record.id, "kind": kind, "name": record.values["name"], "where": f"{record.file}:{record.line}",
            "candidates": [_proposal(candidate, points, why, record, kind, today)
                           for points, candidate, why in scored[:limit]],
        })
    return {"endpoint": client.endpoint, "proposed_on": today.isoformat(), "proposals": proposals}


def _proposal(candidate: Candidate, points: int, why: list[str], record: Record, kind: str, today: date) -> dict:
    page = f"https://www.wikidata.org/wiki/{candidate.qid}"
    return {
        "qid": candidate.qid, "label": candidate.label, "description": candidate.description, "score": points,
        "why": why,
        # What the editor pastes into data/wikidata.yaml's verified list once they have checked the page,
        # with their own actor id and, in evidence, what they checked.
        "accept_as": {"qid": candidate.qid, "label": candidate.label or record.values["name"],
                      "kind": "place" if record.schema is PLACE else kind,
                      "checked_in": page, "accepted_by": "EDITOR-ACTOR-ID", "accepted_on": today.isoformat(),
                      "evidence": f"kg reconcile, score {points}: {'; '.join(why)}"},
    }


HEADER = """\
# Wikidata candidates for the reconciliation backlog, proposed by `kg reconcile`. Nothing here is linked.
# To accept one: open its page (checked_in), check the label, description and type against our record,
# copy its accept_as entry into data/wikidata.yaml's `verified:` list with your actor id in accepted_by
# and what you checked in evidence, set the entity's `wikidata:` field, and run `kg validate`.
"""


def write(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=110)
    path.write_text(HEADER + text, encoding="utf-8")
