"""Runs /sparql queries on a remote SPARQL 1.1 engine (kg serve --store URL) under the same rules.

The endpoint has already refused updates and SERVICE calls outside the allowlist; here the query is
sent on with our predeclared prefixes, in the format the client negotiated, and cut off at the time
limit. The remote engine cannot be told to stop a query it has started: configure its own timeout
(Oxigraph: --timeout-s) at or below ours.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import requests

from kg import formats, ids
from kg.remote import USER_AGENT
from server.query_runner import READ_SIZE, QueryError, QueryTimeout


class ForwardingRunner:
    """The remote counterpart of QueryRunner: ``run(job)`` returns the serialized result."""

    def __init__(self, endpoint: str, timeout: float):
        self.pid = os.getpid()
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in ids.PREFIXES.items())

    def run(self, job: dict, deadline: float | None = None) -> Iterator[bytes]:
        fmt = formats.by_name(job["format"])
        deadline = deadline or time.monotonic() + self.timeout
        form = {"query": self.prologue + job["query"], "default-graph-uri": job["default_graph"],
                "named-graph-uri": job["named_graphs"]}
        try:
            response = self.session.post(self.endpoint, data=form, headers={"Accept": fmt.media_type}, stream=True,
                                         timeout=(min(5.0, self.timeout), self.timeout))
        except requests.Timeout:
            raise QueryTimeout.after(self.timeout) from None
        except requests.RequestException as error:
            raise QueryError(f"the remote store did not answer: {error}", syntax=False) from None
        if response.status_code >= 400:
            message = response.text[:2000]
            response.close()
            raise QueryError(message if response.status_code == 400 else
                             f"the remote store answered {response.status_code} {response.reason}: {message}",
                             syntax=response.status_code == 400)
        return self._stream(response, deadline)

    def _stream(self, response: requests.Response, deadline: float) -> Iterator[bytes]:
        try:
            for chunk in response.iter_content(READ_SIZE):
                if time.monotonic() > deadline:
                    raise QueryTimeout.after(self.timeout)
                yield chunk
        except requests.RequestException:
            raise QueryTimeout.after(self.timeout) from None
        finally:
            response.close()
