"""The page of a source: what it is, and what was taken from it (allegations, stances, events)."""

from __future__ import annotations

from kg.vocab import SOL
from server.pages import schema_org
from server.pages.lists import BLOCKS_PER_PAGE, lists_about, paged, paged_events, subjects
from server.pages.render import PageKind
from server.pages.resources import Resource
from server.pages.stances import indexed_window, listed, paged_stances

# The lists of allegations of a source page, and their names in the build's page index.
INDEXED = {"allegations": "source-allegations", "attributions": "source-attributions"}
OWN = {"attributions": "source"}  # the attributions list shows those made in this source only


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    about = lists_about(iri)
    if about is not None:  # the record today: the page shown of each list, from the page index
        allegations = paged_stances({}, iri, own=OWN, paged={
            "attributions": indexed_window(about, INDEXED["attributions"], "attributions", BLOCKS_PER_PAGE)})
        shown, pager = indexed_window(about, INDEXED["allegations"], "allegations")
        allegations["allegations"] = (listed(shown), pager)
    else:  # the record as of a day, from the store
        # What was taken from a source is in the graph that also holds the source's own description.
        allegations = paged_stances({
            "allegations": "GRAPH ?graph { ?allegation a sol:Allegation . ?this a sol:Source }",
            "attributions": "?attribution sol:source ?this ; sol:allegation ?allegation .",
        }, iri, own=OWN, blocks=("attributions",))
    return {
        "graphs": subjects("GRAPH ?item { ?item a sol:SourceGraph . ?this a sol:Source }", iri, indexed="graphs"),
        "summarized_by": subjects("?item sol:summarizes ?this .", iri, indexed="summarized-by"),
        # A document the editors could not read themselves points to the copies and reports they quote instead.
        "reproduced_by": subjects("?item sol:reproduces ?this .", iri, indexed="reproduced-by"),
        "reported_on_by": subjects("?item sol:reportsOn ?this .", iri, indexed="reported-on-by"),
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
            isBasedOn=[schema_org.mention(source, "CreativeWork")
                       for source in (*resource.values("sol:summarizes"), *resource.values("sol:reproduces"))]),
    }


PAGE = PageKind(SOL.Source, "source.html", context)
