"""The build folder's layout: where a build's files are, which release is current, and its manifest.

A build root holds ``releases/<build-id>/`` (each an immutable build: dumps, ``manifest.json``,
``search.sqlite``, ``store/``) and ``current``, a link to the published release (kg.release writes them).
Everything that reads a build finds its files through ``resolve`` here.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MANIFEST = "manifest.json"
STORE_DIR = "store"
RELEASES_DIR = "releases"
CURRENT = "current"
# What a release holds, as this code writes and reads it, named in its manifest ("format"; none is format 1):
# raised when the server reads what earlier builds lack or wrote otherwise (format 2: the list index's facet
# arrays; 3: its counts as arrays, not JSON; 4: the page index's counterparts and events with their labels; 5: the
# page index's numbered list of pages, which the sitemaps read; 6: its lists of a document's reprints and of the
# reports on it; 7: its allegations' counts of voices, which lists of allegations read, and the list index's
# neighbours of an actor with their labels; 8: those neighbours counted by relation, not named; 9: the page
# index's allegations with the labels of their claimants and sources), so that kg serve builds again rather than
# serve a release some pages would fail on or show short.
BUILD_FORMAT = 10


@dataclass(frozen=True)
class Release:
    """One published build: the directory holding its files, and its build id.

    The id is the release directory's name, ``<UTC time>-<hash of the manifest>`` (sortable by time):
    ``20250101T120000.123456Z-0123456789ab``. A build directory of the layout before releases (files
    directly in it) is a release too, with id ``unversioned-<hash of the manifest>``.
    """

    path: Path
    id: str


def resolve(build_root: Path) -> Release:
    """The release ``build_root`` publishes: where ``current`` points, read anew each time (one readlink).

    ``build_root`` may also be a release directory itself, or a build of the layout before releases.
    Raises FileNotFoundError if it holds no build.
    """
    try:
        target = os.readlink(os.path.join(build_root, CURRENT))
    except (FileNotFoundError, NotADirectoryError):
        pass
    except OSError as error:  # EINVAL: ``current`` is not a link
        raise FileNotFoundError(f"{Path(build_root) / CURRENT} is not a link to a release") from error
    else:
        return _release_at(build_root, target)
    root = Path(build_root)
    manifest = root / MANIFEST
    if root.parent.name == RELEASES_DIR and manifest.is_file():
        return Release(root, root.name)
    try:
        digest = hashlib.sha256(manifest.read_bytes()).hexdigest()
    except (FileNotFoundError, NotADirectoryError):
        raise FileNotFoundError(f"{root} holds no build ({MANIFEST} missing): run 'kg build' first") from None
    return Release(root, f"unversioned-{digest[:12]}")


@lru_cache(maxsize=64)
def _release_at(build_root: Path | str, target: str) -> Release:
    """The release ``current`` names: made once per root and target, for the server resolves the pointer at every
    request, and making the paths costs ten times the readlink."""
    return Release(Path(build_root) / target, Path(target).name)


def other_format(manifest: dict) -> str | None:
    """What is wrong with a release of this manifest for this code: None, or that it has another format."""
    found = manifest.get("format", 1)
    if found == BUILD_FORMAT:
        return None
    return (f"a build of format {found}, made by {'an earlier' if found < BUILD_FORMAT else 'a later'} version of "
            f"soles (this one reads format {BUILD_FORMAT})")


def read_manifest(build_dir: Path) -> dict:
    """The manifest of the release ``build_dir`` publishes (see ``resolve``)."""
    path = resolve(build_dir).path / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{build_dir} holds no build ({MANIFEST} missing): run 'kg build' first") from None
