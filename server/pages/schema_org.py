"""The schema.org description each page embeds as JSON-LD, for search engines and other readers of the web."""

from __future__ import annotations

import json

from flask import request
from markupsafe import Markup

from kg import ids
from kg.vocab import SOL
from server.pages.resources import Ref, Resource


def thing(resource: Resource, schema_type: str, **extra) -> dict:
    """The schema.org node of a page's resource; ``extra`` properties without a value are left out."""
    node = {"@context": "https://schema.org", "@type": schema_type, "@id": resource.ref.iri,
            "name": resource.ref.label, "url": request.url_root.rstrip("/") + resource.ref.href}
    description = resource.value("dcterms:description")
    if description:
        node["description"] = description
    return node | {key: value for key, value in extra.items() if value}


def mention(item: Ref, schema_type: str = "Thing") -> dict:
    """Another resource, as a page's node names it."""
    return {"@type": schema_type, "@id": item.iri, "name": item.label}


def actor_type(types: set[str]) -> str:
    """The schema.org type of an actor of these classes."""
    if SOL.Person.value in types:
        return "Person"
    # An unnamed group ("U.S. officials") is not an organization; schema.org has no closer type.
    return "Organization" if SOL.Organization.value in types else "Thing"


# The schema.org type of our actors by the kind their IRIs are minted with (kg.ids.entity: an actor's kind is
# its class), so that naming them needs no query; any other IRI is a thing.
ACTOR_KIND_TYPES = {"person": "Person", "organization": "Organization", "group": "Thing"}


def actor(item: Ref) -> dict:
    """An actor a page names, typed as a person, an organization or a thing."""
    kind, _ = ids.kind_and_slug(item.iri)
    return mention(item, ACTOR_KIND_TYPES.get(kind, "Thing") if item.iri.startswith(ids.ENTITY_BASE) else "Thing")


def script(data: dict) -> Markup:
    """A JSON-LD block that data cannot break out of: no '<', '>' or '&' survive as such."""
    # On one line: json.dumps indents in Python, which costs a page more than its whole schema.org node.
    text = json.dumps(data, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/ld+json">\n{text}\n</script>')
