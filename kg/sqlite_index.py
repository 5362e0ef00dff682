"""A build's SQLite index, opened read-only: what the search, reconciliation and page indexes share."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ReadOnlyIndex:
    """One read-only connection to an index file of a release (``with Index(path) as index``)."""

    def __init__(self, path: Path):
        # immutable: a release's files never change, so SQLite need not lock or check the file at each read.
        self.connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)

    def __enter__(self):
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()
