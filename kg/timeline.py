"""The timeline, computed once per build: every event and status statement with its dates, its type or
status, its source and what it is about, with the names of all these, for the server's /timeline and the
timeline sections of its pages (server.pages.timeline), which then need no query.

The file is a dict: ``items`` (each: ``iri``, ``kind`` "event" or "status", ``date`` when it happened or
began, ``end``, ``type``, ``source``, ``undated_reason`` and ``timeframe`` as the record gives them, ``about``:
the IRIs of the actors, allegations and places it is about, places within places included), ``names`` (IRI
-> name of everything the items name) and ``issued`` (source IRI -> its date, for the record as of a day).
"""

from __future__ import annotations

import json
from pathlib import Path

from pyoxigraph import Literal, Store

from kg.query_text import named
from kg.store import run_query
from kg.vocab import SOL

TIMELINE_FILE = "timeline.json"


def timeline(store: Store) -> dict:
    """The timeline of the store, in a stable order (the same data gives the same bytes)."""
    about: dict[str, set[str]] = {}
    for row in run_query(store, named("timeline-links")):
        about.setdefault(row["item"].value, set()).add(row["target"].value)
    items: dict[str, dict] = {}
    for row in run_query(store, named("timeline-items")):
        def text(name: str) -> str | None:
            return row[name].value if isinstance(row[name], Literal) else None

        iri = row["item"].value
        items.setdefault(iri, {
            "iri": iri, "kind": "event" if row["class"].value == SOL.Event.value else "status",
            "date": text("date") or text("start"), "end": text("end"),
            "type": row["type"].value if row["type"] is not None else None,
            "source": row["source"].value if row["source"] is not None else None,
            "undated_reason": text("undated"), "timeframe": text("timeframe"),
            "about": sorted(about.get(iri, ()))})
    named_iris = sorted({iri for item in items.values()
                         for iri in (item["iri"], item["type"], item["source"], *item["about"]) if iri})
    best: dict[str, tuple] = {}
    for row in run_query(store, named("timeline-names", this=named_iris)) if named_iris else ():
        name = row["name"]
        ranked = (int(row["rank"].value), name.language not in (None, "en"), name.value)
        best[row["this"].value] = min(ranked, best.get(row["this"].value, ranked))
    sources = sorted({item["source"] for item in items.values() if item["source"]})
    issued = {row["source"].value: row["issued"].value
              for row in (run_query(store, named("timeline-sources", source=sources)) if sources else ())}
    return {"items": [items[iri] for iri in sorted(items)],
            "names": {iri: best[iri][2] for iri in sorted(best)},
            "issued": dict(sorted(issued.items()))}


def write(store: Store, release_dir: Path) -> dict:
    """Write the timeline into ``release_dir``; return what the manifest says of it."""
    found = timeline(store)
    (release_dir / TIMELINE_FILE).write_text(json.dumps(found, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return {"items": len(found["items"]), "dated": sum(1 for item in found["items"] if item["date"])}
