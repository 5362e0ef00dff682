"""The page of a source: what it is, and what was taken from it (allegations, stances, events)."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.lists import paged, paged_events, subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import paged_stances


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    # What was taken from a source is in the graph that also holds the source's own description.
    allegations = paged_stances({
        "allegations": "GRAPH ?graph { ?allegation a sol:Allegation . ?this a sol:Source }",
        "attributions": "?attribution sol:source ?this ; sol:allegation ?allegation .",
    }, iri, own={"attributions": "source"})
    return {
        "graphs": subjects("GRAPH ?item { ?item a sol:SourceGraph . ?this a sol:Source }", iri),
        "summarized_by": subjects("?item sol:summarizes ?this .", iri),
        **paged("allegations", allegations["allegations"]),
        **paged("attributions", allegations["attributions"]),
        **paged("events", paged_events({"events": "?event sol:source ?this ."}, iri)["events"]),
        "json_ld": schema_org.thing(
            resource, "NewsArticle" if resource.is_a(SOL.NewsReport) else "CreativeWork",
            headline=resource.ref.label, url=resource.value("sol:url"),
            datePublished=resource.value("dcterms:issued"), inLanguage=resource.value("dcterms:language"),
            publisher=[schema_org.mention(actor, "Organization") for actor in resource.values("dcterms:publisher")],
            author=[schema_org.actor(actor) for actor in resource.values("dcterms:creator")],
            isBasedOn=[schema_org.mention(source, "CreativeWork") for source in resource.values("sol:summarizes")]),
    }


PAGE = PageKind(SOL.Source, "source.html", context)
