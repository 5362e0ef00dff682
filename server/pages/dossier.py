"""An actor's dossier: every allegation concerning them, with every voice, as a printable page, CSV and RDF.

``/dossier/<kind>/<slug>`` (an actor's IRI with ``dossier`` for ``id``) is the printable page; its twins,
by suffix or Accept, are ``.csv`` (one row per attribution concerning the actor: on an allegation against
them, or their own), ``.ttl`` and ``.jsonld`` (the dossier graph: the actor, those allegations and
attributions with their quotes, their sources and the actors they name). The page's own RDF twin
(``/id/person/x.ttl``) holds only the statements about the actor; the dossier graph is the export.
"""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, Response

from kg import formats, ids
from kg.vocab import SOL
from server.http import HTML, choose, csv_text, split_suffix, twins_of, with_alternates
from server.pages import jsonld
from server.pages.citation import ACTOR_ATTRIBUTIONS, ACTOR_SOURCES, Cited, sources_of
from server.pages.dereference import not_found
from server.pages.lists import Pager, sections
from server.pages.record import rows, run
from server.pages.render import render_page
from server.pages.resources import Resource
from server.pages.stances import Stances, indexed_involvement, paged_stances, stances

bp = Blueprint("dossier", __name__)

CSV = formats.by_name("csv")
DOSSIER_FORMATS = (HTML, CSV, formats.by_name("turtle"), jsonld.JSONLD)
# The allegations concerning an actor (list patterns of allegation-lists.rq).
CONCERNING = {
    "accused": "?allegation sol:accused ?this .",
    "claims": "?attribution sol:claimant ?this ; sol:allegation ?allegation .",
}
# The dossier graph: each list pattern binds ?item to resources whose statements it holds.
GRAPH_PARTS = {
    "actor": "BIND(?this AS ?item)",
    **{f"{name}-attributions": pattern + " BIND(?attribution AS ?item)" for name, pattern in ACTOR_ATTRIBUTIONS.items()},
    **{f"{name}-allegations": pattern + " ?attribution sol:allegation ?item ." for name, pattern in ACTOR_ATTRIBUTIONS.items()},
    **{f"{name}-sources": pattern + " ?attribution sol:source/(sol:reproduces|sol:reportsOn)? ?item ."
       for name, pattern in ACTOR_ATTRIBUTIONS.items()},
    **{f"{name}-actors": pattern + " ?attribution sol:claimant|(sol:allegation/sol:accused) ?item ."
       for name, pattern in ACTOR_ATTRIBUTIONS.items()},
}
# The allegations a page of the dossier shows of each of its lists (``?accused=2``, ``?claims=2``), with every
# voice: a hub's would print thousands; its CSV holds them all. The lists' names in the page index (kg.involvement),
# and the columns of a list's attributions that must name the actor (the actor's own statements only).
DOSSIER_PAGE = 25
INDEXED = {"accused": "accused", "claims": "speaks-to"}
OWN = {"claims": "claimant"}
CSV_COLUMNS = ("concerns", "allegation", "allegation_status", "claimant", "stance", "quote", "translation",
               "source_title", "source_url", "source_date", "source_seen_at", "source_read_on", "attribution_permalink",
               "allegation_permalink", "claimant_permalink", "source_permalink")


@bp.get("/dossier/<kind>/<name>")
def dossier(kind: str, name: str):
    slug, suffix = split_suffix(name)
    iri = f"{ids.ENTITY_BASE}{kind}/{slug}"
    if kind not in ids.ACTOR_KINDS or not ids.is_slug(slug):
        return not_found(iri)
    resource = Resource.load(iri)
    if not resource.is_a(SOL.Actor):
        return not_found(iri)
    fmt = choose(DOSSIER_FORMATS, HTML, suffix)
    path = f"dossier/{kind}/{slug}"
    twins = twins_of(path, DOSSIER_FORMATS)
    if fmt is HTML:
        response = Response(render_page("dossier.html", twins=twins, resource=resource, **contents(resource),
                                        csv_href=dict(twins)[CSV]), mimetype=HTML.media_type)
    else:
        body = dossier_csv(resource) if fmt is CSV else jsonld.serialized(dossier_graph(iri), fmt)
        response = Response(body, mimetype=fmt.media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="soles-dossier-{kind}-{slug}.{fmt.extension}"'
        if fmt is CSV:
            response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    return with_alternates(response, [(twin.media_type, href) for twin, href in twins])


@bp.app_template_global()
def dossier_exports(resource: Resource) -> list[tuple[formats.Format, str]]:
    """The dossier's page and twins for an actor's page to link to (a template global)."""
    kind, slug = ids.kind_and_slug(resource.ref.iri)
    return twins_of(f"dossier/{kind}/{slug}", DOSSIER_FORMATS)


def contents(resource: Resource, paged: bool = True) -> dict:
    """What the dossier holds (the page asked for, if ``paged``): the allegations against the actor with every
    voice on them, the actor's own statements on other allegations, each list with its Pager, and the sources
    of those shown (``source_total``: of the whole dossier)."""
    iri = resource.ref.iri
    about = indexed_involvement(iri)
    if about is not None:  # the record today: the window shown of each list, from the build's page index
        pagers = {name: _pager(name, about.size(indexed), paged) for name, indexed in INDEXED.items()}
        found = paged_stances({}, iri, own=OWN, paged={
            name: (about.window(INDEXED[name], pager.start, pager.size), pager) for name, pager in pagers.items()})
        source_total, every_source = about.size("sources"), None
    else:  # the record as of a day: every allegation from the store, then the window shown
        listed = {name: set() for name in CONCERNING}
        for row in rows("allegation-lists", lists=sections(CONCERNING, iri), this=iri):
            listed[row["section"].value].add(row["allegation"].value)
        concerning = sorted(listed["accused"] | listed["claims"])
        everything = stances(allegation=concerning) if concerning else []
        lists = {"accused": [item for item in everything if item.allegation.iri in listed["accused"]],
                 "claims": [replace(item, attributions=[row for row in item.attributions if row["claimant"].iri == iri])
                            for item in everything if item.allegation.iri not in listed["accused"]]}
        found = {}
        for name, items in lists.items():
            pager = _pager(name, len(items), paged)
            found[name] = (pager.window(items), pager)
        every_source = sources_of(iri, ACTOR_SOURCES)
        source_total = len(every_source)
    (accused, accused_pager), (claims, claims_pager) = found["accused"], found["claims"]
    cited = {row["source"].iri for item in accused + claims for row in item.attributions}
    sources = (sources_of(iri, ACTOR_SOURCES, sorted(cited)) if every_source is None
               else [source for source in every_source if source.iri in cited])
    return {
        "accused": accused,
        "accused_pager": accused_pager,
        "claims": claims,
        "claims_pager": claims_pager,
        "cited_sources": sources,
        "source_total": source_total,
        "source_by_iri": {source.iri: source for source in sources},
        "source_number": {source.iri: number for number, source in enumerate(sources, start=1)},
    }


def _pager(name: str, total: int, paged: bool) -> Pager:
    """The page asked for of the list ``name``, DOSSIER_PAGE allegations a page; or, not ``paged``, all of it."""
    return Pager.of(name, total, DOSSIER_PAGE) if paged else Pager(name, 1, max(total, 1), total)


def dossier_csv(resource: Resource) -> str:
    """One row per attribution concerning the actor, in the dossier's order; a UTF-8 byte order mark first,
    so that spreadsheets read accented names right."""
    found = contents(resource, paged=False)
    iri = resource.ref.iri
    return csv_text(CSV_COLUMNS, (csv_row(item, row, accused, iri, found["source_by_iri"])
                                  for accused, items in ((True, found["accused"]), (False, found["claims"]))
                                  for item in items for row in item.asserting + item.denying + item.disputing))


def csv_row(item: Stances, row: dict, accused: bool, actor: str, sources: dict[str, Cited]) -> list[str]:
    """The CSV row of one attribution ``row`` on ``item``, an allegation against the actor if ``accused``."""
    source = sources[row["source"].iri]  # the dossier's sources are those of its attributions
    concerns = [name for name, holds in (("accused", accused), ("claimant", row["claimant"].iri == actor)) if holds]
    texts = [", ".join(concerns), item.allegation.label, item.status and item.status.label, row["claimant"].label,
             row["stance"].label, row["quote"], row["translation"], source.title, source.url, source.date,
             source.seen_at, source.read_on, row["attribution"].iri, item.allegation.iri, row["claimant"].iri, source.iri]
    return [text or "" for text in texts]


def dossier_graph(iri: str) -> list:
    """The dossier graph of the actor ``iri``, its triples in order."""
    return sorted(set(run("dossier-graph", lists=sections(GRAPH_PARTS, iri), this=iri)), key=str)
