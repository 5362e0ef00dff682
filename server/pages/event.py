"""The page of an event: when and where, who carried it out, who else took part, its source."""

from __future__ import annotations

from decimal import Decimal

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.render import PageKind
from server.pages.resources import Resource


def context(resource: Resource) -> dict:
    amount, currency = resource.value("sol:amount"), resource.value("sol:currency")
    source = resource.value("sol:source")
    return {
        "amount": amount and f"{Decimal(amount):,} {currency or ''}".strip(),
        "json_ld": schema_org.thing(
            resource, "Event", startDate=resource.value("sol:date"),
            organizer=[schema_org.actor(actor) for actor in resource.values("sol:performedBy")],
            attendee=[schema_org.actor(actor) for actor in resource.values("sol:involves")],
            location=[schema_org.mention(place, "Place") for place in resource.values("sol:place")],
            subjectOf=source and schema_org.mention(source, "CreativeWork")),
    }


PAGE = PageKind(SOL.Event, "event.html", context)
