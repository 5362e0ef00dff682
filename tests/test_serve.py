"""``kg serve``: builds when needed, runs gunicorn workers and the query processes they share, stops cleanly.

More attacks on the query processes are in tests/test_query_pool.py."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import requests

from kg.cli import parser
from server import DEFAULT_CONFIG
from server.engines.local import EXECUTOR_NAME, POOL_NAME
from tests.conftest import LiveServer
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
        assert not running([executor])
        assert sparql(server, ASK_ALICE).status_code == 200
    finally:
        stop_and_read_output(server)
