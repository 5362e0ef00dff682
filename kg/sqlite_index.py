"""A build's SQLite index, opened read-only: what the search, reconciliation and page indexes share."""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ReadOnlyIndex:
    """One read-only connection to an index file of a release (``with Index(path) as index``)."""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def __enter__(self):
        return self

    def __exit__(self, *_) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()
