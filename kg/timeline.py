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
    """The timeline of the store, in a stable order (the same data gives the same bytes). Solutions are read by
    position, in the order of each query's variables: by name, a term costs microseconds, over 100,000s of rows."""
    about: dict[str, set[str]] = {}
    for item, target in run_query(store, named("timeline-links")):
        about.setdefault(item.value, set()).add(target.value)
    items: dict[str, dict] = {}
    event = SOL.Event.value
    for item, cls, date, start, end, kind, source, undated, timeframe in run_query(store, named("timeline-items")):
        if item.value not in items:
            items[item.value] = {
                "iri": item.value, "kind": "event" if cls.value == event else "status",
                "date": _text(date) or _text(start), "end": _text(end),
                "type": kind.value if kind is not None else None,
                "source": source.value if source is not None else None,
                "undated_reason": _text(undated), "timeframe": _text(timeframe),
                "about": sorted(about.get(item.value, ()))}
    named_iris = {iri for item in items.values() for iri in (item["iri"], item["type"], item["source"], *item["about"])
                  if iri}
    best: dict[str, tuple] = {}
    # Every name of the graph, those of others passed over: binding the tens of thousands it names took 1.5 s of
    # CPU more at a million statements (the engine parses and joins the IRIs) than reading the rest.
    for this, rank, name in run_query(store, named("timeline-names")) if named_iris else ():
        if (iri := this.value) in named_iris:
            ranked = (int(rank.value), name.language not in (None, "en"), name.value)
            best[iri] = min(ranked, best.get(iri, ranked))
    sources = sorted({item["source"] for item in items.values() if item["source"]})
    issued = {source.value: date.value
              for source, date in (run_query(store, named("timeline-sources", source=sources)) if sources else ())}
    return {"items": [items[iri] for iri in sorted(items)],
            "names": {iri: best[iri][2] for iri in sorted(best)},
            "issued": dict(sorted(issued.items()))}


def _text(term) -> str | None:
    """A literal's text; None for anything else (unbound, or an IRI where the record should hold a date)."""
    return term.value if isinstance(term, Literal) else None


def write(store: Store, release_dir: Path) -> dict:
    """Write the timeline into ``release_dir``; return what the manifest says of it."""
    found = timeline(store)
    (release_dir / TIMELINE_FILE).write_text(json.dumps(found, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    return {"items": len(found["items"]), "dated": sum(1 for item in found["items"] if item["date"])}
