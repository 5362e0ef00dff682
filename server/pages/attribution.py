"""The page of an attribution: one claimant's stance on one allegation, in one source, in their words."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import stances


def context(resource: Resource) -> dict:
    allegation = resource.value("sol:allegation")
    claimant = resource.value("sol:claimant")
    source = resource.value("sol:source")
    return {
        "stances": stances(attribution=[resource.ref.iri])[0],
        "json_ld": schema_org.thing(resource, "Claim", text=resource.value("sol:quote"),
                                    author=claimant and schema_org.actor(claimant),
                                    appearance=source and schema_org.mention(source, "CreativeWork"),
                                    about=allegation and schema_org.mention(allegation, "Claim")),
    }


PAGE = PageKind(SOL.Attribution, "attribution.html", context)
