"""Reading one resource for a page: its statements, the labels of what it names, and links to follow.

A page names dozens of resources: each becomes a Ref (a label to read, an address to follow), whose
label is looked up in the build's page index with every other label the page needs, when the page first reads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, g
from markupsafe import Markup
from pyoxigraph import Literal, NamedNode

from kg import ids
from kg.ids import last_segment
from kg.search import folded
from kg.store import run_query
from kg.vocab import WIKIDATA_ENTITY
from server.pages.escaping import escaped
from server.pages.record import page_index, query_text, rows, run, statements_about
from server.release import get_store, per_process

WIKIDATA_PAGE = "https://www.wikidata.org/wiki/"


class Labels:
    """What a person reads for each of our IRIs in one request: its preferred label, label or title,
    else its last segment.

    Labels are looked up when first read, in the build's page index (kg.page_index), for every IRI met so
    far at once, and remembered for the rest of the request. They come from the whole record, even on a
    page of the record as of a day.
    """

    def __init__(self, known: dict[str, str] | None = None):
        self.known: dict[str, str] = dict(known or {})
        self.waiting: set[str] = set()
        self.refs: dict[str, Ref] = {}

    def expect(self, iri: str) -> None:
        if iri not in self.known:
            self.waiting.add(iri)

    def remember(self, found: dict[str, str]) -> None:
        """Labels read with what a page shows (the build wrote them beside it): not looked up again."""
        self.known.update(found)
        self.waiting.difference_update(found)

    def of(self, iri: str) -> str:
        if iri not in self.known:
            self.waiting.add(iri)
            self.fetch(sorted(self.waiting))
            self.waiting.clear()
        return self.known[iri]

    def ref(self, iri: str) -> Ref:
        """``iri`` as a reader meets it (a page names the same resources many times: each Ref is made once)."""
        found = self.refs.get(iri)
        if found is None:
            found = self.refs[iri] = _new_ref(iri, self)
        return found

    def fetch(self, missing: list[str]) -> None:
        found = page_index().labels(missing)
        for iri in missing:
            self.known[iri] = found[iri] if iri in found else last_segment(iri)


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_let_refs_go)


def _let_refs_go(_error: BaseException | None) -> None:
    """A request's Refs and its Labels refer to each other: unlinked at its end, they and all a page built of them
    are freed at once, not left for the cycle collector (which would walk every object alive to find them)."""
    labels = g.pop("labels", None)
    if labels is not None:
        labels.refs.clear()


def request_labels() -> Labels:
    labels = g.get("labels")  # one look-up of flask.g: pages ask for it hundreds of times
    if labels is None:
        labels = g.labels = Labels(ontology_labels())
    return labels


def ontology_labels() -> dict[str, str]:
    """The labels of the ontology's terms (classes, statuses, stances, types), which most pages show:
    looked up once per process."""
    def compute():
        terms = Labels()
        named = run_query(get_store(), query_text("ontology-terms-named", this=ids.ONTOLOGY_GRAPH.value))
        terms.fetch(sorted(row["term"].value for row in named))
        return terms.known
    return per_process("ontology labels", compute)


def ontology_comments() -> dict[str, str]:
    """What each ontology term means (a status: "charged", and what that does not mean), once per process."""
    def compute():
        found = run_query(get_store(), query_text("ontology-comments", this=ids.ONTOLOGY_GRAPH.value))
        return {row["term"].value: row["comment"].value for row in found}
    return per_process("ontology comments", compute)


def label_of(iri: str) -> str:
    return request_labels().of(iri)


class Ref:
    """A resource as a reader meets it: a label to read and an address to follow, if it has one.

    Equal (and hashed) by IRI and address. A plain class with slots, not a dataclass: a long page makes hundreds,
    and a frozen dataclass costs four times as much to make. Treat it as immutable."""

    __slots__ = ("iri", "href", "given_label", "labels", "_html")

    def __init__(self, iri: str, href: str | None, given_label: str | None = None, labels: Labels | None = None):
        self.iri = iri
        self.href = href
        self.given_label = given_label
        self.labels = labels  # where our own IRIs' labels come from
        self._html: Markup | None = None

    def __eq__(self, other) -> bool:
        return isinstance(other, Ref) and self.iri == other.iri and self.href == other.href

    def __hash__(self) -> int:
        return hash((self.iri, self.href))

    def __repr__(self) -> str:
        return f"Ref(iri={self.iri!r}, href={self.href!r}, given_label={self.given_label!r})"

    @property
    def label(self) -> str:
        return self.labels.of(self.iri) if self.given_label is None else self.given_label

    @property
    def external(self) -> bool:
        return self.href is not None and not self.href.startswith("/")

    @property
    def html(self) -> Markup:
        """The resource as a link to follow (or its label alone), written once: a Ref is made once per request
        and a long page links the same resources dozens of times."""
        if self._html is None:
            if not self.href:
                self._html = Markup(escaped(self.label))
            else:
                external = ' rel="external noopener"' if self.external else ""
                self._html = Markup(f'<a href="{escaped(self.href)}"{external}>{escaped(self.label)}</a>')
        return self._html


# The prefixes, the longest namespace first: the first that an IRI starts with is the closest.
LONGEST_FIRST = tuple(sorted(ids.PREFIXES.items(), key=lambda item: -len(item[1])))


def compact(iri: str) -> str:
    """``sol:Allegation`` for an IRI in a namespace we have a prefix for; the IRI otherwise."""
    for prefix, base in LONGEST_FIRST:
        if iri.startswith(base):
            return f"{prefix}:{iri[len(base):]}"
    return iri


def ref(iri: str) -> Ref:
    return request_labels().ref(iri)


# Pages link attributions by their address alone ("record"), dozens a page: their labels are looked up only
# when read (on an attribution's own page), not with the labels a page expects to show.
UNLABELLED_LINKS = ids.ENTITY_BASE + "attribution/"


def _new_ref(iri: str, labels: Labels) -> Ref:
    local = ids.local_path(iri)
    if local is not None:
        if not iri.startswith(UNLABELLED_LINKS):
            labels.expect(iri)
        return Ref(iri, "/" + local, labels=labels)
    if iri.startswith(WIKIDATA_ENTITY.base):
        qid = iri[len(WIKIDATA_ENTITY.base):]
        return Ref(iri, WIKIDATA_PAGE + qid, f"Wikidata {qid}")
    # Only web addresses become links: an IRI such as "javascript:..." in data must not be followable.
    return Ref(iri, iri if iri.startswith(("http://", "https://")) else None, compact(iri))


def link(item: Ref) -> Markup:
    """A resource as a link to follow (or its label alone): templates name hundreds, so it is not a macro."""
    return item.html


class Row:
    """A row a page shows: its values by name, read as attributes (``row.claimant``, as templates do) or as
    items (``row["claimant"]``). Not a dict: Jinja tries an attribute before an item, and a failed attribute
    lookup costs ten times a found one; a long page reads thousands."""

    def __init__(self, values: dict | None = None, /, **named):
        if values:
            self.__dict__.update(values)
            self.__dict__.update(named)
        else:  # the values by name are a new dict of this call's: kept as they are, not copied (a third less time)
            self.__dict__ = named

    def __getitem__(self, name: str):
        return self.__dict__[name]

    def __setitem__(self, name: str, value) -> None:
        self.__dict__[name] = value

    def __eq__(self, other) -> bool:
        return isinstance(other, Row) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"Row({self.__dict__!r})"


def readable(found: list[dict]) -> list[Row]:
    """Rows of terms made readable: IRIs as Refs, literals as their text, blank and unbound values as None."""
    return [Row({name: readable_term(term) for name, term in row.items()}) for row in found]


def readable_term(term) -> Ref | str | None:
    if isinstance(term, NamedNode):
        return ref(term.value)
    return term.value if isinstance(term, Literal) else None


def select(name: str, **bound: str | list[str]) -> list[dict]:
    """The rows of queries/``name``.rq, readable."""
    return readable(rows(name, **bound))


def reading_order(value) -> str:
    return folded(value.label if isinstance(value, Ref) else str(value))


def superclasses() -> dict[str, frozenset[str]]:
    """Each class and every class above it, read from the store once per process."""
    def compute():
        above: dict[str, set[str]] = {}
        for row in rows("superclasses"):
            above.setdefault(row["class"].value, set()).add(row["super"].value)
        return {name: frozenset(supers) for name, supers in above.items()}
    return per_process("superclasses", compute)


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
        """Every statement about ``iri``; ValueError if it is no IRI."""
        terms: dict[str, list] = {}
        keys: dict[str, str] = {}  # each property compacted once: a graph's description names thousands of sources
        for predicate, value in statements_about(iri):
            if isinstance(value, (NamedNode, Literal)):
                key = keys.get(predicate.value)
                if key is None:
                    key = keys[predicate.value] = compact(predicate.value)
                terms.setdefault(key, []).append(value)
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


def is_mentioned(iri: str) -> bool:
    """Whether anything links to ``iri`` (a resource with no statements of its own still has a page)."""
    return bool(run("mentioned", this=iri))


def describe(iri: str) -> list:
    """The RDF twin of a resource: its own triples and the links to it; a graph's twin is the graph."""
    return sorted(set(run("graph-twin" if iri.startswith(ids.GRAPH_BASE) else "resource-twin", this=iri)), key=str)
