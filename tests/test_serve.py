"""``kg serve``: builds when needed, runs gunicorn workers with their query processes, stops cleanly."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from kg.cli import parser
from server import DEFAULT_CONFIG
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
        while len(children(server.process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(children(server.process.pid)) == 3
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
        table = processes()
        workers = children(server.process.pid)
        for worker in workers:
            executors = [pid for pid, (parent, _, _) in table.items() if parent == worker]
            assert len(executors) <= DEFAULT_CONFIG["QUERY_SLOTS"]
            assert all(table[pid][2] != "Z" for pid in executors)  # stopped ones are reaped
    finally:
        stop_and_read_output(server)
    assert not [pid for pid, (_, pgid, _) in processes().items() if pgid == group]


def test_query_processes_die_with_a_killed_worker(fixture_build):
    """Even a worker killed outright (gunicorn does that to a stuck one) leaves no query process running."""
    server = LiveServer(fixture_build, timeout=30, workers=1)
    try:
        [worker] = children(server.process.pid)
        with pytest.raises(requests.Timeout):  # the query keeps running in a query process of the worker
            requests.get(server.url + "/sparql", params={"query": RUNAWAY}, timeout=1)
        executors = children(worker)
        assert executors
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while running(executors) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(executors)
    finally:
        stop_and_read_output(server)


def test_a_stuck_query_process_is_replaced(fixture_build):
    server = LiveServer(fixture_build, timeout=1, workers=1)
    try:
        assert sparql(server, ASK_ALICE).status_code == 200
        [worker] = children(server.process.pid)
        [executor] = children(worker)
        os.kill(executor, signal.SIGSTOP)
        longer_than_a_pipe_holds = "#" + "x" * 90_000 + "\n" + ASK_ALICE
        started = time.monotonic()
        assert sparql(server, longer_than_a_pipe_holds, method="POST").status_code == 503
        assert time.monotonic() - started < 3
        assert not running([executor])
        assert sparql(server, ASK_ALICE).status_code == 200
    finally:
        stop_and_read_output(server)
