"""The page of an allegation: who asserts, denies or disputes it, how its case moved, related events."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org, timeline
from server.pages.lists import paged, paged_events
from server.pages.render import PageKind
from server.pages.resources import Resource, reading_order
from server.pages.stances import Stances, stances, status_course


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    found = next(iter(stances(allegation=[iri])), None)
    if found is None:  # on record, but not yet as of ?as_of=
        found = Stances(resource.ref, None, None)
    attributions = found.asserting + found.denying + found.disputing
    return {
        **timeline.section(iri),
        "stances": found,
        "course": status_course([iri]),
        **paged("related_events", paged_events({"events": "?event sol:relatedAllegation ?this ."}, iri,
                                               indexed={"events": "related-events"})["events"]),
        "json_ld": schema_org.thing(
            resource, "Claim",
            author=[schema_org.actor(row["claimant"]) for row in found.asserting],
            about=[schema_org.actor(accused) for accused in resource.values("sol:accused")],
            appearance=[schema_org.mention(source, "CreativeWork")
                        for source in sorted({row["source"] for row in attributions}, key=reading_order)]),
    }


PAGE = PageKind(SOL.Allegation, "allegation.html", context)
