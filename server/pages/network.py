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
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for

from kg import formats, ids
from kg.network import EXPORTS, NETWORK_FILE, RELATIONS, Export
from kg.search import folded
from server.http import HTML, choose, with_alternates
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
NEIGHBOURS_LISTED = 20  # neighbours an actor's page names for each relation; the network view pages the rest


def css_class(relation: str) -> str:
    """``relation-acts-on``: the class that colours a relation (network.css maps it to the stance colours)."""
    return "relation-" + relation.replace(" ", "-")


class Network:
    """The build's network, indexed: actors by IRI, and the relations touching each actor."""

    def __init__(self, graph: dict):
        self.nodes: dict[str, dict] = {node["id"]: node for node in graph["nodes"]}
        self.edges: list[dict] = graph["edges"]
        self.labels: dict[str, str] = graph["labels"]
        touching = defaultdict(list)
        for number, edge in enumerate(self.edges):
            touching[edge["from"]].append(number)
            if edge["to"] != edge["from"]:
                touching[edge["to"]].append(number)
        self.touching: dict[str, list[int]] = dict(touching)
        self.reading_keys = {iri: (folded(node["label"]), iri) for iri, node in self.nodes.items()}

    def ref(self, iri: str) -> Ref:
        local = ids.local_path(iri)
        label = self.nodes[iri]["label"] if iri in self.nodes else self.labels.get(iri, iri)
        return Ref(iri, "/" + local if local is not None else None, label)

    def reading_key(self, iri: str) -> tuple[str, str]:
        return self.reading_keys[iri]

    def table_order(self, edge: dict) -> tuple:
        """Relations as the table lists them: by who, relation, whom, then what they are on and where."""
        return (self.reading_keys[edge["from"]], RELATIONS.index(edge["relation"]), self.reading_keys[edge["to"]],
                edge.get("allegation") or edge["event"], edge["source"])

    @cached_property
    def choices(self) -> dict[str, list[tuple[str, str]]]:
        """The statuses and sources the relations name, for the filters: (value, label), in reading order."""
        found = {field: {edge[field] for edge in self.edges if field in edge} for field in NAMED_BY_IRI}
        return {field: sorted(((iri.removeprefix(NAMED_BY_IRI[field]), self.labels.get(iri, iri)) for iri in iris),
                              key=lambda choice: (folded(choice[1]), choice[0]))
                for field, iris in found.items()}


def network() -> Network:
    """The network of this request's release, read and indexed once per process."""
    def load():
        return Network(json.loads((current_release().path / NETWORK_FILE).read_text(encoding="utf-8")))
    return per_process("network", load)


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
        neighbours = defaultdict(set)
        for edge in graph.edges:
            if filters.keeps(edge) and edge["from"] != edge["to"]:
                neighbours[edge["from"]].add(edge["to"])
                neighbours[edge["to"]].add(edge["from"])
        ranked = sorted(neighbours, key=lambda iri: (-len(neighbours[iri]), *graph.reading_key(iri)))
        nodes = ranked[:current_app.config["PAGE_SIZE"]]
        return View(nodes, _edges_among(graph, filters, nodes), [], [], len(ranked), filters)
    shown, hubs = dict.fromkeys(actors), []
    for actor in actors:
        counts = Counter(other for number in graph.touching.get(actor, ()) if filters.keeps(edge := graph.edges[number])
                         for other in (edge["from"], edge["to"]) if other != actor)
        ordered = sorted(counts, key=lambda iri: (-counts[iri], *graph.reading_key(iri)))
        pager = Pager.of("page", len(ordered))
        shown.update(dict.fromkeys(pager.window(ordered)))
        if pager.split:
            hubs.append(Hub(graph.ref(actor), pager))
    nodes = list(shown)
    return View(nodes, _edges_among(graph, filters, nodes), [graph.ref(actor) for actor in actors], hubs, 0, filters)


def _edges_among(graph: Network, filters: Filters, nodes: list[str]) -> list[dict]:
    """Every relation the filters keep between two of ``nodes``, in the network's order."""
    among = set(nodes)
    numbers = {number for node in nodes for number in graph.touching.get(node, ())
               if graph.edges[number]["from"] in among and graph.edges[number]["to"] in among}
    return [graph.edges[number] for number in sorted(numbers) if filters.keeps(graph.edges[number])]


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
    rows = [_row(graph, edge) for edge in pager.window(sorted(view.edges, key=graph.table_order))]
    return _answer(Response(render_page(
        "network.html", twins=_twins(), view=view, rows=rows, rows_pager=pager,
        filters=view.filters, relations=[(name, css_class(name)) for name in RELATIONS],
        choices=graph.choices, exports=[(representation, href) for representation, href in _twins()[1:]],
        data_href=view_href(VIEW_FORMATS[1]), actor_paths=[actor_path(item.iri) for item in view.focus],
        actors_in_view=len(view.nodes), max_actors=MAX_ACTORS), mimetype=HTML.media_type))


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
    (the most related first) and how many more; the address of its network view and of its data."""
    graph = network()
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
