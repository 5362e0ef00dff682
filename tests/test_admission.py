"""server.admission in one process: who waits for a query slot, who is refused, and how soon a waiting query starts."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from server import admission
from server.admission import Admission, Refused
from tests.conftest import PROJECT_ROOT

DEADLINE_SECONDS = 30


def deadline() -> float:
    return time.monotonic() + DEADLINE_SECONDS


class Holder:
    """A thread holding a query slot for ``client`` until ``let_go()``."""

    def __init__(self, pool: ThreadPoolExecutor, gate: Admission, client: str):
        self.admitted, self._release = threading.Event(), threading.Event()
        self.finished = pool.submit(self._hold, gate, client)

    def _hold(self, gate: Admission, client: str) -> float:
        with gate.slot(client, deadline()):
            self.admitted.set()
            self._release.wait(DEADLINE_SECONDS)
        return time.monotonic()

    def let_go(self) -> float:
        self._release.set()
        return self.finished.result(DEADLINE_SECONDS)


def wait_until_waiting(gate: Admission, count: int) -> None:
    """Until ``count`` threads of this process wait for a slot (each holds a place of the waiting room)."""
    for _ in range(DEADLINE_SECONDS * 100):
        if gate.waiting_here() == count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} queries never came to wait")


def holding_and_waiting(pool: ThreadPoolExecutor, gate: Admission, holder_client: str,
                        waiter_client: str) -> tuple[Holder, Holder]:
    """A query holding a slot for ``holder_client``, then one of ``waiter_client`` waiting behind it."""
    holder = Holder(pool, gate, holder_client)
    assert holder.admitted.wait(5)
    waiter = Holder(pool, gate, waiter_client)
    wait_until_waiting(gate, 1)
    return holder, waiter


def test_a_query_that_can_start_at_once_is_admitted_while_the_waiting_room_is_full():
    gate = Admission(slots=2, per_client=1, wait=DEADLINE_SECONDS, waiting_per_worker=1)
    with ThreadPoolExecutor(3) as pool:
        # The second waits for its client's share, and fills the waiting room.
        first, second = holding_and_waiting(pool, gate, "client-a", "client-a")
        with gate.slot("client-b", deadline()):  # a slot is free and so is client-b's share: no wait, no refusal
            pass
        first.let_go()
        assert second.admitted.wait(5)
        second.let_go()


def test_a_query_that_would_wait_beyond_the_waiting_room_is_refused_at_once():
    gate = Admission(slots=1, per_client=1, wait=DEADLINE_SECONDS, waiting_per_worker=1)
    with ThreadPoolExecutor(2) as pool:
        holder, waiter = holding_and_waiting(pool, gate, "client-a", "client-b")
        started = time.monotonic()
        with pytest.raises(Refused) as refused:
            with gate.slot("client-c", deadline()):
                pass
        assert refused.value.status == 503 and "waiting" in str(refused.value)
        assert time.monotonic() - started < 1
        holder.let_go()
        assert waiter.admitted.wait(5)  # the refusal took nothing from the query that waited
        waiter.let_go()


def test_a_waiting_query_starts_as_soon_as_its_worker_releases_a_slot(monkeypatch):
    """A slot released by another thread of the same worker wakes a waiting query at once, not at its next poll
    (a slot another worker releases is found by polling: made far apart here, so that only the wake-up can pass)."""
    monkeypatch.setattr(admission, "POLL_INTERVAL", DEADLINE_SECONDS)
    gate = Admission(slots=1, per_client=1, wait=DEADLINE_SECONDS, waiting_per_worker=2)
    with ThreadPoolExecutor(2) as pool:
        holder, waiter = holding_and_waiting(pool, gate, "client-a", "client-b")
        time.sleep(0.2)  # the waiter is asleep in its wait, not about to look again
        released = holder.let_go()
        assert waiter.admitted.wait(5)
        assert time.monotonic() - released < 2
        waiter.let_go()


def test_a_query_that_waits_past_the_limit_gets_503_and_its_client_share_back():
    gate = Admission(slots=1, per_client=1, wait=0.3, waiting_per_worker=2)
    with ThreadPoolExecutor(1) as pool:
        holder = Holder(pool, gate, "client-a")
        assert holder.admitted.wait(5)
        with pytest.raises(Refused) as refused:
            with gate.slot("client-b", deadline()):
                pass
        assert refused.value.status == 503 and refused.value.retry_after == 1
        holder.let_go()
    with gate.slot("client-b", deadline()):  # its share was given back with the refusal
        pass


# Run in a process of its own, which has no other thread when it forks (a fork beside threads is unsafe): it forks as
# gunicorn forks its workers from a server that made its Admission first.
FORKED_WORKERS = """
import os, signal, time
from server.admission import Admission, Refused


def refusal(gate, client):
    try:
        with gate.slot(client, time.monotonic() + 5):
            return None
    except Refused as refused:
        return refused.status


def in_a_worker(check):
    pid = os.fork()
    if pid == 0:  # never returns into the script, even if the check raises
        try:
            os._exit(0 if check() else 1)
        finally:
            os._exit(2)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0


one_slot = Admission(slots=1, per_client=1, wait=0.2, waiting_per_worker=2)
with one_slot.slot("client-a", time.monotonic() + 5):  # held by the parent's thread, which forks below
    assert in_a_worker(lambda: refusal(one_slot, "client-b") == 503), "a worker took the slot its parent holds"
gate = Admission(slots=2, per_client=1, wait=0.2, waiting_per_worker=2)
with gate.slot("client-a", time.monotonic() + 5):
    assert in_a_worker(lambda: refusal(gate, "client-a") == 429), "a worker took the share its parent holds"
    assert in_a_worker(lambda: refusal(gate, "client-b") is None), "a worker found no slot free"

ready, told = os.pipe()
holder = os.fork()
if holder == 0:
    try:
        with gate.slot("client-a", time.monotonic() + 5):
            os.write(told, b"held")
            time.sleep(60)
    finally:
        os._exit(2)
os.read(ready, 4)
assert refusal(gate, "client-a") == 429
os.kill(holder, signal.SIGKILL)
os.waitpid(holder, 0)
assert refusal(gate, "client-a") is None, "a killed worker kept its client's share"
print("shared and given back")
"""


def test_workers_share_the_slots_and_a_killed_worker_gives_its_own_back():
    done = subprocess.run([sys.executable, "-c", FORKED_WORKERS], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "shared and given back" in done.stdout, done.stderr
