"""``kg serve``: build if there is no build yet, then serve it with gunicorn."""

from __future__ import annotations

import subprocess
import sys
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


def serve(args) -> int:
    build_dir = Path(args.build).resolve()
    try:
        resolve(build_dir)  # requests follow build_dir's current release: kg build may publish new ones meanwhile
    except FileNotFoundError:
        print(f"no build in {build_dir}: building it from {Path(args.data).resolve()} first", flush=True)
        # In a process of its own: the build's writable store leaves engine threads and locks behind, and
        # workers forked from a process holding them crash or hang when they exit.
        built = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--data", str(args.data),
                                "--out", str(build_dir)])
        if built.returncode != 0:
            return built.returncode
    host = f"[{args.host}]" if ":" in args.host else args.host
    options = {
        "bind": f"{host}:{args.port}",
        "workers": args.workers,
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
    if not args.store:
        check_available()  # queries are never run unconfined: refuse to serve rather than serve unsafely
    engine = f"the SPARQL engine at {args.store}" if args.store else "its embedded store"
    print(f"soles serving {build_dir} from {engine} at http://{host}:{args.port}/ (SPARQL at /sparql), "
          f"{args.workers} workers, queries stopped after {args.timeout:g} s", flush=True)
    app_config = {"BUILD_DIR": build_dir, "QUERY_TIMEOUT": args.timeout, "REMOTE_STORE": args.store,
                  "SERVICE_ALLOWLIST": tuple(args.allow_service), "MAX_QUERY_MEMORY": args.max_query_memory,
                  "QUERY_SLOTS": args.query_slots, "QUERY_SLOTS_PER_CLIENT": args.query_slots_per_client}
    _Gunicorn(app_config, options).run()
    return 0  # not reached in practice: gunicorn ends the process itself, with its own exit status
