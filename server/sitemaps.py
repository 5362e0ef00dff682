"""What search engines may crawl: ``/robots.txt``, and the sitemaps that list every page of the record.

A journalist most often reaches a record from a search engine ("Diosdado Cabello cartel"), so every page of our
IRIs is listed in sitemaps (sitemaps.org: at most SITEMAP_URLS of them a file, the files named by an index at
``/sitemap.xml``), read from the build's page index. The query endpoint, search and the filtered views are
endless combinations of those same records (any facets, any day with ``as_of``): robots.txt asks crawlers to
leave them, and the bulk files, to people.
"""

from __future__ import annotations

from urllib.parse import quote
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, request, url_for

from kg import ids
from server.pages.record import page_index

bp = Blueprint("sitemaps", __name__)

SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"
XML_MEDIA_TYPE = "application/xml"
IRI_ASCII = "/:@!$&'()*+,;=%-._~"  # what an IRI's path may hold as it is, besides letters and digits
# The views worth a search engine's visit besides the pages of our IRIs, in the first sitemap (the ontology's page
# is its IRI's, listed with them).
VIEWS = ("home.home", "allegation_list.allegations", "contested.contested", "timeline.timeline", "network.network_page",
         "downloads.listing", "downloads.void_description")
# Every address with a query string is a view of records that have addresses of their own (facets, pages of a
# list, a sort, the record as of any day): RFC 9309's wildcard asks crawlers to leave them all.
ANY_QUERY_STRING = "/*?"
# The paths crawlers are asked to leave besides: a view's path and what follows it (its twins, its files).
NOT_FOR_CRAWLERS = (("sparql.endpoint", ""), ("search.search", ""), ("search.suggest", ""), ("reconcile.endpoint", ""),
                    ("allegation_list.allegations", "."), ("contested.contested", "."), ("timeline.timeline", "."),
                    ("network.network_page", "."), ("downloads.listing", "/"))


@bp.get("/robots.txt")
def robots():
    lines = ["# soles: every page of the record may be crawled; the sitemap lists them all. The query endpoint,",
             "# search and the filtered views are endless combinations of the same records, left to people.",
             "User-agent: *",
             f"Disallow: {ANY_QUERY_STRING}",
             *(f"Disallow: {url_for(view)}{following}" for view, following in NOT_FOR_CRAWLERS),
             "",
             f"Sitemap: {url_for('sitemaps.sitemap_index', _external=True)}",
             ""]
    return Response("\n".join(lines), mimetype="text/plain")


@bp.get("/sitemap.xml")
def sitemap_index():
    files = max(1, -(-_listed() // current_app.config["SITEMAP_URLS"]))
    entries = (f"<sitemap><loc>{escape(url_for('sitemaps.sitemap', number=number, _external=True))}</loc></sitemap>"
               for number in range(1, files + 1))
    return _xml("sitemapindex", entries)


@bp.get("/sitemap-<int:number>.xml")
def sitemap(number: int):
    """The ``number``th sitemap: the views, then the pages of our IRIs, SITEMAP_URLS a file, in IRI order."""
    size = current_app.config["SITEMAP_URLS"]
    start = (number - 1) * size
    if number < 1 or start >= _listed():
        abort(404, f"there is no sitemap {number}: {url_for('sitemaps.sitemap_index')} lists them")
    views = [url_for(view, _external=True) for view in VIEWS[start:start + size]]
    first_iri = max(start - len(VIEWS), 0)
    site = request.url_root.rstrip("/")  # as url_for writes the views: the root the site is served at
    pages = [f"{site}/{_as_uri(ids.local_path(iri))}" for iri in page_index().pages(first_iri, size - len(views))]
    return _xml("urlset", (f"<url><loc>{escape(url)}</loc></url>" for url in views + pages))


def _as_uri(path: str) -> str:
    """An IRI's path as a sitemap wants it: its characters beyond ASCII percent-encoded (RFC 3987, 3.1). An IRI
    holds no other character a URI may not hold, so our IRIs, all ASCII, are kept as they are."""
    return path if path.isascii() else quote(path, safe=IRI_ASCII)


def _listed() -> int:
    return len(VIEWS) + page_index().page_count()


def _xml(root: str, entries) -> Response:
    body = "\n".join((f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{SITEMAP_NAMESPACE}">', *entries,
                      f"</{root}>\n"))
    return Response(body, mimetype=XML_MEDIA_TYPE)
