"""The network of actors, computed once per build: who asserts, denies or disputes an allegation against
whom, who is accused together with whom, who acts on whom in an event; as JSON for the server, GraphML and GEXF.

A network is a dict: ``nodes`` (each an actor: ``id`` its IRI, ``label``, ``kind``), ``edges`` (one per
record of a relation, in the order the server's table lists them: ``from``, ``to``, ``relation``, and the IRIs of its ``allegation`` and ``status`` or
its ``event``, its ``source`` and the attribution it comes from, ``record``) and ``labels`` (IRI -> name of
each allegation, event, source and status named). The server shows bounded views of it (server.pages.network),
written with the same ``graphml`` and ``gexf`` as the whole graph. Co-accused edges have no direction: they
run from the IRI that sorts first.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from itertools import chain
from operator import itemgetter
from pathlib import Path

from pyoxigraph import NamedNode, Store

from kg.search import folded
from kg.store import named_query_rows, run_named_query
from kg.vocab import SOL

NETWORK_FILE = "network.json"
RELATIONS = ("asserts", "denies", "disputes", "co-accused", "acts on")
STANCE_RELATIONS = {SOL.Asserts.value: "asserts", SOL.Denies.value: "denies", SOL.Disputes.value: "disputes"}
KINDS = {SOL.Person.value: "person", SOL.Organization.value: "organization", SOL.Group.value: "group"}
# What each edge says in an export, beside its relation: (attribute, the edge's field it names).
EDGE_LINKS = ("allegation", "status", "event", "source")
# An edge's fields, sorted: network() gathers each edge as their values (None for a field it has not).
EDGE_FIELDS = ("allegation", "event", "from", "record", "relation", "source", "status", "to")
NO_STATUS = (None,)  # the status of a relation on an allegation that has none, or on an event
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://www.gexf.net/1.2draft"


def network(store: Store) -> dict:
    """The whole network of the store, in a stable order (the same data gives the same bytes)."""
    kinds = {actor: KINDS[kind] for actor, kind in named_query_rows(store, "network-actors")}
    names: dict[str, tuple] = {}
    for this, rank, name in run_named_query(store, "network-names"):
        if isinstance(this, NamedNode):  # not a blank node (see the query)
            iri, ranked = this.value, (int(rank.value), name.value)
            if iri not in names or ranked < names[iri]:
                names[iri] = ranked
    # An allegation's accused and statuses, read once each rather than once per record of a relation on it
    accused: dict[str, list[str]] = {}
    for allegation, actor in named_query_rows(store, "network-accused"):
        if actor in kinds:
            accused.setdefault(allegation, []).append(actor)
    statuses: dict[str, list[str]] = {}
    for allegation, status in named_query_rows(store, "network-statuses"):
        statuses.setdefault(allegation, []).append(status)
    edges = set()  # each edge's values of EDGE_FIELDS
    for record, claimant, stance, allegation, source in named_query_rows(store, "network-stances"):
        if claimant in kinds:
            # a stance is named by its IRI (any other gives RELATIONS.index a ValueError below)
            relation = STANCE_RELATIONS.get(stance, stance)
            edges.update((allegation, None, claimant, record, relation, source, status, to)
                         for to in accused.get(allegation, ()) for status in statuses.get(allegation, NO_STATUS))
    for start, end, relation, allegation, event, source in named_query_rows(store, "network-relations"):
        if start in kinds and end in kinds:
            edges.update((allegation, event, start, None, relation, source, status, end)
                         for status in statuses.get(allegation, NO_STATUS))
    links = itemgetter(*(EDGE_FIELDS.index(field) for field in EDGE_LINKS))
    linked = set(chain.from_iterable(map(links, edges))) - {None}
    nodes = [{"id": iri, "label": names[iri][1] if iri in names else iri.rsplit("/", 1)[-1], "kind": kind}
             for iri, kind in sorted(kinds.items())]
    # each actor's place in reading order (by folded name, then IRI): numbers compare faster than names
    reading = {iri: place for place, (_, iri) in enumerate(sorted((folded(node["label"]), node["id"])
                                                                  for node in nodes))}

    def table_order(edge: dict) -> tuple:
        """Relations in the order the server's table lists them: by who, relation, whom, then what they are
        on and where (the rest of the record, its fields sorted, breaking ties), so that a view needs no sort of
        its own."""
        return (reading[edge["from"]], RELATIONS.index(edge["relation"]), reading[edge["to"]],
                edge.get("allegation") or edge["event"], edge["source"], tuple(edge.items()))
    listed = [{field: value for field, value in zip(EDGE_FIELDS, edge) if value is not None} for edge in edges]
    return {
        "nodes": nodes,
        "edges": sorted(listed, key=table_order),
        "labels": {iri: names[iri][1] for iri in sorted(linked) if iri in names},
    }


# ---------------------------------------------------------------- exports


EDGE_ATTRIBUTES = ("relation", *(name for field in EDGE_LINKS for name in (field, f"{field}_label")), "record")
NODE_ATTRIBUTES = ("label", "kind")


# The exports are written line by line, as ElementTree writes an indented tree (ET.indent, then ET.tostring
# with its declaration), byte for byte: at 1M statements building ElementTree's tree and writing it took most of
# the network's build time.


# The exports escape millions of values, few of which hold anything to escape: one search each finds those.
_TEXT_SPECIALS = re.compile("[&<>]")
_ATTRIBUTE_SPECIALS = re.compile('[&<>"\r\n\t]')


def _escaped_text(text: str) -> str:
    if _TEXT_SPECIALS.search(text) is None:
        return text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_attribute(value: str) -> str:
    if _ATTRIBUTE_SPECIALS.search(value) is None:
        return value
    return (_escaped_text(value).replace('"', "&quot;").replace("\r", "&#13;").replace("\n", "&#10;")
            .replace("\t", "&#09;"))


def _leaf(indent: str, start: str, tag: str, text: str = "") -> str:
    """The line of an element without children: ``start`` its tag and attributes, closed on itself if it has no
    ``text``."""
    return f"{indent}<{start}>{_escaped_text(text)}</{tag}>\n" if text else f"{indent}<{start} />\n"


def _parent(indent: str, start: str, tag: str, children: list[str]) -> list[str]:
    """The lines of an element with ``children`` (their lines), closed on itself if it has none."""
    return [f"{indent}<{start}>\n", *children, f"{indent}</{tag}>\n"] if children else [_leaf(indent, start, tag)]


def _xml(lines: list[str]) -> bytes:
    # one join: adding the declaration to the joined document would copy its hundred megabytes once more
    return "".join(["<?xml version='1.0' encoding='utf-8'?>\n", *lines]).encode("utf-8", "xmlcharrefreplace")


def _edge_lines(graph: dict, start: Callable[[int, dict], str], line: Callable[[str, str], str],
                end: str) -> list[str]:
    """The lines of the edges of ``graph`` in an export: for each, its ``start`` (of its number and itself), the
    lines of what the export says of it, each written by ``line`` (attribute, value), and ``end``. It says an
    edge's relation, the IRI and name of what it links to, its record; the same relations, allegations,
    statuses, events and sources recur on many edges: the lines of each are written once."""
    labels = graph["labels"]

    def link_lines(field: str) -> Callable[[str], str]:
        return cache(lambda value: line(field, value) + line(f"{field}_label", labels.get(value, value)))
    relation_lines = cache(partial(line, "relation"))
    links = {field: link_lines(field) for field in EDGE_LINKS}
    lines = []
    for number, edge in enumerate(graph["edges"]):
        lines += start(number, edge), relation_lines(edge["relation"])
        for field in EDGE_LINKS:
            if field in edge:
                lines.append(links[field](edge[field]))
        if "record" in edge:
            lines.append(line("record", edge["record"]))
        lines.append(end)
    return lines


def graphml(graph: dict) -> bytes:
    """The network ``graph`` as GraphML: directed, a node per actor (its IRI the id), an edge per record."""
    keys = [_leaf("  ", f'key id="{scope}-{name}" for="{scope}" attr.name="{name}" attr.type="string"', "key")
            for scope, names in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)) for name in names]
    nodes = [f'    <node id="{_escaped_attribute(node["id"])}">\n'
             + "".join(_leaf("      ", f'data key="node-{name}"', "data", node[name]) for name in NODE_ATTRIBUTES)
             + "    </node>\n" for node in graph["nodes"]]
    escaped = cache(_escaped_attribute)  # each actor's IRI once, not once for each of its edges

    def start(number: int, edge: dict) -> str:
        return f'    <edge id="e{number}" source="{escaped(edge["from"])}" target="{escaped(edge["to"])}">\n'

    def data(name: str, value: str) -> str:
        return _leaf("      ", f'data key="edge-{name}"', "data", value)
    edges = _edge_lines(graph, start, data, "    </edge>\n")
    return _xml([f'<graphml xmlns="{GRAPHML_NS}">\n', *keys,
                 *_parent("  ", 'graph id="soles-network" edgedefault="directed"', "graph", nodes + edges),
                 "</graphml>\n"])


def _attribute_value(name: str, value: str) -> str:
    """A GEXF ``attvalue`` line, as a node's or an edge's ``attvalues`` holds it."""
    return _leaf("          ", f'attvalue for="{name}" value="{_escaped_attribute(value)}"', "attvalue")


def _attribute_values(lines: list[str]) -> str:
    """A node's or an edge's GEXF ``attvalues`` element, of its ``attvalue`` lines."""
    return "".join(_parent("        ", "attvalues", "attvalues", lines))


def gexf(graph: dict) -> bytes:
    """The network ``graph`` as GEXF 1.2 (for Gephi): directed, the relation as each edge's label."""
    meta = _parent("  ", "meta", "meta", [
        _leaf("    ", "creator", "creator", "soles"),
        _leaf("    ", "description", "description", "Who asserts, denies or disputes allegations against whom, "
              "who is accused together, who acts on whom: claims on record, not findings")])
    declared = [line for scope, names in (("node", NODE_ATTRIBUTES[1:]), ("edge", EDGE_ATTRIBUTES))
                for line in _parent("    ", f'attributes class="{scope}"', "attributes", [
                    _leaf("      ", f'attribute id="{name}" title="{name}" type="string"', "attribute")
                    for name in names])]
    nodes = [f'      <node id="{_escaped_attribute(node["id"])}" label="{_escaped_attribute(node["label"])}">\n'
             + _attribute_values([_attribute_value("kind", node["kind"])]) + "      </node>\n"
             for node in graph["nodes"]]
    escaped = cache(_escaped_attribute)  # each actor's IRI and each relation once, not once for each edge

    def start(number: int, edge: dict) -> str:
        # an edge always has attribute values (its relation at least)
        return (f'      <edge id="{number}" source="{escaped(edge["from"])}" target="{escaped(edge["to"])}" '
                f'label="{escaped(edge["relation"])}">\n        <attvalues>\n')
    edges = _edge_lines(graph, start, _attribute_value, "        </attvalues>\n      </edge>\n")
    body = _parent("  ", 'graph defaultedgetype="directed" mode="static"', "graph",
                   [*declared, *_parent("    ", "nodes", "nodes", nodes), *_parent("    ", "edges", "edges", edges)])
    return _xml([f'<gexf xmlns="{GEXF_NS}" version="1.2">\n', *meta, *body, "</gexf>\n"])


@dataclass(frozen=True)
class Export:
    """A file format the network is exported in."""

    name: str
    label: str
    media_type: str
    write: Callable[[dict], bytes]

    @property
    def filename(self) -> str:
        return f"network.{self.name}"


EXPORTS = (Export("graphml", "GraphML", "application/graphml+xml", graphml),
           Export("gexf", "GEXF", "application/gexf+xml", gexf))


def write(store: Store, release_dir: Path) -> dict:
    """Write the network (for the server) and its exports into ``release_dir``; return what the manifest
    says of them: how many actors and relations, and each export file."""
    graph = network(store)
    (release_dir / NETWORK_FILE).write_text(json.dumps(graph, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    exports = []
    for export in EXPORTS:
        data = export.write(graph)
        (release_dir / export.filename).write_bytes(data)
        exports.append({"name": export.filename, "format": export.name, "media_type": export.media_type,
                        "description": f"The network of actors and their relations ({export.label})",
                        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return {"actors": len(graph["nodes"]), "relations": len(graph["edges"]), "files": exports}
