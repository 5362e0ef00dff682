"""The page of a source: what it is, and what was taken from it (allegations, stances, events)."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.lists import paged, paged_events, subjects
from server.pages.record import today_index
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import paged_stances

# The lists of allegations of a source page, and their names in the build's page index.
INDEXED = {"allegations": "source-allegations", "attributions": "source-attributions"}


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    listed = known = None
    index = today_index()
    if index is not None:  # the record today: its lists are in the page index
        about = index.lists_about(iri)
        lists = {name: about.whole(indexed) for name, indexed in INDEXED.items()}
        known = index.allegations({allegation for found in lists.values() for allegation in found})
        listed = {name: {allegation: known[allegation].label for allegation in found} for name, found in lists.items()}
    # What was taken from a source is in the graph that also holds the source's own description.
    allegations = paged_stances({
        "allegations": "GRAPH ?graph { ?allegation a sol:Allegation . ?this a sol:Source }",
        "attributions": "?attribution sol:source ?this ; sol:allegation ?allegation .",
    }, iri, own={"attributions": "source"}, listed=listed, known=known, blocks=("attributions",))
    return {
        "graphs": subjects("GRAPH ?item { ?item a sol:SourceGraph . ?this a sol:Source }", iri, indexed="graphs"),
        "summarized_by": subjects("?item sol:summarizes ?this .", iri, indexed="summarized-by"),
        **paged("allegations", allegations["allegations"]),
        **paged("attributions", allegations["attributions"]),
        **paged("events", paged_events({"events": "?event sol:source ?this ."}, iri,
                                       indexed={"events": "reported-events"})["events"]),
        "json_ld": schema_org.thing(
            resource, "NewsArticle" if resource.is_a(SOL.NewsReport) else "CreativeWork",
            headline=resource.ref.label, url=resource.value("sol:url"),
            datePublished=resource.value("dcterms:issued"), inLanguage=resource.value("dcterms:language"),
            publisher=[schema_org.mention(actor, "Organization") for actor in resource.values("dcterms:publisher")],
            author=[schema_org.actor(actor) for actor in resource.values("dcterms:creator")],
            isBasedOn=[schema_org.mention(source, "CreativeWork") for source in resource.values("sol:summarizes")]),
    }


PAGE = PageKind(SOL.Source, "source.html", context)
