"""``kg serve``: builds when needed, runs gunicorn workers and the query processes they share, stops cleanly.

More attacks on the query processes are in tests/test_query_pool.py."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from kg.cli import parser
from kg.layout import BUILD_FORMAT, MANIFEST, read_manifest, resolve
from server import DEFAULT_CONFIG
from server.engines.local import EXECUTOR_NAME, POOL_NAME
from tests.conftest import LiveServer, wait_until
from tests.test_sparql import ASK_ALICE, RUNAWAY, sparql


def processes() -> dict[int, tuple[int, int, str]]:
    """Every process on the machine: pid -> (parent pid, process group, state)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # it ended while we looked
                continue
            state, parent, group = stat[stat.rindex(")") + 2:].split()[:3]
            table[int(entry.name)] = (int(parent), int(group), state)
    return table


def children(pid: int) -> list[int]:
    return [child for child, (parent, _, _) in processes().items() if parent == pid]


def running(pids: list[int]) -> set[int]:
    return {pid for pid, (_, _, state) in processes().items() if pid in pids and state != "Z"}


def named(pid: int) -> bytes:
    """The process's name (``/proc/<pid>/comm``), or nothing if it has ended."""
    try:
        return Path(f"/proc/{pid}/comm").read_bytes().strip()
    except OSError:
        return b""


def pool_of(server: LiveServer) -> int:
    """The server's query pool process: the master's child that is not a gunicorn worker."""
    [pool] = [pid for pid in children(server.process.pid) if named(pid) == POOL_NAME]
    return pool


def workers_of(server: LiveServer) -> list[int]:
    return [pid for pid in children(server.process.pid) if named(pid) != POOL_NAME]


def executors(pool: int) -> list[int]:
    """The live query processes of the pool process ``pool``."""
    return [pid for pid in running(children(pool)) if named(pid) == EXECUTOR_NAME]


def stop_and_read_output(server: LiveServer) -> str:
    """Send SIGTERM to the master only (its workers and query processes must follow) and return its output."""
    try:
        server.process.send_signal(signal.SIGTERM)
        output, _ = server.process.communicate(timeout=15)  # also times out if a process left holds its output
        assert server.process.returncode == 0
        return output.decode()
    finally:
        server.stop()


def test_defaults():
    args = parser().parse_args(["serve"])
    assert (args.host, args.port, args.timeout) == ("127.0.0.1", 5000, 10.0)


def test_serve_builds_first_when_there_is_no_build(fixture_data, tmp_path):
    server = LiveServer(tmp_path / "build", extra=("--data", str(fixture_data)))
    try:
        assert sparql(server, ASK_ALICE).json()["boolean"] is True
    finally:
        output = stop_and_read_output(server)
    assert f"no build in {tmp_path / 'build'}: building it" in output
    assert (tmp_path / "build" / "manifest.json").exists()


def copy_with_format(fixture_build: Path, to: Path, **changes) -> Path:
    """A copy of the fixture build whose manifest says ``changes`` (a format of None: none named, as before formats)."""
    shutil.copytree(fixture_build, to, symlinks=True)
    path = resolve(to).path / MANIFEST
    manifest = {**json.loads(path.read_text(encoding="utf-8")), **changes}
    path.write_text(json.dumps({key: value for key, value in manifest.items() if value is not None}), encoding="utf-8")
    return to


def test_serve_builds_again_a_build_of_another_format(fixture_build, fixture_data, tmp_path):
    build = copy_with_format(fixture_build, tmp_path / "build", format=None)
    server = LiveServer(build, extra=("--data", str(fixture_data)))
    try:
        assert sparql(server, ASK_ALICE).json()["boolean"] is True
    finally:
        output = stop_and_read_output(server)
    assert (f"{build} holds a build of format 1, made by an earlier version of soles (this one reads format "
            f"{BUILD_FORMAT}): building it from {fixture_data} first") in output
    assert read_manifest(build)["format"] == BUILD_FORMAT


def test_serve_refuses_a_build_of_another_format_made_with_imports(fixture_build, tmp_path):
    build = copy_with_format(fixture_build, tmp_path / "build", format=BUILD_FORMAT + 1, imports=["extra.nq"])
    served = subprocess.run([sys.executable, "-m", "kg.cli", "serve", "--build", str(build)],
                            capture_output=True, text=True, timeout=60)
    assert served.returncode == 2
    assert (f"kg serve: {build} holds a build of format {BUILD_FORMAT + 1}, made by a later version of soles (this one "
            f"reads format {BUILD_FORMAT}), with imported files (extra.nq): build it again with kg build --out {build} "
            "--import FILE ...") in served.stderr


def test_serve_runs_gunicorn_workers_and_says_where(fixture_build):
    server = LiveServer(fixture_build, workers=3)
    try:
        response = requests.get(server.url + "/sparql", params={"query": ASK_ALICE}, timeout=10)
        assert response.headers["Server"].startswith("gunicorn")
        deadline = time.monotonic() + 5  # gunicorn spreads the workers' start over a moment
        while len(workers_of(server)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers_of(server)) == 3
        assert pool_of(server)
    finally:
        output = stop_and_read_output(server)
    assert f"soles serving {fixture_build} from its embedded store at {server.url}/ (SPARQL at /sparql)" in output


def test_query_processes_are_replaced_not_piled_up_and_end_with_the_server(fixture_build):
    server = LiveServer(fixture_build, timeout=1, workers=2)
    group = server.process.pid
    try:
        for _ in range(3):
            assert sparql(server, RUNAWAY).status_code == 503
            assert sparql(server, ASK_ALICE).status_code == 200
        pool = pool_of(server)
        assert len(executors(pool)) <= DEFAULT_CONFIG["QUERY_SLOTS"]
        assert not [pid for pid in children(pool) if processes()[pid][2] == "Z"]  # stopped ones are reaped
        for worker in workers_of(server):
            assert not children(worker)  # the workers share the pool's query processes, they start none
    finally:
        stop_and_read_output(server)
    assert not [pid for pid, (_, pgid, _) in processes().items() if pgid == group]


def test_a_stuck_query_process_is_replaced(fixture_build):
    server = LiveServer(fixture_build, timeout=1, workers=1)
    try:
        assert sparql(server, ASK_ALICE).status_code == 200
        [executor] = executors(pool_of(server))
        os.kill(executor, signal.SIGSTOP)
        longer_than_a_pipe_holds = "#" + "x" * 90_000 + "\n" + ASK_ALICE
        started = time.monotonic()
        assert sparql(server, longer_than_a_pipe_holds, method="POST").status_code == 503
        assert time.monotonic() - started < 3
        # Killed at once; it ends as soon as the kernel has torn it down, which on a loaded host (a fresh clone's CI
        # on Python 3.13) was seen still under way when the 503 came.
        assert wait_until(lambda: not running([executor]), 2)
        assert sparql(server, ASK_ALICE).status_code == 200
    finally:
        stop_and_read_output(server)
