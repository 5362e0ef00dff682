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
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pyoxigraph import NamedNode, Store

from kg.search import folded
from kg.store import run_named_query
from kg.vocab import SOL

NETWORK_FILE = "network.json"
RELATIONS = ("asserts", "denies", "disputes", "co-accused", "acts on")
NEIGHBOURS_LISTED = 20  # neighbours an actor's page names for each relation; the network view pages the rest
STANCE_RELATIONS = {SOL.Asserts.value: "asserts", SOL.Denies.value: "denies", SOL.Disputes.value: "disputes"}
KINDS = {SOL.Person.value: "person", SOL.Organization.value: "organization", SOL.Group.value: "group"}
# What each edge says in an export, beside its relation: (attribute, the edge's field it names).
EDGE_LINKS = ("allegation", "status", "event", "source")
GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://www.gexf.net/1.2draft"


def network(store: Store) -> dict:
    """The whole network of the store, in a stable order (the same data gives the same bytes)."""
    kinds = {row["actor"].value: KINDS[row["kind"].value] for row in run_named_query(store, "network-actors")}
    names: dict[str, tuple] = {}
    for row in run_named_query(store, "network-names"):
        ranked = (int(row["rank"].value), row["name"].value)
        names[row["this"].value] = min(ranked, names.get(row["this"].value, ranked))
    edges = set()
    for row in run_named_query(store, "network-relations"):
        relation = row["relation"]
        edge = {"from": row["from"].value, "to": row["to"].value,
                "relation": STANCE_RELATIONS[relation.value] if isinstance(relation, NamedNode) else relation.value,
                **{field: row[field].value for field in (*EDGE_LINKS, "record") if row[field] is not None}}
        if edge["from"] in kinds and edge["to"] in kinds:
            edges.add(tuple(sorted(edge.items())))
    linked = {value for edge in edges for field, value in edge if field in EDGE_LINKS}
    nodes = [{"id": iri, "label": names[iri][1] if iri in names else iri.rsplit("/", 1)[-1], "kind": kind}
             for iri, kind in sorted(kinds.items())]
    reading = {node["id"]: (folded(node["label"]), node["id"]) for node in nodes}

    def table_order(edge: tuple) -> tuple:
        """Relations in the order the server's table lists them: by who, relation, whom, then what they are
        on and where (the rest of the record breaking ties), so that a view needs no sort of its own."""
        found = dict(edge)
        return (reading[found["from"]], RELATIONS.index(found["relation"]), reading[found["to"]],
                found.get("allegation") or found["event"], found["source"], edge)
    return {
        "nodes": nodes,
        "edges": [dict(edge) for edge in sorted(edges, key=table_order)],
        "labels": {iri: names[iri][1] for iri in sorted(linked) if iri in names},
    }


# ---------------------------------------------------------------- exports


def _edge_attributes(edge: dict, labels: dict[str, str]) -> dict[str, str]:
    """What an export says of an edge: its relation, and the IRI and name of what it links to."""
    found = {"relation": edge["relation"]}
    for field in EDGE_LINKS:
        if field in edge:
            found[field] = edge[field]
            found[f"{field}_label"] = labels.get(edge[field], edge[field])
    if "record" in edge:
        found["record"] = edge["record"]
    return found


EDGE_ATTRIBUTES = ("relation", *(name for field in EDGE_LINKS for name in (field, f"{field}_label")), "record")
NODE_ATTRIBUTES = ("label", "kind")


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def graphml(graph: dict) -> bytes:
    """The network ``graph`` as GraphML: directed, a node per actor (its IRI the id), an edge per record."""
    root = ET.Element("graphml", xmlns=GRAPHML_NS)
    for scope, names in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name in names:
            ET.SubElement(root, "key", {"id": f"{scope}-{name}", "for": scope, "attr.name": name,
                                        "attr.type": "string"})
    body = ET.SubElement(root, "graph", id="soles-network", edgedefault="directed")
    for node in graph["nodes"]:
        element = ET.SubElement(body, "node", id=node["id"])
        for name in NODE_ATTRIBUTES:
            ET.SubElement(element, "data", key=f"node-{name}").text = node[name]
    for number, edge in enumerate(graph["edges"]):
        element = ET.SubElement(body, "edge", id=f"e{number}", source=edge["from"], target=edge["to"])
        for name, value in _edge_attributes(edge, graph["labels"]).items():
            ET.SubElement(element, "data", key=f"edge-{name}").text = value
    return _xml(root)


def gexf(graph: dict) -> bytes:
    """The network ``graph`` as GEXF 1.2 (for Gephi): directed, the relation as each edge's label."""
    root = ET.Element("gexf", xmlns=GEXF_NS, version="1.2")
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "creator").text = "soles"
    ET.SubElement(meta, "description").text = ("Who asserts, denies or disputes allegations against whom, who is "
                                               "accused together, who acts on whom: claims on record, not findings")
    body = ET.SubElement(root, "graph", defaultedgetype="directed", mode="static")
    for scope, names in (("node", NODE_ATTRIBUTES[1:]), ("edge", EDGE_ATTRIBUTES)):
        declared = ET.SubElement(body, "attributes", {"class": scope})
        for name in names:
            ET.SubElement(declared, "attribute", id=name, title=name, type="string")
    nodes = ET.SubElement(body, "nodes")
    for node in graph["nodes"]:
        element = ET.SubElement(nodes, "node", id=node["id"], label=node["label"])
        ET.SubElement(ET.SubElement(element, "attvalues"), "attvalue", {"for": "kind", "value": node["kind"]})
    edges = ET.SubElement(body, "edges")
    for number, edge in enumerate(graph["edges"]):
        element = ET.SubElement(edges, "edge", id=str(number), source=edge["from"], target=edge["to"],
                                label=edge["relation"])
        values = ET.SubElement(element, "attvalues")
        for name, value in _edge_attributes(edge, graph["labels"]).items():
            ET.SubElement(values, "attvalue", {"for": name, "value": value})
    return _xml(root)


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
