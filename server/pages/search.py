"""Label search at /search: resources whose names hold every word asked for, as HTML or JSON."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from kg import formats
from kg.search import SEARCH_INDEX, find_names, folded
from server.db import current_release
from server.http import HTML, choose
from server.pages.render import render_page
from server.pages.resources import label_of, ref

bp = Blueprint("search", __name__)

JSON = formats.by_name("json")
MAX_SEARCH_RESULTS = 50


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()
    fmt = choose((HTML, JSON), HTML)
    results = search_results(query)
    if fmt is JSON:
        response = jsonify({"query": query, "results": results})
    else:
        response = Response(render_page("search.html", search_query=query, results=results), mimetype=HTML.media_type)
    response.vary.add("Accept")
    return response


def search_results(query: str) -> list[dict]:
    """Resources with a label or alias holding every word of ``query``, ignoring case and accents.

    Exact names first, then names starting with the query, then the rest, each in reading order.
    """
    words = folded(query).split()
    if not words:
        return []
    matches: dict[str, tuple] = {}
    for name, iri, kind, original in find_names(current_release().path / SEARCH_INDEX, words):
        rank = 0 if name == " ".join(words) else 1 if name.startswith(words[0]) else 2
        if iri not in matches or rank < matches[iri][0]:
            matches[iri] = (rank, name, iri, kind, original)
    # Ranked by the matching name first, which needs no label: only the results shown are labelled.
    best = sorted(matches.values())[:MAX_SEARCH_RESULTS]
    items = [(ref(iri), kind, original) for _, _, iri, kind, original in best]
    return [{"iri": item.iri, "label": item.label, "type": label_of(kind), "url": item.href,
             **({"matched": original} if folded(original) != folded(item.label) else {})}
            for item, kind, original in items]
