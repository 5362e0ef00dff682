"""Fair admission of SPARQL queries: a bounded number at once, a bounded share per client, a bounded wait.

Query slots are shared by every web worker of a server, so they are files in a directory the server
creates at start, each held with ``flock`` while a query runs: the kernel releases a slot when its holder
closes it or dies, so a crashed worker never leaks one. A client (by address) may hold at most
``per_client`` slots. A query that finds none free waits at most ``wait`` seconds, then is refused with
503 and ``Retry-After``; one whose client already holds its share gets 429. Pages, search and downloads
take no slot: they never wait behind queries. Each worker also caps the queries it lets wait for a slot,
so that waiting queries cannot take all of its threads from the pages; a query that finds a slot free at once
does not wait, and is never refused for that cap.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import os
import shutil
import tempfile
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CLIENT_BUCKETS = 1024  # clients are hashed into this many buckets: a collision only makes two share one share
POLL_INTERVAL = 0.01


class Refused(Exception):
    """No slot for this query: ``status`` is 503 (the server is busy) or 429 (this client holds its share)."""

    def __init__(self, status: int, message: str, retry_after: int):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class Admission:
    def __init__(self, slots: int, per_client: int, wait: float, waiting_per_worker: int):
        self.slots = slots
        self.per_client = min(per_client, slots)
        self.wait = wait
        self.directory = Path(tempfile.mkdtemp(prefix="soles-query-slots-"))
        # Named once: each query takes a slot and a client share, and making their paths costs more than the locks.
        self._slot_paths = [str(self.directory / f"slot-{index}") for index in range(slots)]
        self._client_paths: dict[int, list[str]] = {}  # by bucket, as clients come
        self.waiting_per_worker = waiting_per_worker
        self._waits = _WorkerWaits(waiting_per_worker)
        weakref.finalize(self, _remove_if_owner, self.directory, os.getpid())

    @contextmanager
    def slot(self, client: str, deadline: float) -> Iterator[None]:
        """Hold a query slot while the block runs; Refused if none could be had in time."""
        held: list[int] = []  # the client's share, then the slot: given back when the block ends or admission fails
        try:
            self._admit(self._client_files(client), deadline, held)
            yield
        finally:
            for descriptor in held:
                os.close(descriptor)
            if held:
                self._here().released()

    def _admit(self, client_files: list[str], deadline: float, held: list[int]) -> None:
        """Take the client's share and a slot into ``held``: at once if both are free, else by waiting for them,
        which only a bounded number of this worker's queries may do."""
        for files in (client_files, self._slot_paths):
            descriptor = _try_lock(files)
            if descriptor is None:
                break
            held.append(descriptor)
        else:
            return
        here = self._here()
        if not here.enter_waiting():
            raise Refused(503, "too many queries are waiting for this server: try again shortly", self._retry_after())
        try:
            if not held:
                descriptor = self._take(client_files, deadline, here)
                if descriptor is None:
                    raise Refused(429, f"this client already runs {self.per_client} queries at once, the most "
                                       "one client may: wait for one to end", self._retry_after())
                held.append(descriptor)
            descriptor = self._take(self._slot_paths, deadline, here)
            if descriptor is None:
                raise Refused(503, f"all {self.slots} query slots stayed busy: try again shortly", self._retry_after())
            held.append(descriptor)
        finally:
            here.leave_waiting()

    def waiting_here(self) -> int:
        """How many queries of this worker process wait for a slot now."""
        return self._here().waiting

    def _here(self) -> _WorkerWaits:
        if self._waits.pid != os.getpid():  # a forked worker: its own threads, its own count
            self._waits = _WorkerWaits(self.waiting_per_worker)
        return self._waits

    def _client_files(self, client: str) -> list[str]:
        bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=4).digest(), "big") % CLIENT_BUCKETS
        paths = self._client_paths.get(bucket)
        if paths is None:  # threads may both make them: the same paths
            paths = self._client_paths[bucket] = [str(self.directory / f"client-{bucket}-{index}")
                                                  for index in range(self.per_client)]
        return paths

    def _take(self, files: list[str], deadline: float, here: _WorkerWaits) -> int | None:
        """A descriptor holding one of ``files`` locked, or None if all stayed held until the wait ran out."""
        give_up = min(deadline, time.monotonic() + self.wait)
        while True:
            descriptor = _try_lock(files)
            if descriptor is not None:
                return descriptor
            now = time.monotonic()
            if now >= give_up:
                return None
            here.await_release(min(POLL_INTERVAL, give_up - now))

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.wait))


class _WorkerWaits:
    """A worker process's queries waiting for a slot: how many may, and a wake-up when one of its own threads
    gives one back (one another worker gives back is found by polling, every POLL_INTERVAL)."""

    def __init__(self, waiting_per_worker: int):
        self.pid = os.getpid()
        self.cap = waiting_per_worker
        self.waiting = 0
        self._released = threading.Condition()  # its lock also guards ``waiting``

    def enter_waiting(self) -> bool:
        with self._released:
            if self.waiting >= self.cap:
                return False
            self.waiting += 1
            return True

    def leave_waiting(self) -> None:
        with self._released:
            self.waiting -= 1

    def await_release(self, timeout: float) -> None:
        with self._released:
            self._released.wait(timeout)

    def released(self) -> None:
        """One of this worker's threads gave back a slot or a client's share: a query waiting for it may go."""
        with self._released:
            self._released.notify()


def _try_lock(files: list[str]) -> int | None:
    """A descriptor holding one of ``files`` locked, if one is free now; the search starts at a file of the
    thread's own, so that threads spread over the files."""
    start = hash(threading.get_ident()) % len(files)
    for offset in range(len(files)):
        descriptor = os.open(files[(start + offset) % len(files)], os.O_RDONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return descriptor
        except BlockingIOError:
            os.close(descriptor)
    return None


def _remove_if_owner(directory: Path, owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # forked workers inherit this finalizer: only the creator removes the slots
        shutil.rmtree(directory, ignore_errors=True)
