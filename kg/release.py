"""Writes a build: dumps, ontology files, the query store and a manifest, swapped in atomically.

Everything is written to a temporary sibling of the output directory first; only a complete,
validated build replaces the previous one, so a failed build leaves the old one untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Quad, Store, serialize

from kg import formats, ids, void
from kg.build import relabel_blank_nodes, sort_quads
from kg.paths import ONTOLOGY_FILE
from kg.validate import ontology_triples

MANIFEST = "manifest.json"
STORE_DIR = "store"


@dataclass(frozen=True)
class Dump:
    """A file a build writes: its name, format, and whether it keeps named graphs."""

    filename: str
    format_name: str
    description: str
    quads: bool = True
    gzipped: bool = False

    @property
    def format(self) -> formats.Format:
        return formats.by_name(self.format_name)

    @property
    def is_ontology(self) -> bool:
        return self.filename.startswith("ontology.")


DUMPS = (
    Dump("soles.trig", "trig", "All data, one named graph per source (TriG)"),
    Dump("soles.nq.gz", "nquads", "All data, one named graph per source (N-Quads, gzip)", gzipped=True),
    Dump("soles.ttl", "turtle", "All data, graphs merged (Turtle)", quads=False),
    Dump("soles.jsonld", "jsonld", "All data, one named graph per source (JSON-LD)"),
    Dump("ontology.ttl", "turtle", "The soles ontology (Turtle)", quads=False),
    Dump("ontology.owl", "rdfxml", "The soles ontology (RDF/XML)", quads=False),
)
VOID_DUMP = Dump("void.ttl", "turtle", "Description of the dataset (VoID): size, graphs, classes, downloads, endpoint",
                 quads=False)


def ontology_quads() -> list[Quad]:
    return [Quad(t.subject, t.predicate, t.object, ids.ONTOLOGY_GRAPH)
            for t in relabel_blank_nodes(ontology_triples(), prefix="onto")]


def _serialize(dump: Dump, quads: list[Quad], path: Path) -> int:
    """Write one dump; return how many statements it holds."""
    if dump.is_ontology:
        statements = [q.triple for q in ontology_quads()]
    elif dump.quads:
        statements = quads
    else:
        statements = [q.triple for q in sort_quads(Quad(q.subject, q.predicate, q.object) for q in quads)]
    if dump.filename == "ontology.ttl":
        data = ONTOLOGY_FILE.read_bytes()  # the hand-written file, comments and layout kept
    else:
        data = serialize(statements, format=dump.format.rdf, prefixes=ids.PREFIXES)
    if dump.gzipped:
        data = gzip.compress(data, mtime=0)  # no timestamp in the header: byte-identical builds
    path.write_bytes(data)
    return len(statements)


def _write_void(quads: list[Quad], metadata: dict, path: Path) -> int:
    """Write the VoID description of everything the store holds; return how many statements it holds."""
    dumps = {ids.DATASET: [d.filename for d in DUMPS if not d.is_ontology],
             ids.ONTOLOGY_GRAPH: [d.filename for d in DUMPS if d.is_ontology]}
    triples = void.describe([*quads, *ontology_quads()], metadata, dumps)
    path.write_bytes(serialize(triples, format=VOID_DUMP.format.rdf, prefixes=void.PREFIXES))
    return len(triples)


def _file_entry(dump: Dump, path: Path, statements: int) -> dict:
    """What the manifest says of one written file."""
    return {
        "name": dump.filename,
        "format": dump.format.name,
        "media_type": "application/gzip" if dump.gzipped else dump.format.media_type,
        "description": dump.description,
        "statements": statements,
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_store(path: Path, quads: list[Quad]) -> None:
    store = Store(str(path))
    store.bulk_extend(quads)
    store.bulk_extend(ontology_quads())
    store.optimize()
    store.flush()
    del store


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists():
        raise FileExistsError(f"{out_dir} exists and is not a soles build (no {MANIFEST}); "
                              "refusing to replace it")


def publish(quads: list[Quad], out_dir: Path, summary: dict) -> dict:
    """Write every output for ``quads`` and swap them in place of ``out_dir``; return the manifest."""
    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        files = []
        for dump in DUMPS:
            path = staging / dump.filename
            files.append(_file_entry(dump, path, _serialize(dump, quads, path)))
        void_path = staging / VOID_DUMP.filename
        files.append(_file_entry(VOID_DUMP, void_path, _write_void(quads, summary["dataset"], void_path)))
        manifest = {"files": files, "quads": len(quads), **summary}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        write_store(staging / STORE_DIR, quads)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = out_dir.with_name(f".{out_dir.name}.retired-{os.getpid()}")
    if out_dir.exists():
        os.rename(out_dir, retired)
    os.rename(staging, out_dir)
    shutil.rmtree(retired, ignore_errors=True)
    return manifest


def read_manifest(build_dir: Path) -> dict:
    path = Path(build_dir) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{build_dir} holds no build ({MANIFEST} missing): run 'kg build' first")
    return json.loads(path.read_text(encoding="utf-8"))
