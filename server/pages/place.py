"""The page of a place: the places within it, the actors from it, the allegations and events there."""

from __future__ import annotations

from kg.vocab import SCHEMA, SOL
from server.pages import schema_org, timeline
from server.pages.lists import paged, paged_events, paged_subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import indexed_involvement, indexed_window, listed, paged_stances


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    about = indexed_involvement(iri)
    if about is not None:  # the record today: the page shown, from the page index (kg.involvement)
        shown, pager = indexed_window(about, "at", "allegations")
        allegations = (listed(shown), pager)
    else:  # as of a day, from the store
        allegations = paged_stances({"allegations": "?allegation sol:place ?this ."}, iri)["allegations"]
    related = paged_subjects({"contains": "?item sol:partOf ?this .",
                              "actors": "?item a sol:Actor ; sol:country ?this ."}, iri,
                             indexed={"contains": "contains", "actors": "actors"})
    return {
        **timeline.section(iri),
        # Our data types places with schema.org's Country, City or Place; its last word reads well.
        "place_kinds": [kind.iri[len(SCHEMA.base):] for kind in resource.kinds if kind.iri.startswith(SCHEMA.base)],
        **paged("contains", related["contains"]),
        **paged("actors", related["actors"]),
        **paged("allegations", allegations),
        **paged("events", paged_events({"events": "?event sol:place ?this ."}, iri,
                                       indexed={"events": "events-at"})["events"]),
        "json_ld": schema_org.thing(
            resource, "Place", sameAs=[same.href for same in resource.wikidata],
            containedInPlace=[schema_org.mention(place, "Place") for place in resource.values("sol:partOf")]),
    }


PAGE = PageKind(SOL.Place, "place.html", context)
