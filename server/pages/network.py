"""The network of actors at /network: who asserts, denies or disputes allegations against whom, who is accused
together, who acts on whom; a bounded view at a time, as HTML, JSON, GraphML and GEXF; and each actor's neighbours.

The build computes the whole network once (kg.network); each process reads it once per release and keeps
it indexed by actor, so a view costs no query. A view is the most connected actors (the overview), or the
actors named by ``actor=`` with a page of their neighbours each (``page=``); filters (``relation=``,
``status=``, ``source=``) keep only the relations that match, and the view's exports take the same query.
Without JavaScript the page is a paged table of the view's relations; network.js draws it as a graph.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from markupsafe import Markup

from kg import formats, ids
from kg.network import EXPORTS, NETWORK_FILE, RELATIONS, Export
from kg.search import folded
from server.http import HTML, choose, with_alternates
from server.pages.listing import select_options
from server.pages.lists import Pager
from server.pages.render import render_page
from server.pages.resources import Ref
from server.pages.wording import agree
from server.release import current_release, per_process

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
NEIGHBOURS_LISTED = 20  # neighbours an actor's page names for each relation; the network view pages the rest


def css_class(relation: str) -> str:
    """``relation-acts-on``: the class that colours a relation (network.css maps it to the stance colours)."""
    return "relation-" + relation.replace(" ", "-")


class Network:
    """The build's network, indexed once per process: actors by IRI, the relations touching each actor and
    those between each pair of actors, the relations of each source, and each view's ranking of actors once
    asked for. Its relations are in the order the table lists them (kg.network)."""

    def __init__(self, graph: dict):
        self.nodes: dict[str, dict] = {node["id"]: node for node in graph["nodes"]}
        self.edges: list[dict] = graph["edges"]
        self.labels: dict[str, str] = graph["labels"]
        touching, by_source = defaultdict(list), defaultdict(list)
        between: dict[str, dict[str, list[int]]] = defaultdict(dict)
        for number, edge in enumerate(self.edges):
            touching[edge["from"]].append(number)
            if edge["to"] != edge["from"]:
                touching[edge["to"]].append(number)
            between[edge["from"]].setdefault(edge["to"], []).append(number)
            if edge["to"] != edge["from"]:
                between[edge["to"]].setdefault(edge["from"], []).append(number)
            by_source[edge["source"]].append(number)
        self.touching: dict[str, list[int]] = dict(touching)
        self.between = dict(between)  # actor -> each actor it has relations with -> their numbers
        self.by_source: dict[str, list[int]] = dict(by_source)
        self.reading_keys = {iri: (folded(node["label"]), iri) for iri, node in self.nodes.items()}
        self.rankings: dict[tuple, tuple[list[str], int]] = {}  # filters -> (actors, most related first; how many)
        self.neighbourhoods: dict[str, dict] = {}  # actor -> its relations grouped for its page
        self.neighbours: dict[str, list[str]] = {}  # actor -> the actors related to it, the most related first

    def ref(self, iri: str) -> Ref:
        local = ids.local_path(iri)
        label = self.nodes[iri]["label"] if iri in self.nodes else self.labels.get(iri, iri)
        return Ref(iri, "/" + local if local is not None else None, label)

    def reading_key(self, iri: str) -> tuple[str, str]:
        return self.reading_keys[iri]

    def among(self, nodes: list[str]) -> list[int]:
        """The relations between two of ``nodes`` (or of one with itself), by number, in the network's order:
        looked up pair by pair, so a view of hubs costs no more than one of the few related."""
        found = []
        for first, one in enumerate(nodes):
            related = self.between.get(one, {})
            found += (number for other in nodes[first:] if other in related for number in related[other])
        return sorted(found)

    @cached_property
    def choices(self) -> dict[str, list[tuple[str, str]]]:
        """The statuses and sources the relations name, for the filters: (value, label), in reading order;
        of the sources, the CHOICES the most relations are in (a source's page links to its own view)."""
        sources = sorted(self.by_source, key=lambda iri: (-len(self.by_source[iri]), iri))[:CHOICES]
        found = {"status": {edge["status"] for edge in self.edges if "status" in edge}, "source": set(sources)}
        return {field: sorted(((iri.removeprefix(NAMED_BY_IRI[field]), self.labels.get(iri, iri)) for iri in iris),
                              key=lambda choice: (folded(choice[1]), choice[0]))
                for field, iris in found.items()}


def network() -> Network:
    """The network of this request's release, read and indexed once per process."""
    def load():
        # The same IRIs recur in thousands of relations: one string each, not one per mention.
        return Network(json.loads((current_release().path / NETWORK_FILE).read_text(encoding="utf-8"),
                                  object_hook=_interned))
    return per_process("network", load)


def _interned(record: dict) -> dict:
    return {sys.intern(key): sys.intern(value) if isinstance(value, str) else value for key, value in record.items()}


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

    def keeps(self, edge: dict) -> bool:
        return ((not self.relations or edge["relation"] in self.relations)
                and (self.status is None or edge.get("status") == self.status)
                and (self.source is None or edge["source"] == self.source))


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
    edges: list[dict]
    numbers: list[int]  # the edges' numbers in the network
    focus: list[Ref]  # the actors asked for; none for the overview
    hubs: list[Hub]  # focus actors with more neighbours than a page
    connected: int  # in the overview, how many actors have a relation that the filters keep
    filters: Filters


def actor_path(iri: str) -> str:
    """How ``actor=`` names an actor: its address under /id/ (``person/alice-example``)."""
    return iri.removeprefix(ids.ENTITY_BASE)


def _actors_asked(graph: Network) -> list[str]:
    asked = request.args.getlist("actor")
    if len(asked) > MAX_ACTORS:
        abort(400, description=f"actor: a view expands at most {MAX_ACTORS} actors")
    iris = [ids.ENTITY_BASE + path for path in dict.fromkeys(asked)]
    for path, iri in zip(asked, iris):
        if iri not in graph.nodes:
            abort(404, description=f"There is no actor {path!r} in the network.")
    return iris


def current_view() -> View:
    """The view the request asks for: the most connected actors, or the actors named with their neighbours."""
    graph = network()
    filters = Filters.from_request()
    actors = _actors_asked(graph)
    if not actors:
        ranked, connected = _ranking(graph, filters)
        nodes = ranked[:current_app.config["PAGE_SIZE"]]
        return View(nodes, *_edges_among(graph, filters, nodes), [], [], connected, filters)
    shown, hubs = dict.fromkeys(actors), []
    for actor in actors:
        ordered = _neighbours(graph, filters, actor)
        pager = Pager.of("page", len(ordered))
        shown.update(dict.fromkeys(pager.window(ordered)))
        if pager.split:
            hubs.append(Hub(graph.ref(actor), pager))
    nodes = list(shown)
    return View(nodes, *_edges_among(graph, filters, nodes), [graph.ref(actor) for actor in actors], hubs, 0,
                filters)


def _neighbours(graph: Network, filters: Filters, actor: str) -> list[str]:
    """The actors related to ``actor`` by relations the filters keep, the most related first: of every
    relation, once per process for each actor asked for (a hub has thousands)."""
    if filters.keeps_all and actor in graph.neighbours:
        return graph.neighbours[actor]
    counts = Counter(other for number in graph.touching.get(actor, ()) if filters.keeps(edge := graph.edges[number])
                     for other in (edge["from"], edge["to"]) if other != actor)
    ordered = sorted(counts, key=lambda iri: (-counts[iri], *graph.reading_key(iri)))
    if filters.keeps_all:
        graph.neighbours[actor] = ordered
    return ordered


def _ranking(graph: Network, filters: Filters) -> tuple[list[str], int]:
    """The actors with a relation the filters keep, the most related first, and how many: ranked once per
    process for each choice of relations and status (a few dozen), and for a source from its own relations."""
    if filters.source is not None:
        return _ranked(graph, filters, graph.by_source.get(filters.source, ()))
    key = (frozenset(filters.relations), filters.status)
    if key not in graph.rankings:
        graph.rankings[key] = _ranked(graph, filters, range(len(graph.edges)))
    return graph.rankings[key]


def _ranked(graph: Network, filters: Filters, numbers) -> tuple[list[str], int]:
    neighbours = defaultdict(set)
    for number in numbers:
        edge = graph.edges[number]
        if filters.keeps(edge) and edge["from"] != edge["to"]:
            neighbours[edge["from"]].add(edge["to"])
            neighbours[edge["to"]].add(edge["from"])
    ranked = sorted(neighbours, key=lambda iri: (-len(neighbours[iri]), *graph.reading_key(iri)))
    return ranked, len(ranked)


def _edges_among(graph: Network, filters: Filters, nodes: list[str]) -> tuple[list[dict], list[int]]:
    """Every relation the filters keep between two of ``nodes``, in the network's order, and their numbers."""
    numbers = graph.among(nodes)
    if not filters.keeps_all:
        numbers = [number for number in numbers if filters.keeps(graph.edges[number])]
    return [graph.edges[number] for number in numbers], numbers


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


def _answer(response: Response) -> Response:
    return with_alternates(response, [(representation.media_type, href) for representation, href in _twins()])


@bp.get("/network")
def network_page():
    if choose((HTML, JSON), HTML) is JSON:
        return network_json()
    graph, view = network(), current_view()
    pager = Pager.of("relations", len(view.edges))
    rows = [rendered_row(graph, number) for number in pager.window(view.numbers)]  # the network is in table order
    return _answer(Response(render_page(
        "network.html", twins=_twins(), view=view, rows=rows, rows_pager=pager,
        filters=view.filters, relations=[(name, css_class(name)) for name in RELATIONS],
        choices=_choices(graph), exports=[(representation, href) for representation, href in _twins()[1:]],
        data_href=view_href(VIEW_FORMATS[1]), actor_paths=[actor_path(item.iri) for item in view.focus],
        actors_in_view=len(view.nodes), max_actors=MAX_ACTORS), mimetype=HTML.media_type))


def _choices(graph: Network) -> dict[str, Markup]:
    """The options of the filters' selects, the chosen ones selected (a source even when it is not offered)."""
    found = {}
    for field, options in graph.choices.items():
        value = request.args.get(field, "")
        unlisted = len(graph.by_source) - len(options) if field == "source" else 0
        found[field] = select_options(options, {value: graph.labels.get(NAMED_BY_IRI[field] + value, value)}
                                      if value else {}, f"… {unlisted} more, each in fewer relations" if unlisted else "",
                                      once=f"network {field}")
    return found


@dataclass(frozen=True)
class Row:
    """One relation as the table shows it: who, the relation, whom, on what (allegation or event), where."""

    who: Ref
    relation: str
    whom: Ref
    css_class: str
    about: Ref
    status: Ref | None
    source: Ref
    record: Ref | None


def rendered_row(graph: Network, number: int) -> Markup:
    """The HTML of relation ``number`` in the table, made once per process and release."""
    rendered = per_process("network rows", dict)
    if number not in rendered:
        rendered[number] = Markup(render_template("_network_row.html", row=_row(graph, graph.edges[number])))
    return rendered[number]


def _row(graph: Network, edge: dict) -> Row:
    return Row(graph.ref(edge["from"]), edge["relation"], graph.ref(edge["to"]), css_class(edge["relation"]),
               graph.ref(edge.get("allegation") or edge["event"]),
               graph.ref(edge["status"]) if "status" in edge else None, graph.ref(edge["source"]),
               graph.ref(edge["record"]) if "record" in edge else None)


@bp.get("/network.json")
def network_json():
    """The view as the drawing reads it: the network's own records of its actors and relations, the names
    of what the relations are on, and ``base``: an IRI under it is served here at ``/`` and the rest."""
    graph, view = network(), current_view()
    named = {edge[field] for edge in view.edges for field in ("allegation", "status", "event", "source") if field in edge}
    return _answer(jsonify({
        "base": ids.BASE,
        "nodes": [graph.nodes[iri] for iri in view.nodes],
        "edges": view.edges,
        "labels": {iri: graph.labels[iri] for iri in sorted(named) if iri in graph.labels},
        "focus": [item.iri for item in view.focus],
        "hubs": [{"actor": hub.actor.iri, "shown": hub.pager.last, "total": hub.pager.total,
                  "next": _next_page(hub)} for hub in view.hubs],
        "connected": view.connected,
    }))


def _next_page(hub: Hub) -> str | None:
    """The address of the hub's next page of neighbours alone, under the same filters."""
    if hub.pager.next_href is None:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key in FILTERS]
    args += [("actor", actor_path(hub.actor.iri)), ("page", str(hub.pager.number + 1))]
    return url_for("network.network_json") + "?" + urlencode(args)


@bp.get("/network.<any(graphml, gexf):suffix>")
def network_export(suffix: str):
    graph, view = network(), current_view()
    export: Export = next(export for export in EXPORTS if export.name == suffix)
    data = export.write({"nodes": [graph.nodes[iri] for iri in view.nodes], "edges": view.edges,
                         "labels": graph.labels})
    response = _answer(Response(data, mimetype=export.media_type))
    response.headers["Content-Disposition"] = f"attachment; filename={export.filename}"
    return response


# ---------------------------------------------------------------- an actor's neighbours


@bp.app_template_global()
def network_neighbourhood(actor: str) -> dict:
    """The actors related to ``actor``, for its page: for each relation and side, the first neighbours
    (the most related first) and how many more; the address of its network view and of its data. The same
    for every request: made once per process for each actor shown (a hub's takes milliseconds)."""
    graph = network()
    if actor not in graph.neighbourhoods:
        graph.neighbourhoods[actor] = _neighbourhood(graph, actor)
    return graph.neighbourhoods[actor]


def _neighbourhood(graph: Network, actor: str) -> dict:
    grouped: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for number in graph.touching.get(actor, ()):
        edge = graph.edges[number]
        # Co-accused has no direction: whichever end the actor is at, it is one row.
        side = "from" if edge["from"] == actor or edge["relation"] == "co-accused" else "to"
        grouped[edge["relation"], side][edge["to"] if edge["from"] == actor else edge["from"]] += 1
    name = graph.nodes[actor]["label"] if actor in graph.nodes else ""
    verbs = {verb: agree(verb, graph.ref(actor)) for verb in ("asserts", "denies", "disputes")}
    rows = []
    for (relation, side), phrase in PHRASES.items():
        counts = grouped.get((relation, side))
        if counts:
            ordered = sorted(counts, key=lambda iri: (-counts[iri], *graph.reading_key(iri)))
            rows.append({"phrase": phrase.format(name=name, **verbs), "class": css_class(relation),
                         "actors": [graph.ref(iri) for iri in ordered[:NEIGHBOURS_LISTED]],
                         "more": max(len(ordered) - NEIGHBOURS_LISTED, 0)})
    query = urlencode({"actor": actor_path(actor)})
    return {"rows": rows, "href": f"/network?{query}", "data_href": f"/network.json?{query}",
            "relations": [(relation, css_class(relation)) for relation in RELATIONS]}
