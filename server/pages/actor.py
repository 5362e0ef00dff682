"""The page of an actor (a person, organization or group): what they are accused of and claim, their events."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.lists import paged, paged_events, paged_subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import paged_stances


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    allegations = paged_stances({
        "accused": "?allegation sol:accused ?this .",
        "involved": "?allegation sol:involves ?this .",
        "claims": "?attribution sol:claimant ?this ; sol:allegation ?allegation .",
    }, iri, own={"claims": "claimant"})
    events = paged_events({"performed": "?event sol:performedBy ?this .", "party": "?event sol:involves ?this ."}, iri)
    related = paged_subjects({"members": "?item sol:memberOf ?this .",
                              "published": "?item dcterms:publisher|dcterms:creator ?this ."}, iri)
    return {
        **paged("accused_in", allegations["accused"]),
        **paged("involved_in", allegations["involved"]),
        **paged("own_claims", allegations["claims"]),
        **paged("performed", events["performed"]),
        **paged("party_to", events["party"]),
        **paged("members", related["members"]),
        **paged("published", related["published"]),
        "json_ld": schema_org.thing(
            resource, schema_org.actor_type(resource.types),
            alternateName=resource.values("skos:altLabel"), jobTitle=resource.values("sol:role"),
            sameAs=[same.href for same in resource.wikidata],
            memberOf=[schema_org.mention(group, "Organization") for group in resource.values("sol:memberOf")]),
    }


PAGE = PageKind(SOL.Actor, "actor.html", context)
