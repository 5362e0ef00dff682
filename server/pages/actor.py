"""The page of an actor (a person, organization or group): what they are accused of and claim, their events."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org, timeline
from server.pages.blanket import (
    attributions_shown,
    blanket_statements,
    mark,
    own_claims_window,
)
from server.pages.counterparts import counterparts
from server.pages.lists import paged, paged_events, paged_subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import involvement, paged_stances


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    today = involvement(iri)
    shown = attributions_shown(iri, today)
    statements = blanket_statements(iri, shown)
    statement_of = statements["statement_of"]
    allegations = paged_stances({
        "accused": "?allegation sol:accused ?this .",
        "involved": "?allegation sol:involves ?this .",
    }, iri, own={"claims": "claimant"}, paged={"claims": own_claims_window(iri, shown, statement_of)},
        listed={"accused": today.listed("accused"), "involved": today.listed("involves")} if today else None,
        known=today.entries if today else None, blocks=("accused",))
    events = paged_events({"performed": "?event sol:performedBy ?this .", "party": "?event sol:involves ?this ."}, iri,
                          indexed={"performed": "performed", "party": "party"})
    related = paged_subjects({"members": "?item sol:memberOf ?this .",
                              "published": "?item dcterms:publisher|dcterms:creator ?this ."}, iri,
                             indexed={"members": "members", "published": "published"})
    return {
        **timeline.section(iri),
        **paged("accused_in", mark(allegations["accused"], statement_of)),
        **paged("own_claims", mark(allegations["claims"], statement_of)),
        **statements,
        **counterparts(iri, shown, today),
        **paged("involved_in", allegations["involved"]),
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
