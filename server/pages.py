"""Linked-data pages: every IRI of ours dereferences here, as HTML for people and as RDF for programs.

Also the home page, label search and the ontology documentation. Pages run only our own small,
bounded queries on the read-only store, in-process; nothing is written during a request.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from decimal import Decimal
from types import MappingProxyType
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from pyoxigraph import Literal, NamedNode, serialize

from kg import formats, ids
from kg.history import (DATED_SOURCE_GRAPHS, STATUS_NAMES, STATUS_ORDER, StatusStep, current_statuses, end_of,
                        graphs_as_of, parse_as_of)
from kg.schema import ALLEGATION_STATUSES as SCHEMA_STATUSES
from kg.search import SEARCH_INDEX, find_names, folded
from kg.store import run_query
from kg.vocab import DCTERMS, RDFS, SCHEMA, SKOS, SOL, WIKIDATA_ENTITY
from server import negotiate
from server.db import current_release, get_manifest, get_store, per_process

bp = Blueprint("pages", __name__)

HTML = formats.by_name("html")
JSON = formats.by_name("json")
TURTLE = formats.by_name("turtle")
RDF_XML = formats.by_name("rdfxml")
RDF_TWINS = tuple(formats.by_name(name) for name in ("turtle", "jsonld", "ntriples", "rdfxml"))
PAGE_FORMATS = (HTML, *RDF_TWINS)
# suffix -> format of the ontology files every build writes
ONTOLOGY_FILES = MappingProxyType({"ttl": TURTLE, "owl": RDF_XML})

# JSON-LD blocks are data, never run, so scripts need nothing beyond our own files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
WIKIDATA_PAGE = "https://www.wikidata.org/wiki/"
ONTOLOGY_PATH = ids.local_path(ids.ONTOLOGY_GRAPH.value)
MAX_SEARCH_RESULTS = 50


# ---------------------------------------------------------------- reading the store


LABEL_PREDICATES = (SKOS.prefLabel, RDFS.label, DCTERMS.title)  # in order of preference
# Reading every statement about a resource and keeping its labels is the fastest for most resources
# (one index seek each); a graph's description names thousands of sources, so graphs are looked up
# one predicate at a time instead.
LABEL_QUERY = """
SELECT ?this ?predicate ?label WHERE {
  VALUES ?this { %s }
  ?this ?predicate ?label FILTER(?predicate IN (skos:prefLabel, rdfs:label, dcterms:title))
}"""
GRAPH_LABEL_QUERY = """
SELECT ?this ?predicate ?label WHERE {
  VALUES ?this { %s }
  """ + "\n  UNION ".join(f"{{ ?this {term} ?label BIND({term} AS ?predicate) }}" for term in LABEL_PREDICATES) + """
}"""


ONTOLOGY_SUBJECTS_QUERY = f"SELECT DISTINCT ?term WHERE {{ GRAPH {ids.ONTOLOGY_GRAPH} {{ ?term ?p ?o }} FILTER(isIRI(?term)) }}"
ONTOLOGY_COMMENTS_QUERY = f"SELECT ?term ?comment WHERE {{ GRAPH {ids.ONTOLOGY_GRAPH} {{ ?term rdfs:comment ?comment }} }}"


class Labels:
    """What a person reads for each of our IRIs in one request: its preferred label, label or title,
    else its last segment.

    A page names dozens of resources. Labels are looked up when first read, in one query for every IRI
    met so far, and remembered for the rest of the request.
    """

    def __init__(self, store, known: dict[str, str] | None = None):
        self.store = store
        self.known: dict[str, str] = dict(known or {})
        self.waiting: set[str] = set()

    def expect(self, iri: str) -> None:
        if iri not in self.known:
            self.waiting.add(iri)

    def of(self, iri: str) -> str:
        if iri not in self.known:
            self.waiting.add(iri)
            self.fetch(sorted(self.waiting))
            self.waiting.clear()
        return self.known[iri]

    def fetch(self, missing: list[str]) -> None:
        best: dict[str, tuple] = {}
        graphs = [iri for iri in missing if iri.startswith(ids.GRAPH_BASE)]
        others = [iri for iri in missing if not iri.startswith(ids.GRAPH_BASE)]
        rows = itertools.chain.from_iterable(
            run_query(self.store, query % " ".join(str(NamedNode(iri)) for iri in iris))
            for query, iris in ((GRAPH_LABEL_QUERY, graphs), (LABEL_QUERY, others)) if iris)
        for row in rows:
            label = row["label"]
            # Preferred label before label before title; English or untagged before other languages.
            rank = (LABEL_PREDICATES.index(row["predicate"]), label.language not in (None, "en"), label.value)
            iri = row["this"].value
            if iri not in best or rank < best[iri]:
                best[iri] = rank
        for iri in missing:
            self.known[iri] = best[iri][2] if iri in best else re.split(r"[/#]", iri.rstrip("/"))[-1]


def request_labels() -> Labels:
    if "labels" not in g:
        g.labels = Labels(get_store(), ontology_labels())
    return g.labels


def ontology_labels() -> dict[str, str]:
    """The labels of the ontology's terms (classes, statuses, stances, types), which most pages show:
    looked up once per process."""
    def compute():
        terms = Labels(get_store())
        terms.fetch(sorted(row["term"].value for row in run_query(get_store(), ONTOLOGY_SUBJECTS_QUERY)))
        return terms.known
    return per_process("ontology labels", compute)


def ontology_comments() -> dict[str, str]:
    """What each ontology term means (a status: "charged", and what that does not mean), once per process."""
    def compute():
        return {row["term"].value: row["comment"].value for row in run_query(get_store(), ONTOLOGY_COMMENTS_QUERY)}
    return per_process("ontology comments", compute)


def label_of(iri: str) -> str:
    return request_labels().of(iri)


@dataclass(frozen=True)
class Ref:
    """A resource as a reader meets it: a label to read and an address to follow, if it has one."""

    iri: str
    href: str | None
    given_label: str | None = field(default=None, compare=False)
    labels: Labels | None = field(default=None, compare=False, repr=False)  # where our own IRIs' labels come from

    @property
    def label(self) -> str:
        return self.labels.of(self.iri) if self.given_label is None else self.given_label

    @property
    def external(self) -> bool:
        return self.href is not None and not self.href.startswith("/")


def compact(iri: str) -> str:
    """``sol:Allegation`` for an IRI in a namespace we have a prefix for; the IRI otherwise."""
    matches = [(prefix, base) for prefix, base in ids.PREFIXES.items() if iri.startswith(base)]
    if not matches:
        return iri
    prefix, base = max(matches, key=lambda match: len(match[1]))
    return f"{prefix}:{iri[len(base):]}"


def ref(iri: str) -> Ref:
    local = ids.local_path(iri)
    if local is not None:
        labels = request_labels()
        labels.expect(iri)
        return Ref(iri, "/" + local, labels=labels)
    if iri.startswith(WIKIDATA_ENTITY.base):
        qid = iri[len(WIKIDATA_ENTITY.base):]
        return Ref(iri, WIKIDATA_PAGE + qid, f"Wikidata {qid}")
    # Only web addresses become links: an IRI such as "javascript:..." in data must not be followable.
    return Ref(iri, iri if iri.startswith(("http://", "https://")) else None, compact(iri))


def query_about(query: str, this: str | None = None):
    """Run one of our own queries with ``?this`` bound to the IRI ``this`` (ValueError if it is no IRI).

    ``?this`` is bound by a VALUES clause at the head of the query's pattern, so the engine starts
    from that one resource; binding it afterwards would evaluate the pattern for every resource of
    the graph first, which is slow once the graph holds millions of statements.
    """
    if this is not None:
        marker = "WHERE {" if "WHERE {" in query else "{"
        head, _, rest = query.partition(marker)
        query = f"{head}{marker} VALUES ?this {{ {NamedNode(this)} }} {rest}"
    return run_query(get_store(), query, **record_as_of())


def as_of_day() -> str | None:
    """The day of ``?as_of=`` (kg.history.parse_as_of), or None; 400 if it is no date."""
    text = request.args.get("as_of")
    if not text:
        return None
    try:
        return parse_as_of(text)
    except ValueError as error:
        abort(400, description=f"as_of: {error}")


def record_as_of() -> dict:
    """The dataset a page reads: the whole record, or with ``?as_of=`` the record as it stood that day."""
    day = as_of_day()
    if day is None:
        return {}
    if "as_of_graphs" not in g:
        g.as_of_graphs = graphs_as_of(run_query(get_store(), DATED_SOURCE_GRAPHS), day)
    return {"use_default_graph_as_union": False, "default_graph": g.as_of_graphs, "named_graphs": g.as_of_graphs}


def terms_of(query: str, this: str | None = None) -> list[dict]:
    """Rows of a SELECT query about ``this`` as the engine gives them: RDF terms, None when unbound."""
    solutions = query_about(query, this)
    names = [variable.value for variable in solutions.variables]
    return [{name: solution[name] for name in names} for solution in solutions]


def readable(rows: list[dict], with_labels: bool = True) -> list[dict]:
    """Rows of terms made readable: IRIs as Refs (or plain strings without labels), literals as their
    text, blank and unbound values as None."""
    value = readable_term if with_labels else plain_term
    return [{name: value(term) for name, term in row.items()} for row in rows]


def readable_term(term) -> Ref | str | None:
    if isinstance(term, NamedNode):
        return ref(term.value)
    return term.value if isinstance(term, Literal) else None


def plain_term(term) -> str | None:
    return term.value if isinstance(term, (NamedNode, Literal)) else None


def select(query: str, this: str | None = None, with_labels: bool = True) -> list[dict]:
    return readable(terms_of(query, this), with_labels)


@dataclass(frozen=True)
class Pager:
    """Where one page of a long list sits: items ``first`` to ``last`` of ``total``, and its neighbours.

    Each list on a page has its own query parameter (``?accused=2``), so its pages turn independently.
    """

    parameter: str
    number: int
    size: int
    total: int

    @classmethod
    def of(cls, parameter: str, total: int) -> Pager:
        size = current_app.config["PAGE_SIZE"]
        asked = request.args.get(parameter, "1")
        number = int(asked) if asked.isdigit() and int(asked) > 0 else 1
        return cls(parameter, min(number, max(1, -(-total // size))), size, total)

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    def window(self, items: list) -> list:
        return items[self.start:self.start + self.size]

    @property
    def first(self) -> int:
        return min(self.start + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.start + self.size, self.total)

    @property
    def split(self) -> bool:
        return self.total > self.size

    def href(self, number: int) -> str | None:
        if not 1 <= number <= -(-self.total // self.size) or number == self.number:
            return None
        args = request.args.to_dict() | {self.parameter: str(number)}
        if number == 1:
            del args[self.parameter]
        return request.path + ("?" + urlencode(sorted(args.items())) if args else "")

    @property
    def previous_href(self) -> str | None:
        return self.href(self.number - 1)

    @property
    def next_href(self) -> str | None:
        return self.href(self.number + 1)


def iri_values(variable: str, iris) -> str:
    return f"VALUES ?{variable} {{ {' '.join(str(NamedNode(iri)) for iri in iris)} }}"


def reading_order(value) -> str:
    return folded(value.label if isinstance(value, Ref) else str(value))


def is_mentioned(iri: str) -> bool:
    """Whether anything links to ``iri`` (a resource with no statements of its own still has a page)."""
    return bool(query_about("ASK { ?s ?p ?this }", iri))


def superclasses() -> dict[str, frozenset[str]]:
    """Each class and every class above it, read from the store once per process."""
    def compute():
        above: dict[str, set[str]] = {}
        for row in terms_of("SELECT ?class ?super WHERE { ?class rdfs:subClassOf+ ?super FILTER(isIRI(?super)) }"):
            above.setdefault(row["class"].value, set()).add(row["super"].value)
        return {name: frozenset(supers) for name, supers in above.items()}
    return per_process("superclasses", compute)


def schema_type_of(types: set[str]) -> str:
    if SOL.Person.value in types:
        return "Person"
    # An unnamed group ("U.S. officials") is not an organization; schema.org has no closer type.
    return "Organization" if SOL.Organization.value in types else "Thing"


@dataclass(frozen=True)
class Resource:
    """One resource of ours and every value of every property it has, keyed by ``prefix:name``."""

    ref: Ref
    # RDF terms, made readable (and labelled) only when a page reads them: a graph's description names
    # thousands of sources that its page shows a page of.
    terms: dict[str, list]
    _in_order: dict[str, list] = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, iri: str) -> Resource:
        terms: dict[str, list] = {}
        for row in terms_of("SELECT DISTINCT ?this ?p ?o WHERE { ?this ?p ?o }", iri):
            if isinstance(row["o"], (NamedNode, Literal)):
                terms.setdefault(compact(row["p"].value), []).append(row["o"])
        return cls(ref(iri), terms)

    @property
    def keys(self) -> list[str]:
        return list(self.terms)

    def values(self, key: str) -> list:
        """The values of one property, readable, in reading order."""
        if key not in self._in_order:
            self._in_order[key] = sorted(map(readable_term, self.terms.get(key, [])), key=reading_order)
        return self._in_order[key]

    def value(self, key: str):
        values = self.values(key)
        return values[0] if values else None

    def is_a(self, term: NamedNode) -> bool:
        return term.value in self.types

    @property
    def types(self) -> set[str]:
        return {kind.value for kind in self.terms.get("rdf:type", [])}

    @property
    def kinds(self) -> list[Ref]:
        """Its most specific classes: person, not also actor."""
        above = superclasses()
        types = self.types
        return [kind for kind in self.values("rdf:type")
                if not any(kind.iri in above.get(other, ()) for other in types)]

    @property
    def wikidata(self) -> list[Ref]:
        return [same for same in self.values("owl:sameAs") if same.iri.startswith(WIKIDATA_ENTITY.base)]


def describe(iri: str) -> list:
    """The RDF twin of a resource: its own triples and the links to it; a graph's twin is the graph."""
    if iri.startswith(ids.GRAPH_BASE):
        query = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?this { ?s ?p ?o } }"
    else:
        query = "CONSTRUCT { ?this ?p ?o . ?s ?q ?this } WHERE { { ?this ?p ?o } UNION { ?s ?q ?this } }"
    return sorted(set(query_about(query, iri)), key=str)


# ---------------------------------------------------------------- sections shared by several pages


@dataclass
class Stances:
    """One allegation with its status and every attribution on it, split by stance when read."""

    allegation: Ref
    status: Ref | None
    status_note: str | None
    attributions: list[dict] = field(default_factory=list)

    @cached_property
    def denying(self) -> list[dict]:
        return self._side(SOL.Denies)

    @cached_property
    def disputing(self) -> list[dict]:
        """Those who contest the claim or its framing without being accused of it."""
        return self._side(SOL.Disputes)

    @property
    def asserting(self) -> list[dict]:
        return self._side(SOL.Asserts)

    def _side(self, stance: NamedNode) -> list[dict]:
        return sorted((row for row in self.attributions if row["stance"].iri == stance.value),
                      key=lambda row: reading_order(row["claimant"]))


STANCES_QUERY = """
SELECT ?this ?allegation ?status ?attribution ?claimant ?stance ?quote ?translation ?source ?note WHERE {
  %s
  ?attribution sol:allegation ?allegation ; sol:claimant ?claimant ; sol:stance ?stance ; sol:source ?source .
  OPTIONAL { ?allegation sol:status ?status }
  OPTIONAL { ?attribution sol:quote ?quote }
  OPTIONAL { ?attribution sol:translation ?translation }
  OPTIONAL { ?attribution rdfs:comment ?note }
}"""
# The attributions are joined first: an OPTIONAL group around them makes the engine read every attribution
# of the graph before joining. The current status is optional: the record as of a past day leaves out the
# graph that holds it, and the status as of that day is worked out from the statements (status_as_of).

STATUS_COURSE_QUERY = """
SELECT ?statement ?allegation ?status ?date ?source ?case ?detail ?quote ?supersedes ?reason WHERE {
  %s
  ?statement sol:statusOf ?allegation ; sol:statusValue ?status ; sol:source ?source .
  OPTIONAL { ?statement sol:date ?date }
  OPTIONAL { ?statement sol:caseName ?case }
  OPTIONAL { ?statement sol:detail ?detail }
  OPTIONAL { ?statement sol:quote ?quote }
  OPTIONAL { ?statement sol:supersedes ?supersedes . OPTIONAL { ?statement sol:correctionReason ?reason } }
}"""


def status_course(allegations: list[str]) -> list[dict]:
    """The status statements of ``allegations`` on record (as of ``?as_of=``), in date order, each marked
    ``superseded`` (by the statement that corrects it) or not."""
    rows = terms_of(STATUS_COURSE_QUERY % iri_values("allegation", allegations))
    corrected_by = {row["supersedes"].value: row["statement"] for row in rows if row["supersedes"] is not None}
    day = as_of_day()
    course = []
    for row in rows:
        date = row["date"].value if row["date"] is not None else None
        if day and not (date and end_of(date) <= day):
            continue
        item = readable([row])[0]
        item["superseded_by"] = readable_term(corrected_by[row["statement"].value]) if row["statement"].value in corrected_by else None
        item["step"] = _status_step(row)
        course.append(item)
    return sorted(course, key=lambda item: (item["step"].date or "", STATUS_ORDER[item["step"].status],
                                            item["step"].iri))


def _status_step(row: dict) -> StatusStep:
    return StatusStep(row["statement"].value, row["allegation"].value, STATUS_NAMES[row["status"].value],
                      row["date"].value if row["date"] is not None else None,
                      row["supersedes"].value if row["supersedes"] is not None else None)


def status_as_of(allegations: list[str]) -> dict[str, Ref]:
    """The status of each of ``allegations`` as of ``?as_of=``: the latest statement on record by then."""
    steps = [item["step"] for item in status_course(allegations)]
    return {allegation: readable_term(NamedNode(dict(SCHEMA_STATUSES)[step.status].value))
            for allegation, step in current_statuses(steps).items()}


def sectioned(lists: dict[str, str], this: str | None) -> str:
    """One pattern for several lists of a page: each list's pattern binds ?section to the list's name.

    A page asks for all its lists of one kind in one query rather than one query each. Each branch
    binds ?this itself: the engine evaluates a UNION's branches before joining them with the rest.
    """
    start = f"VALUES ?this {{ {NamedNode(this)} }} " if this is not None else ""
    return "\n  UNION ".join(f'{{ {start}{pattern} BIND("{name}" AS ?section) }}' for name, pattern in lists.items())


ALLEGATIONS_QUERY = """
SELECT DISTINCT ?this ?section ?allegation ?label WHERE {
  %s
  ?allegation a sol:Allegation ; rdfs:label ?label .
}"""


def paged_stances(lists: dict[str, str], this: str, own: dict[str, str] | None = None) -> dict[str, tuple]:
    """A page of allegations, in reading order with their stances, for each of ``lists``.

    ``lists`` maps each list's name (its page's query parameter too) to the pattern that binds its
    ?allegation from ?this. The allegations are listed and ordered first, which is cheap; only the
    allegations of the pages shown are then read in full. ``own`` maps a list's name to a column
    (claimant, source): its attributions are kept only where that column is ?this.
    Returns, for each list, its allegations (Stances) and its Pager.
    """
    labels: dict[str, dict[str, str]] = {name: {} for name in lists}
    for row in terms_of(ALLEGATIONS_QUERY % sectioned(lists, this), this):
        labels[row["section"].value].setdefault(row["allegation"].value, row["label"].value)
    windows = {}
    for name, found in labels.items():
        pager = Pager.of(name, len(found))
        windows[name] = (pager.window(sorted(found, key=lambda iri: (folded(found[iri]), iri))), pager)
    shown = sorted({iri for window, _ in windows.values() for iri in window})
    grouped = _stances_by_allegation(iri_values("allegation", shown), this) if shown else {}
    pages = {}
    for name, (window, pager) in windows.items():
        column = (own or {}).get(name)
        items = [grouped[iri] for iri in window if iri in grouped]
        if column:
            items = [replace(item, attributions=[row for row in item.attributions if row[column].iri == this])
                     for item in items]
        pages[name] = (items, pager)
    return pages


def _stances_by_allegation(pattern: str, this: str | None) -> dict[str, Stances]:
    grouped: dict[str, Stances] = {}
    notes = ontology_comments()
    for row in select(STANCES_QUERY % pattern, this):
        item = grouped.setdefault(row["allegation"].iri, Stances(row["allegation"], row["status"], None))
        item.attributions.append(row)
    if as_of_day():
        statuses = status_as_of(sorted(grouped))
        for iri, item in grouped.items():
            item.status = statuses.get(iri)
    for item in grouped.values():
        item.status_note = notes.get(item.status.iri) if item.status else None
    return grouped


def stances(pattern: str, this: str | None = None, order: list[str] | None = None) -> list[Stances]:
    """The allegations that ``pattern`` (SPARQL binding ?allegation, maybe from ?this) selects, in
    ``order`` (their IRIs) or else in reading order.

    A pattern that also binds ?attribution keeps only those attributions.
    """
    grouped = _stances_by_allegation(pattern, this)
    if order is None:
        return sorted(grouped.values(), key=lambda item: reading_order(item.allegation))
    return [grouped[iri] for iri in order if iri in grouped]


EVENTS_QUERY = """
SELECT DISTINCT ?this ?section ?event ?date ?type WHERE {
  %s
  ?event a sol:Event .
  OPTIONAL { ?event sol:date ?date }
  OPTIONAL { ?event sol:eventType ?type }
}"""


def paged_events(lists: dict[str, str], this: str | None) -> dict[str, tuple]:
    """A page of events for each of ``lists`` (name -> pattern binding ?event), dated ones first in
    date order (a year sorts before its months): for each list, its rows and its Pager."""
    def date(row) -> str | None:
        return row["date"].value if isinstance(row["date"], Literal) else None

    rows: dict[str, list] = {name: [] for name in lists}
    for row in terms_of(EVENTS_QUERY % sectioned(lists, this), this):
        rows[row.pop("section").value].append(row)
    pages = {}
    for name, found in rows.items():
        found.sort(key=lambda row: (date(row) is None, date(row) or "", row["event"].value))
        pager = Pager.of(name, len(found))
        pages[name] = (readable(pager.window(found)), pager)
    return pages


SUBJECTS_QUERY = """
SELECT DISTINCT ?this ?section ?item ?name WHERE {
  %s
  OPTIONAL { ?item rdfs:label|skos:prefLabel|dcterms:title ?name }
}"""


def subject_iris(lists: dict[str, str], this: str | None) -> dict[str, list[str]]:
    """For each of ``lists`` (name -> pattern binding ?item), its resources in reading order, read from
    the same query, so that only the resources a page shows need their labels looked up."""
    names: dict[str, dict[str, str]] = {name: {} for name in lists}
    for row in terms_of(SUBJECTS_QUERY % sectioned(lists, this), this):
        iri, name, found = row["item"].value, row["name"], names[row["section"].value]
        key = folded(name.value) if isinstance(name, Literal) else folded(iri.rsplit("/", 1)[-1])
        found[iri] = min(key, found.get(iri, key))
    return {name: sorted(found, key=lambda iri: (found[iri], iri)) for name, found in names.items()}


def paged_subjects(lists: dict[str, str], this: str | None) -> dict[str, tuple]:
    """A page of resources, in reading order, for each of ``lists``: its Refs and its Pager."""
    pages = {}
    for name, ordered in subject_iris(lists, this).items():
        pager = Pager.of(name, len(ordered))
        pages[name] = ([ref(iri) for iri in pager.window(ordered)], pager)
    return pages


def subjects(pattern: str, this: str) -> list[Ref]:
    """Every resource ``pattern`` binds to ?item, in reading order: for lists that stay short."""
    return [ref(iri) for iri in subject_iris({"all": pattern}, this)["all"]]


def paged(name: str, found: tuple[list, Pager]) -> dict:
    """A page's list and its pager, as the template names them: ``name`` and ``name_pager``."""
    items, pager = found
    return {name: items, f"{name}_pager": pager}


# ---------------------------------------------------------------- one function per kind of page


def schema_thing(resource: Resource, schema_type: str, **extra) -> dict:
    """The schema.org node most pages start from."""
    node = {"@context": "https://schema.org", "@type": schema_type, "@id": resource.ref.iri,
            "name": resource.ref.label, "url": request.url_root.rstrip("/") + resource.ref.href}
    description = resource.value("dcterms:description")
    if description:
        node["description"] = description
    return node | {key: value for key, value in extra.items() if value}


def schema_ref(item: Ref, schema_type: str = "Thing") -> dict:
    return {"@type": schema_type, "@id": item.iri, "name": item.label}


def actor_schema_type(item: Ref) -> str:
    return schema_type_of({row["type"].value for row in terms_of("SELECT ?this ?type WHERE { ?this a ?type }",
                                                                  item.iri)})


def actor_page(resource: Resource) -> dict:
    iri = resource.ref.iri
    allegations = paged_stances({
        "accused": "?allegation sol:accused ?this .",
        "involved": "?allegation sol:involves ?this .",
        "claims": "?attribution sol:claimant ?this ; sol:allegation ?allegation .",
    }, iri, own={"claims": "claimant"})
    events = paged_events({"performed": "?event sol:performedBy ?this .", "party": "?event sol:involves ?this ."}, iri)
    related = paged_subjects({"members": "?item sol:memberOf ?this .",
                              "published": "?item dcterms:publisher|dcterms:creator ?this ."}, iri)
    sections = {
        **paged("accused_in", allegations["accused"]),
        **paged("involved_in", allegations["involved"]),
        **paged("own_claims", allegations["claims"]),
        **paged("performed", events["performed"]),
        **paged("party_to", events["party"]),
        **paged("members", related["members"]),
        **paged("published", related["published"]),
    }
    sections["json_ld"] = schema_thing(
        resource, schema_type_of(resource.types),
        alternateName=resource.values("skos:altLabel"), jobTitle=resource.values("sol:role"),
        sameAs=[same.href for same in resource.wikidata],
        memberOf=[schema_ref(group, "Organization") for group in resource.values("sol:memberOf")])
    return sections


def allegation_page(resource: Resource) -> dict:
    iri = resource.ref.iri
    found = next(iter(stances(iri_values("allegation", [iri]), iri)), None)
    if found is None:  # on record, but not yet as of ?as_of=
        found = Stances(resource.ref, None, None)
    attributions = found.asserting + found.denying + found.disputing
    return {
        "stances": found,
        "course": status_course([iri]),
        **paged("related_events", paged_events({"events": "?event sol:relatedAllegation ?this ."}, iri)["events"]),
        "json_ld": schema_thing(
            resource, "Claim",
            author=[schema_ref(row["claimant"], actor_schema_type(row["claimant"])) for row in found.asserting],
            about=[schema_ref(accused, actor_schema_type(accused)) for accused in resource.values("sol:accused")],
            appearance=[schema_ref(source, "CreativeWork")
                        for source in sorted({row["source"] for row in attributions}, key=reading_order)]),
    }


def attribution_page(resource: Resource) -> dict:
    allegation = resource.value("sol:allegation")
    claimant = resource.value("sol:claimant")
    source = resource.value("sol:source")
    return {
        "stances": stances(f"{iri_values('attribution', [resource.ref.iri])} ?attribution sol:allegation ?allegation .",
                           resource.ref.iri)[0],
        "json_ld": schema_thing(resource, "Claim", text=resource.value("sol:quote"),
                                author=claimant and schema_ref(claimant, actor_schema_type(claimant)),
                                appearance=source and schema_ref(source, "CreativeWork"),
                                about=allegation and schema_ref(allegation, "Claim")),
    }


def event_page(resource: Resource) -> dict:
    amount, currency = resource.value("sol:amount"), resource.value("sol:currency")
    source = resource.value("sol:source")
    return {
        "amount": amount and f"{Decimal(amount):,} {currency or ''}".strip(),
        "json_ld": schema_thing(
            resource, "Event", startDate=resource.value("sol:date"),
            organizer=[schema_ref(actor, actor_schema_type(actor)) for actor in resource.values("sol:performedBy")],
            attendee=[schema_ref(actor, actor_schema_type(actor)) for actor in resource.values("sol:involves")],
            location=[schema_ref(place, "Place") for place in resource.values("sol:place")],
            subjectOf=source and schema_ref(source, "CreativeWork")),
    }


def source_page(resource: Resource) -> dict:
    iri = resource.ref.iri
    # What was taken from a source is in the graph that also holds the source's own description.
    allegations = paged_stances({
        "allegations": "GRAPH ?graph { ?allegation a sol:Allegation . ?this a sol:Source }",
        "attributions": "?attribution sol:source ?this ; sol:allegation ?allegation .",
    }, iri, own={"attributions": "source"})
    return {
        "graphs": subjects("GRAPH ?item { ?item a sol:SourceGraph . ?this a sol:Source }", iri),
        "summarized_by": subjects("?item sol:summarizes ?this .", iri),
        **paged("allegations", allegations["allegations"]),
        **paged("attributions", allegations["attributions"]),
        **paged("events", paged_events({"events": "?event sol:source ?this ."}, iri)["events"]),
        "json_ld": schema_thing(
            resource, "NewsArticle" if resource.is_a(SOL.NewsReport) else "CreativeWork",
            headline=resource.ref.label, url=resource.value("sol:url"),
            datePublished=resource.value("dcterms:issued"), inLanguage=resource.value("dcterms:language"),
            publisher=[schema_ref(actor, "Organization") for actor in resource.values("dcterms:publisher")],
            author=[schema_ref(actor, actor_schema_type(actor)) for actor in resource.values("dcterms:creator")],
            isBasedOn=[schema_ref(source, "CreativeWork") for source in resource.values("sol:summarizes")]),
    }


def place_page(resource: Resource) -> dict:
    iri = resource.ref.iri
    related = paged_subjects({"contains": "?item sol:partOf ?this .", "actors": "?item a sol:Actor ; sol:country ?this ."},
                             iri)
    return {
        # Our data types places with schema.org's Country, City or Place; its last word reads well.
        "place_kinds": [kind.iri[len(SCHEMA.base):] for kind in resource.kinds if kind.iri.startswith(SCHEMA.base)],
        **paged("contains", related["contains"]),
        **paged("actors", related["actors"]),
        **paged("allegations", paged_stances({"allegations": "?allegation sol:place ?this ."}, iri)["allegations"]),
        **paged("events", paged_events({"events": "?event sol:place ?this ."}, iri)["events"]),
        "json_ld": schema_thing(
            resource, "Place", sameAs=[same.href for same in resource.wikidata],
            containedInPlace=[schema_ref(place, "Place") for place in resource.values("sol:partOf")]),
    }


GRAPH_CONTENT_KINDS = (SOL.Allegation, SOL.Attribution, SOL.Event, SOL.Source, SOL.Person, SOL.Organization,
                       SOL.Group, SOL.Place)


def graph_page(resource: Resource) -> dict:
    iri = resource.ref.iri
    # The reference data is derived from every source: thousands, in a large graph.
    lists = paged_subjects({"sources": "?this prov:wasDerivedFrom ?item .",
                            **{kind.value.split("#")[-1].lower(): f"GRAPH ?this {{ ?item a {kind} }}"
                               for kind in GRAPH_CONTENT_KINDS}}, iri)
    derived_from, derived_from_pager = lists.pop("sources")
    contents = {ref(kind.value): lists[kind.value.split("#")[-1].lower()] for kind in GRAPH_CONTENT_KINDS
                if lists[kind.value.split("#")[-1].lower()][0]}
    size = select("SELECT ?this (COUNT(*) AS ?triples) WHERE { GRAPH ?this { ?s ?p ?o } } GROUP BY ?this", iri)
    return {
        "contents": dict(sorted(contents.items(), key=lambda entry: reading_order(entry[0]))),
        "triples": size[0]["triples"] if size else "0",
        "derived_from": derived_from,
        "derived_from_pager": derived_from_pager,
        "json_ld": schema_thing(
            resource, "Dataset", dateCreated=resource.value("prov:generatedAtTime"),
            creator=[schema_ref(actor, "Organization") for actor in resource.values("prov:wasAttributedTo")],
            isBasedOn=[schema_ref(source, "CreativeWork") for source in derived_from]),
    }


def other_page(resource: Resource) -> dict:
    return {
        "incoming": sorted((row for row in select("SELECT DISTINCT ?this ?s ?p WHERE { ?s ?p ?this } LIMIT 500",
                                                  resource.ref.iri) if row["s"] is not None),
                           key=lambda row: reading_order(row["s"])),
        "json_ld": schema_thing(resource, "Thing"),
    }


PAGE_KINDS = (  # the first class a resource belongs to decides its page
    (SOL.Actor, "actor.html", actor_page),
    (SOL.Allegation, "allegation.html", allegation_page),
    (SOL.Attribution, "attribution.html", attribution_page),
    (SOL.Event, "event.html", event_page),
    (SOL.Source, "source.html", source_page),
    (SOL.Place, "place.html", place_page),
    (SOL.SourceGraph, "graph.html", graph_page),
)


def render_resource(resource: Resource, twins: list) -> str:
    template, page = next(((template, page) for kind, template, page in PAGE_KINDS if resource.is_a(kind)),
                          ("resource.html", other_page))
    graphs = subjects("GRAPH ?item { ?this ?p ?o }", resource.ref.iri)
    return render_page(template, twins=twins, resource=resource, recorded_in=graphs, **page(resource))


# ---------------------------------------------------------------- responses


@bp.app_template_global()
def link(item: Ref) -> Markup:
    """A resource as a link to follow (or its label alone): templates name hundreds, so it is not a macro."""
    if not item.href:
        return escape(item.label)
    external = Markup(' rel="external noopener"') if item.external else ""
    return Markup('<a href="{}"{}>{}</a>').format(item.href, external, item.label)


def json_ld_script(data: dict) -> Markup:
    """A schema.org block that data cannot break out of: no '<', '>' or '&' survive as such."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">\n{text}\n</script>')


def render_page(template: str, json_ld: dict | None = None, twins: list | None = None, **context) -> str:
    return render_template(template, json_ld=json_ld and json_ld_script(json_ld), twins=twins or [],
                           dataset=get_manifest()["dataset"], as_of=as_of_day(), **context)


def twins_of(path: str) -> list[tuple[formats.Format, str]]:
    """Every representation of the resource at ``/path``: the page and its RDF twins, by suffix."""
    return [(HTML, f"/{path}")] + [(fmt, f"/{path}.{fmt.extension}") for fmt in RDF_TWINS]


def with_twins(response: Response, twins: list[tuple[formats.Format, str]]) -> Response:
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = ", ".join(f'<{href}>; rel="alternate"; type="{fmt.media_type}"'
                                         for fmt, href in twins)
    return response


@bp.after_request
def protect_html(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def not_found(iri: str) -> tuple[str, int]:
    guess = re.split(r"[/#]", iri.rstrip("/"))[-1].replace("-", " ")
    return render_page("not_found.html", iri=iri, guess=guess), 404


def split_suffix(path: str) -> tuple[str, str | None]:
    """``id/person/x.ttl`` -> (``id/person/x``, ``ttl``); our slugs hold no dots, so a known extension is a suffix."""
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and formats.by_extension(extension) is not None:
        return stem, extension
    return path, None


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page that names no icon, such as a Turtle file they display."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/<path:path>")
def resource_page(path: str):
    path, suffix = split_suffix(path)
    if path.startswith(ONTOLOGY_PATH + "/"):  # the ontology's version IRI
        return redirect("/" + ONTOLOGY_PATH, code=303)
    iri = ids.BASE + path
    try:
        resource = Resource.load(iri)
    except ValueError:  # not even an IRI
        return not_found(iri)
    if not resource.terms and not is_mentioned(iri):
        return not_found(iri)
    fmt = negotiate.choose(PAGE_FORMATS, HTML, suffix)
    twins = twins_of(path)
    if fmt is HTML:
        response = Response(render_resource(resource, twins), mimetype=HTML.media_type)
    else:
        response = Response(serialize(describe(iri), format=fmt.rdf, prefixes=ids.PREFIXES),
                            mimetype=fmt.media_type)
    return with_twins(response, twins)


# ---------------------------------------------------------------- home and search


COUNTED = (("actors", SOL.Actor), ("allegations", SOL.Allegation), ("asserting", SOL.Asserts),
           ("denying", SOL.Denies), ("events", SOL.Event), ("sources", SOL.Source), ("places", SOL.Place))
ACTOR_KINDS = (("People", SOL.Person), ("Organizations", SOL.Organization), ("Groups", SOL.Group))


@bp.get("/")
def home():
    """Counts and the head of each list, from the overview the build computed (kg.overview)."""
    limit = current_app.config["PAGE_SIZE"]
    manifest = get_manifest()
    overview = manifest["overview"]
    counts = {name: overview["counts"].get(term.value, 0) for name, term in COUNTED}
    actor_groups = [(heading, overview["counts"].get(kind.value, 0),
                     [{"item": ref(iri), "accusations": accusations}
                      for iri, accusations in overview["most_accused"][kind.value][:limit]])
                    for heading, kind in ACTOR_KINDS]
    allegations = overview["allegations"][:limit]
    events = overview["events"][:limit]
    dataset = manifest["dataset"]
    json_ld = {"@context": "https://schema.org", "@type": "Dataset", "name": dataset["title"],
               "description": dataset["description"], "license": dataset["license"], "url": request.url_root}
    return render_page(
        "home.html", json_ld=json_ld, counts=counts, actor_groups=actor_groups,
        allegations=stances(iri_values("allegation", allegations), order=allegations) if allegations else [],
        events=paged_events({"events": iri_values("event", events)}, None)["events"][0] if events else [],
        sources=[ref(iri) for iri in overview["sources"][:limit]])


def search_results(query: str) -> list[dict]:
    """Resources with a label or alias holding every word of ``query``, ignoring case and accents.

    Exact names first, then names starting with the query, then the rest, each in reading order.
    """
    words = folded(query).split()
    if not words:
        return []
    matches: dict[str, tuple] = {}
    for name, iri, kind, original in find_names(current_release().path / SEARCH_INDEX, words):
        rank = 0 if name == " ".join(words) else 1 if name.startswith(words[0]) else 2
        if iri not in matches or rank < matches[iri][0]:
            matches[iri] = (rank, name, iri, kind, original)
    # Ranked by the matching name first, which needs no label: only the results shown are labelled.
    best = sorted(matches.values())[:MAX_SEARCH_RESULTS]
    items = [(ref(iri), kind, original) for _, _, iri, kind, original in best]
    return [{"iri": item.iri, "label": item.label, "type": label_of(kind), "url": item.href,
             **({"matched": original} if folded(original) != folded(item.label) else {})}
            for item, kind, original in items]


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()
    fmt = negotiate.choose((HTML, JSON), HTML)
    results = search_results(query)
    if fmt is JSON:
        response = jsonify({"query": query, "results": results})
    else:
        response = Response(render_page("search.html", search_query=query, results=results),
                            mimetype=HTML.media_type)
    response.headers["Vary"] = "Accept"
    return response


# ---------------------------------------------------------------- the ontology


ONTOLOGY_TERMS_QUERY = """
SELECT ?this ?term ?kind ?comment WHERE { GRAPH ?this {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty skos:ConceptScheme skos:Concept owl:NamedIndividual }
  ?term a ?kind .
  OPTIONAL { ?term rdfs:comment ?comment }
  FILTER(STRSTARTS(STR(?term), STR(sol:)))
} }"""

# Blank-node unions such as "allegation or event" are read as their members.
ONTOLOGY_RELATIONS_QUERY = """
SELECT ?this ?term ?relation ?target WHERE { GRAPH ?this {
  VALUES ?relation { rdf:type rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range owl:disjointWith
                     skos:inScheme rdfs:seeAlso }
  ?term ?relation ?value .
  FILTER(STRSTARTS(STR(?term), STR(sol:)))
  OPTIONAL { ?value owl:unionOf/rdf:rest*/rdf:first ?member }
  BIND(COALESCE(?member, ?value) AS ?target)
  FILTER(isIRI(?target))
} }"""

ONTOLOGY_SECTIONS = (  # (kind of term, heading), in page order
    ("owl:Class", "Classes"),
    ("owl:ObjectProperty", "Object properties"),
    ("owl:DatatypeProperty", "Datatype properties"),
    ("skos:ConceptScheme", "Concept schemes"),
    ("skos:Concept", "Concepts"),
    ("owl:NamedIndividual", "Individuals"),
)
RELATION_NAMES = (
    ("rdf:type", "type"), ("rdfs:subClassOf", "subclass of"), ("rdfs:subPropertyOf", "subproperty of"),
    ("rdfs:domain", "domain"), ("rdfs:range", "range"), ("owl:disjointWith", "disjoint with"),
    ("skos:inScheme", "in scheme"), ("rdfs:seeAlso", "see also"),
)


@dataclass
class OntologyTerm:
    ref: Ref
    anchor: str
    comment: str | None
    relations: dict[str, list[Ref]] = field(default_factory=dict)


def ontology_sections() -> list[tuple[str, list[OntologyTerm]]]:
    ontology = ids.ONTOLOGY_GRAPH.value
    terms: dict[str, OntologyTerm] = {}
    kinds: dict[str, str] = {}
    for row in select(ONTOLOGY_TERMS_QUERY, ontology):
        kinds.setdefault(row["term"].iri, compact(row["kind"].iri))
        terms[row["term"].iri] = OntologyTerm(row["term"], row["term"].iri[len(SOL.base):], row["comment"])
    names = dict(RELATION_NAMES)
    for row in select(ONTOLOGY_RELATIONS_QUERY, ontology):
        term, relation, target = terms.get(row["term"].iri), compact(row["relation"].iri), row["target"]
        restates_kind = relation == "rdf:type" and compact(target.iri) == kinds.get(row["term"].iri)
        if term is not None and not restates_kind:
            term.relations.setdefault(names[relation], []).append(target)
    for term in terms.values():
        term.relations = {name: sorted(set(term.relations[name]), key=reading_order)
                          for _, name in RELATION_NAMES if name in term.relations}
    return [(heading, sorted((terms[iri] for iri, kind in kinds.items() if kind == section),
                             key=lambda term: term.anchor))
            for section, heading in ONTOLOGY_SECTIONS]


@bp.get("/" + ONTOLOGY_PATH)
def ontology():
    twins = [(HTML, "/" + ONTOLOGY_PATH)] + [(fmt, f"/{ONTOLOGY_PATH}.{suffix}")
                                             for suffix, fmt in ONTOLOGY_FILES.items()]
    fmt = negotiate.choose((HTML, *ONTOLOGY_FILES.values()), HTML)
    if fmt is HTML:
        metadata = Resource.load(ids.ONTOLOGY_GRAPH.value)
        json_ld = schema_thing(metadata, "DefinedTermSet", name=metadata.value("dcterms:title"),
                               description=metadata.value("rdfs:comment"),
                               version=metadata.value("owl:versionInfo"))
        page = render_page("ontology.html", json_ld=json_ld, twins=twins, ontology=metadata, namespace=SOL.base,
                           sections=ontology_sections())
        response = Response(page, mimetype=HTML.media_type)
    else:
        suffix = next(suffix for suffix, file_format in ONTOLOGY_FILES.items() if file_format is fmt)
        response = ontology_file(suffix)
    return with_twins(response, twins)


@bp.get(f"/{ONTOLOGY_PATH}.<any({', '.join(ONTOLOGY_FILES)}):suffix>")
def ontology_file(suffix: str):
    """An ontology file of the build, as it was written (the Turtle keeps its comments)."""
    path = current_release().path / f"{ONTOLOGY_PATH}.{suffix}"
    return Response(path.read_bytes(), mimetype=ONTOLOGY_FILES[suffix].media_type)
