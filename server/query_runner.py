"""SPARQL queries run in child processes, so that a query running past its time limit can be stopped.

A pyoxigraph query cannot be cancelled: it ends only with its process. So each web worker process
keeps a small pool of executors, child processes forked from it that open the store read-only once
and then answer one query at a time over a pair of pipes. A request hands its query to an idle
executor and gets back the result as the engine serializes it: whole if it is small, else streamed.
When the time limit passes, the executor is killed (a response not yet begun becomes a 503, one
under way is cut short) and a fresh one is forked the next time one is needed; the web worker
itself is free again at once.

Protocol: the parent writes a job (4-byte length, then JSON); the executor answers with frames
(1-byte tag, 4-byte length, payload): any number of DATA frames, then END, or an error frame.
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import struct
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from flask import Flask, current_app
from pyoxigraph import NamedNode

from kg import formats
from kg.store import open_store, run_query, write_result

if TYPE_CHECKING:
    from server.forwarding import ForwardingRunner

_KEY = "soles.query_runner"

JOB_HEADER = struct.Struct(">I")
FRAME_HEADER = struct.Struct(">cI")
DATA, END, SYNTAX_ERROR, FAILURE = b"D", b"Z", b"S", b"F"
READ_SIZE = 1 << 16
STREAM_AFTER_BYTES = 1 << 16  # smaller results are sent whole, with a Content-Length


class QueryTimeout(Exception):
    """The query ran past the time limit (or waited that long for an executor) and was stopped."""

    @classmethod
    def after(cls, limit: float) -> QueryTimeout:
        return cls(f"query stopped after {limit:g} s: the limit is {limit:g} s")


class QueryError(Exception):
    """The engine refused or failed the query; ``syntax`` tells a malformed query from other failures."""

    def __init__(self, message: str, syntax: bool):
        super().__init__(message)
        self.syntax = syntax


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = _RunnerSlot()


def get_runner() -> QueryRunner | ForwardingRunner:
    """This process's runner, created on first use: gunicorn forks its workers before any request."""
    slot = current_app.extensions[_KEY]
    with slot.lock:
        if slot.runner is None or slot.runner.pid != os.getpid():
            config = current_app.config
            if config["REMOTE_STORE"]:
                from server.forwarding import ForwardingRunner

                slot.runner = ForwardingRunner(config["REMOTE_STORE"], config["QUERY_TIMEOUT"])
            else:
                slot.runner = QueryRunner(config["BUILD_DIR"], config["QUERY_WORKERS"], config["QUERY_TIMEOUT"])
        return slot.runner


class _RunnerSlot:
    def __init__(self):
        self.lock = threading.Lock()
        self.runner: QueryRunner | None = None


class QueryRunner:
    """A pool of at most ``size`` executors for one process, each query limited to ``timeout`` seconds."""

    def __init__(self, build_dir: Path, size: int, timeout: float):
        self.pid = os.getpid()
        self.build_dir = Path(build_dir)
        self.size = size
        self.timeout = timeout
        self._idle: list[Executor] = []
        self._executors: set[Executor] = set()
        self._reserved = 0  # executors being forked, counted against size
        self._changed = threading.Condition()
        # Runs when the runner is garbage-collected or at interpreter exit, whichever comes first.
        weakref.finalize(self, _kill_all, self._executors, self.pid)

    def run(self, job: dict) -> list[bytes] | Iterator[bytes]:
        """Run a query; return its serialized result, whole if it is small, else as a stream of chunks.

        ``job`` holds ``query``, ``format`` (a kg.formats name), ``default_graph`` and ``named_graphs``
        (lists of IRIs, empty for the union of all graphs). Raises QueryTimeout or QueryError before
        returning; a stream that times out or fails ends with that exception, cutting the response short.
        """
        deadline = time.monotonic() + self.timeout
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
            executor = Executor(self.build_dir)  # forked outside the lock: other requests go on meanwhile
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
    """One child process with the store open, answering one job at a time."""

    def __init__(self, build_dir: Path):
        job_read, self._jobs = os.pipe()
        self._results, result_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            _executor_main(job_read, result_write, build_dir)
        os.close(job_read)
        os.close(result_write)
        os.set_blocking(self._jobs, False)  # so that handing over a job can time out too
        self.idle = True
        self._buffer = bytearray()
        self._writable = select.poll()
        self._writable.register(self._jobs, select.POLLOUT)
        self._readable = select.poll()
        self._readable.register(self._results, select.POLLIN)

    def send(self, job: dict, deadline: float) -> None:
        """Hand over a job; TimeoutError if the executor has not taken it by ``deadline``."""
        payload = json.dumps(job).encode()
        message = memoryview(JOB_HEADER.pack(len(payload)) + payload)
        self.idle = False
        while message:
            try:
                message = message[os.write(self._jobs, message):]
            except BlockingIOError:  # a long query fills the pipe: wait until the executor reads
                self._wait(self._writable, deadline)
            except BrokenPipeError:
                raise QueryError(f"query process {self.pid} ended unexpectedly", syntax=False) from None

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
        raise QueryError(payload.decode(), syntax=tag == SYNTAX_ERROR)

    def _fill(self, size: int, deadline: float) -> None:
        while len(self._buffer) < size:
            self._wait(self._readable, deadline)
            data = os.read(self._results, READ_SIZE)
            if not data:
                raise QueryError(f"query process {self.pid} ended unexpectedly", syntax=False)
            self._buffer += data

    @staticmethod
    def _wait(pipe: select.poll, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not pipe.poll(math.ceil(remaining * 1000)):
            raise TimeoutError

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self._jobs)
        os.close(self._results)


def _executor_main(job_read: int, result_write: int, build_dir: Path) -> None:
    """The executor process: never returns into the code of the web worker it was forked from."""
    status = 1
    try:
        _forget_parent_state(keep=(job_read, result_write))
        _exit_with_parent(result_write)
        _answer_jobs(open_store(build_dir), os.fdopen(job_read, "rb"), os.fdopen(result_write, "wb"))
        status = 0
    except BrokenPipeError:
        status = 0  # the web worker stopped reading: it has given up on this query
    finally:
        os._exit(status)


def _forget_parent_state(keep: tuple[int, int]) -> None:
    """Drop the web worker's signal handlers and open files (its sockets must close when it closes them)."""
    signal.set_wakeup_fd(-1)
    for signum in signal.valid_signals():
        if callable(signal.getsignal(signum)):
            signal.signal(signum, signal.SIG_DFL)
    low, high = sorted(keep)
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, os.sysconf("SC_OPEN_MAX"))


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


def _answer_jobs(store, jobs, results) -> None:
    frames = _FrameWriter(results)
    while header := jobs.read(JOB_HEADER.size):
        (length,) = JOB_HEADER.unpack(header)
        job = json.loads(jobs.read(length))
        try:
            result = run_query(store, job["query"], **_dataset_options(job))
            write_result(result, formats.by_name(job["format"]), frames)
        except SyntaxError as error:
            frames.error(SYNTAX_ERROR, str(error))
        except Exception as error:  # whatever the engine raises is this job's failure, not the executor's
            frames.error(FAILURE, str(error))
        else:
            frames.end()


def _dataset_options(job: dict) -> dict:
    """The protocol's default-graph-uri and named-graph-uri: when either is given, they make the dataset."""
    if not job["default_graph"] and not job["named_graphs"]:
        return {}
    return {
        "use_default_graph_as_union": False,
        "default_graph": [NamedNode(iri) for iri in job["default_graph"]],
        "named_graphs": [NamedNode(iri) for iri in job["named_graphs"]],
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
