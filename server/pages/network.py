"""The network of actors at /network: who asserts, denies or disputes allegations against whom, who is accused
together, who acts on whom; a bounded view at a time, as HTML, JSON, GraphML and GEXF; and each actor's neighbours.

The build computes the whole network once (kg.network) and indexes it (kg.list_index: actors in reading order,
relations in table order by the actors at their ends, each actor's number of neighbours for each relation and
status), so a view costs no SPARQL and reads only the actors and relations it shows. A view is the most
connected actors (the overview), or the actors named by ``actor=`` with a page of their neighbours each
(``page=``); filters (``relation=``, ``status=``, ``source=``) keep only the relations that match, and the
view's exports take the same query. Without JavaScript the page is a paged table of the view's relations;
network.js draws it as a graph.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from markupsafe import Markup

from kg import formats, ids
from kg.network import EXPORTS, RELATIONS, Export
from kg.search import folded
from server.http import HTML, choose, with_alternates
from server.pages import resources
from server.pages.fragments import network_row
from server.pages.listing import list_index, select_options
from server.pages.lists import Pager
from server.pages.render import render_page
from server.pages.resources import Ref
from server.pages.wording import agree
from server.release import per_process

bp = Blueprint("network", __name__)

JSON = formats.by_name("json")
JSON_MEDIA_TYPE = "application/json"
MAX_ACTORS = 10  # actors one view may expand: with a page of neighbours each, a view stays a few hundred nodes
FILTERS = ("relation", "status", "source")
# The filters that name a resource by the end of its IRI (``status=Charged``, ``source=fixture-report``).
NAMED_BY_IRI = MappingProxyType({"status": ids.PREFIXES["sol"], "source": ids.ENTITY_PREFIXES["source"]})
# How an actor's page names each relation it takes part in, by the side the actor is on.
PHRASES = MappingProxyType({
    ("asserts", "from"): "{name} {asserts} allegations against", ("asserts", "to"): "Allegations against {name} asserted by",
    ("denies", "from"): "{name} {denies} allegations against", ("denies", "to"): "Allegations against {name} denied by",
    ("disputes", "from"): "{name} {disputes} allegations against",
    ("disputes", "to"): "Allegations against {name} disputed by",
    ("co-accused", "from"): "Accused together with {name}",
    ("acts on", "from"): "{name} carried out events involving", ("acts on", "to"): "Carried out events involving {name}",
})
CHOICES = 200  # sources the filter offers to choose from: those the most relations are in
_CHUNK = 500  # keys per lookup: SQLite bounds the parameters of one statement


def css_class(relation: str) -> str:
    """``relation-acts-on``: the class that colours a relation (network.css maps it to the stance colours)."""
    return "relation-" + relation.replace(" ", "-")


def _marks(values) -> str:
    return ", ".join("?" * len(values))


def _keyed(columns: str, table: str, key: str, keys) -> Iterator[tuple]:
    """The ``columns`` of the rows of ``table`` whose ``key`` is one of ``keys``, asked a chunk at a time."""
    keys = sorted(set(keys))
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        yield from list_index().query(f"SELECT {columns} FROM {table} WHERE {key} IN ({_marks(chunk)})", chunk)


def actors(iris) -> dict[str, tuple[int, dict]]:
    """Each of the actors ``iris`` in the network: its number (in reading order) and its record."""
    return {iri: (number, json.loads(node)) for number, iri, node in _keyed("id, iri, node", "actors", "iri", iris)}


def actors_named(numbers) -> dict[int, tuple[str, str]]:
    """The IRIs and labels of the actors numbered ``numbers``."""
    return {number: (iri, label) for number, iri, label in
            _keyed("id, iri, json_extract(node, '$.label')", "actors", "id", numbers)}


def labels(iris) -> dict[str, str]:
    """The names the network gives the allegations, events, sources and statuses ``iris`` (those it has)."""
    return dict(_keyed("iri, label", "network_labels", "iri", iris))


class Refs:
    """The IRIs a response names, as Refs: an actor by its label, anything else by the network's name for it,
    else by itself (``labels``: IRI -> name); each made once, for a view names an actor in many relations."""

    def __init__(self, labels: dict[str, str]):
        self.labels = labels
        self.made: dict[str, Ref] = {}

    def __call__(self, iri: str) -> Ref:
        found = self.made.get(iri)
        if found is None:
            local = ids.local_path(iri)
            found = self.made[iri] = Ref(iri, "/" + local if local is not None else None, self.labels.get(iri, iri))
        return found


def choices() -> dict[str, list[tuple[str, str]]]:
    """The statuses and sources the relations name, for the filters: (value, label), in reading order;
    of the sources, the CHOICES the most relations are in (a source's page links to its own view); and how
    many sources are not offered. Read once per process."""
    def read() -> tuple[dict[str, list[tuple[str, str]]], int]:
        index = list_index()
        found = {"status": [iri for iri, in index.query("SELECT DISTINCT status FROM relations WHERE status IS NOT NULL")],
                 "source": [iri for iri, in index.query("SELECT iri FROM network_sources ORDER BY relations DESC, iri"
                                                        " LIMIT ?", (CHOICES,))]}
        named = labels(iri for iris in found.values() for iri in iris)
        offered = {field: sorted(((iri.removeprefix(NAMED_BY_IRI[field]), named.get(iri, iri)) for iri in iris),
                                 key=lambda choice: (folded(choice[1]), choice[0]))
                   for field, iris in found.items()}
        return offered, index.one("SELECT COUNT(*) FROM network_sources") - len(found["source"])
    return per_process("network choices", read)


@dataclass(frozen=True)
class Filters:
    """Which relations a view keeps: of these kinds (all if none), on allegations of this status, in this source."""

    relations: tuple[str, ...]
    status: str | None
    source: str | None

    @classmethod
    def from_request(cls) -> Filters:
        relations = tuple(request.args.getlist("relation"))
        unknown = [name for name in relations if name not in RELATIONS]
        if unknown:
            abort(400, description=f"relation: {unknown[0]!r} is none of {', '.join(RELATIONS)}")
        return cls(relations, _iri_argument("status"), _iri_argument("source"))

    @property
    def keeps_all(self) -> bool:
        return not self.relations and self.status is None and self.source is None

    def conditions(self) -> tuple[str, list]:
        """The filters as conditions on the index's relations (`` AND ...``), and their parameters."""
        sql, parameters = "", []
        if self.relations:
            sql += f" AND relation IN ({_marks(self.relations)})"
            parameters += self.relations
        for name, value in (("status", self.status), ("source", self.source)):
            if value is not None:
                sql += f" AND {name} = ?"
                parameters.append(value)
        return sql, parameters


def _iri_argument(name: str) -> str | None:
    """The IRI a filter names by the end of it, or None."""
    value = request.args.get(name, "")
    return NAMED_BY_IRI[name] + value if value else None


@dataclass(frozen=True)
class Hub:
    """An actor whose neighbours are a page at a time, and which page the view shows."""

    actor: Ref
    pager: Pager


@dataclass(frozen=True)
class View:
    """The actors and relations one request shows."""

    nodes: list[str]
    named: dict[str, str]  # the actors' labels, by IRI
    relations: tuple[str, list]  # the condition on the index's relations that keeps the view's, and its parameters
    focus: list[Ref]  # the actors asked for; none for the overview
    hubs: list[Hub]  # focus actors with more neighbours than a page
    connected: int  # in the overview, how many actors have a relation that the filters keep
    filters: Filters

    @cached_property
    def edges(self) -> list[dict]:
        """Every relation of the view (the drawing's and the exports'), in the network's order."""
        where, parameters = self.relations
        return [json.loads(edge) for edge, in list_index().query(f"SELECT edge FROM relations WHERE {where} ORDER BY n",
                                                                  parameters)]

    def count(self) -> int:
        where, parameters = self.relations
        return list_index().one(f"SELECT COUNT(*) FROM relations WHERE {where}", parameters)

    def window(self, pager: Pager) -> list[dict]:
        """The relations of the page of the table ``pager`` shows."""
        where, parameters = self.relations
        return [json.loads(edge) for edge, in list_index().query(
            f"SELECT edge FROM relations WHERE {where} ORDER BY n LIMIT {pager.size} OFFSET {pager.start}", parameters)]


def actor_path(iri: str) -> str:
    """How ``actor=`` names an actor: its address under /id/ (``person/alice-example``)."""
    return iri.removeprefix(ids.ENTITY_BASE)


def _actors_asked() -> dict[str, int]:
    """The actors ``actor=`` names, in the order named, by their numbers; 404 for one not in the network."""
    asked = request.args.getlist("actor")
    if len(asked) > MAX_ACTORS:
        abort(400, description=f"actor: a view expands at most {MAX_ACTORS} actors")
    iris = [ids.ENTITY_BASE + path for path in dict.fromkeys(asked)]
    found = actors(iris)
    for path, iri in zip(asked, iris):
        if iri not in found:
            abort(404, description=f"There is no actor {path!r} in the network.")
    return {iri: found[iri][0] for iri in iris}


def current_view() -> View:
    """The view the request asks for: the most connected actors, or the actors named with their neighbours."""
    filters = Filters.from_request()
    asked = _actors_asked()
    if not asked:
        ranked, connected = _ranking(filters, current_app.config["PAGE_SIZE"])
        return View(*_among(filters, ranked), [], [], connected, filters)
    shown, hubs = dict.fromkeys(asked.values()), []
    for iri, number in asked.items():
        ordered = _neighbours(filters, number)
        pager = Pager.of("page", len(ordered))
        shown.update(dict.fromkeys(pager.window(ordered)))
        if pager.split:
            hubs.append((iri, pager))
    view = _among(filters, list(shown))
    refer = Refs(view[1])  # the actors asked for are in the view
    return View(*view, [refer(iri) for iri in asked], [Hub(refer(iri), pager) for iri, pager in hubs], 0, filters)


def _neighbours(filters: Filters, actor: int) -> list[int]:
    """The actors related to ``actor`` by relations the filters keep, the most related first (by number)."""
    conditions, parameters = filters.conditions()
    counts = Counter(other for other, in list_index().query(
        f"SELECT b FROM relations WHERE a = ? AND b != a{conditions}"
        f" UNION ALL SELECT a FROM relations WHERE b = ? AND a != b{conditions}",
        [actor, *parameters, actor, *parameters]))
    return sorted(counts, key=lambda other: (-counts[other], other))


def _ranking(filters: Filters, limit: int) -> tuple[list[int], int]:
    """The first ``limit`` actors with a relation the filters keep, the most related first (by number), and how
    many there are: as the build ranked them for any relation or one, on allegations of any status or one; else
    counted from the relations the filters keep."""
    relations = set(filters.relations)
    if filters.source is None and (len(relations) <= 1 or relations >= set(RELATIONS)):
        key = (next(iter(relations)) if len(relations) == 1 else "", filters.status or "")
        index = list_index()
        ranked = [actor for actor, in index.query("SELECT actor FROM connected WHERE relation = ? AND status = ?"
                                                  " ORDER BY neighbours DESC, actor LIMIT ?", (*key, limit))]
        return ranked, index.one("SELECT actors FROM connected_views WHERE relation = ? AND status = ?", key) or 0
    conditions, parameters = filters.conditions()
    neighbours = defaultdict(set)
    for one, other in list_index().query(f"SELECT a, b FROM relations WHERE a != b{conditions}", parameters):
        neighbours[one].add(other)
        neighbours[other].add(one)
    ranked = sorted(neighbours, key=lambda actor: (-len(neighbours[actor]), actor))
    return ranked[:limit], len(ranked)


def _among(filters: Filters, nodes: list[int]) -> tuple[list[str], dict[str, str], tuple[str, list]]:
    """The actors ``nodes`` (by number) as IRIs, their labels (by IRI), and the condition that keeps every
    relation the filters keep between two of them (or of one with itself)."""
    named = actors_named(nodes)
    conditions, parameters = filters.conditions()
    # The unary + keeps SQLite from looking up each pair of actors in the index (thousands of lookups for a
    # view of fifty): it reads the relations from each actor and checks the other end.
    return [named[number][0] for number in nodes], dict(named.values()), (
        f"a IN ({_marks(nodes)}) AND +b IN ({_marks(nodes)}){conditions}", [*nodes, *nodes, *parameters])


# ---------------------------------------------------------------- answers


@dataclass(frozen=True)
class Representation:
    """A format a view is given in: ``name`` is its address's suffix (none for the page)."""

    name: str
    label: str
    media_type: str


PAGE = Representation("html", HTML.label, HTML.media_type)
VIEW_FORMATS = (PAGE, Representation("json", "JSON", JSON_MEDIA_TYPE),
                *(Representation(export.name, export.label, export.media_type) for export in EXPORTS))


def view_href(representation: Representation, **changes: str | None) -> str:
    """The address of this view in ``representation``, with the query of this request (``changes`` set or,
    when None, removed); the table's page is the page's own and is left out of every other."""
    args = [(key, value) for key, value in request.args.items(multi=True) if key not in changes and key != "relations"]
    args += [(key, value) for key, value in changes.items() if value is not None]
    path = "/network" if representation is PAGE else f"/network.{representation.name}"
    return path + ("?" + urlencode(args) if args else "")


def _twins() -> list[tuple[Representation, str]]:
    return [(representation, view_href(representation)) for representation in VIEW_FORMATS]


def _answer(response: Response, twins: list[tuple[Representation, str]]) -> Response:
    """``response``, naming the view's ``twins`` in ``Link`` headers."""
    return with_alternates(response, [(representation.media_type, href) for representation, href in twins])


@bp.get("/network")
def network_page():
    if choose((HTML, JSON), HTML) is JSON:
        return network_json()
    view = current_view()
    pager = Pager.of("relations", view.count())
    shown = view.window(pager)  # the network is in table order
    # The relations' actors are the view's: of the rest, the network's names.
    refer = Refs({**labels(edge[field] for edge in shown for field in LINKS if field in edge), **view.named})
    rows = Markup("".join(network_row(Row(refer, edge)) for edge in shown))  # the table's rows, written once
    twins = _twins()
    return _answer(Response(render_page(
        "network.html", twins=twins, view=view, rows=rows, rows_pager=pager,
        filters=view.filters, relations=[(name, css_class(name)) for name in RELATIONS],
        choices=_choices(), exports=twins[1:],
        data_href=twins[1][1], actor_paths=[actor_path(item.iri) for item in view.focus],
        actors_in_view=len(view.nodes), max_actors=MAX_ACTORS), mimetype=HTML.media_type), twins)


def _choices() -> dict[str, Markup]:
    """The options of the filters' selects, the chosen ones selected (a source even when it is not offered)."""
    offered, unlisted = choices()
    chosen = {field: request.args.get(field, "") for field in offered}
    named = labels(NAMED_BY_IRI[field] + value for field, value in chosen.items() if value)
    return {field: select_options(options, {chosen[field]: named.get(NAMED_BY_IRI[field] + chosen[field], chosen[field])}
                                  if chosen[field] else {},
                                  f"… {unlisted} more, each in fewer relations" if field == "source" and unlisted else "",
                                  once=f"network {field}")
            for field, options in offered.items()}


LINKS = ("allegation", "status", "event", "source", "record")  # what a relation names besides its actors


class Row:
    """One relation as the table shows it: who, the relation, whom, on what (allegation or event), where.
    A plain class with slots, as Ref is: a page makes fifty. Treat it as immutable."""

    __slots__ = ("who", "relation", "whom", "css_class", "about", "status", "source", "record")

    def __init__(self, refer: Refs, edge: dict):
        self.who, self.relation, self.whom = refer(edge["from"]), edge["relation"], refer(edge["to"])
        self.css_class = css_class(self.relation)
        self.about = refer(edge.get("allegation") or edge["event"])
        self.status = refer(edge["status"]) if "status" in edge else None
        self.source = refer(edge["source"])
        self.record = refer(edge["record"]) if "record" in edge else None


def _named(edges: list[dict]) -> dict[str, str]:
    """The names of what ``edges`` are on and where (for the drawing and the exports)."""
    return labels(edge[field] for edge in edges for field in ("allegation", "status", "event", "source") if field in edge)


@bp.get("/network.json")
def network_json():
    """The view as the drawing reads it: the network's own records of its actors and relations, the names
    of what the relations are on, and ``base``: an IRI under it is served here at ``/`` and the rest."""
    view = current_view()
    nodes = actors(view.nodes)
    return _answer(jsonify({
        "base": ids.BASE,
        "nodes": [nodes[iri][1] for iri in view.nodes],
        "edges": view.edges,
        "labels": dict(sorted(_named(view.edges).items())),
        "focus": [item.iri for item in view.focus],
        "hubs": [{"actor": hub.actor.iri, "shown": hub.pager.last, "total": hub.pager.total,
                  "next": _next_page(hub)} for hub in view.hubs],
        "connected": view.connected,
    }), _twins())


def _next_page(hub: Hub) -> str | None:
    """The address of the hub's next page of neighbours alone, under the same filters."""
    if hub.pager.next_href is None:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key in FILTERS]
    args += [("actor", actor_path(hub.actor.iri)), ("page", str(hub.pager.number + 1))]
    return url_for("network.network_json") + "?" + urlencode(args)


@bp.get("/network.<any(graphml, gexf):suffix>")
def network_export(suffix: str):
    view = current_view()
    export: Export = next(export for export in EXPORTS if export.name == suffix)
    nodes = actors(view.nodes)
    data = export.write({"nodes": [nodes[iri][1] for iri in view.nodes], "edges": view.edges,
                         "labels": _named(view.edges)})
    response = _answer(Response(data, mimetype=export.media_type), _twins())
    response.headers["Content-Disposition"] = f"attachment; filename={export.filename}"
    return response


# ---------------------------------------------------------------- an actor's neighbours


@bp.app_template_global()
def network_neighbourhood(actor: str) -> resources.Row:
    """How many actors are related to ``actor``, for its page: for each relation and side, a phrase, the count
    and the address of the network view of ``actor`` by that relation (the page's counterparts name the actors,
    the network view pages them all); the address of its network view and of its data."""
    found = list_index().query("SELECT groups, json_extract(node, '$.label') FROM neighbourhoods"
                               " JOIN actors ON actors.id = neighbourhoods.actor WHERE actors.iri = ?", (actor,))
    # "asserts from" -> how many actors: kg.list_index counted them for this page.
    groups, name = (json.loads(found[0][0]), found[0][1]) if found else ({}, actor)
    this = Ref(actor, None, name)
    verbs = {verb: agree(verb, this) for verb in ("asserts", "denies", "disputes")}
    query = urlencode({"actor": actor_path(actor)})
    rows = [resources.Row({"phrase": phrase.format(name=name, **verbs), "css_class": css_class(relation),
                           "actors": groups[f"{relation} {side}"],
                           "href": f"/network?{query}&{urlencode({'relation': relation})}"})
            for (relation, side), phrase in PHRASES.items() if f"{relation} {side}" in groups]
    # Rows, not dicts: the template reads their values as attributes.
    return resources.Row(rows=rows, href=f"/network?{query}", data_href=f"/network.json?{query}",
                         relations=[(relation, css_class(relation)) for relation in RELATIONS])
