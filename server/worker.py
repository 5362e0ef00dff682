"""The gunicorn worker ``kg serve`` runs: gunicorn's threaded worker, except that the thread that answered a request
on a kept-alive connection answers the next one too when it follows at once.

gunicorn's gthread worker hands each request of a kept-alive connection over twice: the thread that answered the last
one queues the connection for the main loop (a pipe wakes it), the main loop watches the socket again, and when the
next request comes it queues the connection for a thread of the pool. Those hand-overs cost more CPU than a small
request itself (bench/README.md has the figures). A client next to the server (a reverse proxy keeping its
connections open, a script, a benchmark) sends its next request within a fraction of a millisecond; one across the
internet takes longer than the wait here and takes gunicorn's own path, as every connection does while other
connections wait for a thread.
"""

from __future__ import annotations

import select

from gunicorn.workers.gthread import ThreadWorker

NEXT_REQUEST_WAIT_MS = 2  # a thread waits this long for a kept-alive connection's next request, then hands it back


class KeptAliveThreadWorker(ThreadWorker):
    def handle(self, conn):
        kept = super().handle(conn)  # True: answered, and the connection is kept alive (gunicorn 27)
        while kept is True and self.alive and self._no_connection_waits() and _readable(conn.sock):
            kept = super().handle(conn)
        return kept

    def _no_connection_waits(self) -> bool:
        # First come, first served: a connection queued for a thread goes before this one's next request. The
        # queue of the pool's ThreadPoolExecutor is the standard library's own (it has had it since Python 3.2).
        return self.tpool._work_queue.empty()


def _readable(sock) -> bool:
    """Whether ``sock`` has data (or its end) to read within NEXT_REQUEST_WAIT_MS."""
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(NEXT_REQUEST_WAIT_MS))
