"""``python -m bench run``: one dataset, four SPARQL servers, the same query mix, one table.

Systems are measured one at a time, so they never compete for the two cores: each is loaded
(timed, its process tree's memory sampled), started (timed until its first successful answer),
checked (every query once: status and result size), then loaded with wrk at each concurrency,
and stopped. Every child runs in its own process group and is killed with it at the end,
also on Ctrl-C, SIGTERM or an error. See bench/README.md.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import requests
from pyoxigraph import RdfFormat, serialize

from bench.generate import HUB_ACTOR, ROTATION_SEED, TYPICAL_ACTOR, Rotation, generate, rotation
from bench.interpreter import described, script_interpreter
from kg import ids
from kg import schema as sc
from kg.layout import STORE_DIR
from kg.paths import DEFAULT_DATA_DIR, PROJECT_ROOT
from kg.quads import sort_quads
from kg.release import ontology_quads
from server import DEFAULT_CONFIG

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"
# The bench's own queries first: mostly lookups, quick on every system, so a slow system spends its
# budget (--budget) on the journalists' heavy queries after them, not before.
QUERY_DIRS = (BENCH_DIR / "queries", DEFAULT_DATA_DIR / "queries")
RESULTS_JSON = "application/sparql-results+json"
GRAPH_TYPE = "application/n-triples"
READY_QUERY = "ASK { ?s ?p ?o }"
# A query that says "# rotates actor: <the actor it names>" (or "# rotates term: "<the word it searches>"")
# binds another actor (or another actor's name) at each request; it is also measured as written, as its
# "repeat" series.
ROTATES = re.compile(r'^# rotates (actor|term): (\S.*?)\s*$', re.MULTILINE)
REPEAT = " (repeat)"
ROTATION_CHECKS = 5  # rotated requests checked before a rotating series is load-tested
WORKER_COUNTS = (1, 4)


def add_arguments(parser) -> None:
    parser.add_argument("--triples", type=int, default=100_000, help="dataset size (default 100000)")
    parser.add_argument("--data", type=Path, help="use this N-Quads file instead of generating one")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per query and concurrency")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated client counts (default 1,16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of soles and the wrapper")
    parser.add_argument("--systems", default="soles,oxigraph,rdflib-endpoint,wrapper")
    parser.add_argument("--load-timeout", type=int, default=1800, help="seconds a load or start may take")
    parser.add_argument("--rdflib-timeout", type=int, default=600,
                        help="seconds rdflib-endpoint may take to load and answer its first query")
    parser.add_argument("--budget", type=int, default=1200,
                        help="seconds of measurement per system; queries not started by then are reported as "
                             "not run (default 1200)")
    parser.add_argument("--settle-timeout", type=int, default=60,
                        help="seconds a check request, or a server's draining after wrk, may take before the "
                             "server is restarted")


# ---------------------------------------------------------------- child processes


class Children:
    """Every process the benchmark starts, each the leader of its own process group."""

    def __init__(self):
        self.running: list[subprocess.Popen] = []

    def start(self, command: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as handle:
            process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **(env or {})}, start_new_session=True, cwd=PROJECT_ROOT)
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM to the whole group, SIGKILL to whatever is left 10 s later."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 10
            while _group_alive(process.pid) and time.monotonic() < deadline:
                process.poll()  # reaps the leader, whose zombie would keep the group alive
                time.sleep(0.05)
            if not _group_alive(process.pid):
                break
        process.wait()
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(self.running):
            self.stop(process)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


class MemorySampler(threading.Thread):
    """Peak RSS and PSS summed over one process group, read from /proc twice a second.

    RSS counts pages shared by forked workers (and mapped store files) once per process, so it
    overstates a process tree; PSS splits shared pages between their users and does not.
    Sampling is kept sparse because it shares the two cores with what it measures: the list of
    the group's processes is refreshed every 2 s, which sees every gunicorn worker and query
    process (they live as long as the server).
    """

    INTERVAL_S = 0.5
    MEMBERS_EVERY = 4  # samples

    def __init__(self, pgid: int):
        super().__init__(daemon=True)
        self.pgid = pgid
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self._finished = threading.Event()

    def run(self) -> None:
        samples = 0
        members: list[int] = []
        while not self._finished.wait(self.INTERVAL_S):
            if samples % self.MEMBERS_EVERY == 0:
                members = _group_members(self.pgid)
            samples += 1
            rss = sum(_proc_kb(f"/proc/{pid}/status", "VmRSS:") for pid in members)
            pss = sum(_proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in members)
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)

    def stop(self) -> dict:
        """Peaks in MB, or None where no sample saw the group (it ended within the first interval)."""
        self._finished.set()
        self.join()
        return {"peak_rss_mb": round(self.peak_rss_kb / 1024, 1) if self.peak_rss_kb else None,
                "peak_pss_mb": round(self.peak_pss_kb / 1024, 1) if self.peak_pss_kb else None}


def _max_known(*values: float | None) -> float | None:
    return max((value for value in values if value is not None), default=None)


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            # Fields after the parenthesised command name: state, ppid, pgrp, ...
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(entry))
    return members


def _proc_kb(path: str, key: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- queries and HTTP


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    rotating: bool = False  # each request binds the next actor or term of the rotation (see ROTATES)

    @property
    def accept(self) -> str:
        body = "\n".join(line for line in self.text.splitlines() if not line.lstrip().startswith("#"))
        form = re.search(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body, re.IGNORECASE)
        return GRAPH_TYPE if form and form.group(1).upper() in ("CONSTRUCT", "DESCRIBE") else RESULTS_JSON


    @property
    def slug(self) -> str:
        """The name as a file name: ``actor-allegations-repeat``."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    def bound_parts(self, rotation: Rotation) -> tuple[list[str], list[str]]:
        """The query text cut where it names the rotated actor or term, and what each request puts there."""
        kind, token = ROTATES.search(self.text).groups()
        if kind == "actor":
            values = [f"<{ids.ENTITY_BASE}{path}>" for path, _ in rotation.actors]
        else:
            values = ['"' + name.lower().replace("\\", "").replace('"', "") + '"' for _, name in rotation.actors]
        return self.text.split(token), values


def load_queries() -> list[Query]:
    queries = []
    for directory in QUERY_DIRS:
        for path in sorted(directory.glob("*.rq")):
            text = path.read_text()
            if ROTATES.search(text):
                queries += [Query(path.stem, text, rotating=True), Query(path.stem + REPEAT, text)]
            else:
                queries.append(Query(path.stem, text))
    return queries


def post_query(url: str, query: str, accept: str, timeout: float) -> requests.Response:
    return requests.post(url, data={"query": query}, headers={"Accept": accept}, timeout=timeout)


def result_size(response: requests.Response) -> int:
    """Rows of a SELECT, 1/0 for an ASK, triples of a graph result."""
    if response.headers.get("Content-Type", "").startswith(RESULTS_JSON):
        body = response.json()
        return len(body["results"]["bindings"]) if "results" in body else int(body["boolean"])
    return sum(1 for line in response.text.splitlines() if line.strip() and not line.startswith("#"))


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float) -> float:
    """Seconds until the endpoint answers a query, polling; raise if the process dies or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before answering:\n{_log_tail(log)}")
        try:
            status = post_query(url, READY_QUERY, RESULTS_JSON, timeout=timeout).status_code
        except requests.RequestException:
            status = None
        if status == 200:
            return time.monotonic() - started
        if status is not None and 400 <= status < 500:  # asking again will not help: wrong path or protocol
            raise RuntimeError(f"{url} answers HTTP {status}")
        time.sleep(0.02)
    raise RuntimeError(f"no successful answer within {timeout:.0f} s:\n{_log_tail(log)}")


# ---------------------------------------------------------------- wrk

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format('BENCH {"requests": %d, "duration_us": %d, "bytes": %d, "status_errors": %d, '
    .. '"socket_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
"""


# Each wrk thread walks the whole list, from its own starting point, one item per request: with more items
# than a series makes requests per worker, or an LRU cache smaller than the list, no cache wins a walk.
WRK_ROTATION = """
local position = 0
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("first", threads)
end
init = function(args)
  position = ((first or 1) - 1) * 1009 % #items
end
request = function()
  position = position % #items + 1
  return REQUEST
end
"""


def rotating(request: str) -> str:
    """The Lua that walks ``items``, one per request, making each request with the Lua expression ``request``."""
    return WRK_ROTATION.replace("REQUEST", request)


def lua_list(values: list[str]) -> str:
    return "{" + ",".join(f"[==[{value}]==]" for value in values) + "}"


def post_script(query: Query, rotation: Rotation) -> str:
    head = (f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            f'wrk.headers["Accept"] = "{query.accept}"\n')
    if not query.rotating:
        return head + f'wrk.body = [==[{urllib.parse.urlencode({"query": query.text})}]==]\n' + WRK_REPORT
    # quote_plus encodes character by character, so the parts and the values may be encoded apart.
    parts, values = query.bound_parts(rotation)
    encoded = ["query=" + urllib.parse.quote_plus(parts[0]), *map(urllib.parse.quote_plus, parts[1:])]
    return (head + f"local parts = {lua_list(encoded)}\n"
            f"items = {lua_list([urllib.parse.quote_plus(value) for value in values])}\n"
            + rotating("wrk.format(nil, nil, nil, table.concat(parts, items[position]))") + WRK_REPORT)


def get_script(accept: str, paths: list[str]) -> str:
    head = f'wrk.method = "GET"\nwrk.headers["Accept"] = "{accept}"\n'
    if len(paths) == 1:
        return head + WRK_REPORT
    return head + f"items = {lua_list(paths)}\n" + rotating("wrk.format(nil, items[position])") + WRK_REPORT


def run_wrk(children: Children, url: str, script: Path, connections: int, duration: int, log: Path) -> dict:
    """wrk for ``duration`` seconds. An answer slower than ``duration`` counts as a timeout; requests
    still in flight when wrk stops are not counted at all (hence "none completed" for slow queries)."""
    threads = min(connections, os.cpu_count() or 1)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", f"--timeout={duration}s",
               "--latency", "-s", str(script), url]
    out = log.with_suffix(".wrk.txt")
    process = children.start(command, out)
    try:
        process.wait(duration + 30)
    finally:
        children.stop(process)
    reports = re.findall(r"^BENCH (\{.*\})$", out.read_text(), re.MULTILINE)
    if not reports:
        raise RuntimeError(f"wrk gave no report:\n{_log_tail(out)}")
    raw = json.loads(reports[-1])  # the log is appended to if a name is measured twice
    seconds = raw["duration_us"] / 1e6
    answered = raw["requests"] - raw["status_errors"]
    return {
        "connections": connections,
        "rps": round(answered / seconds, 2),
        "p50_ms": round(raw["p50_us"] / 1000, 3) if answered else None,
        "p99_ms": round(raw["p99_us"] / 1000, 3) if answered else None,
        "requests": raw["requests"],
        "errors": raw["status_errors"] + raw["socket_errors"] + raw["timeouts"],
        "mb_per_s": round(raw["bytes"] / seconds / 1e6, 2),
    }


# ---------------------------------------------------------------- systems


@dataclass
class Context:
    args: object
    children: Children
    data_file: Path
    work: Path
    queries: list[Query]
    concurrency: list[int]
    rotation: Rotation

    @property
    def ontology_file(self) -> Path:
        """The ontology graph a soles store holds beside the data, for the other systems to load too."""
        path = self.work / "ontology.nq"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(serialize(sort_quads(ontology_quads()), format=RdfFormat.N_QUADS))
        return path

    @property
    def anchor_files(self) -> list[str]:
        return [str(self.data_file), str(self.ontology_file)]

    def log(self, name: str) -> Path:
        return self.work / "logs" / f"{name}.log"


@dataclass
class System:
    """How to load the dataset into one server and start it."""

    name: str
    sparql_path: str
    results: dict = field(default_factory=dict)
    no_load: str = "no load step"  # what the table says when load() has nothing to run

    def load(self, ctx: Context) -> list[list[str]]:
        """Commands that load the data, run in order and timed together; empty if start() loads."""
        return []

    def start_command(self, ctx: Context, port: int, **options) -> list[str]:
        raise NotImplementedError

    def start_env(self, ctx: Context) -> dict:
        return {}

    def start_timeout(self, ctx: Context) -> float:
        return ctx.args.load_timeout

    def unavailable(self, ctx: Context) -> str | None:
        """Why the system cannot be run here, or None."""
        return None


def _help_text(command: list[str]) -> str:
    """What ``command`` prints; RuntimeError saying why when it does not run (``kg`` not installed, or
    installed from a checkout that is gone), so that a broken install is not reported as a missing option."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RuntimeError(f"`{' '.join(command)}` did not run: {error}") from error
    if done.returncode:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise RuntimeError(f"`{' '.join(command)}` failed (exit {done.returncode}): {last}")
    return done.stdout


class Soles(System):
    def build_dir(self, ctx: Context) -> Path:
        return ctx.work / "soles-build"

    def unavailable(self, ctx):
        try:
            help_text = _help_text(["kg", "build", "--help"])
        except RuntimeError as error:
            return str(error)
        return None if "--import" in help_text else "`kg build` has no --import option yet"

    def load(self, ctx):
        command = ["kg", "build", "--import", str(ctx.data_file), "--out", str(self.build_dir(ctx))]
        if "--no-reason" in _help_text(["kg", "build", "--help"]):
            command.append("--no-reason")  # HermiT cannot reason over millions of triples
        return [command]

    def start_command(self, ctx, port, workers=None):  # workers: for the 1-vs-4 memory comparison
        # wrk's connections all come from 127.0.0.1, one client to fair admission (server.admission), which would
        # refuse most of them with 429: each stands for a user of its own, so one address may hold every slot.
        return ["kg", "serve", "--build", str(self.build_dir(ctx)), "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(workers or ctx.args.workers),
                "--query-slots-per-client", str(DEFAULT_CONFIG["QUERY_SLOTS"])]


class Oxigraph(System):
    def store(self, ctx):
        return ctx.work / "oxigraph-store"

    def load(self, ctx):
        return [["oxigraph", "load", "--location", str(self.store(ctx)), "--file", *ctx.anchor_files]]

    def start_command(self, ctx, port):
        # The union default graph is what soles and the wrapper query: the data is all in named graphs.
        return ["oxigraph", "serve-read-only", "--location", str(self.store(ctx)), "--bind", f"127.0.0.1:{port}",
                "--union-default-graph"]


class RdflibEndpoint(System):
    """Loads the file into memory when it starts: its load time is its start time."""

    no_load = "in start"

    def start_command(self, ctx, port):
        return ["rdflib-endpoint", "serve", *ctx.anchor_files, "--host", "127.0.0.1", "--port", str(port)]

    def start_timeout(self, ctx):
        return ctx.args.rdflib_timeout


class Wrapper(System):
    """Serves the store of the soles build when there is one, else a store it bulk-loads itself."""

    no_load = "soles' store"

    def __init__(self, *args, soles: Soles, **kwargs):
        super().__init__(*args, **kwargs)
        self.soles = soles

    def soles_store(self, ctx) -> Path:
        return self.soles.build_dir(ctx) / STORE_DIR

    def store(self, ctx):
        return self.soles_store(ctx) if self.soles_store(ctx).is_dir() else ctx.work / "wrapper-store"

    def load(self, ctx):
        if self.soles_store(ctx).is_dir():
            return []
        return [[sys.executable, "-m", "bench.wrapper", "load", str(self.store(ctx)), *ctx.anchor_files]]

    def start_command(self, ctx, port):
        # The settings server/run.py gives gunicorn for `kg serve`.
        return [sys.executable, "-m", "gunicorn", "--workers", str(ctx.args.workers), "--bind", f"127.0.0.1:{port}",
                "--worker-class", "server.worker.KeptAliveThreadWorker",
                "--threads", str(DEFAULT_CONFIG["WORKER_THREADS"]),
                "--limit-request-line", "0", "--no-control-socket", "bench.wrapper:app"]

    def start_env(self, ctx):
        return {"BENCH_STORE": str(self.store(ctx))}


def timed_load(ctx: Context, system: System) -> dict | None:
    commands = system.load(ctx)
    if not commands:
        return None
    sampler_peaks = {"peak_rss_mb": None, "peak_pss_mb": None}
    started = time.monotonic()
    for command in commands:
        log = ctx.log(f"{system.name}-load")
        process = ctx.children.start(command, log)
        sampler = MemorySampler(process.pid)
        sampler.start()
        try:
            code = process.wait(max(1.0, ctx.args.load_timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"load took more than {ctx.args.load_timeout} s") from None
        finally:
            peaks = sampler.stop()
            ctx.children.stop(process)
        if code != 0:
            raise RuntimeError(f"{' '.join(command)} exited with {code}:\n{_log_tail(log)}")
        sampler_peaks = {key: _max_known(value, peaks[key]) for key, value in sampler_peaks.items()}
    return {"seconds": round(time.monotonic() - started, 2), **sampler_peaks,
            "commands": [" ".join(command) for command in commands]}


class Server:
    """A running system: started, settled between measurements, restarted if it will not settle.

    Servers without a query timeout (rdflib-endpoint) go on computing answers nobody waits for;
    rather than wait for them without end, the server is restarted, and the restart is reported."""

    def __init__(self, ctx: Context, system: System, name: str, **command_options):
        self.ctx, self.system, self.name = ctx, system, name
        self.command_options = command_options
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + system.sparql_path
        self.log = ctx.log(f"{name}-serve")
        self.restarts = 0
        self.peak = {"peak_rss_mb": None, "peak_pss_mb": None}
        self.process = None

    def start(self) -> float:
        """Seconds from spawning the server to its first successful answer."""
        command = self.system.start_command(self.ctx, self.port, **self.command_options)
        self.process = self.ctx.children.start(command, self.log, env=self.system.start_env(self.ctx))
        self.sampler = MemorySampler(self.process.pid)
        self.sampler.start()
        return wait_ready(self.url, self.process, self.log, self.system.start_timeout(self.ctx))

    def stop(self) -> None:
        if self.process is not None:
            memory = self.sampler.stop()
            self.peak = {key: _max_known(value, memory[key]) for key, value in self.peak.items()}
            self.ctx.children.stop(self.process)
            self.process = None

    def settle(self) -> None:
        """Wait until answers queued by the last measurement are out, or restart."""
        try:
            wait_ready(self.url, self.process, self.log, self.ctx.args.settle_timeout)
        except RuntimeError:
            print(f"[{self.name}] still busy after {self.ctx.args.settle_timeout} s: restarting", flush=True)
            self.stop()
            self.restarts += 1
            self.start()

    def wrk(self, path_or_url: str, script: Path, connections: int, log_name: str) -> dict:
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        measured = run_wrk(self.ctx.children, url, script, connections, self.ctx.args.duration,
                           self.ctx.log(log_name))
        self.settle()
        return measured


def measure_system(ctx: Context, system: System) -> None:
    results = system.results
    why = system.unavailable(ctx)
    results["available"] = why is None
    if why:
        results["why"] = why
        print(f"[{system.name}] skipped: {why}", flush=True)
        return
    print(f"[{system.name}] loading", flush=True)
    results["load"] = timed_load(ctx, system) or {"note": system.no_load}
    server = Server(ctx, system, system.name)
    try:
        results["start_seconds"] = round(server.start(), 3)
        print(f"[{system.name}] ready in {results['start_seconds']} s", flush=True)
        deadline = time.monotonic() + ctx.args.budget
        results["queries"] = {
            query.name: measure_query(server, query) if time.monotonic() < deadline else
            {"check": {"error": f"not run: the system's budget of {ctx.args.budget} s was spent"}}
            for query in ctx.queries}
        if isinstance(system, Soles):
            results["pages"] = measure_pages(server)
    finally:
        server.stop()
        results["serving_memory"] = server.peak
        results["restarts"] = server.restarts
    if isinstance(system, Soles):
        results["workers"] = {str(count): measure_workers(ctx, system, count) for count in WORKER_COUNTS}


def checked_texts(query: Query, rotation: Rotation) -> list[str]:
    """The query as written, or as the first requests of its rotation ask it."""
    if not query.rotating:
        return [query.text]
    parts, values = query.bound_parts(rotation)
    return [value.join(parts) for value in values[:ROTATION_CHECKS]]


def measure_query(server: Server, query: Query) -> dict:
    """Checked requests (one, or the first few of a rotation: their result sizes summed), then wrk at each
    concurrency."""
    ctx, name = server.ctx, server.name
    timeout = ctx.args.settle_timeout
    started = time.monotonic()
    check = {"status": 200, "bytes": 0, "results": 0}
    for text in checked_texts(query, ctx.rotation):
        try:
            response = post_query(server.url, text, query.accept, timeout=timeout)
        except requests.Timeout:
            print(f"[{name}] {query.name}: no answer within {timeout} s", flush=True)
            server.settle()
            return {"check": {"error": f"no answer within {timeout} s"}}
        if response.status_code != 200:
            print(f"[{name}] {query.name}: HTTP {response.status_code}", flush=True)
            return {"check": {"status": response.status_code, "error": response.text[:300]}}
        check["bytes"] += len(response.content)
        try:
            check["results"] += result_size(response)
        except ValueError:  # a 200 whose body then broke off (Oxigraph failing a SERVICE call mid-answer)
            print(f"[{name}] {query.name}: unreadable result", flush=True)
            return {"check": {"status": response.status_code, "error": f"unreadable result: {response.text[:300]}"}}
    check["seconds"] = round(time.monotonic() - started, 3)
    script = ctx.work / "lua" / f"{query.slug}.lua"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(post_script(query, ctx.rotation))
    measured = {"check": check}
    for connections in ctx.concurrency:
        measured[f"c{connections}"] = server.wrk(server.url, script, connections, f"{name}-{query.slug}-c{connections}")
        print(f"[{name}] {query.name} c={connections}: {measured[f'c{connections}']}", flush=True)
    return measured


@dataclass(frozen=True)
class PageSeries:
    """Pages asked one after another (one address: the same page again, a repeat series), by wrk."""

    name: str
    paths: list[str]
    accept: str
    concurrency: list[int]
    is_page: bool = True  # held to the page target (a dump is a file, not a page)

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


FACET_VIEW_YEARS = (2005, 2010, 2015, 2020)
FACET_VIEW_CLAIMANTS = 50  # of the rotated actors, whose denials a view lists


def facet_views(actors: tuple[tuple[str, str], ...]) -> list[str]:
    """Views of /allegations narrowed as a reader narrows them, in a seeded shuffled order: a kind and a stance,
    two kinds, a kind since a year, a status and a stance, two stances, and what an actor denies."""
    types, statuses, stances = ([slug for slug, _ in vocabulary]
                                for vocabulary in (sc.ALLEGATION_TYPES, sc.ALLEGATION_STATUSES, sc.STANCES))
    views = [f"type={kind}&stance={stance}" for kind in types for stance in stances]
    views += [f"type={one}&type={other}" for number, one in enumerate(types) for other in types[number + 1:]]
    views += [f"type={kind}&from={year}" for kind in types for year in FACET_VIEW_YEARS]
    views += [f"status={status}&stance={stance}" for status in statuses for stance in stances]
    views += [f"stance={one}&stance={other}" for number, one in enumerate(stances) for other in stances[number + 1:]]
    views += [f"claimant={urllib.parse.quote(path.split('/')[1])}&stance=denies"
              for path, _ in actors[:FACET_VIEW_CLAIMANTS]]
    random.Random(ROTATION_SEED).shuffle(views)
    return [f"/allegations?{view}" for view in views]


def page_series(ctx: Context) -> list[PageSeries]:
    """Actor pages and every list view, rotating over the actors (and their names, and the contested pages)
    as users would; the hub and the typical actor as repeat series; the dump download."""
    actors, quote = ctx.rotation.actors, urllib.parse.quote
    html, every, one = "text/html", ctx.concurrency, [1]
    return [
        PageSeries("actor pages (rotating)", [f"/id/{path}" for path, _ in actors], html, every),
        PageSeries(f"actor page {HUB_ACTOR[0]} (hub){REPEAT}", [f"/id/person/{HUB_ACTOR[0]}"], html, every),
        PageSeries(f"actor page {TYPICAL_ACTOR[0]} (typical){REPEAT}", [f"/id/person/{TYPICAL_ACTOR[0]}"], html, every),
        PageSeries("home page", ["/"], html, one),
        PageSeries("search for an actor's name (rotating)", [f"/search?q={quote(name)}" for _, name in actors],
                   html, one),
        PageSeries("/allegations?accused= (rotating)", [f"/allegations?accused={quote(path.split('/')[1])}"
                                                         for path, _ in actors], html, one),
        PageSeries("/allegations, several facet values (rotating)", facet_views(actors), html, one),
        PageSeries("/contested?page= (rotating)",
                   [f"/contested?page={number}" for number in range(1, ctx.rotation.contested_pages + 1)], html, one),
        PageSeries("/timeline?actor= (rotating)", [f"/timeline?actor={quote(path)}" for path, _ in actors], html, one),
        PageSeries("/timeline", ["/timeline"], html, one),
        PageSeries("/network?actor= (rotating)", [f"/network?actor={quote(path)}" for path, _ in actors], html, one),
        PageSeries("/network", ["/network"], html, one),
        PageSeries("dump soles.nq.gz", ["/downloads/soles.nq.gz"], "*/*", one, is_page=False),
    ]


def measure_pages(server: Server) -> dict:
    """Every page series, the way a browser asks, after a check of its first few addresses."""
    ctx = server.ctx
    pages = {}
    for series in page_series(ctx):
        if not series.paths:  # a data file with nothing of the kind (no contested allegation...)
            continue
        check = {"status": 200, "bytes": 0, "page": series.is_page}
        for path in series.paths[:ROTATION_CHECKS]:
            response = requests.get(server.base + path, headers={"Accept": series.accept}, timeout=60)
            check["bytes"] += len(response.content)
            if response.status_code != 200:
                check = {"status": response.status_code, "bytes": len(response.content), "path": path,
                         "page": series.is_page}
                break
        if check["status"] == 200:  # the mean size of the pages checked
            check["bytes"] //= min(len(series.paths), ROTATION_CHECKS)
        pages[series.name] = {"check": check}
        if check["status"] != 200:
            print(f"[{server.name}] {series.name}: HTTP {check['status']} for {check['path']}", flush=True)
            continue
        script = ctx.work / "lua" / f"get-{series.slug}.lua"
        script.write_text(get_script(series.accept, series.paths))
        for connections in series.concurrency:
            measured = server.wrk(series.paths[0], script, connections, f"{server.name}-{series.slug}-c{connections}")
            pages[series.name][f"c{connections}"] = measured
            print(f"[{server.name}] {series.name} c={connections}: {measured}", flush=True)
    return pages


def measure_workers(ctx: Context, soles: Soles, workers: int) -> dict:
    """Memory of `kg serve` with this many workers, while every query of the mix runs briefly at 4 clients."""
    server = Server(ctx, soles, f"soles-{workers}-workers", workers=workers)
    try:
        start_seconds = server.start()
        for query in ctx.queries:
            if "c1" in soles.results["queries"][query.name]:  # the query worked in the main run
                run_wrk(ctx.children, server.url, ctx.work / "lua" / f"{query.slug}.lua", 4,
                        min(3, ctx.args.duration), ctx.log(f"{server.name}-{query.slug}"))
                server.settle()
    finally:
        server.stop()
    print(f"[{server.name}] {server.peak}", flush=True)
    return {"start_seconds": round(start_seconds, 3), **server.peak}


# ---------------------------------------------------------------- report


def rps_ratio(mine: dict | None, theirs: dict | None) -> float | None:
    """soles' requests/s over another system's: infinite if only soles answered, None if neither."""
    if not theirs:
        return None
    mine_rps = mine["rps"] if mine else 0.0
    if not theirs["rps"]:
        return float("inf") if mine_rps else None
    return mine_rps / theirs["rps"]


def format_ratio(value: float | None) -> str:
    return "–" if value is None else "∞" if value == float("inf") else f"{value:.2f}x"


def ratio(mine: dict | None, theirs: dict | None) -> str:
    return format_ratio(rps_ratio(mine, theirs) if mine else None)


TARGET_RATIOS = (("oxigraph", 1.0), ("rdflib-endpoint", 50.0), ("wrapper", 0.8))
PAGE_P50_MS = 20.0  # over HTTP at one client (issue 13: 5 ms in-process, which `bench pages` measures)
SERVE_READY_S = 2.0
BUILD_S = 60.0


def target_rows(report: dict) -> list[tuple[str, str, str, bool]]:
    """(target, goal, measured, met) for what this run measured; the goals are stated for 1M triples."""
    systems = report["systems"]
    soles = systems.get("soles", {})
    if "queries" not in soles:
        return []
    busiest = f"c{max(report['concurrency'])}"
    rows = []
    for anchor, goal in TARGET_RATIOS:
        theirs = systems.get(anchor, {}).get("queries", {})
        ratios = [(rps_ratio(soles["queries"].get(query, {}).get(busiest), measured.get(busiest)), query)
                  for query, measured in theirs.items() if not query.endswith(REPEAT)]  # what users do: rotating
        ratios = [(value, query) for value, query in ratios if value is not None]
        if ratios:
            worst, query = min(ratios)
            rows.append((f"soles/{anchor} requests/s at {busiest[1:]} clients, worst query", f"≥ {goal}x",
                         f"{format_ratio(worst)} ({query})", worst >= goal))
    for name, page in soles.get("pages", {}).items():
        measured = page.get("c1")
        if page["check"].get("page") and measured and measured["p50_ms"] is not None:
            rows.append((f"{name} p50 at 1 client over HTTP", f"< {PAGE_P50_MS:g} ms",
                         f"{measured['p50_ms']} ms", measured["p50_ms"] < PAGE_P50_MS))
    if "start_seconds" in soles:
        rows.append(("kg serve ready on the prebuilt store (goal stated for 10M)", f"< {SERVE_READY_S} s",
                     f"{soles['start_seconds']} s", soles["start_seconds"] < SERVE_READY_S))
    one, four = (soles.get("workers", {}).get(str(count), {}).get("peak_pss_mb") for count in WORKER_COUNTS)
    if one and four:
        # 4x would mean every worker holds its own copy of the data; what each added worker may cost
        # is a Python heap, so less than half the 1-worker total is asked for: < 2x.
        rows.append(("PSS with 4 workers over PSS with 1 (4x = one copy per worker)", "< 2x",
                     f"{four / one:.2f}x ({one} MB, {four} MB: {(four - one) / 3:.0f} MB per added worker)",
                     four < 2 * one))
    if "seconds" in soles.get("load", {}):
        seconds = soles["load"]["seconds"]
        rows.append(("kg build --import", f"< {BUILD_S} s", f"{seconds} s", seconds < BUILD_S))
    return rows


def cell(measured: dict | None) -> str:
    if not measured:
        return "–"
    errors = f", {measured['errors']} err" if measured["errors"] else ""
    if measured["p50_ms"] is None:
        return f"none completed{errors}"
    return f"{measured['rps']:.1f} / {measured['p50_ms']:.1f} / {measured['p99_ms']:.1f}{errors}"


def check_cell(check: dict | None) -> str:
    if not check:
        return "–"
    if "results" in check:
        return str(check["results"])
    if check.get("status", 200) != 200:
        return f"HTTP {check['status']}"
    return check["error"].splitlines()[0][:80]


def why_not_run(result: dict) -> str:
    """One line: the reason, or the first and last lines of the error (the command, then its last word)."""
    if result.get("why"):
        return result["why"]
    error = [line.strip() for line in (result.get("error") or "interrupted").splitlines() if line.strip()]
    return (error[0] if len(error) == 1 else f"{error[0]} … {error[-1]}").replace("|", "\\|")


def markdown(report: dict) -> str:
    systems = report["systems"]
    names = list(systems)
    anchors = [name for name in names if name != "soles"]
    lines = [
        f"# soles benchmark, {report['date']}",
        "",
        f"{report['triples']} quads ({report['data_file']}), {report['duration']} s per measurement, "
        f"{report['workers']} gunicorn workers, {report['cpus']} CPUs, 1-minute load average "
        f"{report['load_average_before']:.2f} before and {report['load_average_after']:.2f} after the run "
        "(other processes on the machine skew the numbers). "
        f"The bench and the wrapper ran on {report.get('interpreter', 'an interpreter not recorded')}, "
        f"soles (`kg`) on {report.get('kg_interpreter') or 'an interpreter not recorded'}. "
        "Cells: requests/s / p50 ms / p99 ms; ratios compare requests/s.",
        "",
        "| " + " | ".join(["query", "clients", *names, *(f"soles/{anchor}" for anchor in anchors)]) + " |",
        "|" + "---|" * (2 + len(names) + len(anchors)),
    ]
    query_names = list(dict.fromkeys(q for s in systems.values() for q in s.get("queries", {})))
    for query in query_names:
        for connections in report["concurrency"]:
            key = f"c{connections}"
            measured = {n: systems[n].get("queries", {}).get(query, {}).get(key) for n in names}
            row = [query, str(connections)] + [cell(measured[n]) for n in names]
            row += [ratio(measured.get("soles"), measured[a]) for a in anchors]
            lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Result sizes of the check request (rows or triples; HTTP status if not 200):", "",
              "| query | " + " | ".join(names) + " |", "|" + "---|" * (1 + len(names))]
    for query in query_names:
        checks = [systems[n].get("queries", {}).get(query, {}).get("check") for n in names]
        lines.append(f"| {query} | " + " | ".join(map(check_cell, checks)) + " |")
    lines += ["", "| system | load s | load peak RSS MB | load peak PSS MB | start s | serving peak RSS MB "
              "| serving peak PSS MB | restarts |", "|---|---|---|---|---|---|---|---|"]
    for name, result in systems.items():
        if not result.get("available") or "start_seconds" not in result:
            lines.append(f"| {name} | not run: {why_not_run(result)} ||||||")
            continue
        load = result["load"]
        memory = result.get("serving_memory", {})
        values = [load.get("seconds", load.get("note")), load.get("peak_rss_mb"), load.get("peak_pss_mb"),
                  result["start_seconds"], memory.get("peak_rss_mb"), memory.get("peak_pss_mb"), result.get("restarts", 0)]
        lines.append(f"| {name} | " + " | ".join("–" if value is None else str(value) for value in values) + " |")
    soles = systems.get("soles", {})
    if soles.get("pages"):
        lines += ["", "| soles page | clients | requests/s / p50 ms / p99 ms | bytes |", "|---|---|---|---|"]
        for name, page in soles["pages"].items():
            for key, measured in page.items():
                if key != "check":
                    lines.append(f"| {name} | {measured['connections']} | {cell(measured)} | {page['check']['bytes']} |")
    if soles.get("workers"):
        lines += ["", "| kg serve workers | start s | peak RSS MB | peak PSS MB |", "|---|---|---|---|"]
        for count, measured in soles["workers"].items():
            lines.append(f"| {count} | {measured['start_seconds']} | {measured['peak_rss_mb']} | {measured['peak_pss_mb']} |")
    if rows := target_rows(report):
        lines += ["", f"Targets (stated for 1M triples; this run has {report['triples']} quads):", "",
                  "| target | goal | measured | met |", "|---|---|---|---|"]
        lines += [f"| {target} | {goal} | {measured} | {'yes' if met else 'NO'} |" for target, goal, measured, met in rows]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- main


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def run(args) -> int:
    # Both end the run the same way, through the finally that stops every child. SIGINT is set too
    # because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    concurrency = [int(c) for c in args.concurrency.split(",")]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H%M%SZ")
    work = OUT_DIR / f"work-{args.triples}"
    data_file = args.data or OUT_DIR / "data" / f"soles-{args.triples}.nq"
    if not args.data:  # regenerated every time (10M take under a minute), so it always matches the generator
        data_file.parent.mkdir(parents=True, exist_ok=True)
        print(f"generating {data_file}", flush=True)
        generate(args.triples, data_file)
    shutil.rmtree(work, ignore_errors=True)  # every load starts from nothing, so load times are honest
    children = Children()
    ctx = Context(args, children, data_file.resolve(), work, load_queries(), concurrency,
                  rotation(data_file, page_size=DEFAULT_CONFIG["PAGE_SIZE"]))
    soles = Soles("soles", "/sparql")
    every = {"soles": soles, "oxigraph": Oxigraph("oxigraph", "/query"),
             "rdflib-endpoint": RdflibEndpoint("rdflib-endpoint", "/"),
             "wrapper": Wrapper("wrapper", "/sparql", soles=soles)}
    chosen = [every[name] for name in args.systems.split(",")]
    report = {"date": stamp, "triples": sum(1 for _ in open(data_file, "rb")), "data_file": str(data_file),
              "duration": args.duration, "concurrency": concurrency, "workers": args.workers,
              "cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0], "interpreter": described(),
              "kg_interpreter": script_interpreter("kg"),
              "systems": {system.name: system.results for system in chosen}}
    try:
        for system in chosen:
            try:
                measure_system(ctx, system)
            except RuntimeError as error:
                system.results["error"] = str(error)
                print(f"[{system.name}] failed: {error}", flush=True)
    finally:
        children.stop_all()
        # Anything else running on the machine skews the numbers: the load average says how much did.
        report["load_average_after"] = os.getloadavg()[0]
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        base = OUT_DIR / f"results-{stamp}-{args.triples}"
        base.with_suffix(".json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        table = markdown(report)
        base.with_suffix(".md").write_text(table)
        print(table)
        print(f"written to {base}.json and {base}.md")
    return 0
