"""Search: /search ranks names, aliases, titles, summaries and quotes from the build's index (HTML or JSON) and,
when nothing matches, says what was searched and what to try; /suggest completes names as one types.

Every lookup is in the index the build wrote (kg.search); a request runs no SPARQL query.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, jsonify, request
from markupsafe import Markup
from pyoxigraph import Literal

from kg import formats, ids
from kg.search import (
    KIND_NAMES,
    KINDS,
    MAX_WORDS,
    SEARCH_INDEX,
    WORD,
    Hit,
    Query,
    SearchIndex,
    folded,
)
from server.http import HTML, choose, with_alternates
from server.pages.escaping import escaped
from server.pages.lists import Pager
from server.pages.record import query_text
from server.pages.render import render_page
from server.pages.resources import label_of
from server.release import current_release, per_process

bp = Blueprint("search", __name__)

JSON = formats.by_name("json")
SUGGESTIONS = 8  # names offered as one types, unless the client asks for up to MAX_SUGGESTIONS
MAX_SUGGESTIONS = 20
SNIPPET_LENGTH = 160  # characters of a long summary shown around the words that matched
FEWER_WORDS_UP_TO = 8  # for longer queries, leaving out each word in turn would be too many searches
EXAMPLES = 3  # names shown with a query suggested instead
PLURALS = {kind.name: kind.plural for kind in KINDS}


@dataclass(frozen=True)
class Result:
    """A resource found, as a reader sees it: its label and kind, and the text that matched if not the label."""

    hit: Hit
    words: tuple[str, ...]

    @property
    def url(self) -> str:
        return "/" + ids.local_path(self.hit.iri)

    @property
    def type(self) -> str:
        return label_of(self.hit.cls)

    @property
    def matched_label(self) -> bool:
        return self.hit.field in ("name", "title") and self.hit.text == self.hit.label

    @property
    def snippet(self) -> Markup:
        """The text that matched, escaped, its words that match the query in <mark>; around the first of them
        when it is long."""
        text = self.hit.text
        spans = [found.span() for found in WORD.finditer(text)
                 if folded(found.group()).startswith(self.words)]
        start, end = 0, len(text)
        if len(text) > SNIPPET_LENGTH:
            first = spans[0][0] if spans else 0
            start = max(0, text.rfind(" ", 0, max(0, first - SNIPPET_LENGTH // 3)) + 1)
            end = text.find(" ", start + SNIPPET_LENGTH)
            end = len(text) if end < 0 else end
        # Joined as plain strings, each piece escaped, and marked safe once: Markup.format per word is slow.
        parts, position = ["…" if start else ""], start
        for span_start, span_end in spans:
            if start <= span_start and span_end <= end:
                parts += [escaped(text[position:span_start]), "<mark>", escaped(text[span_start:span_end]), "</mark>"]
                position = span_end
        parts += [escaped(text[position:end]), "…" if end < len(text) else ""]
        return Markup("".join(parts))

    def as_json(self) -> dict:
        found = {"iri": self.hit.iri, "label": self.hit.label, "type": self.type, "url": self.url}
        if not self.matched_label:
            found["matched"] = {"field": self.hit.field, "text": self.hit.text}
        return found


@bp.get("/search")
def search():
    text = request.args.get("q", "").strip()
    kind = chosen_kind()
    fmt = choose((HTML, JSON), HTML)
    query = checked(Query(text))
    index = search_index()
    ranking = index.ranking(query)
    counts, shown = ranking.counts, ranking.total(kind)
    pager = Pager.of("page", shown)
    results = [Result(hit, tuple(query.words))
               for hit in index.hits(ranking.codes(kind, pager.start, pager.start + pager.size))]
    alternatives = instead(index, query, kind, ranking.total()) if query and not shown else []
    sparql = sparql_search(text) if text and not shown else None
    json_href = "/search?" + urlencode({"q": text, **({"kind": kind} if kind else {}), "format": "json"})
    if fmt is JSON:
        response = jsonify({"query": text, "kind": kind, "total": shown,
                            "kinds": {name: counts[name] for name in KIND_NAMES if counts[name]},
                            "page": pager.number, "results": [result.as_json() for result in results],
                            "alternatives": alternatives, **({"sparql": sparql} if sparql else {})})
    else:
        page = render_page("search.html", search_query=text, kind=kind, kinds=KINDS, plurals=PLURALS, counts=counts,
                           total=ranking.total(), results=results, pager=pager, alternatives=alternatives, sparql=sparql,
                           searched_words=query.words, json_href=json_href,
                           result_formats=formats.RESULTS_FORMATS)
        response = Response(page, mimetype=HTML.media_type)
    if not text:
        response.vary.add("Accept")
        return response
    return with_alternates(response, [("application/json", json_href)])


@bp.get("/suggest")
def suggest():
    """Names, aliases and titles starting with the words typed, best first, for the search boxes (JSON)."""
    text = request.args.get("q", "").strip()
    limit = request.args.get("limit", str(SUGGESTIONS))
    if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_SUGGESTIONS):
        abort(400, description=f"limit: a number from 1 to {MAX_SUGGESTIONS}")
    query = checked(Query(text))
    hits = search_index().search(query, limit=int(limit), labels_only=True)
    return jsonify({"query": text, "suggestions": [Result(hit, tuple(query.words)).as_json() for hit in hits]})


def search_index() -> SearchIndex:
    """The build's search index of this request's release: one read-only connection per thread and release, kept
    for the next requests (opening and closing one costs as much as ranking a rare word), closed with the release
    when the process forgets it."""
    connections = per_process("search index connections", threading.local)
    index = getattr(connections, "index", None)
    if index is None:
        index = connections.index = SearchIndex(current_release().path / SEARCH_INDEX)
    return index


def chosen_kind() -> str | None:
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KIND_NAMES:
        abort(400, description=f"kind: one of {', '.join(KIND_NAMES)}")
    return kind


def checked(query: Query) -> Query:
    if query.too_long:
        abort(400, description=f"q: at most {MAX_WORDS} different words")
    return query


def instead(index: SearchIndex, query: Query, kind: str | None, total: int) -> list[dict]:
    """Searches that find something when ``query`` (among ``kind``) finds nothing: the same words among every
    kind, the words spelt as the index spells the closest ones, and the query less one word."""
    tried = []
    if kind is not None and total:
        tried.append(("in every kind", query.phrase, None))
    corrected = [index.closest_word(word) or word for word in query.words]
    if corrected != query.words:
        tried.append(("spelt as in the record", " ".join(corrected), kind))
    if 1 < len(query.words) <= FEWER_WORDS_UP_TO:
        tried += [(f"without “{word}”", " ".join(other for other in query.words if other != word), kind)
                  for word in query.words]
    alternatives = []
    for reason, text, among in tried:
        ranking = index.ranking(Query(text))
        if ranking.total(among):
            alternatives.append({"reason": reason, "query": text, "kind": among, "total": ranking.total(among),
                                 "examples": [hit.label for hit in index.hits(ranking.codes(among, 0, EXAMPLES))],
                                 "href": "/search?" + urlencode({"q": text, **({"kind": among} if among else {})})})
    return alternatives


def sparql_search(text: str) -> str:
    """A query for every text containing ``text`` (case ignored), for the reader to run and change."""
    return query_text("search-literals", words=Literal(text.casefold()))
