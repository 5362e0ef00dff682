"""Fair admission of SPARQL queries: a bounded number at once, a bounded share per client, a bounded wait.

Query slots are shared by every web worker of a server, so they are files in a directory the server
creates at start, each held with ``flock`` while a query runs: the kernel releases a slot when its holder
closes it or dies, so a crashed worker never leaks one. A client (by address) may hold at most
``per_client`` slots. A query that finds none free waits at most ``wait`` seconds, then is refused with
503 and ``Retry-After``; one whose client already holds its share gets 429. Pages, search and downloads
take no slot: they never wait behind queries. Each worker also caps the requests it lets wait for a slot,
so that waiting queries cannot take all of its threads from the pages.
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
        self._waiting = threading.BoundedSemaphore(waiting_per_worker)
        self._waiting_pid = os.getpid()
        weakref.finalize(self, _remove_if_owner, self.directory, os.getpid())

    @contextmanager
    def slot(self, client: str, deadline: float) -> Iterator[None]:
        """Hold a query slot while the block runs; Refused if none could be had in time."""
        waiting = self._waiting_here()
        if not waiting.acquire(blocking=False):
            raise Refused(503, "too many queries are waiting for this server: try again shortly", self._retry_after())
        try:
            client_lock = self._take(self._client_files(client), deadline)
            if client_lock is None:
                raise Refused(429, f"this client already runs {self.per_client} queries at once, the most "
                                   "one client may: wait for one to end", self._retry_after())
            try:
                slot_lock = self._take(self._slot_paths, deadline)
                if slot_lock is None:
                    raise Refused(503, f"all {self.slots} query slots stayed busy: try again shortly",
                                  self._retry_after())
            except BaseException:
                os.close(client_lock)
                raise
        finally:
            waiting.release()
        try:
            yield
        finally:
            os.close(slot_lock)
            os.close(client_lock)

    def _waiting_here(self) -> threading.BoundedSemaphore:
        if self._waiting_pid != os.getpid():  # a forked worker: its own threads, its own count
            self._waiting = threading.BoundedSemaphore(self.waiting_per_worker)
            self._waiting_pid = os.getpid()
        return self._waiting

    def _client_files(self, client: str) -> list[str]:
        bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=4).digest(), "big") % CLIENT_BUCKETS
        paths = self._client_paths.get(bucket)
        if paths is None:  # threads may both make them: the same paths
            paths = self._client_paths[bucket] = [str(self.directory / f"client-{bucket}-{index}")
                                                  for index in range(self.per_client)]
        return paths

    def _take(self, files: list[str], deadline: float) -> int | None:
        """A descriptor holding one of ``files`` locked, or None if all stayed held until the wait ran out."""
        give_up = min(deadline, time.monotonic() + self.wait)
        start = hash(threading.get_ident()) % len(files)  # spread threads over the files
        while True:
            for offset in range(len(files)):
                descriptor = os.open(files[(start + offset) % len(files)], os.O_RDONLY | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return descriptor
                except BlockingIOError:
                    os.close(descriptor)
            if time.monotonic() >= give_up:
                return None
            time.sleep(POLL_INTERVAL)

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.wait))


def _remove_if_owner(directory: Path, owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # forked workers inherit this finalizer: only the creator removes the slots
        shutil.rmtree(directory, ignore_errors=True)
