"""The remote engine: /sparql queries sent to a SPARQL 1.1 endpoint (kg serve --store URL) under the same rules.

The endpoint has already refused updates and SERVICE calls outside the allowlist; here the query is
sent on with our predeclared prefixes, in the format the client negotiated, and cut off at the time
limit. The remote engine cannot be told to stop a query it has started: configure its own timeout
(Oxigraph: --timeout-s) at or below ours.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests

from kg import ids
from kg.remote import USER_AGENT
from server.engines.interface import QueryError, QueryJob, QueryTimeout

CHUNK_SIZE = 1 << 16  # bytes of the remote answer passed on at a time


class RemoteRunner:
    """The remote counterpart of the local QueryRunner: ``run(job)`` streams the serialized result."""

    def __init__(self, endpoint: str, timeout: float):
        self.endpoint = endpoint
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self.prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in ids.PREFIXES.items())

    def run(self, job: QueryJob, deadline: float | None = None) -> Iterator[bytes]:
        """Run a query (server.engines.interface.Engine.run)."""
        deadline = deadline or time.monotonic() + self.timeout
        form = {"query": self.prologue + job.query, "default-graph-uri": job.default_graph,
                "named-graph-uri": job.named_graphs}
        try:
            response = self.session.post(self.endpoint, data=form, headers={"Accept": job.format.media_type},
                                         stream=True, timeout=(min(5.0, self.timeout), self.timeout))
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
            for chunk in response.iter_content(CHUNK_SIZE):
                if time.monotonic() > deadline:
                    raise QueryTimeout.after(self.timeout)
                yield chunk
        except requests.RequestException:
            raise QueryTimeout.after(self.timeout) from None
        finally:
            response.close()
