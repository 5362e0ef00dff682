"""Shared fixtures: a tiny dataset built once per session, the app, a client, a live server."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kg.pipeline import build
from server import create_app
from tests.browsing import WIDTHS, browsing, launched
from tests.fixtures import write_fixture_data

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory) -> Path:
    return write_fixture_data(tmp_path_factory.mktemp("fixture") / "data")


@pytest.fixture(scope="session")
def fixture_build(fixture_data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fixture-build") / "build"
    build(fixture_data, out, reason=False)
    return out


def build_fixture_with(tmp_path_factory, name: str, extra: dict[str, str] | None = None) -> Path:
    """The fixture data with ``extra`` files added or replaced (tests.fixtures), built into a fresh folder:
    the body of a module's own build fixture."""
    data = write_fixture_data(tmp_path_factory.mktemp(name) / "data", extra=extra)
    out = tmp_path_factory.mktemp(f"{name}-build") / "build"
    build(data, out, reason=False)
    return out


@pytest.fixture(scope="session")
def browser():
    """One chromium for the whole run (tests.browsing opens a fresh context per test)."""
    with launched() as browser:
        yield browser


@pytest.fixture(params=sorted(WIDTHS))
def width(request) -> str:
    """Each browser test that asks for it runs at desktop and at phone width (tests.browsing.WIDTHS)."""
    return request.param


def serve_build(build_fixture: str):
    """A module fixture: ``kg serve`` on the build the fixture named ``build_fixture`` makes."""
    @pytest.fixture(scope="module")
    def server(request):
        running = LiveServer(request.getfixturevalue(build_fixture))
        yield running
        running.stop()
    return server


def page_on(server_fixture: str):
    """A fixture: a fresh browser page on the server of ``server_fixture``, at the test's ``width``."""
    @pytest.fixture()
    def page(request, browser, width):
        with browsing(browser, request.getfixturevalue(server_fixture).url, WIDTHS[width]) as page:
            yield page
    return page


@pytest.fixture()
def app(fixture_build):
    return create_app({"BUILD_DIR": fixture_build, "TESTING": True, "QUERY_TIMEOUT": 2.0})


@pytest.fixture()
def client(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stopped_with_the_tests() -> None:
    """Run in the server's process before it starts: the kernel sends it SIGTERM when the test process dies,
    so a run that is killed (a CI timeout) leaves no server behind (Linux's PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def wait_until(condition, seconds: float) -> bool:
    """Whether ``condition()`` came true within ``seconds`` (asked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class LiveServer:
    """``kg serve`` running in its own process group on a free loopback port."""

    def __init__(self, build_dir: Path, timeout: float = 2.0, workers: int = 2, extra: tuple = ()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "kg.cli", "serve", "--build", str(build_dir), "--port", str(self.port),
                   "--workers", str(workers), "--timeout", str(timeout), *extra]
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, start_new_session=True,
                                        preexec_fn=_stopped_with_the_tests,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"kg serve exited: {self.process.stdout.read().decode()}")
            try:
                requests.get(self.url + "/", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a first answer slow under load
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("kg serve did not start within 30 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=10)
        self.process.stdout.close()


@pytest.fixture(scope="session")
def live_server(fixture_build):
    server = LiveServer(fixture_build)
    yield server
    server.stop()


class Listener:
    """A loopback socket that records whether anything connected, answering as a tiny SPARQL endpoint."""

    ANSWER = (b'{"head":{"vars":["greeting"]},"results":{"bindings":'
              b'[{"greeting":{"type":"literal","value":"hello from the listener"}}]}}')

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.iri = f"http://127.0.0.1:{self.socket.getsockname()[1]}/sparql"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(5)
                connection.recv(65536)
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(self.ANSWER) + self.ANSWER)

    def close(self):
        self.running = False
        self.thread.join()
        self.socket.close()


@pytest.fixture()
def listener():
    listening = Listener()
    yield listening
    listening.close()
