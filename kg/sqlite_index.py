"""A build's SQLite index, opened read-only: what the search, reconciliation and page indexes share."""

from __future__ import annotations

import sqlite3
import weakref
from pathlib import Path

MAP_AT_MOST = 1 << 40  # bytes; SQLite maps no more than its own limit (2 GB by default)


class ReadOnlyIndex:
    """One read-only connection to an index file of a release (``with Index(path) as index``)."""

    def __init__(self, path: Path):
        # immutable: a release's files never change, so SQLite need not lock or check the file at each read.
        # Not bound to its thread: the last reference may go (and the finalizer below run) in another one.
        self.connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        # Read through a memory map (as far as SQLite allows): a look-up of scattered keys (a page's labels) reads
        # no file through system calls, and the pages read are the kernel's, shared by every server process,
        # not a private cache in each.
        self.connection.execute(f"PRAGMA mmap_size = {MAP_AT_MOST}")
        # Closed when the index is let go (a server keeps one per release and process, and drops it with the release),
        # not left to the connection's own collection, which Python 3.13 reports as a ResourceWarning.
        self._close = weakref.finalize(self, self.connection.close)

    def __enter__(self):
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self._close()  # once: the finalizer is spent
