"""Fair admission of SPARQL queries: a bounded number at once, a bounded share per client, a bounded wait.

Query slots are shared by every web worker of a server, so they are bytes of an anonymous file (``memfd_create``)
the server makes at start and its forked workers inherit, each held with an open file description lock while a
query runs: the kernel releases a slot when its holder closes it or dies, so a crashed worker never leaks one, and
the file has no name, so a server killed outright leaves nothing behind. A client (by address) may hold at most
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
import struct
import threading
import time
import weakref
from contextlib import contextmanager
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
        # One byte for each slot, then per_client bytes for each bucket of clients.
        self._locks = os.memfd_create("soles-query-slots")
        self._slot_bytes = range(slots)
        self._descriptions = _ThreadDescriptions(f"/proc/self/fd/{self._locks}")
        self.waiting_per_worker = waiting_per_worker
        self._waits = _WorkerWaits(waiting_per_worker)
        weakref.finalize(self, os.close, self._locks)

    @contextmanager
    def slot(self, client: str, deadline: float) -> Iterator[None]:
        """Hold a query slot while the block runs; Refused if none could be had in time. A thread holds one at a
        time (its locks would not conflict with each other)."""
        share, slot = self._descriptions.mine()
        held: list[tuple[int, int]] = []  # (description, byte): the client's share, then the slot, given back when
        try:                              # the block ends or admission fails
            self._admit(self._client_bytes(client), (share, slot), deadline, held)
            yield
        finally:
            for description, place in held:
                _set_lock(description, fcntl.F_UNLCK, place)
            if held:
                self._here().released()

    def _admit(self, client_bytes: range, descriptions: tuple[int, int], deadline: float,
               held: list[tuple[int, int]]) -> None:
        """Take the client's share and a slot into ``held``: at once if both are free, else by waiting for them,
        which only a bounded number of this worker's queries may do."""
        share, slot = descriptions
        for description, places in ((share, client_bytes), (slot, self._slot_bytes)):
            place = _try_lock(description, places)
            if place is None:
                break
            held.append((description, place))
        else:
            return
        here = self._here()
        if not here.enter_waiting():
            raise Refused(503, "too many queries are waiting for this server: try again shortly", self._retry_after())
        try:
            if not held:
                place = self._take(share, client_bytes, deadline, here)
                if place is None:
                    raise Refused(429, f"this client already runs {self.per_client} queries at once, the most "
                                       "one client may: wait for one to end", self._retry_after())
                held.append((share, place))
            place = self._take(slot, self._slot_bytes, deadline, here)
            if place is None:
                raise Refused(503, f"all {self.slots} query slots stayed busy: try again shortly", self._retry_after())
            held.append((slot, place))
        finally:
            here.leave_waiting()

    def waiting_here(self) -> int:
        """How many queries of this worker process wait for a slot now."""
        return self._here().waiting

    def _here(self) -> _WorkerWaits:
        if self._waits.pid != os.getpid():  # a forked worker: its own threads, its own count
            self._waits = _WorkerWaits(self.waiting_per_worker)
        return self._waits

    def _client_bytes(self, client: str) -> range:
        bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=4).digest(), "big") % CLIENT_BUCKETS
        first = len(self._slot_bytes) + bucket * self.per_client
        return range(first, first + self.per_client)

    def _take(self, description: int, places: range, deadline: float, here: _WorkerWaits) -> int | None:
        """The byte of ``places`` that ``description`` took a lock of, or None if all stayed held until the wait
        ended."""
        give_up = min(deadline, time.monotonic() + self.wait)
        while True:
            place = _try_lock(description, places)
            if place is not None:
                return place
            now = time.monotonic()
            if now >= give_up:
                return None
            here.await_release(min(POLL_INTERVAL, give_up - now))

    def _retry_after(self) -> int:
        return max(1, math.ceil(self.wait))


class _ThreadDescriptions(threading.local):
    """Each thread's own two open file descriptions of the slots' file, opened at its first query in its process and
    kept: one takes a client's share, the other a slot (locks of one description never conflict with each other, those
    of two do). A forked worker opens its own: those it inherits are its parent's. Closed when the thread ends."""

    def __init__(self, path: str):
        self.path = path
        self.pid: int | None = None
        self.pair: _DescriptionPair | None = None

    def mine(self) -> tuple[int, int]:
        if self.pid != os.getpid():
            self.pair, self.pid = _DescriptionPair(self.path), os.getpid()
        return self.pair.descriptions


class _DescriptionPair:
    def __init__(self, path: str):
        # Opening the file's /proc/self/fd link makes a new open file description (a dup would share one).
        self.descriptions = (os.open(path, os.O_RDWR), os.open(path, os.O_RDWR))
        weakref.finalize(self, _close_all, self.descriptions)


def _close_all(descriptors: tuple[int, ...]) -> None:
    for descriptor in descriptors:
        os.close(descriptor)


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


def _try_lock(description: int, places: range) -> int | None:
    """The byte of ``places`` that ``description`` took a lock of, if one is free now; the search starts at a byte
    of the thread's own, so that threads spread over them."""
    start = hash(threading.get_ident()) % len(places)
    for offset in range(len(places)):
        place = places[(start + offset) % len(places)]
        try:
            _set_lock(description, fcntl.F_WRLCK, place)
            return place
        except BlockingIOError:
            pass
    return None


# struct flock: l_type, l_whence, l_start, l_len, l_pid (0, as open file description locks require), padding.
_FLOCK = struct.Struct("hhqqi4x")


def _set_lock(description: int, kind: int, place: int) -> None:
    """Take (F_WRLCK) or give back (F_UNLCK) ``description``'s lock of the byte ``place``; BlockingIOError if another
    description holds it."""
    fcntl.fcntl(description, fcntl.F_OFD_SETLK, _FLOCK.pack(kind, os.SEEK_SET, place, 1, 0))
