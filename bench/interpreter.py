"""Which Python ran a benchmark, said beside its figures: the build of the interpreter moves every figure.

On this project's machine (2026-12-06) every page took 25-30% longer in-process under pyenv's default build of
CPython 3.11.7 (libpython as a shared library, no profile-guided or link-time optimization) than under Debian's
3.11.2 (one executable, built with both), with the same packages and the same build of the data.
"""

from __future__ import annotations

import platform
import shutil
import sys
from pathlib import Path

MAPS = Path("/proc/self/maps")


def shared_libpython(maps: str) -> str | None:
    """The file name of the libpython this process runs from, as ``maps`` (a /proc/PID/maps) shows it mapped;
    None if none is: the interpreter is linked into its executable."""
    for line in maps.splitlines():
        name = line.rsplit("/", 1)[-1]
        if name.startswith("libpython") and ".so" in name:
            return name
    return None


def described() -> str:
    """The interpreter running this process: implementation, version, executable, and how libpython is linked
    (``unknown`` where the process's mappings cannot be read)."""
    try:
        library = shared_libpython(MAPS.read_text(encoding="utf-8", errors="replace"))
        linked = f"from the shared library {library}" if library else "libpython linked into the executable"
    except OSError:
        linked = "libpython linking unknown"
    return f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}, {linked})"


def script_interpreter(program: str) -> str | None:
    """The interpreter that the script ``program`` found on PATH names on its first line (``#!``), as ``kg`` is
    started by the bench; None if there is no such script."""
    found = shutil.which(program)
    if found is None:
        return None
    with open(found, "rb") as script:
        first = script.readline(4096)
    return first[2:].decode("utf-8", "replace").strip() if first.startswith(b"#!") else None
