"""``kg serve``: serve a build with gunicorn, the app made by the factory in each worker."""

from __future__ import annotations

from pathlib import Path

from gunicorn.app.base import BaseApplication

from kg.layout import resolve
from kg.sandbox import check_available
from server import DEFAULT_CONFIG, create_app


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
        "worker_class": "gthread",
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
    if not config["REMOTE_STORE"]:
        check_available()  # queries are never run unconfined: refuse to serve rather than serve unsafely
    store = config["REMOTE_STORE"]
    engine = f"the SPARQL engine at {store}" if store else "its embedded store"
    print(f"soles serving {build_dir} from {engine} at http://{address}:{port}/ (SPARQL at /sparql), "
          f"{workers} workers, queries stopped after {config['QUERY_TIMEOUT']:g} s", flush=True)
    _Gunicorn({**app_config, "BUILD_DIR": build_dir}, options).run()
    return 0  # not reached in practice: gunicorn ends the process itself, with its own exit status
