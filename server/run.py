"""``kg serve``: serve a build with gunicorn, the app made by the factory in each worker, queries run by one
pool of query processes that every worker shares (server.engines.local), started before the workers."""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from gunicorn.app.base import BaseApplication

from kg.layout import resolve
from kg.sandbox import check_available
from server import DEFAULT_CONFIG, create_app
from server.engines.local import Limits, QueryPool
from server.worker import KeptAliveThreadWorker


class _Gunicorn(BaseApplication):
    """Gunicorn with our app factory, called in each worker after the fork (no app in the master)."""

    def __init__(self, app_config: dict, options: dict):
        self.app_config = app_config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # settings newer gunicorns add are skipped by older ones
                self.cfg.set(name, value)

    def load(self):
        return create_app(self.app_config)


def serve(app_config: dict, host: str, port: int, workers: int) -> int:
    """Serve the build ``app_config["BUILD_DIR"]`` names (see server.DEFAULT_CONFIG for the other keys)."""
    config = {**DEFAULT_CONFIG, **app_config}
    build_dir = Path(config["BUILD_DIR"]).resolve()
    resolve(build_dir)  # requests follow build_dir's current release: kg build may publish new ones meanwhile
    address = f"[{host}]" if ":" in host else host
    options = {
        "bind": f"{address}:{port}",
        "workers": workers,
        # Threads wait on query processes without holding the GIL; enough of them that pages never wait
        # behind queries (server.admission caps how many may wait for a query slot).
        "worker_class": KeptAliveThreadWorker,
        "threads": DEFAULT_CONFIG["WORKER_THREADS"],
        # A GET may carry a query up to MAX_QUERY_BYTES, percent-encoded; /sparql answers 413 beyond that.
        "limit_request_line": 0,
        # gunicorn would let any client on loopback set SCRIPT_NAME and PATH_INFO by header, rerouting
        # requests (or failing them with a 500): the app reads no proxy header, so none is taken.
        "forwarder_headers": "",
        # Several servers may run side by side (tests, staging); none needs gunicorn's control socket.
        "control_socket_disable": True,
        "preload_app": True,
    }
    pool = None
    if not config["REMOTE_STORE"]:
        check_available()  # queries are never run unconfined: refuse to serve rather than serve unsafely
        # Started before gunicorn forks its workers (and before it opens its socket, which the pool process
        # must not hold): it lives as long as they do, and is stopped with this process.
        pool = QueryPool.start(config["QUERY_SLOTS"], Limits.from_config(config))
        options["on_exit"] = _stop_when_ended(pool.pid)
    store = config["REMOTE_STORE"]
    engine = f"the SPARQL engine at {store}" if store else "its embedded store"
    print(f"soles serving {build_dir} from {engine} at http://{address}:{port}/ (SPARQL at /sparql), "
          f"{workers} workers, queries stopped after {config['QUERY_TIMEOUT']:g} s", flush=True)
    _Gunicorn({**app_config, "BUILD_DIR": build_dir, "QUERY_POOL": pool and str(pool.directory)}, options).run()
    return 0  # not reached in practice: gunicorn ends the process itself, with its own exit status


def _stop_when_ended(pool_pid: int) -> Callable:
    """Stop serving if the query pool ends before the server: no worker could answer a query again, and a
    supervisor restarts a server that exits, not one that answers every query with an error. Watched by a thread
    of this process (gunicorn's workers are forked from it, but no fork carries a thread along). Returns the
    ``on_exit`` hook for gunicorn: it makes such a stop exit with status 1, and tells the watch that a pool
    ending after it is the server's own stop."""
    pidfd = os.pidfd_open(pool_pid)
    stopping, pool_ended = threading.Event(), threading.Event()

    def watch() -> None:
        select.select([pidfd], [], [])
        if not stopping.is_set():
            pool_ended.set()
            print(f"soles: the query pool (process {pool_pid}) ended; stopping the server", file=sys.stderr,
                  flush=True)
            os.kill(os.getpid(), signal.SIGTERM)  # gunicorn's graceful stop: requests under way are finished

    def on_exit(_arbiter) -> None:
        stopping.set()
        if pool_ended.is_set():
            raise SystemExit(1)

    threading.Thread(target=watch, name="query pool watch", daemon=True).start()
    return on_exit
