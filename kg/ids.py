"""The one place where the IRIs of entities, named graphs and sources are minted from slugs."""

from __future__ import annotations

import re

from pyoxigraph import NamedNode

from kg.vocab import VOCABULARY_PREFIXES

BASE = "https://w3id.org/soles/"
ENTITY_BASE = BASE + "id/"
GRAPH_BASE = BASE + "graph/"
REFERENCE_GRAPH_NAME = "reference"
ONTOLOGY_GRAPH = NamedNode(BASE + "ontology")
DATASET = NamedNode(BASE + "dataset")

ACTOR_KINDS = ("person", "organization", "group")
ENTITY_KINDS = (*ACTOR_KINDS, "place", "allegation", "attribution", "event", "source", "status", "period")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_slug(text: str) -> bool:
    return bool(SLUG_PATTERN.match(text))


def entity(kind: str, slug: str) -> NamedNode:
    if kind not in ENTITY_KINDS:
        raise ValueError(f"unknown entity kind {kind!r}")
    if not is_slug(slug):
        raise ValueError(f"{slug!r} is not a slug (lower-case letters, digits and single hyphens)")
    return NamedNode(f"{ENTITY_BASE}{kind}/{slug}")


def attribution(source_slug: str, allegation_slug: str, claimant_slug: str, stance_slug: str) -> NamedNode:
    """Attributions have no slug of their own: what they are made of identifies them."""
    parts = (source_slug, allegation_slug, claimant_slug, stance_slug)
    if not all(map(is_slug, parts)):
        raise ValueError(f"{parts!r} are not all slugs")
    return NamedNode(f"{ENTITY_BASE}attribution/{'/'.join(parts)}")


def graph(source_slug: str) -> NamedNode:
    if not is_slug(source_slug):
        raise ValueError(f"{source_slug!r} is not a slug")
    return NamedNode(GRAPH_BASE + source_slug)


REFERENCE_GRAPH = graph(REFERENCE_GRAPH_NAME)
DERIVED_GRAPH_NAME = "derived"
DERIVED_GRAPH = graph(DERIVED_GRAPH_NAME)  # what the build derives: each allegation's current status
RESERVED_GRAPH_NAMES = (REFERENCE_GRAPH_NAME, DERIVED_GRAPH_NAME)


def local_path(iri: str) -> str | None:
    """The path under BASE that an IRI of ours is served at, or None for a foreign IRI."""
    return iri[len(BASE):] if iri.startswith(BASE) else None


def last_segment(iri: str) -> str:
    """What a reader sees of an IRI without a label, and what stands for one of ours in a link: its last segment."""
    trimmed = iri.rstrip("/")
    return trimmed[max(trimmed.rfind("/"), trimmed.rfind("#")) + 1:]  # a third of a regular expression's time


def kind_and_slug(iri: str) -> tuple[str, str]:
    """(``person``, ``nicolas-maduro``) for the IRI of an entity of ours."""
    kind, _, slug = iri.removeprefix(ENTITY_BASE).partition("/")
    return kind, slug


def curie(iri: str) -> str | None:
    """``kind:slug`` for the IRI of an entity of ours (``person:nicolas-maduro``, as ENTITY_PREFIXES write it):
    an id without slashes, for tools whose links break on them (OpenRefine); None for any other IRI."""
    kind, slug = kind_and_slug(iri)
    return f"{kind}:{slug}" if iri.startswith(ENTITY_BASE) and kind in ENTITY_PREFIXES and is_slug(slug) else None


def from_curie(text: str) -> NamedNode | None:
    """The IRI that ``curie`` wrote as ``text``, or None if ``text`` is no such id."""
    kind, colon, slug = text.partition(":")
    return entity(kind, slug) if colon and kind in ENTITY_PREFIXES and is_slug(slug) else None


ENTITY_PREFIXES = {kind: f"{ENTITY_BASE}{kind}/" for kind in ENTITY_KINDS if kind != "attribution"}
PREFIXES = {**VOCABULARY_PREFIXES, **ENTITY_PREFIXES, "graph": GRAPH_BASE}
