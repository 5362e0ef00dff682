"""The package as a user installs it: a wheel, not a checkout, builds and serves from any directory."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import requests

from tests.conftest import PROJECT_ROOT, free_port
from tests.fixtures import write_fixture_data


def run(command: list, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=check,
                          timeout=600)


def test_the_wheel_builds_and_serves_outside_a_checkout(tmp_path):
    source = tmp_path / "source"  # a copy, so that building the wheel leaves nothing behind in the checkout
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(".git", "build", "*.egg-info", "__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp_path / "dist", source],
        cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("soles-*.whl")
    # The dependencies come from this interpreter's site-packages (a .pth file names them: the tests may run in a
    # virtual environment, whose packages a venv's system_site_packages would not see), the package itself only from
    # the wheel: the new venv's own site-packages come first, and an editable install's hook is not loaded.
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    inner = Path(run([python, "-c", purelib], cwd=tmp_path).stdout.strip())
    (inner / "outer-site-packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", wheel], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run([python, "-c", "import kg.paths as p; print(p.IN_CHECKOUT, p.ONTOLOGY_FILE.is_file(), p.SHAPES_FILE.is_file())"],
                cwd=elsewhere).stdout.split()
    assert where == ["False", "True", "True"]

    missing = run([python, "-m", "kg.cli", "build", "--no-reason"], cwd=elsewhere, check=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "data directory does not exist: give the curated data with --data DIR" in missing.stderr

    data = write_fixture_data(elsewhere / "newsroom-data")
    built = run([python, "-m", "kg.cli", "build", "--no-reason", "--data", data, "--out", elsewhere / "site"],
                cwd=elsewhere)
    assert "built" in built.stdout and (elsewhere / "site" / "current" / "manifest.json").is_file()

    port = free_port()
    server = subprocess.Popen([python, "-m", "kg.cli", "serve", "--build", elsewhere / "site", "--port", str(port),
                               "--workers", "1"], cwd=elsewhere, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        for _ in range(100):
            try:
                page = requests.get(f"http://127.0.0.1:{port}/id/person/alice-example", timeout=2)
                break
            except requests.ConnectionError:
                subprocess.run(["sleep", "0.1"])
        assert page.status_code == 200 and "Alice Example" in page.text
        assert requests.get(f"http://127.0.0.1:{port}/ontology", timeout=5).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
        server.stdout.close()
