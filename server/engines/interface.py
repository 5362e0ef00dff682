"""What every query engine takes and raises: a QueryJob in, serialized result chunks out, or a QueryFailed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Protocol

from kg import formats


@dataclass(frozen=True)
class QueryJob:
    """One SPARQL query to run: its text, the format to serialize its result in, and its dataset.

    ``default_graph`` and ``named_graphs`` are graph IRIs, as the SPARQL 1.1 Protocol's default-graph-uri
    and named-graph-uri give them; when both are empty the default graph is the union of all graphs.
    """

    query: str
    format: formats.Format
    default_graph: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


class Engine(Protocol):
    timeout: float  # seconds a query may run

    def run(self, job: QueryJob, deadline: float | None = None) -> list[bytes] | Iterator[bytes]:
        """The job's serialized result: whole (a list) if it is small, else a stream of chunks.

        ``deadline`` (time.monotonic) defaults to the time limit from now. Raises a QueryFailed before
        returning; a stream that runs out of time or fails ends with one, cutting the response short.
        """


class QueryFailed(Exception):
    """A query that got no result; ``status`` is the HTTP status that says why."""

    status = 500


class QueryTimeout(QueryFailed):
    """The query ran past the time limit (or waited that long for an engine) and was stopped."""

    status = 503

    @classmethod
    def after(cls, limit: float) -> QueryTimeout:
        return cls(f"query stopped after {limit:g} s: the limit is {limit:g} s")


class QueryError(QueryFailed):
    """The engine refused or failed the query; ``syntax`` tells a malformed query from other failures."""

    def __init__(self, message: str, syntax: bool):
        super().__init__(message)
        self.status = 400 if syntax else 500


class QueryRefused(QueryFailed):
    """The query tried to open a network connection the sandbox does not allow."""

    status = 403


class QueryServiceFailed(QueryFailed):
    """A SERVICE endpoint the query called failed it: refused (429, 5xx...), unreachable, or answered garbage."""

    status = 502


class QueryOutOfMemory(QueryFailed):
    """The query needed more memory than one query may have, and was stopped."""

    status = 503


class QueryCrashed(QueryFailed):
    """The engine crashed on this query (its parser or planner ran out of stack, or panicked)."""

    status = 400
