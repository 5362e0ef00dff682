"""Writes a build as an immutable release and publishes it by moving one pointer; finds the current one.

A build root (``build/``, ``kg build --out``) holds::

    releases/<build-id>/     one complete build each: dumps, manifest.json, search.sqlite, store/
    current -> releases/<build-id>     the published release: a symbolic link, replaced with rename(2)
    manifest.json -> current/manifest.json, soles.trig -> current/soles.trig, ...   links for people

A build is written into a hidden directory under ``releases/``, renamed to its build id once complete
and valid, and published by pointing ``current`` at it atomically: a reader sees the old release or
the new one, never a mixture, and a failed build leaves the published one untouched. The last
``keep`` releases are kept (never the current one or the one it replaced), so that a server still
answering a request from the previous release keeps its files.

Code that reads a build calls ``resolve(build_root)`` once and reads everything from the release it
returns; ``read_manifest`` and ``kg.store.open_store`` do.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse, serialize
from tqdm import tqdm

from kg import formats, ftm, ids, imports, list_index, network, overview, page_index, shacl, timeline, void
from kg.curation import DataError, Problem
from kg.cycles import collection_paused
from kg.layout import BUILD_FORMAT, CURRENT, MANIFEST, RELEASES_DIR, STORE_DIR
from kg.paths import ONTOLOGY_FILE
from kg.quads import relabel_blank_nodes
from kg.reconciliation import write_reconciliation_index
from kg.search import SEARCH_INDEX
from kg.search_build import write_index
from kg.validate import ontology_triples

DEFAULT_KEEP = 3  # releases kept in a build root, the current one and the one before it always among them


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
DATA_DUMPS = tuple(dump for dump in DUMPS if not dump.is_ontology)  # the dataset's own dumps (VoID's void:dataDump)
VOID_DUMP = Dump("void.ttl", "turtle", "Description of the dataset (VoID): size, graphs, classes, downloads, endpoint",
                 quads=False)


def ontology_quads() -> list[Quad]:
    return [Quad(t.subject, t.predicate, t.object, ids.ONTOLOGY_GRAPH)
            for t in relabel_blank_nodes(ontology_triples(), prefix="onto")]


def _bytewise() -> dict[str, str]:
    """The environment of the C programs that sort and cut the statements' lines: the C locale, so that they read
    bytes, not characters (the same data, the same bytes)."""
    return {**os.environ, "LC_ALL": "C"}


def _sorted_statements(lines: Iterator[str], work: Path, name: str, more: tuple[Path, ...] = ()) -> Path:
    """Write ``lines`` to a file sorted and without repeats, with the lines of the files ``more`` (``_sorted``)."""
    unsorted = work / f"{name}.unsorted"
    with unsorted.open("w", encoding="utf-8") as file:
        file.writelines(lines)
    return _sorted(unsorted, work / name, more)


def _sorted(unsorted: Path, result: Path, more: tuple[Path, ...] = ()) -> Path:
    """Sort the lines of ``unsorted`` and of ``more`` into ``result`` without repeats, by the C locale (the same
    data, the same bytes), and delete them. GNU sort merges on disk, so builds of millions of statements need no
    more memory than a few lines."""
    subprocess.run(["sort", "--unique", "--buffer-size=25%", f"--temporary-directory={result.parent}",
                    f"--output={result}", str(unsorted), *map(str, more)],
                   check=True, env=_bytewise())
    for path in (unsorted, *more):
        path.unlink()
    return result


def _graph_keyed(quads: Iterable[Quad]) -> Iterator[str]:
    """N-Quads lines keyed by graph, so sorting keeps each graph's statements together."""
    for quad in quads:
        yield f"{quad.graph_name}\t{quad} .\n"  # str(quad) is the N-Quads line without its final dot


# The keyed lines less their keys, by cut, and less their graphs too, by awk (a statement's line ends with the graph
# that keys it, but the default graph's): two C programs side by side, in half the time a Python loop took (1.7 s at
# 1M). The engine writes a tab in a literal as \t, so a line's first tab ends its key.
LESS_THE_GRAPH = ('{ tab = index($0, "\t"); graph = substr($0, 1, tab - 1); quad = substr($0, tab + 1); '
                  'ending = " " graph " ."; kept = length(quad) - length(ending); '
                  'if (kept > 0 && substr(quad, kept + 1) == ending) print substr(quad, 1, kept) " ."; else print quad }')


def _strip_keys(keyed: Path, nquads: Path, triples: Path) -> int:
    """Write the keyed lines as N-Quads, in their order, and as N-Triples, unsorted and with repeats (a statement
    may be in several graphs); return how many statements there are. No statement is parsed again."""
    with nquads.open("wb") as quads, triples.open("wb") as plain:
        programs = [subprocess.Popen(["cut", "-f2-", str(keyed)], stdout=quads, env=_bytewise()),
                    subprocess.Popen(["awk", LESS_THE_GRAPH, str(keyed)], stdout=plain, env=_bytewise())]
        for program in programs:
            if program.wait() != 0:
                raise subprocess.CalledProcessError(program.returncode, program.args)
    with nquads.open("rb") as written:
        return sum(block.count(b"\n") for block in iter(lambda: written.read(1 << 20), b""))


def _write_dump(dump: Dump, nquads: Path, triples: Path, path: Path) -> int:
    """Write one dump from the sorted statements (``triples``: unsorted, sorted here if the dump needs them);
    return how many statements it holds."""
    if dump.is_ontology:
        statements = [q.triple for q in ontology_quads()]
        if dump.filename == "ontology.ttl":
            path.write_bytes(ONTOLOGY_FILE.read_bytes())  # the hand-written file, comments and layout kept
        else:
            serialize(statements, str(path), format=dump.format.rdf, prefixes=ids.PREFIXES)
        return len(statements)
    source = nquads if dump.quads else _sorted(triples, triples.with_suffix(".nt"))
    source_format = RdfFormat.N_QUADS if dump.quads else RdfFormat.N_TRIPLES
    if dump.gzipped:  # the sorted N-Quads themselves
        # mtime=0: no timestamp in the header, byte-identical builds. Level 6 (gzip's own default), not Python's 9:
        # at 1M, 1.4 s instead of 3.6 s of CPU for a file 3.8% larger.
        with source.open("rb") as raw, gzip.GzipFile(path, "wb", compresslevel=6, mtime=0) as packed:
            shutil.copyfileobj(raw, packed)
    else:
        with source.open("rb") as raw:
            serialize(parse(raw, format=source_format), str(path), format=dump.format.rdf, prefixes=ids.PREFIXES)
    with source.open("rb") as raw:
        return sum(1 for _ in raw)


def _write_void(store: Store, metadata: dict, path: Path) -> int:
    """Write the VoID description of everything the store holds; return how many statements it holds."""
    dumps = {ids.DATASET: [d.filename for d in DATA_DUMPS],
             ids.ONTOLOGY_GRAPH: [d.filename for d in DUMPS if d.is_ontology]}
    triples = void.describe(store, metadata, dumps)
    path.write_bytes(serialize(triples, format=VOID_DUMP.format.rdf, prefixes=ids.PREFIXES))
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
    """Refuse an output directory that holds anything but a build (or the releases dir of a failed first one)."""
    if not out_dir.exists() or (out_dir / CURRENT).is_symlink() or (out_dir / MANIFEST).exists():
        return
    if {entry.name for entry in out_dir.iterdir()} - {RELEASES_DIR}:
        raise FileExistsError(f"{out_dir} exists and is not a soles build (no {MANIFEST}); "
                              "refusing to replace it")


def _build_id(manifest_path: Path) -> str:
    """``<UTC time to the microsecond>-<hash of the manifest>``: sortable, and names what it holds."""
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1_000_000):06d}Z"
    return f"{stamp}-{_sha256(manifest_path)[:12]}"


def _replace_link(link: Path, target: str) -> None:
    """Make ``link`` a symbolic link to ``target`` atomically: a new link, renamed over the old one."""
    temporary = link.with_name(f".{link.name}.link-{os.getpid()}-{time.monotonic_ns()}")
    os.symlink(target, temporary)
    try:
        os.replace(temporary, link)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _link_entries(out_dir: Path, release_dir: Path, attic: Path) -> None:
    """Give each file of the release a link ``out_dir/<name> -> current/<name>``, for people and scripts.

    A build of the layout before releases had those files in ``out_dir`` itself: they are moved to
    ``attic`` (deleted by the caller) once ``current`` is published, since readers resolve it first.
    """
    for entry in sorted(release_dir.iterdir()):
        link = out_dir / entry.name
        target = f"{CURRENT}/{entry.name}"
        if link.is_symlink() and os.readlink(link) == target:
            continue
        if link.is_dir() and not link.is_symlink():  # a rename cannot put a link over a directory
            attic.mkdir(exist_ok=True)
            os.rename(link, attic / entry.name)
        _replace_link(link, target)


def _releases(out_dir: Path) -> list[str]:
    """The ids of the complete releases of ``out_dir``, oldest first (hidden ones are being written or deleted)."""
    folder = out_dir / RELEASES_DIR
    if not folder.is_dir():
        return []
    return sorted(entry.name for entry in folder.iterdir() if not entry.name.startswith(".") and entry.is_dir())


def prune(out_dir: Path, keep: int = DEFAULT_KEEP, protect: Iterable[str] = ()) -> list[str]:
    """Delete all but the newest ``keep`` releases, never the current one nor any in ``protect``.

    Each is renamed to a hidden name first, so that a half-deleted release is never taken for one.
    Returns the ids deleted.
    """
    out_dir = Path(out_dir)
    spared = set(protect)
    try:
        spared.add(Path(os.readlink(out_dir / CURRENT)).name)
    except OSError:
        pass
    releases = _releases(out_dir)
    doomed = [name for name in releases[:max(len(releases) - keep, 0)] if name not in spared]
    for name in doomed:
        retired = out_dir / RELEASES_DIR / f".deleting-{name}-{os.getpid()}"
        os.rename(out_dir / RELEASES_DIR / name, retired)
        shutil.rmtree(retired, ignore_errors=True)
    for leftover in (out_dir / RELEASES_DIR).glob(".*"):  # of builds that were killed while writing or deleting
        if not leftover.name.startswith(".staging-") or not _running(int(leftover.name.split("-")[1])):
            shutil.rmtree(leftover, ignore_errors=True)
    return doomed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Progress:
    """Stage lines and a progress bar on stderr, for long builds at an interactive terminal."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty()
        self.current: str | None = None
        self.started = self.cpu_started = 0.0

    def stage(self, text: str) -> None:
        """Begin a stage, saying how long the one before took (what a long build spends its time on)."""
        self.done()
        self.current, self.started, self.cpu_started = text, time.monotonic(), time.process_time()
        if self.enabled:
            print(f"kg build: {text}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self.current is not None:
            self.took(self.current, time.monotonic() - self.started, time.process_time() - self.cpu_started)
        self.current = None

    def took(self, what: str, seconds: float, cpu_seconds: float) -> None:
        # CPU time too: on a shared machine the wall time says more about the neighbours than the build.
        if self.enabled:
            print(f"kg build: {what}: {seconds:.1f} s (CPU {cpu_seconds:.1f} s)", file=sys.stderr, flush=True)

    def count(self, items: Iterable, what: str) -> Iterable:
        return tqdm(items, desc=what, unit=" quads", unit_scale=True, disable=not self.enabled, file=sys.stderr)


PARALLEL_FROM_QUADS = 50_000  # below this, starting processes costs more than it saves
MAX_PROCESSES = 4
# What a copy of the statements in a process's memory takes, a statement (measured at 1M: 0.62 GB), with room to
# spare; the processes hold copies when all of them fit in half the memory available, leaving the rest to the tasks.
MEMORY_COPY_BYTES_PER_QUAD = 800
MANIFEST_INDEXES = ("overview", "network", "timeline", "ftm", "reconcile", "pages", "lists")  # what the manifest says of


@dataclass(frozen=True)
class Task:
    """One thing a release holds besides its store, written by ``write(store)``: ``key`` names its result,
    ``what`` is what the progress line says, ``after`` the tasks whose files it reads; ``reads_store`` false for
    those written from the sorted statements alone (given None), which run while the store is written."""

    key: str
    what: str
    write: Callable
    after: tuple[str, ...] = ()
    reads_store: bool = True


def fits_in_memory(quads: int, processes: int) -> bool:
    """Whether ``processes`` copies of ``quads`` statements fit in half the memory this machine has available."""
    return processes * quads * MEMORY_COPY_BYTES_PER_QUAD <= _available_memory() // 2


def _available_memory() -> int:
    """The bytes that can be taken without swapping (Linux's MemAvailable), else the free ones."""
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def _release_tasks(staging: Path, nquads: Path, triples: Path, dataset: dict,
                   import_paths: tuple[Path, ...]) -> list[Task]:
    """Everything a release holds besides its store, and the check of the imports against the shapes, in the order
    tasks start when they can: the check first (a build it fails ends sooner), then the longest first (as measured
    at a million statements), those that others read before them, so that the processes running them end at about
    the same time."""
    checks = [Task("checks", "checking imports against the shapes", partial(_check_imports, paths=list(import_paths)))]
    return [
        *(checks if import_paths else []),
        Task("network", "the network", partial(network.write, release_dir=staging)),
        Task("pages", "the page index", partial(page_index.write, path=staging / page_index.PAGE_INDEX)),
        Task("timeline", "the timeline", partial(timeline.write, release_dir=staging)),
        Task("lists", "the list index (from the page index, the timeline and the network)",
             partial(_list_index_task, release_dir=staging), after=("network", "pages", "timeline")),
        Task("ftm", "the FollowTheMoney export", partial(ftm.write, release_dir=staging)),
        Task("search", "the search index", partial(write_index, path=staging / SEARCH_INDEX)),
        Task("reconcile", "the reconciliation index", partial(write_reconciliation_index, release_dir=staging)),
        *(Task(dump.filename, f"the dump {dump.filename}", partial(_dump_task, filename=dump.filename, nquads=nquads,
                                                                     triples=triples, release_dir=staging),
               reads_store=False)
          for dump in DUMPS),
        Task(VOID_DUMP.filename, "the VoID description", partial(_void_task, dataset=dataset, release_dir=staging)),
        Task("overview", "counting for the overview", overview.overview),
    ]


def _written_store(_: None, path: Path, nquads: Path) -> None:
    """Write the store at ``path``: bulk-loaded with the sorted statements and the ontology, optimized and closed
    before any process opens it read-only. A read-only store reads the files it found on opening: while the writer
    still had it open, a compaction of its own deleted one of them under a reader now and then (1 build in 7 at 1M)."""
    store = Store(str(path))
    store.bulk_load(path=str(nquads), format=RdfFormat.N_QUADS)
    store.bulk_extend(ontology_quads())
    store.optimize()
    store.flush()
    del store  # closed: no compaction runs once readers open it


@lru_cache(maxsize=1)  # one copy per process, read by every task the process runs
def _memory_copy(nquads: str) -> Store:
    """The statements the store is written from (the sorted N-Quads and the ontology), in this process's memory."""
    store = Store()
    store.bulk_load(path=nquads, format=RdfFormat.N_QUADS)
    store.bulk_extend(ontology_quads())
    return store


def _list_index_task(store: Store, release_dir: Path) -> dict:
    """The list index, made from files of the release rather than from the store."""
    return list_index.write(release_dir)


def _dump_task(store: Store, filename: str, nquads: Path, triples: Path, release_dir: Path) -> dict:
    """Write the dump ``filename`` (named rather than passed: a Dump holds engine values no process can send)."""
    dump = next(dump for dump in DUMPS if dump.filename == filename)
    return _file_entry(dump, release_dir / filename, _write_dump(dump, nquads, triples, release_dir / filename))


def _void_task(store: Store, dataset: dict, release_dir: Path) -> dict:
    path = release_dir / VOID_DUMP.filename
    return _file_entry(VOID_DUMP, path, _write_void(store, dataset, path))


def _run_tasks(tasks: list[Task], store: Task, store_dir: Path, processes: int, report: Progress,
               copy_of: Path | None = None) -> dict[str, object]:
    """Each task's result by its key, and what ``store.write(None)`` returned once it had written the store at
    ``store_dir``.

    They run here in their order, the store first (opened read-only for the tasks that read it once written), or
    by ``processes`` processes (started afresh: the engine's threads do not survive a fork), each given the first
    task whose ``after`` have ended when it is free. The tasks that read the store read it read-only once written,
    those that read none running meanwhile (a bulk load keeps one core busy); or, given the N-Quads file the store
    is written from (``copy_of``), each process reads a copy of it in memory, loaded once: no task waits for the
    store, which a process of the pool writes like any other task, and reading a copy costs tasks less (the engine
    decodes terms from memory, not from its files on disk). The first task that fails ends the run: those not
    begun never are."""
    early = [task for task in tasks if not task.reads_store]
    later = [task for task in tasks if task.reads_store]
    if processes <= 1:
        results = {task.key: _timed(task.write, None) for task in early}
        results[store.key] = _timed(store.write, None)
        written = Store.read_only(str(store_dir))
        results |= {task.key: _timed(task.write, written) for task in later}
    else:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                if copy_of is None:
                    results = _scheduled(pool, early, store, later, partial(_timed_on_store, store_dir=str(store_dir)),
                                         processes)
                else:
                    # The store first: one core writes it for the longest time.
                    results = _scheduled(pool, [], None, [replace(store, reads_store=False), *tasks],
                                         partial(_timed_on_copy, nquads=str(copy_of)), processes)
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    for task in (*early, store, *later):
        report.took(task.what, *results[task.key][1:])
    return {task.key: results[task.key][0] for task in (store, *tasks)}


def _scheduled(pool: ProcessPoolExecutor, early: list[Task], store: Task | None, later: list[Task],
               reading: Callable, processes: int) -> dict[str, tuple[object, float, float]]:
    """_run_tasks by the ``processes`` processes of ``pool``: ``early`` (reading no store) while ``store`` is written
    here (if given), then ``later`` in their order as their ``after`` end, by ``reading`` if they read the store;
    what each task returned, and its times."""
    results = {}
    running = {pool.submit(_timed, task.write, None): task.key for task in early}
    if store is not None:
        results[store.key] = _timed(store.write, None)
    waiting = list(later)
    while waiting or running:
        while len(running) < processes and (ready := next(
                (task for task in waiting if all(key in results for key in task.after)), None)):
            waiting.remove(ready)
            future = pool.submit(reading, ready.write) if ready.reads_store else pool.submit(_timed, ready.write, None)
            running[future] = ready.key
        if not running:
            raise ValueError(f"release tasks wait for tasks that never run: {[task.key for task in waiting]}")
        ended, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in ended:
            results[running.pop(future)] = future.result()
    return results


def _timed_on_store(task: Callable, store_dir: str) -> tuple[object, float, float]:
    return _timed(task, Store.read_only(store_dir))


def _timed_on_copy(task: Callable, nquads: str) -> tuple[object, float, float]:
    """_timed on this process's copy of the statements in memory; loading it (once per process) counts in the
    time of the first task it runs."""
    started, cpu_started = time.monotonic(), time.process_time()
    copy = _memory_copy(nquads)
    loading, cpu_loading = time.monotonic() - started, time.process_time() - cpu_started
    result, seconds, cpu_seconds = _timed(task, copy)
    return result, loading + seconds, cpu_loading + cpu_seconds


def _timed(task: Callable, store: Store) -> tuple[object, float, float]:
    """What ``task(store)`` returns, and the wall and CPU seconds it took, with the cycle collector paused: a task
    makes millions of small containers and almost no cycles, and each collection scans everything the process
    holds (at a million statements the page index took 4.4 s of CPU less without it, the list index 7.8 s, for the
    same peak memory). It collects again once the task has ended."""
    started, cpu_started = time.monotonic(), time.process_time()
    with collection_paused():
        result = task(store)
    return result, time.monotonic() - started, time.process_time() - cpu_started


# A statement's N-Quads line with its graph (its last term but the final dot) before it: imports have no statement in
# the default graph (kg.imports gives them a graph of their own), and the engine writes a tab in a literal as \t.
KEYED_BY_GRAPH = '{ print $(NF - 1) "\\t" $0 }'


def _keyed_imports(paths: list[str], keyed: str, progress: bool) -> list[set[str]]:
    """Write the statements of the imports ``paths`` to the file ``keyed`` as graph-keyed lines (``_graph_keyed``),
    unsorted; return the named graphs of each file's statements, for the check that none is built from data/. The
    engine writes the lines and awk keys them, beside it: at 1M, 3.4 s against 4.9 s for lines formatted here."""
    report = Progress(progress)
    found = []
    # Leaving the block ends awk's input and waits for it, also when an import fails to parse.
    with open(keyed, "wb") as file, subprocess.Popen(["awk", KEYED_BY_GRAPH], stdin=subprocess.PIPE, stdout=file,
                                                     env=_bytewise()) as keying:
        for index, path in enumerate(paths):
            graphs: set[str] = set()
            serialize(_noting_graphs(report.count(imports.read(Path(path), index), f"reading {Path(path).name}"),
                                     graphs), keying.stdin, RdfFormat.N_QUADS)
            found.append(graphs)
    if keying.returncode != 0:
        raise subprocess.CalledProcessError(keying.returncode, keying.args)
    return found


def _noting_graphs(quads: Iterable[Quad], graphs: set[str]) -> Iterator[Quad]:
    """``quads``, adding the name of each named graph they are in to ``graphs``."""
    last = None
    for quad in quads:
        graph = quad.graph_name
        if graph != last:  # a file's statements come graph by graph
            last = graph
            if type(graph) is NamedNode:
                graphs.add(graph.value)
        yield quad


# Imports of at least this many bytes are read by a process of their own while the curated data is checked
# (at 1M statements, 5 s of reading beside 3 s of checks); smaller ones here, after the checks, as a process takes
# 0.4 s to start.
READ_BESIDE_FROM_BYTES = 4_000_000


class _Beside:
    """``function(*args)`` run by a (spawned) process of its own while this one does other work, as a ``with``
    block: ``result()`` waits for what it returns, or raises its error; leaving the block stops it if it still
    runs (the other work failed). Unless ``beside``: then ``result()`` runs it here."""

    def __init__(self, function: Callable, *args, beside: bool = True):
        self.function, self.args, self.process = function, args, None
        if beside:
            context = multiprocessing.get_context("spawn")
            self.answers, sending = context.Pipe(duplex=False)
            self.process = context.Process(target=_answer, args=(sending, function, args), daemon=True)
            self.process.start()
            sending.close()  # only the process holds it: its end is this end's end of file

    def __enter__(self) -> _Beside:
        return self

    def __exit__(self, *_) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.terminate()
            self.process.join()
            self.answers.close()

    def result(self):
        if self.process is None:
            return self.function(*self.args)
        try:
            failed, value = self.answers.recv()
        except EOFError:
            self.process.join()
            raise RuntimeError(f"{self.function.__name__} ended with exit code {self.process.exitcode} "
                               "and no answer") from None
        if failed:
            raise value
        return value


def _answer(sending, function: Callable, args: tuple) -> None:
    """Run by _Beside's process: send (False, what ``function(*args)`` returned), or (True, its error)."""
    try:
        answer = (False, function(*args))
    except Exception as error:  # sent whole: a DataError names the file and line
        answer = (True, error)
    sending.send(answer)
    sending.close()


def _check_imports(store: Store, paths: list[Path]) -> None:
    """DataError naming the file and line of each import that violates a shape, if any does."""
    found = shacl.violations(store)
    if not found:
        return
    problems = []
    for violation in found:
        where = next(((str(p), line) for p in paths if (line := imports.first_line_mentioning(Path(p), violation.focus))),
                     (", ".join(map(str, paths)), None))
        problems.append(Problem(where[0], where[1], f"{violation.focus} {violation.path}", violation.message))
    raise DataError(problems)


def publish(checked: Callable[[], tuple[list[Quad], dict]], out_dir: Path, import_paths: tuple[Path, ...] = (),
            progress: bool = False, keep: int = DEFAULT_KEEP, processes: int | None = None,
            copies: bool | None = None) -> dict:
    """Write every output for the curated quads and imported files as a new release of the build root
    ``out_dir``, publish it (``current`` points to it) and prune old releases down to ``keep``.

    ``checked()`` checks the curated data and returns its quads and what the manifest says of it besides the files;
    large imports are read meanwhile by a process of their own (READ_BESIDE_FROM_BYTES).

    The dumps and indexes are written by ``processes`` processes at once (default: one per core, at most
    MAX_PROCESSES, for builds of PARALLEL_FROM_QUADS statements or more, else one), which read copies of the
    statements in memory rather than the store if ``copies`` (default: when they fit, ``fits_in_memory``); the
    same release either way.

    Imported files are checked against the shapes, compiled to SPARQL, once everything is loaded.
    Returns the manifest; ``resolve(out_dir).id`` is the new release's build id.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1 release, not {keep}")
    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    created = [folder for folder in (out_dir, out_dir / RELEASES_DIR) if not folder.exists()]
    (out_dir / RELEASES_DIR).mkdir(parents=True, exist_ok=True)
    staging = out_dir / RELEASES_DIR / f".staging-{os.getpid()}-{time.monotonic_ns()}"
    staging.mkdir()
    report = Progress(progress)
    try:
        work = staging / "work"
        work.mkdir()
        imported = work / "imported.unsorted"
        import_bytes = sum(Path(path).stat().st_size for path in import_paths if Path(path).is_file())
        beside = bool(import_paths) and import_bytes >= READ_BESIDE_FROM_BYTES
        report.stage("checking the curated data" + (", reading the imports beside it" if beside else ""))
        with _Beside(_keyed_imports, list(map(str, import_paths)), str(imported), report.enabled,
                     beside=beside) as reading:
            curated, summary = checked()
            if import_paths and not beside:
                report.stage("reading the imports")
            graphs = reading.result()
        curated_graphs = {q.graph_name.value for q in curated} | {ids.ONTOLOGY_GRAPH.value}
        for path, found in zip(import_paths, graphs):
            imports.refuse_curated_graphs(Path(path), found, curated_graphs)
        report.stage("sorting")
        nquads, triples = work / "all.nq", work / "triples.unsorted"
        keyed = _sorted_statements(_graph_keyed(curated), work, "keyed", more=(imported,))
        count = _strip_keys(keyed, nquads, triples)
        keyed.unlink()  # the largest file of a big build: free its disk before the store is written
        writing = Task("store", f"loading {count} quads into the store",
                       partial(_written_store, path=staging / STORE_DIR, nquads=nquads))
        tasks = _release_tasks(staging, nquads, triples, summary["dataset"], tuple(import_paths))
        if processes is None:
            processes = min(os.cpu_count() or 1, MAX_PROCESSES) if count >= PARALLEL_FROM_QUADS else 1
        copies = processes > 1 and (fits_in_memory(count, processes) if copies is None else copies)
        report.stage(f"writing the store, dumps and indexes ({processes} "
                     f"{'process' if processes == 1 else 'processes'}"
                     f"{', each reading a copy of the statements in memory' if copies else ''})")
        written = _run_tasks(tasks, writing, staging / STORE_DIR, processes, report, copy_of=nquads if copies else None)
        written.pop(writing.key)
        manifest = {"format": BUILD_FORMAT, "files": [written[dump.filename] for dump in (*DUMPS, VOID_DUMP)],
                    "quads": count, **summary,
                    **{key: written[key] for key in MANIFEST_INDEXES}}
        report.done()
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        shutil.rmtree(work)
        build_id = _build_id(staging / MANIFEST)
        os.rename(staging, out_dir / RELEASES_DIR / build_id)  # complete: it may now be published
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in reversed(created):  # a first build that failed leaves no empty build root behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    _publish(out_dir, build_id, keep)
    return manifest


def _publish(out_dir: Path, build_id: str, keep: int) -> None:
    """Point ``current`` at the release ``build_id``, link its files, and prune the releases."""
    try:
        previous = Path(os.readlink(out_dir / CURRENT)).name
    except OSError:
        previous = None
    _replace_link(out_dir / CURRENT, f"{RELEASES_DIR}/{build_id}")  # the one atomic step that publishes it
    attic = out_dir / RELEASES_DIR / f".unversioned-{os.getpid()}-{time.monotonic_ns()}"
    _link_entries(out_dir, out_dir / RELEASES_DIR / build_id, attic)
    shutil.rmtree(attic, ignore_errors=True)
    prune(out_dir, keep, protect=(build_id, *([previous] if previous else [])))
