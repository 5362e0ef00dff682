"""The page of a named graph: where its records come from (provenance) and what it holds, kind by kind."""

from __future__ import annotations

from kg.page_index import GRAPH_CONTENT_KINDS, graph_list
from kg.vocab import SOL
from server.pages import schema_org
from server.pages.lists import paged_subjects
from server.pages.record import rows, today_index
from server.pages.render import PageKind
from server.pages.resources import Resource, reading_order, ref


def list_name(kind) -> str:
    """The name of the list of one kind of record, its page's query parameter too: ``?allegation=2``."""
    return kind.value.split("#")[-1].lower()


def context(resource: Resource) -> dict:
    iri = resource.ref.iri
    # The reference data is derived from every source: thousands, in a large graph.
    lists = paged_subjects({"sources": "?this prov:wasDerivedFrom ?item .",
                            **{list_name(kind): f"GRAPH ?this {{ ?item a {kind} }}" for kind in GRAPH_CONTENT_KINDS}},
                           iri, indexed={"sources": "derived-from",
                                         **{list_name(kind): graph_list(kind) for kind in GRAPH_CONTENT_KINDS}})
    derived_from, derived_from_pager = lists.pop("sources")
    contents = {ref(kind.value): lists[list_name(kind)] for kind in GRAPH_CONTENT_KINDS if lists[list_name(kind)][0]}
    index = today_index()
    return {
        "contents": dict(sorted(contents.items(), key=lambda entry: reading_order(entry[0]))),
        "triples": index.graph_size(iri) if index is not None else rows("graph-size", this=iri)[0]["triples"].value,
        "derived_from": derived_from,
        "derived_from_pager": derived_from_pager,
        "json_ld": schema_org.thing(
            resource, "Dataset", dateCreated=resource.value("prov:generatedAtTime"),
            creator=[schema_org.mention(actor, "Organization") for actor in resource.values("prov:wasAttributedTo")],
            isBasedOn=[schema_org.mention(source, "CreativeWork") for source in derived_from]),
    }


PAGE = PageKind(SOL.SourceGraph, "graph.html", context)
