"""``python -m bench pages --instructions``: the CPU instructions each page costs, counted by valgrind.

A count of instructions does not move with the machine's load, as times do on a shared machine: it compares
two commits, or a page with the anchor, exactly. Each count is one process under valgrind's cachegrind (no
cache simulation) that serves every page twice (warm-up: the per-process tables and templates) and then one
page ``repeat`` times; a process that serves none after its warm-up is subtracted. Every process hashes text
with the same seed (PYTHONHASHSEED=0): with a random seed each, pages that two commits served alike differed by
up to 1.5 M instructions a request (``/ontology``: 1.75 and 3.31 M); with one seed, two runs of six pages
agreed within 0.21 M on five and 1.0 M on the sixth (an event page of 7–8 M).
Needs ``valgrind``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOTAL = re.compile(r"I\s+refs:\s+([\d,]+)")


def serve(build: Path, measured: str | None, repeat: int, paths: list[str]) -> None:
    """What each counted process does: warm every page up, then serve ``measured`` ``repeat`` times."""
    from server import create_app

    client = create_app({"BUILD_DIR": build}).test_client()
    for path in [*paths, *paths, *[measured] * (repeat if measured else 0)]:
        client.get(path).close()


def instructions(build: Path, measured: str | None, repeat: int, paths: list[str]) -> int:
    """The instructions of one process as ``serve`` runs it."""
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, "-m", "bench.instructions", str(build), str(repeat), measured or "-", *paths]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    found = TOTAL.search(done.stderr)
    if done.returncode or not found:
        raise RuntimeError(f"valgrind failed on {measured or 'the warm-up'}: {done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_request(build: Path, paths: list[str], repeat: int, jobs: int) -> dict[str, float]:
    """Millions of instructions per request of each of ``paths``."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
    with ThreadPoolExecutor(jobs) as pool:
        counts = list(pool.map(lambda measured: instructions(build, measured, repeat, paths), [None, *paths]))
    return {path: (count - counts[0]) / repeat / 1e6 for path, count in zip(paths, counts[1:])}


if __name__ == "__main__":
    build, repeat, measured, *warmed = sys.argv[1:]
    serve(Path(build), None if measured == "-" else measured, int(repeat), warmed)
