"""The local engine: SPARQL queries run in child processes, so that one past its time limit can be stopped.

A pyoxigraph query cannot be cancelled: it ends only with its process. So each web worker process
keeps a small pool of executors, child processes forked from it that open the store read-only once
and then answer one query at a time over a pair of pipes. A request hands its query to an idle
executor and gets back the result as the engine serializes it: whole if it is small, else streamed.
When the time limit passes, the executor is killed (a response not yet begun becomes a 503, one
under way is cut short) and a fresh one is forked the next time one is needed; the web worker
itself is free again at once.

Each executor is confined by the kernel before it opens the store (kg.sandbox): it cannot open a
network connection except to an allow-listed SERVICE endpoint, and its memory is capped; it runs at a
lower CPU priority than the web workers, so that pages stay quick while queries run. An executor that
dies mid-query is told apart by how it died: out of memory (503 naming the limit) or a crash of the
engine on that query (400); it is not retried.

Protocol: the parent writes a job (4-byte length, then JSON); the executor answers with frames
(1-byte tag, 4-byte length, payload): any number of DATA frames, then END, or an error frame.
"""

from __future__ import annotations

import json
import logging
import math
import os
import select
import signal
import socket
import struct
import threading
import time
import weakref
from contextlib import contextmanager
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
READ_SIZE = 1 << 16
STREAM_AFTER_BYTES = 1 << 16  # smaller results are sent whole, with a Content-Length
EXECUTOR_NICENESS = 10  # added to the web worker's: queries take the CPU only when pages do not need it
STDERR_KEPT = 4096  # the last bytes an executor wrote to stderr, read to tell why it died
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What confines an executor: the time per query, the memory per process, the endpoints SERVICE may call."""

    timeout: float
    memory: int | None = None
    allowed_services: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(timeout=config["QUERY_TIMEOUT"], memory=config["MAX_QUERY_MEMORY"],
                   allowed_services=tuple(config["SERVICE_ALLOWLIST"]))

    def memory_text(self) -> str:
        return f"{self.memory / (1 << 20):g} MiB" if self.memory else "the machine's memory"


class QueryRunner:
    """The local engine of one process: a pool of at most ``size`` executors, each confined by ``limits``."""

    def __init__(self, build_dir: Path, size: int, limits: Limits):
        self.build_dir = Path(build_dir)
        self.size = size
        self.limits = limits
        self.timeout = limits.timeout
        self._idle: list[Executor] = []
        self._executors: set[Executor] = set()
        self._reserved = 0  # executors being forked, counted against size
        self._changed = threading.Condition()
        # Runs when the runner is garbage-collected or at interpreter exit, whichever comes first.
        weakref.finalize(self, _kill_all, self._executors, os.getpid())

    def run(self, job: QueryJob, deadline: float | None = None) -> list[bytes] | Iterator[bytes]:
        """Run a query (server.engines.interface.Engine.run)."""
        deadline = deadline or time.monotonic() + self.timeout
        executor = self._checkout(deadline)
        streaming = False
        try:
            with self._time_limit():
                executor.send(job, deadline)
            head, size = [], 0
            while size < STREAM_AFTER_BYTES:
                chunk = self._read(executor, deadline)
                if chunk is None:
                    return [b"".join(head)]
                head.append(chunk)
                size += len(chunk)
            stream = self._stream(executor, head, deadline)
            next(stream)  # enter its try block, so that closing it, even unread, releases the executor
            streaming = True
            return stream
        finally:
            if not streaming:
                self._release(executor)

    def _stream(self, executor: Executor, head: list[bytes], deadline: float) -> Iterator[bytes]:
        try:
            yield b""
            yield from head
            while (chunk := self._read(executor, deadline)) is not None:
                yield chunk
        finally:
            self._release(executor)

    def _read(self, executor: Executor, deadline: float) -> bytes | None:
        with self._time_limit():
            return executor.read_chunk(deadline)

    @contextmanager
    def _time_limit(self) -> Iterator[None]:
        try:
            yield
        except TimeoutError:
            raise QueryTimeout.after(self.timeout) from None

    def _checkout(self, deadline: float) -> Executor:
        with self._changed:
            while not self._idle and len(self._executors) + self._reserved >= self.size:
                if not self._changed.wait(deadline - time.monotonic()):
                    raise QueryTimeout(f"all {self.size} query processes stayed busy for {self.timeout:g} s")
            if self._idle:
                return self._idle.pop()
            self._reserved += 1
        executor = None
        try:
            executor = Executor(self.build_dir, self.limits)  # forked outside the lock: other requests go on meanwhile
            return executor
        finally:
            with self._changed:
                self._reserved -= 1
                if executor is None:
                    self._changed.notify()  # the fork failed: its place in the pool is free again
                else:
                    self._executors.add(executor)

    def _release(self, executor: Executor) -> None:
        """Back to the pool if it has answered in full; killed if it is still busy (stopped, or abandoned)."""
        if not executor.idle:
            executor.kill()
        with self._changed:
            if executor.idle:
                self._idle.append(executor)
            else:
                self._executors.discard(executor)
            self._changed.notify()


def _kill_all(executors: set[Executor], owner_pid: int) -> None:
    if os.getpid() == owner_pid:  # a forked copy of the runner must not kill its parent's executors
        for executor in list(executors):
            executor.kill()


class Executor:
    """One confined child process with the store open, answering one job at a time."""

    def __init__(self, build_dir: Path, limits: Limits):
        self.limits = limits
        job_read, self._jobs = os.pipe()
        self._results, result_write = os.pipe()
        self._stderr, stderr_write = os.pipe()
        ready, child_ready = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            ready.close()
            _executor_main(job_read, result_write, stderr_write, child_ready, build_dir, limits)
        child_ready.close()
        for descriptor in (job_read, result_write, stderr_write):
            os.close(descriptor)
        self.reaped = False
        self.idle = True
        try:
            self._await_confinement(ready)
        except BaseException:
            self.kill()
            raise
        finally:
            ready.close()
        os.set_blocking(self._jobs, False)  # so that handing over a job can time out too
        os.set_blocking(self._stderr, False)
        self._stderr_tail = b""
        self._buffer = bytearray()
        self._writable = select.poll()
        self._writable.register(self._jobs, select.POLLOUT)
        self._readable = select.poll()
        self._readable.register(self._results, select.POLLIN)

    def _await_confinement(self, ready: socket.socket) -> None:
        """Wait for the child to say it is confined; supervise its connections if it may make some."""
        ready.settimeout(10)
        message, descriptors, _, _ = socket.recv_fds(ready, 256, 1)
        if not message.startswith(b"ok"):
            raise QueryFailed(f"a query process could not be confined, so none is run: "
                              f"{message.decode(errors='replace') or 'it ended'}")
        if descriptors:
            endpoints = [sandbox.Endpoint.from_url(url) for url in self.limits.allowed_services]
            sandbox.ConnectSupervisor(descriptors[0], endpoints, on_refused=self._log_refused)

    def _log_refused(self, destination) -> None:
        log.warning("query process %d: refused a connection to %s (not an allowed SERVICE endpoint)",
                    self.pid, destination)

    def send(self, job: QueryJob, deadline: float) -> None:
        """Hand over a job; TimeoutError if the executor has not taken it by ``deadline``."""
        payload = json.dumps({"query": job.query, "format": job.format.name, "default_graph": job.default_graph,
                              "named_graphs": job.named_graphs}).encode()
        message = memoryview(JOB_HEADER.pack(len(payload)) + payload)
        self.idle = False
        while message:
            try:
                message = message[os.write(self._jobs, message):]
            except BlockingIOError:  # a long query fills the pipe: wait until the executor reads
                self._wait(self._writable, deadline)
            except BrokenPipeError:
                raise self._death() from None

    def read_chunk(self, deadline: float) -> bytes | None:
        """The next chunk of the result, or None at its end; TimeoutError past ``deadline``."""
        self._fill(FRAME_HEADER.size, deadline)
        tag, length = FRAME_HEADER.unpack_from(self._buffer)
        self._fill(FRAME_HEADER.size + length, deadline)
        payload = bytes(self._buffer[FRAME_HEADER.size:FRAME_HEADER.size + length])
        del self._buffer[:FRAME_HEADER.size + length]
        if tag == DATA:
            return payload
        self.idle = True  # after END or an error, the executor waits for its next job
        if tag == END:
            return None
        raise _failure(tag, payload.decode(errors="replace"), self.limits)

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            self._wait(self._readable, deadline)
            data = os.read(self._results, READ_SIZE)
            if not data:
                raise self._death()
            self._buffer += data

    def _death(self) -> QueryFailed:
        """Why the executor ended mid-query, read from its exit status and the last words on its stderr."""
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        self._drain_stderr()
        said = self._stderr_tail.decode(errors="replace")
        signum = -os.waitstatus_to_exitcode(status)
        if "memory allocation of" in said or "bad_alloc" in said or signum == signal.SIGKILL:
            return QueryOutOfMemory(f"query stopped: it needed more than the {self.limits.memory_text()} "
                                    "of memory a query may use")
        if signum in (signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE):
            return QueryCrashed("the engine could not process this query (it crashed on it, most likely "
                                "from nesting too deep for its parser): simplify the query")
        return QueryError(f"query process {self.pid} ended unexpectedly (exit status {status})", syntax=False)

    def _drain_stderr(self) -> None:
        try:
            while data := os.read(self._stderr, READ_SIZE):
                self._stderr_tail = (self._stderr_tail + data)[-STDERR_KEPT:]
        except BlockingIOError:
            pass

    @staticmethod
    def _wait(pipe: select.poll, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not pipe.poll(math.ceil(remaining * 1000)):
            raise TimeoutError

    def kill(self) -> None:
        if not self.reaped:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.reaped = True
        for descriptor in (self._jobs, self._results, self._stderr):
            os.close(descriptor)


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


def _executor_main(job_read: int, result_write: int, stderr_write: int, ready: socket.socket, build_dir: Path,
                   limits: Limits) -> None:
    """The executor process: never returns into the code of the web worker it was forked from."""
    status = 1
    try:
        for standard in (1, 2):  # the engine's last words come to the parent; the server's output is not held
            os.dup2(stderr_write, standard)
        _forget_parent_state(keep=(job_read, result_write, ready.fileno()))
        # Confined before anything else runs, and before any thread starts: a filter binds the thread that
        # installs it and the threads it starts later (the engine's and the store's included).
        os.environ["RUST_BACKTRACE"] = "0"  # a backtrace takes seconds to print as a query dies of memory
        os.nice(EXECUTOR_NICENESS)
        try:
            listener = sandbox.confine(supervised=bool(limits.allowed_services), memory_limit=limits.memory)
        except sandbox.SandboxUnavailable as error:
            ready.sendall(str(error).encode()[:255])
            return
        socket.send_fds(ready, [b"ok"], [listener] if listener is not None else [])
        if listener is not None:
            os.close(listener)
        ready.close()
        _exit_with_parent(result_write)
        _answer_jobs(open_store(build_dir), os.fdopen(job_read, "rb"), os.fdopen(result_write, "wb"),
                     may_call_services=listener is not None)
        status = 0
    except BrokenPipeError:
        status = 0  # the web worker stopped reading: it has given up on this query
    finally:
        os._exit(status)


def _forget_parent_state(keep: tuple[int, ...]) -> None:
    """Drop the web worker's signal handlers and open files (its sockets must close when it closes them)."""
    signal.set_wakeup_fd(-1)
    for signum in signal.valid_signals():
        if callable(signal.getsignal(signum)):
            signal.signal(signum, signal.SIG_DFL)
    previous = 2  # standard input, output and error stay
    for descriptor in sorted(keep):
        os.closerange(previous + 1, descriptor)
        previous = descriptor
    os.closerange(previous + 1, os.sysconf("SC_OPEN_MAX"))


def _exit_with_parent(result_write: int) -> None:
    """Exit as soon as the web worker is gone, however it ended and even mid-query.

    Only the web worker holds the read end of the result pipe, so the pipe reports an error once it is gone.
    (pyoxigraph lets other threads run while it evaluates a query.)
    """
    def watch():
        pipe = select.poll()
        pipe.register(result_write, select.POLLERR)
        pipe.poll()
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def _answer_jobs(store, jobs, results, may_call_services: bool) -> None:
    frames = _FrameWriter(results)
    while header := jobs.read(JOB_HEADER.size):
        (length,) = JOB_HEADER.unpack(header)
        job = json.loads(jobs.read(length))
        try:
            result = run_query(store, job["query"], **_dataset_options(job["default_graph"], job["named_graphs"]))
            write_result(result, formats.by_name(job["format"]), frames)
        except SyntaxError as error:
            frames.error(SYNTAX_ERROR, str(error))
        except PermissionError as error:  # the sandbox refused a connection the query asked for
            frames.error(NETWORK_REFUSED, str(error))
        except MemoryError:
            frames.error(OUT_OF_MEMORY, "")
        except BrokenPipeError:
            raise
        except (OSError, RuntimeError) as error:
            # The engine raises these when a SERVICE endpoint answers an error status ("Error 429 Too Many
            # Requests returned by <url>..."), cannot be reached, or sends what it cannot parse: the
            # endpoint's failure, not ours, when this process may call one at all.
            frames.error(SERVICE_FAILED if may_call_services else FAILURE, str(error))
        except Exception as error:  # whatever the engine raises is this job's failure, not the executor's
            frames.error(FAILURE, str(error))
        except BaseException as error:  # pyo3 raises an engine panic as a BaseException: the query crashed it
            if isinstance(error, (SystemExit, KeyboardInterrupt)):
                raise
            frames.error(CRASH, str(error))
        else:
            frames.end()


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
    """The file the engine serializes into: each write becomes a DATA frame."""

    def __init__(self, output):
        self._output = output

    def write(self, data: bytes) -> int:
        self._frame(DATA, data)
        return len(data)

    def flush(self) -> None:
        """The engine flushes at the end of its output; frames are flushed at END."""

    def end(self) -> None:
        self._frame(END, b"")
        self._output.flush()

    def error(self, tag: bytes, message: str) -> None:
        self._frame(tag, message.encode())
        self._output.flush()

    def _frame(self, tag: bytes, payload: bytes) -> None:
        self._output.write(FRAME_HEADER.pack(tag, len(payload)))
        self._output.write(payload)
