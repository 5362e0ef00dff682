"""``kg serve``'s gunicorn worker (server/worker.py), driven in-process over real TCP connections: the thread that
answered a kept-alive connection answers its next request when it follows at once, and hands it back otherwise, or
when another connection waits for a thread."""

from __future__ import annotations

import os
import socket
import threading
from concurrent.futures import Future

import pytest
from gunicorn import glogging
from gunicorn.config import Config
from gunicorn.workers.gthread import TConn

from server import worker as worker_module
from server.worker import KeptAliveThreadWorker

REQUEST = b"GET / HTTP/1.1\r\nHost: soles.test\r\n\r\n"


@pytest.fixture()
def worker():
    config = Config()
    config.set("threads", 1)
    made = KeptAliveThreadWorker(0, os.getpid(), [], None, 30, config, glogging.Logger(config))
    made.calls = []

    def app(environ, start_response):
        made.calls.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    made.wsgi, made.alive, made.tpool = app, True, made.get_thread_pool()
    yield made
    made.tpool.shutdown(wait=False, cancel_futures=True)
    made.tmp.close()  # the heartbeat file every gunicorn worker makes


@pytest.fixture()
def connection():
    """(client socket, the worker's side of the connection)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=5)
        accepted, address = listener.accept()
        conn = TConn(Config(), accepted, address, listener.getsockname())
    yield client, conn
    client.close()
    accepted.close()


def response(client: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        chunk = client.recv(4096)
        assert chunk, f"the connection closed after {data!r}"
        data += chunk
    return data


def handled(worker, conn) -> Future:
    """``worker.handle(conn)`` run in a thread of its own, as the worker's pool would run it."""
    outcome = Future()
    threading.Thread(target=lambda: outcome.set_result(worker.handle(conn)), daemon=True).start()
    return outcome


def test_a_request_that_follows_at_once_is_answered_by_the_same_thread(worker, connection, monkeypatch):
    monkeypatch.setattr(worker_module, "NEXT_REQUEST_WAIT_MS", 2000)  # however slow the machine running the test
    client, conn = connection
    client.sendall(REQUEST)
    outcome = handled(worker, conn)
    for _ in range(3):
        assert response(client).startswith(b"HTTP/1.1 200 OK")
        client.sendall(REQUEST)
    assert response(client).startswith(b"HTTP/1.1 200 OK")
    assert not outcome.done()  # still waiting for this connection's next request
    assert outcome.result(timeout=5) is True  # then handed back, kept alive, once none came
    assert len(worker.calls) == 4 and len(set(worker.calls)) == 1


def test_a_request_that_comes_later_goes_back_to_gunicorns_path(worker, connection, monkeypatch):
    monkeypatch.setattr(worker_module, "NEXT_REQUEST_WAIT_MS", 1)
    client, conn = connection
    client.sendall(REQUEST)
    outcome = handled(worker, conn)
    assert response(client).startswith(b"HTTP/1.1 200 OK")
    assert outcome.result(timeout=5) is True  # kept alive, for gunicorn's main loop to watch
    assert len(worker.calls) == 1


def test_a_connection_waiting_for_a_thread_goes_first(worker, connection, monkeypatch):
    monkeypatch.setattr(worker_module, "NEXT_REQUEST_WAIT_MS", 2000)
    client, conn = connection
    busy = threading.Event()
    worker.tpool.submit(busy.wait)  # the pool's one thread is taken...
    queued = worker.tpool.submit(lambda: None)  # ...and another connection waits for it
    client.sendall(REQUEST)
    outcome = handled(worker, conn)
    assert response(client).startswith(b"HTTP/1.1 200 OK")
    client.sendall(REQUEST)
    assert outcome.result(timeout=5) is True  # handed back at once, though its next request had come
    assert len(worker.calls) == 1
    busy.set()
    queued.result(timeout=5)
