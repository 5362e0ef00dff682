"""The cyclic garbage collector paused while a big table is made: the build's tasks and the server's per-process
tables make millions of small containers and almost no cycles, and each collection walks everything the process
holds. A module of its own, with no imports of ours: the server imports it before it forks the query processes."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cycle collection inside the block; it resumes after it, unless it was off before."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
