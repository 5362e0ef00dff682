"""Writes a build: dumps, ontology files, the query store and a manifest, swapped in atomically.

Everything is written to a temporary sibling of the output directory first; only a complete,
validated build replaces the previous one, so a failed build leaves the old one untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Quad, RdfFormat, Store, parse, serialize
from tqdm import tqdm

from kg import formats, ids, imports, shacl, void
from kg.build import relabel_blank_nodes
from kg.curation import DataError, Problem
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


def _sorted_statements(lines: Iterator[str], work: Path, name: str) -> Path:
    """Write ``lines`` to a file sorted and without repeats, by the C locale: the same data, the same bytes.

    GNU sort merges on disk, so builds of millions of statements need no more memory than a few lines.
    """
    unsorted, result = work / f"{name}.unsorted", work / name
    with unsorted.open("w", encoding="utf-8") as file:
        file.writelines(lines)
    subprocess.run(["sort", "--unique", "--buffer-size=25%", f"--temporary-directory={work}",
                    f"--output={result}", str(unsorted)], check=True, env={**os.environ, "LC_ALL": "C"})
    unsorted.unlink()
    return result


def _graph_keyed(quads: Iterable[Quad]) -> Iterator[str]:
    """N-Quads lines keyed by graph, so sorting keeps each graph's statements together."""
    for quad in quads:
        yield f"{quad.graph_name}\t{quad} .\n"  # str(quad) is the N-Quads line without its final dot


def _strip_keys(keyed: Path, nquads: Path) -> int:
    count = 0
    with keyed.open(encoding="utf-8") as source, nquads.open("w", encoding="utf-8") as target:
        for line in source:
            target.write(line.split("\t", 1)[1])
            count += 1
    return count


def _write_dump(dump: Dump, nquads: Path, triples: Path, path: Path) -> int:
    """Write one dump from the sorted statements; return how many statements it holds."""
    if dump.is_ontology:
        statements = [q.triple for q in ontology_quads()]
        if dump.filename == "ontology.ttl":
            path.write_bytes(ONTOLOGY_FILE.read_bytes())  # the hand-written file, comments and layout kept
        else:
            serialize(statements, str(path), format=dump.format.rdf, prefixes=ids.PREFIXES)
        return len(statements)
    source = nquads if dump.quads else triples
    source_format = RdfFormat.N_QUADS if dump.quads else RdfFormat.N_TRIPLES
    if dump.gzipped:  # the sorted N-Quads themselves
        with source.open("rb") as raw, gzip.GzipFile(path, "wb", mtime=0) as packed:
            shutil.copyfileobj(raw, packed)  # mtime=0: no timestamp in the header, byte-identical builds
    else:
        with source.open("rb") as raw:
            serialize(parse(raw, format=source_format), str(path), format=dump.format.rdf, prefixes=ids.PREFIXES)
    with source.open("rb") as raw:
        return sum(1 for _ in raw)


def _write_void(store: Store, metadata: dict, path: Path) -> int:
    """Write the VoID description of everything the store holds; return how many statements it holds."""
    dumps = {ids.DATASET: [d.filename for d in DUMPS if not d.is_ontology],
             ids.ONTOLOGY_GRAPH: [d.filename for d in DUMPS if d.is_ontology]}
    triples = void.describe(store, metadata, dumps)
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


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).exists():
        raise FileExistsError(f"{out_dir} exists and is not a soles build (no {MANIFEST}); "
                              "refusing to replace it")


class Progress:
    """Stage lines and a progress bar on stderr, for long builds at an interactive terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()

    def stage(self, text: str) -> None:
        if self.enabled:
            print(f"kg build: {text}", file=sys.stderr, flush=True)

    def count(self, items: Iterable, what: str) -> Iterable:
        return tqdm(items, desc=what, unit=" quads", unit_scale=True, disable=not self.enabled, file=sys.stderr)


def _imported_quads(paths: list[Path], curated_graphs: set[str], progress: Progress) -> Iterator[Quad]:
    for index, path in enumerate(paths):
        yield from progress.count(imports.read(path, index, curated_graphs), f"reading {Path(path).name}")


def _check_imports(store: Store, paths: list[Path]) -> None:
    found = shacl.violations(store)
    if not found:
        return
    problems = []
    for violation in found:
        where = next(((str(p), line) for p in paths if (line := imports.first_line_mentioning(Path(p), violation.focus))),
                     (", ".join(map(str, paths)), None))
        problems.append(Problem(where[0], where[1], f"{violation.focus} {violation.path}", violation.message))
    raise DataError(problems)


def publish(curated: list[Quad], out_dir: Path, summary: dict, import_paths: tuple[Path, ...] = (),
            progress: bool = False) -> dict:
    """Write every output for the curated quads and imported files, then swap them in place of ``out_dir``.

    Imported files are checked against the shapes, compiled to SPARQL, once everything is loaded.
    Returns the manifest.
    """
    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.with_name(f".{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    report = Progress(progress)
    try:
        work = staging / "work"
        work.mkdir()
        curated_graphs = {q.graph_name.value for q in curated} | {ids.ONTOLOGY_GRAPH.value}
        quads = itertools.chain(curated, _imported_quads(list(import_paths), curated_graphs, report))
        report.stage("sorting")
        nquads = work / "all.nq"
        keyed = _sorted_statements(_graph_keyed(quads), work, "keyed")
        count = _strip_keys(keyed, nquads)
        keyed.unlink()  # the largest file of a big build: free its disk before the store is written
        with nquads.open("rb") as raw:
            triples = _sorted_statements((f"{q.triple} .\n" for q in parse(raw, format=RdfFormat.N_QUADS)),
                                         work, "all.nt")
        report.stage(f"loading {count} quads into the store")
        store = Store(str(staging / STORE_DIR))
        store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
        store.bulk_extend(ontology_quads())
        if import_paths:
            report.stage("checking imports against the shapes")
            _check_imports(store, list(import_paths))
        report.stage("writing dumps")
        files = []
        for dump in DUMPS:
            path = staging / dump.filename
            files.append(_file_entry(dump, path, _write_dump(dump, nquads, triples, path)))
        void_path = staging / VOID_DUMP.filename
        files.append(_file_entry(VOID_DUMP, void_path, _write_void(store, summary["dataset"], void_path)))
        # Both query through kg.store, which imports this module.
        from kg.overview import overview
        from kg.search import SEARCH_INDEX, write_index

        report.stage("counting for the overview and indexing names for search")
        write_index(store, staging / SEARCH_INDEX)
        manifest = {"files": files, "quads": count, "overview": overview(store), **summary}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        store.optimize()
        store.flush()
        del store
        shutil.rmtree(work)
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
