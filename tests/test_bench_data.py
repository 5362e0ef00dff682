"""The benchmark's synthetic data keeps up with the model: it satisfies the shapes and imports into a build."""

from __future__ import annotations

from bench.generate import check_shapes, generate
from kg.layout import read_manifest
from kg.pipeline import build
from tests.fixtures import write_fixture_data


def test_synthetic_data_satisfies_the_shapes_and_imports(tmp_path):
    data = tmp_path / "synthetic.nq"
    generate(5_000, data, seed=7)
    conforms, report = check_shapes(data)
    assert conforms, report[:2000]
    manifest = build(write_fixture_data(tmp_path / "data"), tmp_path / "build", reason=False, import_paths=(data,))
    assert manifest["quads"] > 5_000 and read_manifest(tmp_path / "build")["imports"] == ["synthetic.nq"]
