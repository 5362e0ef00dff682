"""Mangled curation files never crash `kg validate`: each one passes or is refused with a clean error.

Every case mutates the fixture data a few times (byte flips, truncation, lost or doubled lines,
unknown keys, stray unicode, bytes that are not UTF-8, deep nesting, anchors, odd values) from
its own fixed seed, so a failing case is reproduced by its number alone.
"""

from __future__ import annotations

import contextlib
import io
import random
import re

import pytest

from kg.cli import main
from tests.fixtures import FILES, write_fixture_data

CASES = 250
SEED = 20240601
NAMED_FILE = re.compile(r"data/[\w/.-]+\.yaml")

ODD_VALUES = (
    "", "~", "yes", "no", "0", "-1", "1e+400", ".nan", "0x" + "f" * 40, "9" * 5000, "[]", "{}", "[a, [b]]",
    "{id: x}", '"\\u0000"', '"\\ud800"', '"\\t tab"', "!!binary aGk=", "!!set {a}", "!!python/none ''",
    "'" + "w " * 30 + "'", "2024-02-30", "Q0", "https://", "<<: {a: 1}", "|\n  block text",
)
ODD_CHARACTERS = "\u0000\u0007\u0085\u00a0\u200b\u2028\u202e\ufeff\ufffe\U0001f600ü\t\r"


def flip_byte(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([data[at] ^ (1 << rng.randrange(8))]) + data[at + 1:]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def delete_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if lines:
        del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if lines:
        at = rng.randrange(len(lines))
        lines.insert(at, lines[at])
    return b"".join(lines)


def _insert_line(data: bytes, rng: random.Random, text: str) -> bytes:
    """Insert ``text`` as a line indented like a random existing line, so it lands inside a record."""
    lines = data.splitlines(keepends=True) or [b""]
    at = rng.randrange(len(lines))
    indent = re.match(rb"[ -]*", lines[at]).group().replace(b"-", b" ")
    lines.insert(at, indent + text.encode("utf-8") + b"\n")
    return b"".join(lines)


def random_key(data: bytes, rng: random.Random) -> bytes:
    key = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(rng.randint(1, 12)))
    return _insert_line(data, rng, f"{key}: {rng.choice(ODD_VALUES)}")


def odd_value(data: bytes, rng: random.Random) -> bytes:
    """Replace the value of a random `key: value` line."""
    lines = data.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if re.match(rb"^[ -]*[a-z_]+: \S", line)]
    if not keyed:
        return data
    at = rng.choice(keyed)
    key = re.match(rb"^[ -]*[a-z_]+: ", lines[at]).group()
    lines[at] = key + rng.choice(ODD_VALUES).encode("utf-8") + b"\n"
    return b"".join(lines)


def random_unicode(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(ODD_CHARACTERS).encode("utf-8", "surrogatepass") + data[at:]


def not_utf8(data: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + bytes(rng.randrange(0x80, 0x100) for _ in range(rng.randint(1, 3))) + data[at:]


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((5, 19, 20, 21, 200, 5000))
    opening, closing = rng.choice((("[", "]"), ("{a: ", "}")))
    return _insert_line(data, rng, "deep: " + opening * depth + closing * depth)


def anchors(data: bytes, rng: random.Random) -> bytes:
    return _insert_line(data, rng, rng.choice(("a: &a x", "b: *a", "c: &c [x, x]\nd: [*c, *c]", "<<: *a")))


MUTATIONS = (flip_byte, truncate, delete_line, duplicate_line, random_key, odd_value, random_unicode, not_utf8,
             deep_nesting, anchors)


def validate(data_dir) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["validate", "--data", str(data_dir), "--no-reason"])
    return status, err.getvalue()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return write_fixture_data(tmp_path_factory.mktemp("fuzz") / "data")


@pytest.mark.parametrize("case", range(CASES))
def test_mangled_data_passes_or_is_refused_cleanly(pristine, case):
    rng = random.Random(SEED + case)
    name = rng.choice(sorted(FILES))
    path = pristine / name
    original = path.read_bytes()
    mangled = original
    for _ in range(rng.randint(1, 3)):
        mangled = rng.choice(MUTATIONS)(mangled, rng)
    path.write_bytes(mangled)
    try:
        status, err = validate(pristine)
    finally:
        path.write_bytes(original)
    assert status in (0, 1), err
    if status == 1:
        assert err.startswith("error:"), err
        assert NAMED_FILE.search(err), f"no file named in: {err}"
