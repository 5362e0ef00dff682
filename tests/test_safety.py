"""The README's safety claims, attacked: no connection but to allowed endpoints, bounded memory, crashes and
bad bodies answered 4xx, fair admission under runaway queries.

Every test talks to a real ``kg serve`` (or runs ``kg query``) and a real listener on loopback.
"""

from __future__ import annotations

import http.client
import itertools
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from kg.cli import main as kg_main
from tests.conftest import Listener, LiveServer, wait_until
from tests.test_serve import executors, pool_of, processes, stop_and_read_output
from tests.test_sparql import ASK_ALICE, RUNAWAY, service_queries

ASK_EMPTY = "ASK {}"
ACTOR_PAGE = "/id/person/alice-example"


@pytest.fixture()
def second_listener():
    listening = Listener()
    yield listening
    listening.close()


def attack_queries(iri: str) -> list[str]:
    """SERVICE spelled every way we know the engine reads it: the text check catches some, never all."""
    host, _, path = iri.rpartition("/")
    hex_iri = "".join(f"\\u{ord(c):04x}" for c in iri)
    spellings = [
        f"SERVICE <{iri}>", f"service <{iri}>", f"SeRvIcE <{iri}>", f"SERVICE SILENT <{iri}>",
        f"SERVICESILENT <{iri}>", f"servicesilent <{iri}>", f"SERVICE\t\n<{iri}>", f"SERVICE#c\n<{iri}>",
        f"\\u0053ERVICE <{iri}>", f"\\U00000053ERVICE <{iri}>", f"SERVICE <{hex_iri}>",
    ]
    wrappers = [
        "SELECT * WHERE {{ {clause} {{ ?s ?p ?o }} }}",
        "SELECT * WHERE {{ FILTER(1<2&&'>'!='') {clause} {{ ?s ?p ?o }} }} #'\n",
        "SELECT * WHERE {{ ?s ?p ?o FILTER(?o < 3 || ?o > 'x') OPTIONAL {{ {clause} {{ ?s ?p ?x }} }} }}",
        "ASK {{ FILTER NOT EXISTS {{ {clause} {{ ?s ?p ?o }} }} }}",
        "SELECT * WHERE {{ {{ SELECT * {{ {clause} {{ ?s ?p ?o }} }} }} UNION {{ ?a ?b 'SERVICE <x>' }} }}",
        "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ MINUS {{ ?s ?q ?r }} {clause} {{ ?s ?p ?o }} }}",
    ]
    queries = [wrapper.format(clause=clause) for wrapper, clause in itertools.product(wrappers, spellings)]
    return queries + service_queries(iri) + [
        f"PREFIX r\\u0065mote: <{host}/> SELECT * WHERE {{ SERVICE remote:{path} {{ ?s ?p ?o }} }}",
        f"PREFIX : <{host}/> SELECT * WHERE {{ SERVICE :{path} {{ ?s ?p ?o }} }}",
        f"BASE <{host}/> SELECT * WHERE {{ SERVICESILENT <{path}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{iri}> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ ?s ?p \"\"\"SERVICE <{iri}>\"\"\" }} # SERVICE <{iri}>",
        f"DESCRIBE ?s WHERE {{ SERVICE SILENT <{iri}> {{ ?s ?p ?o }} }}",
    ]


def send(server: LiveServer, query: str, how: str) -> requests.Response:
    url = server.url + "/sparql"
    if how == "get":
        return requests.get(url, params={"query": query}, timeout=30)
    if how == "form":
        return requests.post(url, data={"query": query}, timeout=30)
    return requests.post(url, data=query.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=30)


def server_log(server: LiveServer) -> str:
    output = stop_and_read_output(server)
    assert "Traceback" not in output and "[ERROR]" not in output and "ERROR in" not in output, output[-3000:]
    return output


# --- SERVICE: enforced where the connection is made -----------------------------------------------------


def test_no_spelling_of_service_reaches_the_network(fixture_build, listener):
    server = LiveServer(fixture_build, timeout=3)
    try:
        queries = attack_queries(listener.iri)
        assert len(queries) > 70
        statuses = []
        for query, how in itertools.product(queries, ("get", "form", "body")):
            response = send(server, query, how)
            assert response.status_code in (200, 400, 403), (how, query, response.text)
            statuses.append(response.status_code)
        print(f"{len(statuses)} SERVICE attacks: " + ", ".join(f"{statuses.count(code)} answered {code}"
                                                               for code in sorted(set(statuses))))
        assert send(server, ASK_EMPTY, "get").status_code == 200
    finally:
        server_log(server)
    time.sleep(0.3)
    assert listener.connections == 0


def test_kg_query_is_confined_too(fixture_build, listener, capsys):
    for query in attack_queries(listener.iri)[::3]:
        kg_main(["query", query, "--build", str(fixture_build), "--timeout", "5"])
    capsys.readouterr()
    assert listener.connections == 0


def test_an_allowed_endpoint_is_reached_and_nothing_else(fixture_build, listener, second_listener):
    """The allow-list's control: a supervised query process reaches the allowed endpoint, and only it."""
    server = LiveServer(fixture_build, timeout=5, extra=("--allow-service", listener.iri))
    try:
        allowed = f"SELECT ?greeting WHERE {{ SERVICE <{listener.iri}> {{ ?s ?p ?greeting }} }}"
        response = send(server, allowed, "get")
        assert response.status_code == 200, response.text
        assert "hello from the listener" in response.text
        hidden = (f"SELECT * WHERE {{ SERVICE <{listener.iri}> {{ ?s ?p ?greeting }} "
                  f"SERVICESILENT <{second_listener.iri}> {{ ?a ?b ?c }} }}")
        for how in ("get", "form", "body"):
            assert send(server, hidden, how).status_code in (200, 403)
        for query in attack_queries(second_listener.iri)[::4]:
            assert send(server, query, "form").status_code in (200, 400, 403)
    finally:
        server_log(server)
    time.sleep(0.3)
    assert listener.connections >= 1
    assert second_listener.connections == 0


def test_kg_query_reaches_an_allowed_endpoint(fixture_build, listener, second_listener, capsys):
    status = kg_main(["query", f"SELECT ?greeting WHERE {{ SERVICE <{listener.iri}> {{ ?s ?p ?greeting }} }}",
                      "--build", str(fixture_build), "--allow-service", listener.iri])
    assert status == 0 and "hello from the listener" in capsys.readouterr().out
    kg_main(["query", f"SELECT * WHERE {{ SERVICESILENT <{second_listener.iri}> {{ ?a ?b ?c }} }}",
             "--build", str(fixture_build), "--allow-service", listener.iri])
    assert second_listener.connections == 0


# --- memory ceiling ----------------------------------------------------------------------------------------


def concat_bomb(steps: int = 40) -> str:
    """Each BIND doubles a string: 16 bytes times 2**steps, far past any memory."""
    doublings = " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(steps))
    return f"SELECT ?n WHERE {{ BIND('aaaaaaaaaaaaaaaa' AS ?a0) {doublings} BIND(STRLEN(?a{steps}) AS ?n) }}"


class PeakMemory:
    """Samples the resident memory of every process in a process group until stopped."""

    def __init__(self, group: int):
        self.group, self.peak, self.running = group, 0, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while self.running:
            for pid, (_, group, _) in processes().items():
                if group == self.group:
                    self.peak = max(self.peak, _resident_bytes(pid))
            time.sleep(0.005)

    def stop(self) -> int:
        self.running = False
        self.thread.join()
        return self.peak


def _resident_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def test_a_query_past_the_memory_ceiling_is_stopped_and_the_server_goes_on(fixture_build):
    limit = 256 << 20
    server = LiveServer(fixture_build, timeout=20, extra=("--max-query-memory", "256M"))
    try:
        sampler = PeakMemory(server.process.pid)
        started = time.monotonic()
        response = send(server, concat_bomb(), "form")
        elapsed = time.monotonic() - started
        peak = sampler.stop()
        print(f"CONCAT bomb under a 256 MiB ceiling: {response.status_code} after {elapsed:.2f} s, "
              f"peak resident memory of any server process {peak / (1 << 20):.0f} MiB")
        assert response.status_code == 503, response.text
        assert "256 MiB" in response.text
        assert elapsed < 20  # stopped by the memory ceiling, not by the time limit
        assert peak < limit + (64 << 20), f"a process of the server reached {peak >> 20} MiB"
        assert send(server, ASK_EMPTY, "get").status_code == 200
    finally:
        server_log(server)


# --- crashes and malformed bodies are the client's mistakes -------------------------------------------------


PARSER_BOMBS = {
    "5,000 nested parentheses": "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
    "20,000 nested braces": "ASK { " + "{" * 20000 + "}" * 20000 + " }",
    "40,000 negations": "ASK { FILTER(" + "!" * 40000 + "true) }",
    "a 20,000-step property path": "ASK { ?s " + "/".join(["a"] * 20000) + " ?o }",
}


def test_queries_that_crash_the_parser_are_400_and_the_server_goes_on(fixture_build):
    server = LiveServer(fixture_build, timeout=5)
    try:
        for name, query in PARSER_BOMBS.items():
            for how in ("get", "form", "body"):
                response = send(server, query, how)
                assert response.status_code == 400, (name, how, response.status_code, response.text)
        assert send(server, ASK_EMPTY, "get").status_code == 200
    finally:
        server_log(server)


def raw_request(server: LiveServer, payload: bytes) -> int:
    """Send bytes as they are and return the status line's code (0 if the server closed without one)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(payload)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


BAD_BODIES = {
    "a chunk size that is not hexadecimal": b"Transfer-Encoding: chunked\r\n\r\nzz\r\nASK {}\r\n0\r\n\r\n",
    "a chunk without its terminator": b"Transfer-Encoding: chunked\r\n\r\n6\r\nASK {}XX0\r\n\r\n",
    "a chunked body cut short": b"Transfer-Encoding: chunked\r\n\r\n40\r\nASK {}",
    "a body shorter than its Content-Length": b"Content-Length: 500\r\n\r\nASK {}",
}


@pytest.mark.parametrize("content_type", ["application/sparql-query", "application/x-www-form-urlencoded"])
def test_bad_request_bodies_are_400(fixture_build, content_type):
    server = LiveServer(fixture_build, timeout=3)
    try:
        for name, framing in BAD_BODIES.items():
            head = f"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n".encode()
            assert raw_request(server, head + framing) == 400, name
        assert send(server, ASK_EMPTY, "get").status_code == 200
    finally:
        server_log(server)


# --- fair admission ------------------------------------------------------------------------------------------


def from_address(server: LiveServer, address: str, path: str) -> tuple[int, dict, float]:
    """GET ``path`` from a given loopback source address (a client of its own); status, headers, and the seconds
    from the request's sending to the end of its answer.

    The connection is made first and its time left out: the server's limits count from a request's arrival, and on
    a loaded host a connect was seen to take 1.07 s before the server could see anything (the kernel's and the
    client's scheduling, not the server's)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30, source_address=(address, 0))
    try:
        connection.connect()
        started = time.monotonic()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.monotonic() - started
    finally:
        connection.close()


def runaway_path() -> str:
    return "/sparql?" + requests.compat.urlencode({"query": RUNAWAY})


def test_runaway_queries_do_not_stall_pages(fixture_build):
    """Ten runaway queries from ten clients: pages stay fast, every runaway is answered within limit + 1 s."""
    limit = 3.0
    server = LiveServer(fixture_build, timeout=limit)
    try:
        with ThreadPoolExecutor(12) as pool:
            runaways = [pool.submit(from_address, server, f"127.0.0.{index}", runaway_path())
                        for index in range(2, 12)]
            time.sleep(0.3)  # the runaways hold every query slot and the queue
            page_times = []
            while not all(runaway.done() for runaway in runaways):
                for path in ("/", ACTOR_PAGE):
                    status, _, seconds = from_address(server, "127.0.0.200", path)
                    assert status == 200, path
                    page_times.append(seconds)
            answers = [runaway.result() for runaway in runaways]
        seen = sorted((round(seconds, 3), status, "Retry-After" in headers) for status, headers, seconds in answers)
        assert {status for status, _, _ in answers} == {503}, seen
        assert max(seconds for _, _, seconds in answers) < limit + 1, seen
        busy = sum(retry_after for _, _, retry_after in seen)
        assert busy >= len(answers) - 4, seen  # four ran into the time limit; the others found no slot
        page_times.sort()
        p99 = page_times[min(len(page_times) - 1, int(len(page_times) * 0.99))]
        print(f"pages under 10 runaways: {len(page_times)} requests, p50 {statistics.median(page_times) * 1000:.1f} ms,"
              f" p99 {p99 * 1000:.1f} ms; runaways answered within {max(s for _, _, s in answers):.2f} s")
        assert p99 < 1.0
    finally:
        server_log(server)


def test_one_client_cannot_hold_every_query_slot(fixture_build):
    server = LiveServer(fixture_build, timeout=3, extra=("--query-slots", "4", "--query-slots-per-client", "2"))
    try:
        with ThreadPoolExecutor(4) as pool:
            greedy = [pool.submit(from_address, server, "127.0.0.5", runaway_path()) for _ in range(3)]
            time.sleep(0.3)
            other_status, _, other_seconds = from_address(server, "127.0.0.6", "/sparql?query=ASK%7B%7D")
            answers = sorted(future.result() for future in greedy)
        assert other_status == 200 and other_seconds < 1.0  # slots were left for another client
        assert [status for status, _, _ in answers] == [429, 503, 503]
        assert "Retry-After" in answers[0][1]
    finally:
        server_log(server)


def test_a_storm_of_runaways_memory_bombs_and_crashes_leaves_the_query_pool_sound(fixture_build):
    """Runaways, memory bombs, queries that crash the engine and lookups from eight clients at once for a few
    seconds: each is answered within the limit (503 for a runaway or a bomb, 400 for a crash and 200 for a lookup
    unless every slot stays busy), no more query processes than slots ever live, none is left unreaped, and a
    lookup afterwards is answered at once."""
    limit, slots = 2.0, 4
    server = LiveServer(fixture_build, timeout=limit, extra=("--max-query-memory", "256M"))
    try:
        pool = pool_of(server)
        kinds = {"runaway": RUNAWAY, "memory bomb": concat_bomb(), "crash": next(iter(PARSER_BOMBS.values())),
                 "lookup": ASK_ALICE}
        most, answers = [], []
        storming = threading.Event()

        def sample():
            while not storming.is_set():
                most.append(len(executors(pool)))
                time.sleep(0.01)

        def client(index: int) -> None:
            order = list(kinds)[index % 4:] + list(kinds)[:index % 4]  # each client starts with another kind
            for kind in order * 3:
                path = "/sparql?" + requests.compat.urlencode({"query": kinds[kind]})
                status, _, seconds = from_address(server, f"127.0.0.{20 + index}", path)
                answers.append((kind, status, seconds))

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(8) as clients:
                list(clients.map(client, range(8)))
        finally:
            storming.set()
            sampler.join()
        by_kind = {kind: sorted({status for k, status, _ in answers if k == kind}) for kind in kinds}
        slowest = max(seconds for _, _, seconds in answers)
        print(f"storm: {len(answers)} queries, statuses by kind {by_kind}, slowest {slowest:.2f} s, "
              f"at most {max(most)} query processes at once")
        assert by_kind["runaway"] == [503] and set(by_kind["memory bomb"]) <= {503} and 400 in by_kind["crash"]
        assert set(by_kind["crash"]) <= {400, 503}
        assert set(by_kind["lookup"]) <= {200, 503} and 200 in by_kind["lookup"]
        # A query's limit counts from its arrival, its wait for a slot included; but a memory bomb or a crash is
        # answered once its process has been reaped, which a killed process at low priority on a loaded 2-core host
        # may take up to a second to allow; the rest is margin (a Debian run took 3.13 s against a limit of 2 s).
        assert slowest < limit + 1.5
        assert max(most) <= slots
        started = time.monotonic()
        status, _, _ = from_address(server, "127.0.0.99", "/sparql?" + requests.compat.urlencode({"query": ASK_ALICE}))
        assert status == 200 and time.monotonic() - started < 1
        assert wait_until(lambda: not [pid for pid, (parent, _, state) in processes().items()
                                       if parent == pool and state == "Z"], 2)  # every one that ended was reaped
        assert len(executors(pool)) <= slots
    finally:
        server_log(server)
