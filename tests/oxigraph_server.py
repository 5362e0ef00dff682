"""A real Oxigraph server process (PyPI package `oxigraph`) on a free loopback port, for remote-engine tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import requests

from tests.conftest import free_port


class OxigraphServer:
    def __init__(self, location: Path):
        executable = shutil.which("oxigraph")
        if executable is None:
            raise RuntimeError("the oxigraph command is missing: pip install -e '.[test]' installs it")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [executable, "serve", "--location", str(location), "--bind", f"127.0.0.1:{self.port}",
             "--union-default-graph", "--timeout-s", "5"],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oxigraph exited: {self.process.stderr.read().decode()}")
            try:
                requests.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("oxigraph did not start within 30 s")

    @property
    def query_url(self) -> str:
        return self.url + "/query"

    @property
    def store_url(self) -> str:
        return self.url + "/store"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=10)
        self.process.stderr.close()
