"""The benchmark's synthetic data keeps up with the model: it satisfies the shapes and imports into a build; and
its rotations (bench.generate.rotation) name actors the build has, bound where the bench's queries and pages ask."""

from __future__ import annotations

import os
from collections import Counter
from types import SimpleNamespace

import pytest
from pyoxigraph import QuerySolutions

from bench.generate import HUB_ACTOR, check_shapes, generate, rotation
from bench.run import ROTATION_CHECKS, checked_texts, load_queries, page_series
from kg.layout import read_manifest
from kg.pipeline import build
from kg.store import open_store
from kg.vocab import SOL
from server import create_app
from tests.fixtures import write_fixture_data


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """5,000 synthetic quads, and a build of the fixture data with them imported."""
    folder = tmp_path_factory.mktemp("bench-data")
    data = folder / "synthetic.nq"
    generate(5_000, data, seed=7)
    manifest = build(write_fixture_data(folder / "data"), folder / "build", reason=False, import_paths=(data,))
    return data, folder / "build", manifest


def test_synthetic_data_satisfies_the_shapes_and_imports(synthetic):
    data, build_dir, manifest = synthetic
    conforms, report = check_shapes(data)
    assert conforms, report[:2000]
    assert manifest["quads"] > 5_000 and read_manifest(build_dir)["imports"] == ["synthetic.nq"]


def accusations(data) -> Counter:
    """How often the file accuses each actor, by its address under /id/."""
    accused = f"<{SOL.accused.value}>"
    return Counter(line.split()[2].strip("<>").split("/id/", 1)[1]
                   for line in data.read_text(encoding="utf-8").splitlines() if line.split()[1] == accused)


def test_the_rotation_spreads_over_every_accused_actor_and_is_the_same_each_time(synthetic):
    data, _, _ = synthetic
    counts = accusations(data)
    everyone = rotation(data)
    assert sorted(path for path, _ in everyone.actors) == sorted(counts) and all(name for _, name in everyone.actors)
    few = rotation(data, count=10)
    assert few == rotation(data, count=10) and len(few.actors) == 10
    ranks = sorted(counts, key=lambda path: (-counts[path], path))
    chosen = sorted(ranks.index(path) for path, _ in few.actors)
    assert f"person/{HUB_ACTOR[0]}" in dict(few.actors)  # the hub, the middle and the tail
    assert chosen[-1] >= 0.8 * len(ranks) and counts[ranks[chosen[-1]]] < counts[f"person/{HUB_ACTOR[0]}"] / 5
    assert [path for path, _ in few.actors] != [ranks[rank] for rank in chosen]  # shuffled: any stretch is fair
    assert everyone.contested_pages >= 1


def test_rotated_queries_bind_each_actor_and_find_it(synthetic):
    data, build_dir, _ = synthetic
    turns = rotation(data)
    store = open_store(build_dir / "current")
    rotating = [query for query in load_queries() if query.rotating]
    assert {query.name for query in rotating} == {"actor-allegations", "actor-neighbourhood", "co-accused-two-hops",
                                                  "label-search"}
    for query in rotating:
        texts = checked_texts(query, turns)
        assert len(texts) == ROTATION_CHECKS and len(set(texts)) == ROTATION_CHECKS
        for text, (path, name) in zip(texts, turns.actors):
            assert "vladimir-padrino" not in text and "carvajal" not in text
            if query.name in ("actor-allegations", "label-search"):
                result = store.query(text, use_default_graph_as_union=True)
                assert isinstance(result, QuerySolutions) and list(result), (query.name, path, name)


def test_every_page_series_answers_its_first_addresses(synthetic):
    data, build_dir, _ = synthetic
    client = create_app({"BUILD_DIR": build_dir, "TESTING": True}).test_client()
    for series in page_series(SimpleNamespace(rotation=rotation(data), concurrency=[1])):
        for path in series.paths[:2]:
            response = client.get(path, headers={"Accept": series.accept})
            response.close()
            assert response.status_code == 200, (series.name, path)


def test_each_synthetic_allegation_has_a_course_that_ends_in_its_status(synthetic):
    """The course of a case is what journalists follow (status steps, dated): the synthetic data has them as real
    builds do, so that the pages, queries and indexes that read them are measured at scale."""
    _, build_dir, _ = synthetic
    store = open_store(build_dir / "current")
    steps: dict[str, list] = {}
    for row in store.query("""
            PREFIX sol: <https://w3id.org/soles/ontology#>
            SELECT ?allegation ?status ?value ?date (COUNT(?concerned) AS ?named) WHERE {
              ?allegation sol:status ?status . ?step sol:statusOf ?allegation ; sol:statusValue ?value ; sol:date ?date
              OPTIONAL { ?step sol:concerns ?concerned . ?allegation sol:accused ?concerned }
              FILTER(CONTAINS(STR(?allegation), "/allegation/report-"))
            } GROUP BY ?allegation ?status ?value ?date""", use_default_graph_as_union=True):
        steps.setdefault(row["allegation"].value, []).append(
            (row["date"].value, row["value"].value, row["status"].value, int(row["named"].value)))
    assert len(steps) > 50
    for course in steps.values():
        course.sort()
        assert course[-1][1] == course[-1][2]  # its status is its latest step's
        assert all(named == 1 for *_, named in course[:-1]) and course[-1][3] == 0  # earlier steps name an accused
    lengths = Counter(len(course) for course in steps.values())
    assert lengths[1] > lengths[2] > 0 and max(lengths) <= 4, lengths


def test_bench_pages_times_each_page_in_wall_and_cpu_time(fixture_build):
    from bench.pages import ANCHOR, measure

    rows = measure(fixture_build, ("/", "/id/person/alice-example", "/no/such/page"), repeat=3)
    assert [row[0] for row in rows] == [ANCHOR, "/", "/id/person/alice-example", "/no/such/page"]
    assert [row[1] for row in rows] == [200, 200, 200, 404]
    assert all(wall > 0 and cpu >= 0 for _, _, wall, cpu in rows)


def test_bench_instructions_serves_the_measured_page_after_warming_every_page_up(fixture_build, monkeypatch):
    from bench import instructions

    served = []

    class Client:
        def get(self, path):
            served.append(path)
            return type("Response", (), {"close": lambda self: None})()

    monkeypatch.setattr("server.create_app", lambda config: type("App", (), {"test_client": lambda self: Client()})())
    instructions.serve(fixture_build, "/b", 3, ["/a", "/b"])
    assert served == ["/a", "/b", "/a", "/b", "/b", "/b", "/b"]
    served.clear()
    instructions.serve(fixture_build, None, 3, ["/a"])
    assert served == ["/a", "/a"]


def test_the_bench_says_why_kg_cannot_run_rather_than_that_an_option_is_missing(tmp_path, monkeypatch):
    from bench.run import Soles

    broken = tmp_path / "kg"
    broken.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'kg'\" >&2\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    assert Soles("soles", "/sparql").unavailable(None) == "`kg build --help` failed (exit 1): ModuleNotFoundError: No module named 'kg'"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Soles("soles", "/sparql").unavailable(None).startswith("`kg build --help` did not run:")


def test_the_bench_says_which_interpreter_ran_it_and_whether_libpython_is_a_shared_library(tmp_path, monkeypatch):
    import platform
    import sys

    from bench.interpreter import described, script_interpreter, shared_libpython

    pyenv = ("55d0c000-55d0d000 r-xp 00001000 fd:01 4211 /root/.pyenv/versions/3.11.7/bin/python3.11\n"
             "7f3a1000-7f3a5000 r-xp 00100000 fd:01 4302 /root/.pyenv/versions/3.11.7/lib/libpython3.11.so.1.0\n")
    debian = ("55d0c000-55d0d000 r-xp 00001000 fd:01 4211 /usr/bin/python3.11\n"
              "7f3a1000-7f3a5000 rw-p 00000000 00:00 0 [heap]\n")
    assert shared_libpython(pyenv) == "libpython3.11.so.1.0"
    assert shared_libpython(debian) is None
    assert described().startswith(f"{platform.python_implementation()} {platform.python_version()} ({sys.executable}, ")

    script = tmp_path / "kg"
    script.write_text("#!/opt/python/bin/python3.12\nprint('kg')\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert script_interpreter("kg") == "/opt/python/bin/python3.12"
    assert script_interpreter("no-such-program") is None
