"""The page of an actor (a person, organization or group): what they are accused of and claim, their events."""

from __future__ import annotations

from kg.involvement import blanket_statements, own_claims
from kg.vocab import SOL
from server.pages import schema_org, timeline
from server.pages.blanket import (
    attributions_shown,
    blanket_context,
    grouped_statements,
    indexed_statements,
    mark,
)
from server.pages.counterparts import counterparts, indexed_counterparts
from server.pages.lists import BLOCKS_PER_PAGE, Pager, paged, paged_events, paged_subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import indexed_involvement, indexed_window, listed, paged_stances

# The allegations against the actor and those they speak to in words of their own are shown as blocks, with
# every voice (BLOCKS_PER_PAGE a page); those that involve them as a list. Each list's page parameter is its
# name in the page index too (kg.involvement).
BLOCKS = ("accused", "claims")
OWN = {"claims": "claimant"}  # the actor's own claims show their attributions only


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    about = indexed_involvement(iri)
    if about is not None:  # the record today: a window of each list, in page order, from the page index
        statements = indexed_statements(iri, about)
        allegations = paged_stances({}, iri, own=OWN, paged={
            name: indexed_window(about, name, name, BLOCKS_PER_PAGE) for name in BLOCKS})
        involved, pager = indexed_window(about, "involved", "involved")
        allegations["involved"] = (listed(involved), pager)
        others = indexed_counterparts(about)
    else:  # the record as of a day, from the store
        shown = attributions_shown(iri)
        blanket = blanket_statements(iri, shown.values())
        statements = grouped_statements(iri, blanket)
        claimed = own_claims(iri, shown.values(), blanket)
        pager = Pager.of("claims", len(claimed), BLOCKS_PER_PAGE)
        allegations = paged_stances({
            "accused": "?allegation sol:accused ?this .",
            "involved": "?allegation sol:involves ?this .",
        }, iri, own=OWN, paged={"claims": (pager.window(claimed), pager)}, blocks=BLOCKS)
        others = counterparts(iri, shown)
    events = paged_events({"performed": "?event sol:performedBy ?this .", "party": "?event sol:involves ?this ."}, iri,
                          indexed={"performed": "performed", "party": "party"})
    related = paged_subjects({"members": "?item sol:memberOf ?this .",
                              "published": "?item dcterms:publisher|dcterms:creator ?this ."}, iri,
                             indexed={"members": "members", "published": "published"})
    return {
        **timeline.section(iri),
        **paged("accused_in", mark(allegations["accused"], statements)),
        **paged("own_claims", mark(allegations["claims"], statements)),
        **blanket_context(statements),
        **others,
        **paged("involved_in", allegations["involved"]),
        **paged("performed", events["performed"]),
        **paged("party_to", events["party"]),
        **paged("members", related["members"]),
        **paged("published", related["published"]),
        "json_ld": actor_json_ld(resource),
    }


def actor_json_ld(resource: Resource) -> dict:
    """The actor's schema.org node, with only the properties its type has: a role is a person's job title (an
    organization's roles, "newspaper" or "news agency", have no schema.org property), and a thing belongs to nothing."""
    schema_type = schema_org.actor_type(resource.types)
    return schema_org.thing(
        resource, schema_type, alternateName=resource.values("skos:altLabel"),
        jobTitle=resource.values("sol:role") if schema_type == "Person" else None,
        sameAs=[same.href for same in resource.wikidata],
        memberOf=[schema_org.mention(group, "Organization") for group in resource.values("sol:memberOf")]
        if schema_type != "Thing" else None)


PAGE = PageKind(SOL.Actor, "actor.html", context)
