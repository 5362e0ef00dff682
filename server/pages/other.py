"""The page of any other resource (a status statement, a concept, ...): its statements and what links to it."""

from __future__ import annotations

from server.pages import schema_org
from server.pages.render import PageKind
from server.pages.resources import Resource, reading_order, select


def context(resource: Resource) -> dict:
    return {
        "incoming": sorted((row for row in select("links-to", this=resource.ref.iri) if row["s"] is not None),
                           key=lambda row: reading_order(row["s"])),
        "json_ld": schema_org.thing(resource, "Thing"),
    }


PAGE = PageKind(None, "other.html", context)
