"""The local engine: SPARQL queries run in a pool of killable child processes that every web worker shares.

A pyoxigraph query cannot be cancelled: it ends only with its process. So queries run in executors,
processes that open the store read-only and answer one query at a time, and one past its time limit is
killed (a response not yet begun becomes a 503, one under way is cut short). The executors are kept by
one pool process (``QueryPool.start``), which ``kg serve`` starts before gunicorn forks its web workers:
the server holds at most ``size`` executors, and as many stores with their caches, however many web
workers it runs. An executor whose memory stayed high after a query (the store's caches and what the
allocator keeps) retires and is started afresh when next needed.

Each executor is confined by the kernel before it opens the store (kg.sandbox): it cannot open a
network connection except to an allow-listed SERVICE endpoint, and its memory is capped; it runs at a
lower CPU priority than the web workers, so that pages stay quick while queries run. An executor that
dies mid-query is told apart by how it died: out of memory (503 naming the limit) or a crash of the
engine on that query (400); it is not retried.

How a web worker runs a query, with the pool process off the query's path: slot ``i`` of the pool is a
lock file, held with ``flock`` by the thread using the slot (the kernel releases it if that worker dies),
and a Unix socket its executor listens on. The thread takes the lowest free slot, writes the job and
reads the result straight from the executor, on a connection its worker keeps while that executor lives.
It asks the pool process (the executors' parent, over its control socket) only to start the slot's
executor when it has none or the last one did not finish its job (its worker died mid-job), to stop it
past the time limit or when the response is abandoned, and to say how it died. A job that no worker is
left to stop stops itself shortly after its deadline. The pool process ends when the process that started
it and every process forked from that one (gunicorn's web workers) are gone; its executors end with it.

Protocol: the worker writes a job (4-byte length, then JSON); the executor answers with frames (1-byte
tag, 4-byte length, payload): any number of DATA frames, then END, or an error frame (RETIRING first if
the executor ends after this job).
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import select
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pyoxigraph import NamedNode

from kg import formats, sandbox
from kg.store import open_store, run_query, write_result
from server.engines.interface import (
    QueryCrashed,
    QueryError,
    QueryFailed,
    QueryJob,
    QueryOutOfMemory,
    QueryRefused,
    QueryServiceFailed,
    QueryTimeout,
)

JOB_HEADER = struct.Struct(">I")
FRAME_HEADER = struct.Struct(">cI")
DATA, END, SYNTAX_ERROR, FAILURE, NETWORK_REFUSED, OUT_OF_MEMORY, CRASH = b"D", b"Z", b"S", b"F", b"N", b"M", b"C"
SERVICE_FAILED = b"X"
RETIRING = b"Q"  # sent before END (or an error) by an executor that ends after this job
READ_SIZE = 1 << 16
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
STREAM_AFTER_BYTES = 1 << 16  # smaller results are sent whole, with a Content-Length
EXECUTOR_NICENESS = 10  # added to the web worker's: queries take the CPU only when pages do not need it
STDERR_KEPT = 4096  # the last bytes an executor wrote to stderr, read to tell why it died
# A slot's record, in its lock file: its state and its executor's pid. Only a READY slot's executor may take a
# job without being started anew; a BUSY one's worker may have died mid-job.
SLOT_RECORD = struct.Struct(">cI")
READY, BUSY, STOPPED = b"R", b"B", b"S"
CLAIM_POLL_INTERVAL = 0.005
CONFINEMENT_WAIT = 10.0  # seconds a new executor may take to be confined and open its store
DEATH_WAIT = 2.0  # seconds an executor that closed its connection mid-job may take to exit on its own
REAP_POLL_INTERVAL = 0.01  # seconds between tries to reap an executor that has begun to exit
POOL_STOP_WAIT = 5.0  # seconds the pool process may take to stop its executors when asked to stop
ORPHAN_GRACE = 1.0  # an executor outlives its job's deadline by this much only if no worker is left to stop it
PR_SET_NAME, PR_SET_PDEATHSIG = 15, 1
POOL_NAME, EXECUTOR_NAME = b"soles-pool", b"soles-query"  # what ps and /proc/<pid>/comm show
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What confines an executor: the time per query, the memory per process, the endpoints SERVICE may call,
    and the private memory that, kept after a query, makes it retire (None: it never does; 0: after every query)."""

    timeout: float
    memory: int | None = None
    allowed_services: tuple[str, ...] = ()
    memory_kept: int | None = None

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(timeout=config["QUERY_TIMEOUT"], memory=config["MAX_QUERY_MEMORY"],
                   allowed_services=tuple(config["SERVICE_ALLOWLIST"]),
                   memory_kept=config["QUERY_PROCESS_MEMORY_KEPT"])

    def memory_text(self) -> str:
        return f"{self.memory / (1 << 20):g} MiB" if self.memory else "the machine's memory"


class QueryPool:
    """The pool as a process that runs queries sees it: its slots, and the pool process's control socket.

    ``QueryPool.start(size, limits)`` starts a pool process owned by this one; ``QueryPool(directory, size,
    limits)`` attaches to a running one (``directory`` is ``start``'s pool's). Each process makes its own
    (the slot locks are per process).
    """

    def __init__(self, directory: Path, size: int, limits: Limits):
        self.directory = Path(directory)
        self.size = size
        self.limits = limits
        self._claimable = [threading.Lock() for _ in range(size)]  # one thread of this process per slot
        # This process's connection to each slot's executor, with that executor's pid: used by one thread at a time.
        self._connections: list[tuple[int, socket.socket | None]] = [(0, None)] * size
        self._lock_files: list[int | None] = [None] * size
        self._opening = threading.Lock()
        self.pid: int | None = None  # of the pool process, in the process that started it
        weakref.finalize(self, _close_all, self._connections, self._lock_files, os.getpid())

    @classmethod
    def start(cls, size: int, limits: Limits) -> QueryPool:
        """Start a pool process of ``size`` executors; it ends when this process and its forks are gone."""
        directory = Path(tempfile.mkdtemp(prefix="soles-query-pool-"))
        control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        control.bind(str(directory / "control.sock"))
        control.listen(64)
        lifeline_read, lifeline_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(lifeline_write)
            _pool_main(directory, size, limits, control, lifeline_read)
        os.close(lifeline_read)
        control.close()
        pool = cls(directory, size, limits)
        pool.pid = pid
        # Runs when the pool is garbage-collected or at interpreter exit, in the starting process only.
        weakref.finalize(pool, _stop_pool, os.pidfd_open(pid), lifeline_write, directory, os.getpid())
        return pool

    def claim(self, deadline: float) -> _Claim:
        """The lowest free slot, held by this thread until the claim is released."""
        while True:
            for index in range(self.size):
                if self._claimable[index].acquire(blocking=False):
                    lock_file = self._lock_file(index)
                    try:
                        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        return _Claim(self, index, lock_file)
                    except BlockingIOError:  # another process's thread holds it
                        self._claimable[index].release()
            if time.monotonic() >= deadline:
                raise QueryTimeout(f"all {self.size} query processes stayed busy for {self.limits.timeout:g} s")
            time.sleep(CLAIM_POLL_INTERVAL)

    def _lock_file(self, index: int) -> int:
        with self._opening:
            if self._lock_files[index] is None:
                self._lock_files[index] = os.open(self.directory / f"slot-{index}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            return self._lock_files[index]

    def socket_path(self, index: int) -> str:
        return str(self.directory / f"executor-{index}.sock")

    def ask(self, request: dict, deadline: float) -> dict:
        """Send one request to the pool process and return its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as control:
            control.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                control.connect(str(self.directory / "control.sock"))
                control.sendall(json.dumps(request).encode())
                answer = control.recv(READ_SIZE)
            except TimeoutError:
                raise QueryTimeout.after(self.limits.timeout) from None
            except OSError as error:
                raise QueryError(f"the server's query processes are unavailable: {error}", syntax=False) from None
        if not answer:
            raise QueryError("the server's query processes are unavailable: their pool ended", syntax=False)
        return json.loads(answer)


def _close_all(connections: list[tuple[int, socket.socket | None]], lock_files: list[int | None],
               owner_pid: int) -> None:
    for _, connection in connections:
        if connection is not None:
            connection.close()  # in a forked copy too: each process holds its own descriptors
    if os.getpid() == owner_pid:
        for lock_file in lock_files:
            if lock_file is not None:
                os.close(lock_file)


def _stop_pool(pidfd: int, lifeline: int, directory: Path, owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # forked workers inherit this finalizer: only the starting process stops the pool
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)  # it stops its executors and waits for them to end
            ended = select.poll()
            ended.register(pidfd, select.POLLIN)
            if not ended.poll(POOL_STOP_WAIT * 1000):
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)  # its executors get SIGKILL (PR_SET_PDEATHSIG)
            os.waitid(os.P_PIDFD, pidfd, os.WEXITED)
        except (ProcessLookupError, ChildProcessError):  # it ended already, and was reaped (gunicorn reaps any child)
            pass
        for descriptor in (pidfd, lifeline):
            os.close(descriptor)
        shutil.rmtree(directory, ignore_errors=True)


class _Claim:
    """One slot held by one thread while a job runs, and the connection to the slot's executor (kept by the
    process for its next claim of the slot while that executor lives)."""

    def __init__(self, pool: QueryPool, index: int, lock_file: int):
        self.pool, self.index, self.lock_file = pool, index, lock_file
        self.pid = 0  # of the slot's executor
        self.connection: socket.socket | None = None
        self.sent = False  # a job went to the executor
        self.answered = False  # the executor sent its whole answer: it waits for its next job
        self.died = False  # the executor ended mid-job: the pool process has reaped it
        self.retiring = False  # the executor said it ends after this answer
        self._buffer = bytearray()

    def connect(self, store: Path, deadline: float) -> None:
        """Connect to the slot's executor, started first if it has none fit for a job."""
        record = os.pread(self.lock_file, SLOT_RECORD.size, 0)
        state, self.pid = SLOT_RECORD.unpack(record) if len(record) == SLOT_RECORD.size else (STOPPED, 0)
        if state != READY:
            self._start(store, deadline)
        kept_pid, kept = self.pool._connections[self.index]
        if kept is not None and kept_pid == self.pid:
            self.connection = kept
            return
        self._forget_connection()
        try:
            self.connection = self._connected()
        except (FileNotFoundError, ConnectionRefusedError):  # it retired, or was killed, since its last job
            self._start(store, deadline)
            try:
                self.connection = self._connected()
            except OSError as error:  # it ended as soon as it was ready
                raise QueryError(f"a query process could not be reached: {error}", syntax=False) from None
        self.pool._connections[self.index] = (self.pid, self.connection)

    def _connected(self) -> socket.socket:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.pool.socket_path(self.index))
        except OSError:
            connection.close()
            raise
        return connection

    def _start(self, store: Path, deadline: float) -> None:
        os.pwrite(self.lock_file, SLOT_RECORD.pack(STOPPED, 0), 0)  # until the new one has answered
        answer = self.pool.ask({"start": self.index, "store": str(store)}, deadline)
        if "error" in answer:
            raise QueryFailed(answer["error"])
        self.pid = answer["pid"]

    def _forget_connection(self) -> None:
        _, kept = self.pool._connections[self.index]
        if kept is not None:
            kept.close()
        self.pool._connections[self.index] = (0, None)

    def send(self, job: QueryJob, store: Path, deadline: float) -> None:
        """Hand over a job; TimeoutError if the executor has not taken it by ``deadline``."""
        payload = json.dumps({"query": job.query, "format": job.format.name, "default_graph": job.default_graph,
                              "named_graphs": job.named_graphs, "store": str(store), "deadline": deadline}).encode()
        # If this worker dies mid-job, the next one to claim the slot starts a fresh executor.
        os.pwrite(self.lock_file, SLOT_RECORD.pack(BUSY, self.pid), 0)
        self.sent = True
        self._until(deadline)
        try:
            self.connection.sendall(JOB_HEADER.pack(len(payload)) + payload)
        except (BrokenPipeError, ConnectionResetError):
            raise self._death(deadline) from None

    def read_chunk(self, deadline: float) -> bytes | None:
        """The next chunk of the result, or None at its end; TimeoutError past ``deadline``."""
        self._fill(FRAME_HEADER.size, deadline)
        tag, length = FRAME_HEADER.unpack_from(self._buffer)
        self._fill(FRAME_HEADER.size + length, deadline)
        payload = bytes(self._buffer[FRAME_HEADER.size:FRAME_HEADER.size + length])
        del self._buffer[:FRAME_HEADER.size + length]
        if tag == DATA:
            return payload
        self.answered = True  # after END or an error, the executor waits for its next job
        if tag == RETIRING:
            self.retiring = True
            return self.read_chunk(deadline)
        if tag == END:
            return None
        raise _failure(tag, payload.decode(errors="replace"), self.pool.limits)

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            self._until(deadline)
            try:
                data = self.connection.recv(READ_SIZE)
            except ConnectionResetError:
                data = b""
            if not data:
                raise self._death(deadline)
            self._buffer += data

    def _until(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.connection.settimeout(remaining)

    def _death(self, deadline: float) -> QueryFailed:
        """Why the executor ended mid-query, as the pool process, its parent, saw it end."""
        self.died = True
        death = self.pool.ask({"died": self.index}, max(deadline, time.monotonic() + DEATH_WAIT + 1))
        return _death(death["status"], death["said"], self.pool.limits)

    def release(self) -> None:
        """Give the slot back: ready for the next job if the executor answered in full, else stopped first."""
        try:
            if self.answered and not self.retiring:
                os.pwrite(self.lock_file, SLOT_RECORD.pack(READY, self.pid), 0)
                return
            self._forget_connection()
            os.pwrite(self.lock_file, SLOT_RECORD.pack(STOPPED, 0), 0)  # the next job starts a fresh executor
            if self.sent and not (self.answered or self.died):  # past its limit, or abandoned: still running
                try:
                    self.pool.ask({"stop": self.index}, time.monotonic() + CONFINEMENT_WAIT)
                except QueryFailed as error:
                    log.warning("a query process past its limit could not be stopped: %s", error)
        finally:
            fcntl.flock(self.lock_file, fcntl.LOCK_UN)
            self.pool._claimable[self.index].release()


class QueryRunner:
    """The local engine for one release: its queries run on ``pool``'s executors, each confined by its limits."""

    def __init__(self, build_dir: Path, pool: QueryPool):
        self.build_dir = Path(build_dir)
        self.pool = pool
        self.timeout = pool.limits.timeout

    def run(self, job: QueryJob, deadline: float | None = None) -> list[bytes] | Iterator[bytes]:
        """Run a query (server.engines.interface.Engine.run)."""
        deadline = deadline or time.monotonic() + self.timeout
        claim = self.pool.claim(deadline)
        streaming = False
        try:
            try:
                claim.connect(self.build_dir, deadline)
                claim.send(job, self.build_dir, deadline)
                head, size = [], 0
                while size < STREAM_AFTER_BYTES:
                    chunk = claim.read_chunk(deadline)
                    if chunk is None:
                        return [b"".join(head)]
                    head.append(chunk)
                    size += len(chunk)
            except TimeoutError:
                raise QueryTimeout.after(self.timeout) from None
            stream = self._stream(claim, head, deadline)
            next(stream)  # enter its try block, so that closing it, even unread, releases the slot
            streaming = True
            return stream
        finally:
            if not streaming:
                claim.release()

    def _stream(self, claim: _Claim, head: list[bytes], deadline: float) -> Iterator[bytes]:
        try:
            yield b""
            yield from head
            while True:
                try:
                    chunk = claim.read_chunk(deadline)
                except TimeoutError:
                    raise QueryTimeout.after(self.timeout) from None
                if chunk is None:
                    return
                yield chunk
        finally:
            claim.release()


def _death(status: int, said: str, limits: Limits) -> QueryFailed:
    """The failure an executor's death stands for, from its wait status and the last words on its stderr."""
    signum = -os.waitstatus_to_exitcode(status)
    if "memory allocation of" in said or "bad_alloc" in said or signum == signal.SIGKILL:
        return QueryOutOfMemory(f"query stopped: it needed more than the {limits.memory_text()} "
                                "of memory a query may use")
    if signum in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE):
        return QueryCrashed("the engine could not process this query (it crashed on it, most likely "
                            "from nesting too deep for its parser): simplify the query")
    return QueryError(f"a query process ended unexpectedly (exit status {status})", syntax=False)


def _failure(tag: bytes, message: str, limits: Limits) -> QueryFailed:
    if tag == NETWORK_REFUSED:
        allowed = ", ".join(f"<{url}>" for url in limits.allowed_services) or "no endpoint"
        return QueryRefused(f"the query tried to open a network connection, which this endpoint does not "
                            f"allow (SERVICE may call {allowed}): {message}")
    if tag == OUT_OF_MEMORY:
        return QueryOutOfMemory(f"query stopped: it needed more than the {limits.memory_text()} of memory "
                                "a query may use")
    if tag == CRASH:
        return QueryCrashed(f"the engine failed on this query: {message}")
    if tag == SERVICE_FAILED:
        return QueryServiceFailed(f"a SERVICE endpoint failed this query (soles cannot see its Retry-After or "
                                  f"retry for it): {message}")
    return QueryError(message, syntax=tag == SYNTAX_ERROR)


# ---------------------------------------------------------------- the pool process


def _pool_main(directory: Path, size: int, limits: Limits, control: socket.socket, lifeline: int) -> None:
    """The pool process: never returns into the code of the process it was forked from."""
    status = 1
    try:
        _forget_parent_state(keep=(control.fileno(), lifeline))
        _name_this_process(POOL_NAME)
        signal.signal(signal.SIGTERM, _stop_serving)  # its executors are stopped and reaped before it ends
        _Pool(directory, size, limits, control, lifeline).serve()
        status = 0
    except SystemExit:  # asked to stop
        status = 0
    finally:
        os._exit(status)


@dataclass(eq=False)  # each executor is itself (kept in sets until reaped), whatever its fields
class _Child:
    """An executor as its parent knows it."""

    pid: int
    pidfd: int
    stderr: int
    said: bytes = b""
    status: int | None = None  # its wait status, once it has ended and been reaped


class _Pool:
    """Starts, stops and reaps the executors, one per slot at most, on the web workers' requests."""

    def __init__(self, directory: Path, size: int, limits: Limits, control: socket.socket, lifeline: int):
        self.directory, self.size, self.limits = directory, size, limits
        self.control, self.lifeline = control, lifeline
        self.children: dict[int, _Child] = {}  # by slot: its executor, or the last one, ended
        # Executors sent SIGKILL and not yet reaped. A killed executor may take a second to end (its memory freed
        # at its low CPU priority on a busy machine): the pool reaps it once it has ended, answering meanwhile, so
        # that stopping one runaway never holds up stopping the next.
        self.ending: set[_Child] = set()
        # Requests answered once an executor has been reaped, other requests answered meanwhile: how it died
        # (it, the asking connection, when to kill it if it has not ended by then); and the start of a slot's
        # next executor (by slot: the store, the connection), so that no more than ``size`` ever live at once.
        self.deaths: list[tuple[_Child, socket.socket, float]] = []
        self.starts: dict[int, tuple[Path, socket.socket]] = {}

    def serve(self) -> None:
        # Executors whose pidfd said they ended but that could not be reaped yet: on this kernel a pidfd turns
        # readable as the process begins to exit, up to a second (seen) before it can be reaped. They are
        # retried every REAP_POLL_INTERVAL, their descriptors no longer watched (they would stay readable).
        exiting: set[_Child] = set()
        try:
            while True:
                watched: dict[int, _Child] = {}
                for child in (*self.children.values(), *self.ending):
                    if child.status is None and child not in exiting:
                        watched[child.pidfd] = watched[child.stderr] = child
                poll = select.poll()
                for descriptor in (self.lifeline, self.control.fileno(), *watched):
                    poll.register(descriptor, select.POLLIN)
                events = dict(poll.poll(REAP_POLL_INTERVAL * 1000 if exiting or self.deaths or self.starts else None))
                if self.lifeline in events:
                    return  # every process that could ask for a query is gone
                for descriptor, child in watched.items():
                    if descriptor in events and child.status is None:
                        self._read_stderr(child)
                        if descriptor == child.pidfd:
                            exiting.add(child)
                exiting = {child for child in exiting if child.status is None and not self._reap(child, wait=False)}
                self._tell_deaths()
                self._begin_starts()
                if self.control.fileno() in events:  # last: answering may close and reuse descriptors
                    self._answer()
        finally:
            for child in self.children.values():
                self._kill(child)
            for child in list(self.ending):
                self._reap(child)
            for _, connection in self.starts.values():
                connection.close()
            for _, connection, _ in self.deaths:
                connection.close()
            shutil.rmtree(self.directory, ignore_errors=True)  # even if whoever started it was killed outright

    def _answer(self) -> None:
        connection, _ = self.control.accept()
        try:
            connection.settimeout(1)
            request = json.loads(connection.recv(READ_SIZE))
            if "died" in request:  # answered once it has ended (_tell_deaths): other requests go on meanwhile
                self.deaths.append((self.children[request["died"]], connection, time.monotonic() + DEATH_WAIT))
                self._tell_deaths()  # it may have been reaped already
                return
            if "start" in request:  # answered once the slot's last executor has ended (_begin_starts)
                index = request["start"]
                self._kill(self.children.get(index))
                if index in self.starts:  # whoever asked before gave the slot up (one thread holds it at a time)
                    self.starts[index][1].close()
                self.starts[index] = (Path(request["store"]), connection)
                self._begin_starts()
                return
            self._kill(self.children.get(request["stop"]))
            answer = {}
        except (OSError, ValueError, KeyError) as error:  # a worker that gave up, or a malformed request
            log.warning("query pool: request not answered: %s", error)
            connection.close()
            return
        self._reply(connection, answer)

    @staticmethod
    def _reply(connection: socket.socket, answer: dict) -> None:
        with connection:
            try:
                connection.sendall(json.dumps(answer).encode())
            except OSError as error:  # a worker that gave up
                log.warning("query pool: request not answered: %s", error)

    def _tell_deaths(self) -> None:
        """Tell each worker that asked how an executor died, once it has been reaped. One that closed its
        connection mid-job but has not ended DEATH_WAIT later is killed (should not happen)."""
        waiting = []
        for child, connection, kill_at in self.deaths:
            if child.status is not None:
                self._reply(connection, {"status": child.status, "said": child.said.decode(errors="replace")})
                continue
            if time.monotonic() >= kill_at:
                self._kill(child)
            waiting.append((child, connection, kill_at))
        self.deaths = waiting

    def _begin_starts(self) -> None:
        """Start the executors asked for whose slot's last executor has been reaped, and say so; none for a worker
        that gave up waiting (its query past its limit): a start holds the pool up for tens of milliseconds."""
        waiting = {}
        for index, (store, connection) in self.starts.items():
            last = self.children.get(index)
            if _hung_up(connection):
                connection.close()
            elif last is not None and last.status is None:
                waiting[index] = (store, connection)
            else:
                self._reply(connection, self._start(index, store))
        self.starts = waiting

    def _start(self, index: int, store: Path) -> dict:
        path = self.directory / f"executor-{index}.sock"
        path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(self.size * 4)
        stderr_read, stderr_write = os.pipe()
        ready, child_ready = socket.socketpair()
        pool_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            ready.close()
            _executor_main(listener, child_ready, stderr_write, pool_pid, store, self.limits)
        for closed in (listener, child_ready):
            closed.close()
        os.close(stderr_write)
        os.set_blocking(stderr_read, False)
        child = self.children[index] = _Child(pid, os.pidfd_open(pid), stderr_read)
        try:
            self._await_confinement(child, ready)
        except (OSError, QueryFailed) as error:
            self._kill(child)
            return {"error": str(error)}
        finally:
            ready.close()
        return {"pid": pid}

    def _await_confinement(self, child: _Child, ready: socket.socket) -> None:
        """Wait for the executor to say it is confined and has its store open; supervise its connections if it
        may make some."""
        ready.settimeout(CONFINEMENT_WAIT)
        message, descriptors, _, _ = socket.recv_fds(ready, 256, 1)
        if not message.startswith(b"ok"):
            raise QueryFailed(message.decode(errors="replace") or "a query process ended before it was ready")
        if descriptors:
            endpoints = [sandbox.Endpoint.from_url(url) for url in self.limits.allowed_services]
            sandbox.ConnectSupervisor(descriptors[0], endpoints,
                                      on_refused=lambda destination: _log_refused(child.pid, destination))

    def _kill(self, child: _Child | None) -> None:
        """Send SIGKILL: it runs nothing more from then on; ``serve`` reaps it once it has ended."""
        if child is not None and child.status is None and child not in self.ending:
            signal.pidfd_send_signal(child.pidfd, signal.SIGKILL)
            self.ending.add(child)

    def _reap(self, child: _Child, wait: bool = True) -> bool:
        """Collect an ended executor's status and last words; False if it has not ended and ``wait`` is False."""
        pid, status = os.waitpid(child.pid, 0 if wait else os.WNOHANG)
        if pid == 0:
            return False
        child.status = status
        self.ending.discard(child)
        self._read_stderr(child)
        for descriptor in (child.pidfd, child.stderr):
            os.close(descriptor)
        return True

    @staticmethod
    def _read_stderr(child: _Child) -> None:
        try:
            while data := os.read(child.stderr, READ_SIZE):
                child.said = (child.said + data)[-STDERR_KEPT:]
        except (BlockingIOError, OSError):
            pass


def _hung_up(connection: socket.socket) -> bool:
    """Whether the worker at the other end of a control connection closed it (it sends nothing after its request)."""
    poll = select.poll()
    poll.register(connection, select.POLLIN)
    return bool(poll.poll(0))


def _stop_serving(signum, frame) -> None:
    raise SystemExit(0)


def _log_refused(pid: int, destination) -> None:
    log.warning("query process %d: refused a connection to %s (not an allowed SERVICE endpoint)", pid, destination)


# ---------------------------------------------------------------- the executor


def _executor_main(listener: socket.socket, ready: socket.socket, stderr_write: int, pool_pid: int, store: Path,
                   limits: Limits) -> None:
    """The executor process: never returns into the code of the pool process it was forked from."""
    status = 1
    try:
        _die_with_parent(pool_pid)
        for standard in (1, 2):  # the engine's last words go to the pool process, which reads why it died
            os.dup2(stderr_write, standard)
        _forget_parent_state(keep=(listener.fileno(), ready.fileno()))
        _name_this_process(EXECUTOR_NAME)
        # Confined before anything else runs, and before any thread starts: a filter binds the thread that
        # installs it and the threads it starts later (the engine's and the store's included).
        os.environ["RUST_BACKTRACE"] = "0"  # a backtrace takes seconds to print as a query dies of memory
        os.nice(EXECUTOR_NICENESS)
        try:
            supervised = sandbox.confine(supervised=bool(limits.allowed_services), memory_limit=limits.memory)
        except sandbox.SandboxUnavailable as error:
            ready.sendall(f"a query process could not be confined, so none is run: {error}".encode()[:255])
            return
        try:
            executor = _Executor(listener, store, limits, may_call_services=supervised is not None)
        except Exception as error:  # whatever keeps the store from opening is told to the worker
            ready.sendall(f"a query process could not open the store: {error}".encode()[:255])
            return
        socket.send_fds(ready, [b"ok"], [supervised] if supervised is not None else [])
        if supervised is not None:
            os.close(supervised)
        ready.close()
        executor.serve()
        status = 0
    finally:
        os._exit(status)


def _die_with_parent(parent_pid: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the request took effect
        os._exit(0)


def _name_this_process(name: bytes) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, ctypes.c_char_p(name))


def _forget_parent_state(keep: tuple[int, ...]) -> None:
    """Drop the parent's signal handlers and open files (its sockets must close when it closes them)."""
    signal.set_wakeup_fd(-1)
    for signum in signal.valid_signals():
        if callable(signal.getsignal(signum)):
            signal.signal(signum, signal.SIG_DFL)
    previous = 2  # standard input, output and error stay
    for descriptor in sorted(keep):
        os.closerange(previous + 1, descriptor)
        previous = descriptor
    os.closerange(previous + 1, os.sysconf("SC_OPEN_MAX"))


class _Executor:
    """Answers jobs on the store each names (the last one it opened, kept open), and retires when it kept too much."""

    def __init__(self, listener: socket.socket, store: Path, limits: Limits, may_call_services: bool):
        self.listener = listener
        self.limits = limits
        self.may_call_services = may_call_services
        self.store_path, self.store = store, open_store(store)
        self.statm = os.open("/proc/self/statm", os.O_RDONLY)  # read again after each job: kept open
        self.memory_at_start = self._private_memory()
        self.retiring = False

    def serve(self) -> None:
        """Answer jobs from every worker process connected (each keeps its connection), one job at a time."""
        connections: dict[int, socket.socket] = {}
        events = select.poll()
        events.register(self.listener, select.POLLIN)
        while True:
            for descriptor, _ in events.poll():
                if descriptor == self.listener.fileno():
                    connection, _ = self.listener.accept()
                    connections[connection.fileno()] = connection
                    events.register(connection, select.POLLIN)
                elif not self._answer(connections[descriptor]):  # the worker process closed it, or is gone
                    events.unregister(descriptor)
                    connections.pop(descriptor).close()
                elif self.retiring:
                    return

    def _answer(self, connection: socket.socket) -> bool:
        """Answer the connection's next job; False if the connection has ended."""
        try:
            message = _receive_job(connection)
        except ConnectionResetError:
            message = None
        if message is None:
            return False
        job = json.loads(message)
        frames = _FrameWriter(connection)
        # If no worker is left to stop it (one killed mid-job), the job stops itself past its deadline.
        signal.setitimer(signal.ITIMER_REAL, max(job["deadline"] - time.monotonic(), 0) + ORPHAN_GRACE)
        try:
            tag, message = self._run(job, frames)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        self.retiring = self._kept_too_much()
        try:
            if self.retiring:
                self.listener.close()  # before the answer ends: no worker is left waiting on a closed listener
                frames.error(RETIRING, "")
            if tag == END:
                frames.end()
            else:
                frames.error(tag, message)
        except (BrokenPipeError, ConnectionResetError):
            return False  # the worker gave up on this query
        return True

    def _run(self, job: dict, frames: _FrameWriter) -> tuple[bytes, str]:
        try:
            if job["store"] != str(self.store_path):  # a newer release (or a request still on the previous one)
                self.store = self.store_path = None  # the old one closed first; reopened by the next job if this fails
                self.store = open_store(Path(job["store"]))
                self.store_path = Path(job["store"])
            result = run_query(self.store, job["query"], **_dataset_options(job["default_graph"], job["named_graphs"]))
            write_result(result, formats.by_name(job["format"]), frames)
        except SyntaxError as error:
            return SYNTAX_ERROR, str(error)
        except PermissionError as error:  # the sandbox refused a connection the query asked for
            return NETWORK_REFUSED, str(error)
        except MemoryError:
            return OUT_OF_MEMORY, ""
        except (BrokenPipeError, ConnectionResetError):
            return END, ""  # the worker gave up on this query
        except (OSError, RuntimeError) as error:
            # The engine raises these when a SERVICE endpoint answers an error status ("Error 429 Too Many
            # Requests returned by <url>..."), cannot be reached, or sends what it cannot parse: the
            # endpoint's failure, not ours, when this process may call one at all.
            return SERVICE_FAILED if self.may_call_services else FAILURE, str(error)
        except Exception as error:  # whatever the engine raises is this job's failure, not the executor's
            return FAILURE, str(error)
        except BaseException as error:  # pyo3 raises an engine panic as a BaseException: the query crashed it
            if isinstance(error, (SystemExit, KeyboardInterrupt)):
                raise
            return CRASH, str(error)
        return END, ""

    def _kept_too_much(self) -> bool:
        return self.limits.memory_kept is not None and \
            self._private_memory() - self.memory_at_start >= self.limits.memory_kept

    def _private_memory(self) -> int:
        """Bytes of this process's resident memory that no file backs (heap and anonymous maps)."""
        _, resident, file_backed = os.pread(self.statm, 256, 0).split()[:3]
        return (int(resident) - int(file_backed)) * PAGE_SIZE


def _dataset_options(default_graph: list[str], named_graphs: list[str]) -> dict:
    """The protocol's default-graph-uri and named-graph-uri: when either is given, they make the dataset."""
    if not default_graph and not named_graphs:
        return {}
    return {
        "use_default_graph_as_union": False,
        "default_graph": [NamedNode(iri) for iri in default_graph],
        "named_graphs": [NamedNode(iri) for iri in named_graphs],
    }


class _FrameWriter:
    """The file the engine serializes into: each write becomes a DATA frame, sent in blocks of READ_SIZE."""

    def __init__(self, connection: socket.socket):
        self._connection = connection
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._frame(DATA, data)
        if len(self._pending) >= READ_SIZE:
            self._send()
        return len(data)

    def flush(self) -> None:
        """The engine flushes at the end of its output; frames are sent at END."""

    def end(self) -> None:
        self._frame(END, b"")
        self._send()

    def error(self, tag: bytes, message: str) -> None:
        self._frame(tag, message.encode())
        self._send()

    def _frame(self, tag: bytes, payload: bytes) -> None:
        self._pending += FRAME_HEADER.pack(tag, len(payload))
        self._pending += payload

    def _send(self) -> None:
        pending, self._pending = self._pending, bytearray()  # a failed send leaves nothing to resend
        self._connection.sendall(pending)


def _receive_job(connection: socket.socket) -> bytes | None:
    """The job the connection carries (without its length), or None if the connection ends first. It comes
    whole in one read unless it is long."""
    data = bytearray()
    size = None
    while size is None or len(data) < JOB_HEADER.size + size:
        chunk = connection.recv(READ_SIZE)
        if not chunk:
            return None
        data += chunk
        if size is None and len(data) >= JOB_HEADER.size:
            (size,) = JOB_HEADER.unpack_from(data)
    return bytes(data[JOB_HEADER.size:])
