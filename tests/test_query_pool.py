"""The query pool every web worker shares, attacked: queries past the limit, killed workers, more workers than
query processes, processes that kept too much memory, servers that die."""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kg import formats
from server.engines.interface import QueryJob, QueryTimeout
from server.engines.local import Limits, QueryPool, QueryRunner, _Child, _Pool
from tests.conftest import LiveServer, wait_until
from tests.test_serve import children, executors, pool_of, processes, running, stop_and_read_output, workers_of
from tests.test_sparql import ASK_ALICE, RUNAWAY, sparql

JSON = formats.by_name("json")


@pytest.fixture()
def started_pools():
    """Pools started by the test, stopped at its end whatever happened."""
    pools = []
    yield pools
    pools.clear()
    gc.collect()


def start_pool(pools: list, size: int, **limits) -> tuple[QueryPool, int]:
    before = set(children(os.getpid()))
    pool = QueryPool.start(size, Limits(**{"timeout": 1.0, **limits}))
    pools.append(pool)
    [pid] = set(children(os.getpid())) - before
    return pool, pid


def test_a_query_past_the_limit_is_killed_and_the_pool_recovers(fixture_build, started_pools):
    pool, pool_pid = start_pool(started_pools, 2)
    runner = QueryRunner(fixture_build, pool)
    assert b"true" in b"".join(runner.run(QueryJob(ASK_ALICE, JSON)))
    [first] = executors(pool_pid)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        runner.run(QueryJob(RUNAWAY, JSON))
    assert time.monotonic() - started < 1.8
    assert wait_until(lambda: first not in children(pool_pid), 2)  # killed, and reaped by the pool process
    assert b"true" in b"".join(runner.run(QueryJob(ASK_ALICE, JSON)))
    [second] = executors(pool_pid)
    assert second != first


class PoolOfSleepers:
    """A pool process's loop (``_Pool.serve``) run in a thread of the test, over executors that are ``sleep``
    processes (one per slot): what it does when asked to stop them, or how they died."""

    def __init__(self, directory: Path, size: int):
        self.control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.control.bind(str(directory / "control.sock"))
        self.control.listen()
        self.address = str(directory / "control.sock")
        lifeline_read, self.lifeline = os.pipe()
        self.pool = _Pool(directory / "pool", size, Limits(timeout=1.0), self.control, lifeline_read)
        for index in range(size):
            stderr_read, stderr_write = os.pipe()
            os.set_blocking(stderr_read, False)
            pid = os.posix_spawn("/bin/sleep", ["sleep", "60"], os.environ,
                                 file_actions=[(os.POSIX_SPAWN_DUP2, stderr_write, 2)])
            os.close(stderr_write)
            self.pool.children[index] = _Child(pid, os.pidfd_open(pid), stderr_read)
        self.serving = threading.Thread(target=self._serve, args=(lifeline_read,))

    def _serve(self, lifeline_read: int) -> None:
        try:
            self.pool.serve()
        finally:
            os.close(lifeline_read)

    def connected(self) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        connection.settimeout(10)
        connection.connect(self.address)
        return connection

    def ask(self, request: dict) -> dict:
        with self.connected() as connection:
            connection.sendall(json.dumps(request).encode())
            return json.loads(connection.recv(4096))

    def close(self) -> None:
        if self.serving.ident is None:  # its loop ends the sleepers: started, if the test did not, to end them
            self.serving.start()
        os.close(self.lifeline)  # the loop ends, as when no process is left to ask it for queries
        self.serving.join()
        self.control.close()


@pytest.fixture()
def sleepers(tmp_path):
    pools = []
    yield lambda size: pools.append(PoolOfSleepers(tmp_path, size)) or pools[-1]
    for pool in pools:
        pool.close()


def test_stopping_an_executor_does_not_wait_for_it_to_end(sleepers):
    """A killed executor may take a second to end (its memory freed at low priority on a busy machine): the pool
    answers the stop at once and reaps it from its loop, so that one runaway's end never delays the next's."""
    sleeping = sleepers(1)
    child = sleeping.pool.children[0]
    sleeping.pool._kill(child)
    assert child.status is None and child in sleeping.pool.ending  # the stop did not wait for its end
    sleeping.serving.start()
    assert wait_until(lambda: child.status is not None, 5)  # the pool's loop reaped it
    assert os.WTERMSIG(child.status) == signal.SIGKILL and not sleeping.pool.ending


def test_asking_how_an_executor_died_does_not_hold_up_the_pool(sleepers):
    """A worker whose executor closed its connection mid-job asks how it died; the answer waits for its end (and
    kills one that has not ended after DEATH_WAIT), while the pool answers other workers."""
    sleeping = sleepers(2)
    sleeping.serving.start()
    with sleeping.connected() as asking_how_it_died:
        asking_how_it_died.sendall(json.dumps({"died": 0}).encode())  # asked first
        assert sleeping.ask({"stop": 1}) == {}
        assert not select.select([asking_how_it_died], [], [], 0)[0]  # answered second
        death = json.loads(asking_how_it_died.recv(4096))
    assert os.WTERMSIG(death["status"]) == signal.SIGKILL  # it never ended on its own


def test_threads_share_the_pool_and_never_exceed_it(fixture_build, started_pools):
    pool, pool_pid = start_pool(started_pools, 2, timeout=20.0)
    runner = QueryRunner(fixture_build, pool)
    most = []
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            most.append(len(executors(pool_pid)))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        with ThreadPoolExecutor(8) as threads:
            answers = list(threads.map(lambda _: b"".join(runner.run(QueryJob(ASK_ALICE, JSON))), range(64)))
    finally:
        sampling.set()
        sampler.join()
    assert all(b"true" in answer for answer in answers)
    assert max(most) <= 2
    assert len(executors(pool_pid)) <= 2


def test_an_executor_that_kept_too_much_memory_is_replaced_and_one_that_did_not_is_kept(fixture_build, started_pools):
    recycling, recycling_pid = start_pool(started_pools, 1, memory_kept=0)
    keeping, keeping_pid = start_pool(started_pools, 1)
    kept = set()
    for _ in range(3):
        assert b"true" in b"".join(QueryRunner(fixture_build, recycling).run(QueryJob(ASK_ALICE, JSON)))
        assert wait_until(lambda: not executors(recycling_pid), 5)  # it ended after its query
        assert b"true" in b"".join(QueryRunner(fixture_build, keeping).run(QueryJob(ASK_ALICE, JSON)))
        kept |= set(executors(keeping_pid))
    assert len(kept) == 1


def test_the_pool_process_ends_with_the_pool_that_started_it(fixture_build, started_pools):
    pool, pool_pid = start_pool(started_pools, 1)
    QueryRunner(fixture_build, pool).run(QueryJob(ASK_ALICE, JSON))
    [executor] = executors(pool_pid)
    started_pools.clear()
    del pool
    gc.collect()
    assert wait_until(lambda: not running([pool_pid, executor]), 5)


def test_four_workers_start_no_more_query_processes_than_configured(fixture_build):
    server = LiveServer(fixture_build, timeout=1, workers=4, extra=("--query-slots", "2"))
    try:
        pool = pool_of(server)
        assert wait_until(lambda: len(workers_of(server)) == 4, 5)  # gunicorn spreads their start over a moment
        most = []
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                most.append(len(executors(pool)))
                time.sleep(0.01)

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(12) as clients:
                statuses = list(clients.map(lambda query: sparql(server, query).status_code,
                                            [RUNAWAY, ASK_ALICE, ASK_ALICE] * 12))
        finally:
            sampling.set()
            sampler.join()
        assert set(statuses) <= {200, 429, 503} and 200 in statuses
        assert max(most) <= 2
        assert sparql(server, ASK_ALICE).status_code == 200
        assert len(executors(pool)) <= 2
    finally:
        stop_and_read_output(server)


def test_a_worker_killed_mid_query_leaves_no_query_running(fixture_build):
    """Its query stops at its deadline even if no other query comes; the next query is answered at once."""
    server = LiveServer(fixture_build, timeout=3, workers=1)
    try:
        pool = pool_of(server)
        [worker] = workers_of(server)
        with pytest.raises(requests.Timeout):  # the query keeps running in a query process of the pool
            requests.get(server.url + "/sparql", params={"query": RUNAWAY}, timeout=0.5)
        [orphan] = executors(pool)
        os.kill(worker, signal.SIGKILL)
        assert wait_until(lambda: not running([orphan]), 3 + 2)  # its deadline, and the grace after it
        assert wait_until(lambda: sparql(server, ASK_ALICE).status_code == 200, 10)  # gunicorn's new worker
    finally:
        stop_and_read_output(server)


def test_the_next_query_stops_a_killed_workers_query(fixture_build):
    """With one query slot: the killed worker's hold on it ends with the worker (the kernel releases it), and its
    query process is stopped for the next query's."""
    server = LiveServer(fixture_build, timeout=30, workers=1, extra=("--query-slots", "1"))
    try:
        pool = pool_of(server)
        [worker] = workers_of(server)
        with pytest.raises(requests.Timeout):
            requests.get(server.url + "/sparql", params={"query": RUNAWAY}, timeout=0.5)
        [orphan] = executors(pool)
        os.kill(worker, signal.SIGKILL)
        assert wait_until(lambda: len(workers_of(server)) == 1, 10)  # gunicorn started a new worker
        started = time.monotonic()
        assert sparql(server, ASK_ALICE).status_code == 200
        assert time.monotonic() - started < 5  # not behind the orphan's 30 s
        assert orphan not in children(pool)  # its slot was taken first: killed, and reaped before the next started
    finally:
        stop_and_read_output(server)


def test_nothing_is_left_when_the_server_is_killed_outright(fixture_build, tmp_path, monkeypatch):
    """Its workers end once their requests have (gunicorn waits for them), then the pool and its processes, and
    nothing the server made in the temporary directory is left there."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the server's own, watched
    server = LiveServer(fixture_build, timeout=3, workers=2)
    group = server.process.pid
    try:
        with pytest.raises(requests.Timeout):
            requests.get(server.url + "/sparql", params={"query": RUNAWAY}, timeout=0.5)
        assert executors(pool_of(server)) and list(tmp_path.iterdir())  # the pool's sockets are there
        os.kill(server.process.pid, signal.SIGKILL)  # no handler runs: only the kernel's notices are left
        server.process.wait(timeout=10)
        assert wait_until(lambda: not [pid for pid, (_, pgid, state) in processes().items()
                                       if pgid == group and state != "Z"], 3 + 10)
        assert wait_until(lambda: not list(tmp_path.iterdir()), 5), list(tmp_path.iterdir())
    finally:
        server.stop()


def test_the_server_stops_with_an_error_when_its_query_pool_dies(fixture_build):
    """Rather than answer every query with an error from then on: a supervisor restarts a server that exits."""
    server = LiveServer(fixture_build, timeout=3, workers=2)
    try:
        assert sparql(server, ASK_ALICE).status_code == 200
        os.kill(pool_of(server), signal.SIGKILL)
        output, _ = server.process.communicate(timeout=20)
        assert server.process.returncode == 1
        assert "the query pool" in output.decode() and "stopping the server" in output.decode()
    finally:
        server.stop()


def test_a_server_stopped_as_usual_says_nothing_of_its_pool(fixture_build):
    server = LiveServer(fixture_build, timeout=3, workers=1)
    assert sparql(server, ASK_ALICE).status_code == 200
    assert "query pool" not in stop_and_read_output(server)  # and it exits with 0
