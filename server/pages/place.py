"""The page of a place: the places within it, the actors from it, the allegations and events there."""

from __future__ import annotations

from kg.vocab import SCHEMA, SOL
from server.pages import schema_org, timeline
from server.pages.lists import paged, paged_events, paged_subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import involvement, paged_stances


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    today = involvement(iri)
    related = paged_subjects({"contains": "?item sol:partOf ?this .",
                              "actors": "?item a sol:Actor ; sol:country ?this ."}, iri,
                             indexed={"contains": "contains", "actors": "actors"})
    return {
        **timeline.section(iri),
        # Our data types places with schema.org's Country, City or Place; its last word reads well.
        "place_kinds": [kind.iri[len(SCHEMA.base):] for kind in resource.kinds if kind.iri.startswith(SCHEMA.base)],
        **paged("contains", related["contains"]),
        **paged("actors", related["actors"]),
        **paged("allegations", paged_stances({"allegations": "?allegation sol:place ?this ."}, iri,
                                             listed={"allegations": today.listed("places")} if today else None,
                                             known=today.entries if today else None)["allegations"]),
        **paged("events", paged_events({"events": "?event sol:place ?this ."}, iri,
                                       indexed={"events": "events-at"})["events"]),
        "json_ld": schema_org.thing(
            resource, "Place", sameAs=[same.href for same in resource.wikidata],
            containedInPlace=[schema_org.mention(place, "Place") for place in resource.values("sol:partOf")]),
    }


PAGE = PageKind(SOL.Place, "place.html", context)
