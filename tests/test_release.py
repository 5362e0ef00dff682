"""Atomic releases: kg build publishes each build as an immutable release behind a ``current`` pointer,
and a running server moves to a new release between requests, never mixing two builds in a response."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import requests
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, parse, serialize

from kg import curation, ids, layout, release
from kg.pipeline import build
from kg.store import open_store, run_query
from server import create_app
from server.release import BUILD_HEADER, current_release, get_manifest, get_store, per_process
from tests.conftest import PROJECT_ROOT, LiveServer
from tests.fixtures import write_fixture_data

NEWCOMER = "https://w3id.org/soles/id/person/zed-newcomer"
NEWCOMER_ACTOR = """\
  - id: zed-newcomer
    type: person
    name: Zed Newcomer
    description: An actor only the second build knows.
"""
ASK_NEWCOMER = f"ASK {{ <{NEWCOMER}> ?p ?o }}"


@pytest.fixture(scope="module")
def newer_data(tmp_path_factory) -> Path:
    """The fixture data with one more actor."""
    data = write_fixture_data(tmp_path_factory.mktemp("newer") / "data")
    actors = data / "actors.yaml"
    actors.write_text(actors.read_text(encoding="utf-8") + NEWCOMER_ACTOR, encoding="utf-8")
    return data


def releases(out: Path) -> list[str]:
    return sorted(entry.name for entry in (out / layout.RELEASES_DIR).iterdir())


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def manifest_of(out: Path, build_id: str) -> dict:
    return json.loads((out / layout.RELEASES_DIR / build_id / layout.MANIFEST).read_text(encoding="utf-8"))


def test_a_build_is_a_release_behind_the_current_pointer(fixture_build):
    current = fixture_build / layout.CURRENT
    assert current.is_symlink() and os.readlink(current) == f"{layout.RELEASES_DIR}/{layout.resolve(fixture_build).id}"
    found = layout.resolve(fixture_build)
    assert found.path == fixture_build / layout.RELEASES_DIR / found.id
    # Sortable by time, named by what it holds: the hash of its manifest ends the id.
    assert found.id.endswith("-" + hashlib.sha256((found.path / layout.MANIFEST).read_bytes()).hexdigest()[:12])
    assert layout.resolve(found.path) == found  # a release directory resolves to itself
    # The files are there for people too, as links through the pointer.
    assert os.readlink(fixture_build / "soles.trig") == "current/soles.trig"
    assert layout.read_manifest(fixture_build) == layout.read_manifest(found.path)


def test_no_build_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'kg build' first"):
        layout.resolve(tmp_path)
    with pytest.raises(FileNotFoundError, match="run 'kg build' first"):
        open_store(tmp_path / "nothing")


def test_a_new_build_moves_the_pointer_and_keeps_the_old_release_whole(fixture_data, newer_data, tmp_path):
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    old = layout.resolve(out)
    old_files = files_of(old.path)
    build(newer_data, out, reason=False)
    new = layout.resolve(out)
    assert new.id > old.id and new.path != old.path
    assert files_of(old.path) == old_files  # immutable: in-flight readers of the old release see it unchanged
    assert b"zed-newcomer" in (new.path / "soles.trig").read_bytes()
    assert b"zed-newcomer" not in old_files["soles.trig"]
    assert bool(run_query(open_store(out), ASK_NEWCOMER))  # kg query and kg stats follow the pointer
    assert not bool(run_query(open_store(old.path), ASK_NEWCOMER))


def test_the_pointer_is_never_missing_nor_pointing_at_a_partial_release(fixture_data, newer_data, tmp_path):
    """A reader resolving in a loop while builds publish always finds a complete release (its manifest's
    hash in its id), never no pointer: the pointer is replaced with rename(2), never removed."""
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    stop, problems, seen = threading.Event(), [], set()

    def read():
        while not stop.is_set():
            try:
                found = layout.resolve(out)
                digest = hashlib.sha256((found.path / layout.MANIFEST).read_bytes()).hexdigest()
                if not found.id.endswith(digest[:12]):
                    problems.append(f"{found.id} holds another manifest")
                seen.add(found.id)
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                problems.append(repr(error))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for data in (newer_data, fixture_data, newer_data):
            build(data, out, reason=False, keep=2)
    finally:
        stop.set()
        reader.join()
    assert problems == []
    assert len(seen) >= 2


def test_old_releases_are_pruned_keeping_the_newest(fixture_data, tmp_path):
    out = tmp_path / "build"
    published = []
    for _ in range(5):
        build(fixture_data, out, reason=False, keep=3)
        published.append(layout.resolve(out).id)
    assert releases(out) == published[-3:]
    assert layout.resolve(out).id == published[-1]

    build(fixture_data, out, reason=False, keep=1)  # the one it replaced is kept too: requests may still use it
    assert releases(out) == [published[-1], layout.resolve(out).id]


def test_pruning_never_deletes_the_current_release(fixture_data, tmp_path):
    out = tmp_path / "build"
    for _ in range(3):
        build(fixture_data, out, reason=False)
    oldest, middle, newest = releases(out)
    (out / "rollback").symlink_to(f"{layout.RELEASES_DIR}/{oldest}")
    os.replace(out / "rollback", out / layout.CURRENT)  # an operator rolls back by hand
    assert release.prune(out, keep=1) == [middle]
    assert releases(out) == [oldest, newest]
    assert layout.resolve(out).id == oldest


def test_keep_must_be_positive(fixture_data, tmp_path):
    with pytest.raises(ValueError, match="at least 1"):
        build(fixture_data, tmp_path / "build", reason=False, keep=0)


@pytest.mark.parametrize("failure", ["bad data", "failure while writing"])
def test_a_failed_build_leaves_the_current_release_untouched(fixture_data, newer_data, tmp_path, monkeypatch,
                                                                failure):
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    before = layout.resolve(out)
    files = files_of(before.path)
    if failure == "bad data":
        broken = tmp_path / "broken"
        shutil.copytree(newer_data, broken)
        (broken / "actors.yaml").write_text("actors: [", encoding="utf-8")
        with pytest.raises(curation.DataError):
            build(broken, out, reason=False)
    else:  # fails after the release's files are written, before it is published
        import kg.overview

        def fail(store):
            raise OSError("disk full")

        monkeypatch.setattr(kg.overview, "overview", fail)
        with pytest.raises(OSError, match="disk full"):
            build(newer_data, out, reason=False)
    assert layout.resolve(out) == before
    assert releases(out) == [before.id]  # nothing half-written left behind, not even hidden
    assert files_of(before.path) == files
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


def test_a_first_build_that_fails_leaves_no_build_root(fixture_data, tmp_path, monkeypatch):
    import kg.overview

    monkeypatch.setattr(kg.overview, "overview", lambda store: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build(fixture_data, tmp_path / "build", reason=False)
    assert not (tmp_path / "build").exists()


def test_a_build_of_the_layout_before_releases_is_served_then_converted(fixture_data, fixture_build, tmp_path):
    legacy = tmp_path / "build"
    shutil.copytree(layout.resolve(fixture_build).path, legacy)  # its files right in the directory
    found = layout.resolve(legacy)
    assert found.path == legacy and found.id.startswith("unversioned-")
    assert len(open_store(legacy)) > 0
    build(fixture_data, legacy, reason=False)
    converted = layout.resolve(legacy)
    assert converted.path.parent == legacy / layout.RELEASES_DIR
    assert all((legacy / name).is_symlink() for name in files_of(converted.path)) and (legacy / "store").is_symlink()
    assert files_of(legacy) == files_of(converted.path)
    assert sorted(p.name for p in (legacy / layout.RELEASES_DIR).iterdir()) == [converted.id]


# The server


def test_every_response_names_the_build_that_answered(client, fixture_build):
    build_id = layout.resolve(fixture_build).id
    for path in ("/", "/downloads", "/downloads/soles.trig", "/void", "/search?q=alice", "/id/person/alice-example",
                 "/ontology", "/static/style.css", "/no/such/page", "/downloads/nothing.ttl"):
        with client.get(path) as response:
            assert response.headers[BUILD_HEADER] == build_id, path


def test_a_request_stays_on_the_release_it_started_with(fixture_data, newer_data, tmp_path):
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    app = create_app({"BUILD_DIR": out, "TESTING": True})
    client = app.test_client()
    first = client.get("/downloads.json")
    with app.test_request_context("/"):
        app.preprocess_request()  # the request starts: its release is resolved
        started_on = current_release()
        build(newer_data, out, reason=False)  # published while it runs
        assert current_release() == started_on
        assert get_manifest() == manifest_of(out, started_on.id)
        assert not bool(run_query(get_store(), ASK_NEWCOMER))
    second = client.get("/downloads.json")  # the next request is answered by the new build
    new_id = layout.resolve(out).id
    assert first.headers[BUILD_HEADER] == started_on.id != second.headers[BUILD_HEADER] == new_id
    assert second.get_json()["files"][0]["sha256"] == manifest_of(out, new_id)["files"][0]["sha256"]
    assert client.get("/id/person/zed-newcomer").status_code == 200
    assert client.get("/search?q=newcomer&format=json").get_json()["results"]


def _check(kind: str, response: requests.Response, build_id: str, manifest: dict, newer: bool) -> str | None:
    """What is wrong with one response, given the manifest of the build its header names; None if right."""
    sha = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    if kind == "listing":
        listed = {entry["name"]: entry["sha256"] for entry in response.json()["files"]}
        return None if listed == sha else f"lists the files of another build: {listed}"
    if kind == "file":
        body, etag = hashlib.sha256(response.content).hexdigest(), response.headers["ETag"]
        return None if body == sha["soles.trig"] and etag == f'"{body}"' else f"body {body}, ETag {etag}"
    if kind == "void":
        body, etag = hashlib.sha256(response.content).hexdigest(), response.headers["ETag"]
        return None if body == sha["void.ttl"] and etag == f'"{body}-turtle"' else f"body {body}, ETag {etag}"
    if kind == "search":
        found = [item["iri"] for item in response.json()["results"]] == [NEWCOMER]
        return None if found == newer else f"search finds the newcomer: {found}"
    if kind == "page":
        expected = 200 if newer else 404
        return None if response.status_code == expected else f"status {response.status_code}"
    raise AssertionError(kind)


REQUESTS = (
    ("listing", "/downloads.json"),
    ("file", "/downloads/soles.trig"),
    ("void", "/void"),
    ("search", "/search?q=newcomer&format=json"),
    ("page", "/id/person/zed-newcomer"),
)


def _kg_build(data: Path, out: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--data", str(data), "--out", str(out),
                             "--no-reason"], check=False, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def _under_load(server: LiveServer, requests_: tuple, publish, threads: int = 3, settle: float = 0.8,
                limit: float = 30.0) -> list:
    """Send ``requests_`` round robin from ``threads`` threads while ``publish()`` runs, then ``settle`` s more."""
    stop, answers = threading.Event(), []

    def load(offset: int):
        with requests.Session() as session:
            index = offset
            while not stop.is_set():
                kind, path = requests_[index % len(requests_)]
                index += 1
                try:
                    answers.append((kind, path, session.get(server.url + path, timeout=10)))
                except requests.RequestException as error:
                    answers.append((kind, path, error))

    workers = [threading.Thread(target=load, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + limit
    try:
        publish()
        time.sleep(max(0.0, min(settle, deadline - time.monotonic())))
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    return answers


def test_a_live_server_moves_to_new_builds_without_errors_or_mixed_answers(fixture_data, newer_data, tmp_path):
    """kg build publishes twice (one more actor, then the first data again) while kg serve answers a steady
    stream of requests; every answer must be whole and consistent with the build its header names."""
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    first = layout.resolve(out).id
    server = LiveServer(out, workers=2)
    try:
        def publish():
            time.sleep(0.5)
            _kg_build(newer_data, out)
            time.sleep(0.5)
            _kg_build(fixture_data, out)

        answers = _under_load(server, REQUESTS, publish)
    finally:
        server.stop()
    newer, last = releases(out)[-2:]  # kept: the first, the newer and the last build
    assert releases(out) == [first, newer, last]
    manifests = {build_id: manifest_of(out, build_id) for build_id in (first, newer, last)}
    problems, seen = [], {}
    for kind, path, response in answers:
        if isinstance(response, Exception):
            problems.append(f"{path}: {response!r}")
            continue
        build_id = response.headers.get(BUILD_HEADER)
        if build_id not in manifests:
            problems.append(f"{path}: answered by {build_id!r}")
            continue
        if response.status_code not in (200, 404) or (response.status_code == 404) != (kind == "page"
                                                                                        and build_id != newer):
            problems.append(f"{path}: status {response.status_code} from {build_id}")
            continue
        seen[build_id] = seen.get(build_id, 0) + 1
        if (problem := _check(kind, response, build_id, manifests[build_id], build_id == newer)) is not None:
            problems.append(f"{path} answered by {build_id}: {problem}")
    assert problems == []
    assert set(seen) == {first, newer, last}, seen  # each build answered some requests
    assert manifests[first]["files"] != manifests[newer]["files"]  # the checks can tell the builds apart


def test_sparql_answers_from_the_build_named_in_the_header(fixture_data, newer_data, tmp_path):
    out = tmp_path / "build"
    build(fixture_data, out, reason=False)
    server = LiveServer(out, workers=1)
    try:
        before = requests.get(server.url + "/sparql", params={"query": ASK_NEWCOMER},
                              headers={"Accept": "application/sparql-results+json"}, timeout=10)
        _kg_build(newer_data, out)
        after = requests.get(server.url + "/sparql", params={"query": ASK_NEWCOMER},
                             headers={"Accept": "application/sparql-results+json"}, timeout=10)
    finally:
        server.stop()
    assert before.json()["boolean"] is False
    assert after.headers[BUILD_HEADER] == layout.resolve(out).id
    assert after.json()["boolean"] is True


def test_a_value_kept_per_process_is_made_once_however_many_threads_ask(fixture_build):
    """Tables of a big release take seconds to make: a thread that asks meanwhile waits rather than makes it too."""
    app = create_app({"BUILD_DIR": fixture_build})
    made, started = [], threading.Event()

    def slow() -> str:
        made.append(1)
        started.set()
        time.sleep(0.3)
        return "table"

    def ask(found: list) -> None:
        with app.test_request_context("/"):
            app.preprocess_request()
            found.append(per_process("a slow table", slow))

    found: list = []
    first = threading.Thread(target=ask, args=(found,))
    first.start()
    started.wait(5)
    others = [threading.Thread(target=ask, args=(found,)) for _ in range(3)]
    for thread in others:
        thread.start()
    for thread in (first, *others):
        thread.join()
    assert found == ["table"] * 4 and len(made) == 1


def _written_after(store, path: Path, seconds: float) -> str:
    time.sleep(seconds)
    path.write_text("written", encoding="utf-8")
    return path.name


def _read(store, path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _opened_store(_, build: Path):
    return open_store(build)


def _store_once_written(_, build: Path, written: Path):
    """The store of ``build``, once another task has written ``written`` (within a minute)."""
    deadline = time.monotonic() + 60
    while not written.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written.exists(), "the task that reads no store did not run while the store was written"
    return open_store(build)


def _failing(store, problems: list) -> None:
    raise curation.DataError(problems)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_release_task_starts_once_the_tasks_whose_files_it_reads_have_ended(fixture_build, tmp_path, processes):
    """As the list index reads the page index, the timeline and the network, by one process or by several."""
    slow, quick = tmp_path / "slow", tmp_path / "quick"
    tasks = [release.Task("slow", "a slow task", partial(_written_after, path=slow, seconds=1.0)),
             release.Task("reader", "a task that reads both", partial(_read, path=slow), after=("slow", "quick")),
             release.Task("quick", "a quick task", partial(_written_after, path=quick, seconds=0.0))]
    store_dir = layout.resolve(fixture_build).path / layout.STORE_DIR
    store = release.Task("store", "the store", partial(_opened_store, build=fixture_build))
    found = release._run_tasks(tasks, store, store_dir, processes, release.Progress(False))
    assert len(found.pop("store")) > 0
    assert found == {"slow": "slow", "reader": "written", "quick": "quick"}


@pytest.mark.parametrize("processes", [1, 2])
def test_release_tasks_that_read_no_store_run_while_the_store_is_written(fixture_build, tmp_path, processes):
    """The dumps are written from the sorted statements while the store is loaded (which keeps one core busy): the
    store here is written only once such a task has run, and the task that reads it after."""
    dumped = tmp_path / "dumped"
    tasks = [release.Task("reader", "a task that reads the store", _read_store_size),
             release.Task("dump", "a task that reads no store", partial(_written_after, path=dumped, seconds=0.0),
                          reads_store=False)]
    store = release.Task("store", "the store", partial(_store_once_written, build=fixture_build, written=dumped))
    store_dir = layout.resolve(fixture_build).path / layout.STORE_DIR
    found = release._run_tasks(tasks, store, store_dir, processes, release.Progress(False))
    assert found["dump"] == "dumped" and found["reader"] > 0


def _read_store_size(store) -> int:
    return len(store)


def _size_once_read(store, path: Path) -> int:
    """How many statements ``store`` holds, saying so in ``path`` once it has read them."""
    size = len(store)
    path.write_text(str(size), encoding="utf-8")
    return size


def _not_yet_written(_, written: Path) -> str:
    """A store task that writes nothing until a task has read the statements (within a minute)."""
    deadline = time.monotonic() + 60
    while not written.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert written.exists(), "no task read a copy of the statements before the store was written"
    return "written"


def test_with_copies_in_memory_no_task_waits_for_the_store(fixture_build, tmp_path):
    """Given the N-Quads file the store is written from, the processes read copies of it in memory: a task that
    reads the statements runs before the store is written (here the store is written only once one has), and
    reads them all, the ontology's too."""
    nquads = _statements_file(fixture_build, tmp_path)
    read = tmp_path / "read"
    tasks = [release.Task("reader", "a task that reads the statements", partial(_size_once_read, path=read))]
    store = release.Task("store", "the store", partial(_not_yet_written, written=read))
    store_dir = layout.resolve(fixture_build).path / layout.STORE_DIR
    found = release._run_tasks(tasks, store, store_dir, 2, release.Progress(False), copy_of=nquads)
    assert found == {"store": "written", "reader": len(open_store(fixture_build))}


def _statements_file(build: Path, folder: Path) -> Path:
    """The sorted statements' stand-in: an N-Quads file of the build's statements, but the ontology's."""
    nquads = folder / "all.nq"
    serialize((quad for quad in open_store(build) if quad.graph_name != ids.ONTOLOGY_GRAPH), str(nquads),
              RdfFormat.N_QUADS)
    return nquads


def test_copies_in_memory_are_made_only_when_every_process_can_have_one(monkeypatch):
    monkeypatch.setattr(release, "_available_memory", lambda: 64 * release.MEMORY_COPY_BYTES_PER_QUAD)
    assert release.fits_in_memory(quads=16, processes=2)
    assert not release.fits_in_memory(quads=17, processes=2)
    assert release.fits_in_memory(quads=32, processes=1)


@pytest.mark.parametrize("processes, copies", [(1, False), (2, False), (2, True)])
def test_a_failing_release_task_ends_the_run_with_its_error_and_later_tasks_never_start(fixture_build, tmp_path,
                                                                                         processes, copies):
    """As an import that breaks a shape fails a build: its error comes back whole (file, line and field) from the
    process that found it, and the tasks still waiting are not begun."""
    never = tmp_path / "never"
    problems = [curation.Problem("import.nq", 3, "<x> sol:status", "exactly one status")]
    tasks = [release.Task("checks", "a check that fails", partial(_failing, problems=problems)),
             release.Task("other", "a task that runs beside it", partial(_written_after, path=tmp_path / "o",
                                                                        seconds=0.5)),
             release.Task("later", "a task after both", partial(_written_after, path=never, seconds=0.0),
                          after=("checks", "other"))]
    # The store task's result crosses from a process of the pool when the tasks read copies (as kg.release's does,
    # it returns no store): a string here.
    store = release.Task("store", "the store", partial(_written_after, path=tmp_path / "store", seconds=0.0))
    store_dir = layout.resolve(fixture_build).path / layout.STORE_DIR
    with pytest.raises(curation.DataError) as caught:
        release._run_tasks(tasks, store, store_dir, processes, release.Progress(False),
                           copy_of=_statements_file(fixture_build, tmp_path) if copies else None)
    assert caught.value.problems == problems
    assert (caught.value.file, caught.value.line, caught.value.field) == ("import.nq", 3, "<x> sol:status")
    assert not never.exists()


def test_the_sorted_statements_lose_their_keys_and_their_triples_their_graphs(tmp_path):
    """The keyed lines (kg.release._graph_keyed) become N-Quads and N-Triples byte for byte as the engine writes
    them: a graph that is also a value stays a value, a tab in a literal stays written \\t, blank node graphs go,
    and a statement of the default graph has no graph to lose."""
    g, s, p = NamedNode("http://example.org/g"), NamedNode("http://example.org/s"), NamedNode("http://example.org/p")
    quads = [Quad(s, p, g, g), Quad(s, p, Literal("a\tb é"), g), Quad(s, p, Literal("x"), BlankNode("import0b1")),
             Quad(s, p, Literal("in no graph"), DefaultGraph())]
    keyed = tmp_path / "keyed"
    keyed.write_text("".join(release._graph_keyed(quads)), encoding="utf-8")
    nquads, triples = tmp_path / "all.nq", tmp_path / "triples.nt"
    assert release._strip_keys(keyed, nquads, triples) == 4
    assert nquads.read_bytes() == "".join(f"{quad} .\n" for quad in quads).encode()
    assert triples.read_bytes() == "".join(f"{quad.triple} .\n" for quad in quads).encode()
    assert list(parse(nquads.read_bytes(), RdfFormat.N_QUADS)) == quads
