"""Fuzzing one live ``kg serve``: mutated SPARQL, broken HTTP framing, odd headers, paths and parameters.

Whatever a client sends, the server must answer with a 4xx (or a 2xx/3xx), never a 5xx but a 503 that
says it is about time, memory or load; it must never open a connection for a SERVICE clause (a listener on
loopback counts them); it must still answer ``ASK {}`` at the end; and its log must hold no traceback and
no error caused by a client's mistake.

- mutated SPARQL: the example queries (data/queries) with tokens deleted, doubled, swapped or replaced,
  keywords and SERVICE clauses to the listener spelled every way, deep nesting, long strings and IRIs,
  NULs, escapes; sent by GET, by form, by multipart form and as a body, with odd Accept and format=;
- raw HTTP on sockets: wrong Content-Length, broken chunked encodings, odd Transfer-Encoding, huge and
  many headers, bad methods and versions, odd paths to /sparql, /search, /id/..., /downloads/..., page
  numbers, random bodies;
- heavy queries from several clients at once, and clients that hang up mid-answer.

Every case comes from a fixed seed (``SOLES_FUZZ_SEED`` overrides it) and has a number; a failure names
both, and ``SOLES_FUZZ_CASES=<numbers>`` runs those cases alone. ``SOLES_FUZZ_LOG=<file>`` keeps the
server's log. The whole module stays well within a minute on a small machine.
"""

from __future__ import annotations

import http.client
import io
import os
import random
import re
import signal
import socket
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import PROJECT_ROOT, Listener, LiveServer

SEED = int(os.environ.get("SOLES_FUZZ_SEED", "20240601"))
# Case numbers to run alone (e.g. "17,230"), to reproduce a failure; every case by default.
ONLY = {int(number) for number in os.environ.get("SOLES_FUZZ_CASES", "").split(",") if number.strip()}
QUERIES_DIR = PROJECT_ROOT / "data" / "queries"
SPARQL_CASES = 480
CLIENT_TIMEOUT = 10  # seconds a request may take before the case fails as hung (queries stop after 2 s)
RAW_TIMEOUT = 5  # seconds a raw socket waits for the next bytes
MAX_READ = 1 << 20  # bytes of a response read before the client hangs up (the server must cope with that too)
# A 503 must say why: the query ran out of time or memory, or the server is busy.
EXPLAINED_503 = re.compile(r"stopped after|the limit is|busy|memory|too many queries|try again", re.IGNORECASE)
LOG_ERRORS = re.compile(r"Traceback|\[ERROR\]|\[CRITICAL\]| ERROR |ERROR in |CRITICAL in ")
EXCEPTION_LINE = re.compile(r"^[\w.]+(?:Error|Exception|Timeout|Failed)\b.*: ")  # the last line of a traceback


# --- the server, the listener SERVICE clauses name, and what every case is checked against ----------------


@dataclass
class Findings:
    """What went wrong, case by case, and what was seen, for the summary."""

    seed: int
    problems: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)  # (kind of case, status): what each kind of case met
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, case: str, statuses: list[int], bodies: list[bytes], note: str | None = None,
               kind: str = "") -> None:
        with self.lock:
            self.requests += 1
            for status, body in zip(statuses, bodies, strict=True):
                self.statuses[status] += 1
                self.by_kind[kind, status] += 1
                if status == 503 and not EXPLAINED_503.search(body.decode(errors="replace")):
                    self.problems.append(f"{case}\n    -> 503 without a reason: {body[:300]!r}")
                elif status == 501 and b"Unsupported transfer coding" in body:
                    pass  # gunicorn, as RFC 9112 section 6.1 asks, for a Transfer-Encoding it does not implement
                elif status >= 500 and status != 503:
                    self.problems.append(f"{case}\n    -> {status}: {body[:300]!r}")
            if note:
                self.problems.append(f"{case}\n    -> {note}")

    def check(self) -> None:
        """Fail with one example of each distinct problem (the same bug tends to come back many times)."""
        examples: dict[str, list[str]] = {}
        for problem in self.problems:  # grouped by the kind of case and what came of it
            case, _, outcome = problem.partition("\n    -> ")
            kind = re.sub(r"^\[seed \d+ (\w+) case #\d+", "", case.split("]")[0])
            examples.setdefault(re.sub(r"#?\d+", "N", f"{kind}|{outcome[:90]}"), []).append(problem)
        shown = [f"{len(same)} time(s), e.g.:\n  {same[0]}" for same in examples.values()]
        assert not self.problems, (
            f"{len(self.problems)} of {self.requests} fuzz requests went wrong, {len(examples)} distinct way(s) "
            f"(SOLES_FUZZ_SEED={self.seed}; rerun one case with SOLES_FUZZ_CASES=<#>):\n" + "\n".join(shown[:20]))

    def summary(self, name: str, started: float) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return f"{name}: {self.requests} requests in {time.monotonic() - started:.1f} s, statuses {{{statuses}}}"


class Drained:
    """A live server whose output is read as it comes (a full pipe would stall it) and kept for the end."""

    def __init__(self, server: LiveServer):
        self.server = server
        self.chunks: list[bytes] = []
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        while chunk := self.server.process.stdout.read1(65536):
            self.chunks.append(chunk)

    def output(self) -> str:
        """What the server has written so far."""
        return b"".join(list(self.chunks)).decode(errors="replace")

    def stop(self) -> str:
        """SIGTERM to the master alone (its workers and query processes follow); its whole output."""
        process = self.server.process
        try:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=15)
            self.thread.join(timeout=15)  # the output ends when the last process holding it has ended
        finally:
            self.server.stop()  # the whole process group, if the master did not end in time
        return b"".join(self.chunks).decode(errors="replace")


@pytest.fixture(scope="module")
def listener():
    listening = Listener()
    yield listening
    listening.close()


@pytest.fixture(scope="module")
def server(fixture_build, listener):
    live = Drained(LiveServer(fixture_build, timeout=2, workers=2))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def rng_seed():
    print(f"\nfuzzing with SOLES_FUZZ_SEED={SEED}")
    return SEED


# --- mutated and random SPARQL -----------------------------------------------------------------------------


TOKEN = re.compile(r"""<[^<>\s]*>|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[?$]\w+|[A-Za-z_][\w-]*(?::[\w.-]*)?
                       |:[\w.-]*|\d+(?:\.\d+)?|\#[^\n]*|\s+|.""", re.VERBOSE | re.DOTALL)
KEYWORDS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "SERVICE", "SERVICESILENT", "SERVICE SILENT", "SILENT",
    "LOAD", "INSERT", "INSERT DATA", "DELETE", "DELETE WHERE", "CLEAR ALL", "DROP", "CREATE", "WITH", "COPY",
    "MOVE", "ADD", "GRAPH", "BIND", "FILTER", "OPTIONAL", "UNION", "MINUS", "VALUES", "EXISTS", "NOT EXISTS",
    "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "PREFIX", "BASE", "AS", "a", "UNDEF", "DISTINCT",
    "REDUCED", "FROM", "FROM NAMED", "COUNT(*)", "REGEX", "STR", "IRI", "URI", "BNODE", "SHA512", "CONCAT",
    "REPLACE", "NOW()", "RAND()", "STRUUID()", "LATERAL", "ADJUST", "TRIPLE", "<<", ">>", "{|", "|}",
    "\\u0053ERVICE", "\\U00000053ERVICE", "\\u0053\\u0045RVICE", "\\u004cOAD", "\\u0049NSERT", "seRvIcE",
    "sErViCeSiLeNt", "\\u", "\\U", "\\uD800", "\\uDFFF", "\\U0010FFFF", "\\U00110000", "\\uZZZZ",
]
PUNCTUATION = list("{}()[].;,*/|^!?$<>=+-&\"'#@\\:_~%`") + ["&&", "||", "^^", "!=", "<=", ">=", "\"\"\"",
                                                             "'''", "\\\\", "\x00", "\r", "\x0b", "\u2028", "\ufeff"]


def example_queries() -> dict[str, str]:
    queries = {path.name: path.read_text() for path in sorted(QUERIES_DIR.glob("*.rq"))}
    assert len(queries) >= 5, f"expected the example queries in {QUERIES_DIR}"
    return queries


def loopback_iris(port: int) -> list[str]:
    """The listener's address, spelled many ways that all reach it (a numeric IP: no name is looked up)."""
    return [
        f"http://127.0.0.1:{port}/sparql", f"http://127.0.0.1:{port}/", f"http://127.0.0.1:{port}",
        f"https://127.0.0.1:{port}/sparql", f"HTTP://127.0.0.1:{port}/sparql", f"http://user:pw@127.0.0.1:{port}/x",
        f"http://127.1:{port}/sparql", f"http://2130706433:{port}/sparql", f"http://0x7f000001:{port}/sparql",
        f"http://0177.0.0.1:{port}/sparql", f"http://0.0.0.0:{port}/sparql", f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D#frag", f"http://127.0.0.1:{port}/%2e%2e/sparql",
    ]


SERVICE_KEYWORDS = ["SERVICE", "service", "SeRvIcE", "SERVICE SILENT", "service silent", "SERVICESILENT",
                    "servicesilent", "SERVICE\t\n", "SERVICE#c\n", "SERVICE/**/", "\\u0053ERVICE", "\\U00000053ERVICE",
                    "\\u0053\\u0045\\u0052\\u0056\\u0049\\u0043\\u0045", "SERVICE \\u0053ILENT", "SERVICE\u00a0",
                    "SERVICE\ufeff", "SERVICE\\u0020SILENT", "SERVICE\\u0053ILENT"]


def service_spellings(port: int) -> list[str]:
    """Well-formed queries calling the listener, every keyword spelling and every address spelling once:
    the engine runs those the text check in front of it does not refuse, and its sandbox must stop them."""
    queries = [f"SELECT * WHERE {{ {keyword} <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
               for keyword in SERVICE_KEYWORDS]
    for iri in loopback_iris(port):
        queries += [f"SELECT * WHERE {{ SERVICESILENT <{iri}> {{ ?s ?p ?o }} }}",
                    f"ASK {{ SERVICE <{iri}> {{ }} }}"]
    return queries


def service_clause(rng: random.Random, port: int) -> str:
    """A SERVICE clause (in one of many spellings) that calls the listener."""
    iri = rng.choice(loopback_iris(port))
    last = iri.rpartition("/")[2]
    escaped_iri = "".join(f"\\u{ord(char):04x}" for char in iri)
    keyword = rng.choice(SERVICE_KEYWORDS)
    target = rng.choice([f"<{iri}>", f"<{escaped_iri}>", f"<{iri.upper()}>", f"<  {iri}>", f"<{iri}\\u003e",
                         f"fz:{last}", "?endpoint", f"<{last}>", f"<{iri}#>", "<>"])
    pattern = rng.choice(["{ ?s ?p ?o }", "{}", "{ ?s ?p ?o } ", "{ SELECT * { ?s ?p ?o } LIMIT 1 }",
                          "{ ?s a ?type FILTER(?s != <x:y>) }"])
    clause = f"{keyword} {target} {pattern}"
    if target == "?endpoint":
        clause = rng.choice([f"BIND(<{iri}> AS ?endpoint) ", f"VALUES ?endpoint {{ <{iri}> }} "]) + clause
    return clause


def with_service(rng: random.Random, port: int, query: str, where: int | None = None) -> str:
    """``query`` with a SERVICE clause to the listener at ``where`` (or after its last '{'), and the
    prologue that clause needs: a prefix for a prefixed name, a base for a relative IRI."""
    clause = service_clause(rng, port)
    if where is None:
        where = query.rfind("{") + 1 or len(query)
    iri = rng.choice(loopback_iris(port))
    prologue = f"PREFIX fz: <{iri.rpartition('/')[0]}/> " + rng.choice(["", f"BASE <{iri}> "])
    return prologue + query[:where] + f" {clause} " + query[where:]


def deep(rng: random.Random) -> str:
    depth = rng.choice([50, 300, 1000, 2500, 4000])
    return rng.choice([
        "(" * depth + "1" + ")" * depth, "{" * depth + "}" * depth, "!" * depth + "true", "(" * depth,
        "{" * depth, "[" * depth + "]" * depth, "(" * depth + "!" * depth + "?x" + ")" * depth,
        "FILTER(" + "-" * depth + "1)", " UNION ".join(["{}"] * (depth // 5)), "/".join(["a"] * depth),
        "EXISTS { " * (depth // 10) + "}" * (depth // 10), "<<" * (depth // 10) + ">>" * (depth // 10),
    ])


def long_string(rng: random.Random) -> str:
    size = rng.choice([1_000, 10_000, 60_000, 99_000, 120_000])
    return rng.choice([
        '"' + "x" * size + '"', "'''" + "é" * (size // 2) + "'''", '"' + "\\u0041" * (size // 6) + '"',
        '"' + "\\" * size, "#" + "c" * size + "\n", "?" + "v" * size, "<http://e/" + "i" * size + ">",
        "<http://127.0.0.1/" + "%41" * (size // 3) + ">", '"unterminated' + " x" * (size // 2),
    ])


def random_token(rng: random.Random, port: int) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(KEYWORDS)
    if kind < 0.65:
        return rng.choice(PUNCTUATION)
    if kind < 0.75:
        return rng.choice(["?s", "?p", "?o", "$x", "?", "?1", "_:b", "[]", "()", "1e999999", "-0.0e-0", "'x'@en",
                           "'1'^^xsd:integer", "'x'^^<bad iri>", "rdfs:label", "sol:Allegation", "undeclared:x",
                           "true", "false", "\"\"", "@@", "?\u00e9", "\U0001f980"])
    if kind < 0.85:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 8)))
    if kind < 0.95:
        return service_clause(rng, port)
    return rng.choice([deep(rng), long_string(rng)])


def mutate(rng: random.Random, text: str, port: int) -> str:
    tokens = TOKEN.findall(text)
    for _ in range(rng.randrange(1, 5)):
        solid = [index for index, token in enumerate(tokens) if not token.isspace()] or [0]
        where = rng.choice(solid) if tokens else 0
        operation = rng.randrange(10)
        if not tokens:
            tokens = [random_token(rng, port)]
        elif operation == 0:
            del tokens[where]
        elif operation == 1:
            tokens.insert(where, tokens[where])
        elif operation == 2:
            other = rng.choice(solid)
            tokens[where], tokens[other] = tokens[other], tokens[where]
        elif operation in (3, 4):
            tokens.insert(where, f" {random_token(rng, port)} ")
        elif operation == 5:
            tokens[where] = random_token(rng, port)
        elif operation == 6:  # a SERVICE clause just inside a group, with the prologue it needs
            braces = [index for index, token in enumerate(tokens) if token == "{"] or [len(tokens) - 1]
            where = len("".join(tokens[:rng.choice(braces) + 1]))
            tokens = TOKEN.findall(with_service(rng, port, "".join(tokens), where))
        elif operation == 7:
            tokens = tokens[:rng.randrange(len(tokens) + 1)]
        elif operation == 8:  # a keyword spelled with escapes, or its case changed
            token = tokens[where]
            if token[:1].isalpha():
                tokens[where] = rng.choice(["".join(f"\\u{ord(char):04X}" for char in token), token.swapcase(),
                                            token.lower(), token + token])
        else:
            tokens.insert(where, f" {rng.choice([deep(rng), long_string(rng)])} ")
    return "".join(tokens)


def random_query(rng: random.Random, port: int) -> str:
    return " ".join(random_token(rng, port) for _ in range(rng.randrange(1, 30)))


ACCEPTS = [
    None, "*/*", "text/html", "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json",
    "application/rdf+xml", "application/trig", "application/n-quads", "image/png", "text/*", "application/*",
    "*/*;q=0", "text/csv;q=nan", "text/csv;q=inf, */*;q=-1", "text/turtle;q=1e999", "application/json;q=abc",
    ";;;", ",,,", "q=1", "*", "/", "text/", "*/*;q=0.5, text/csv;q=0.50000000000000001", "\t", "text/csv; charset=",
    ", ".join(f"type{index}/sub{index};q=0.{index % 10}" for index in range(400)),
    "application/sparql-results+json;" + "a=b;" * 500, "\xff\xfe", "text/html\x01",
]
SANE_ACCEPTS = [None, "*/*", "application/sparql-results+json, text/turtle;q=0.9, */*;q=0.1",
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"]
FORMATS = ["json", "xml", "csv", "tsv", "turtle", "ttl", "nt", "ntriples", "jsonld", "rdfxml", "trig", "nquads",
           "html", "pdf", "", "JSON", "n3", "rdf", "rdf+xml", "json-ld", "application/sparql-results+json",
           "text/turtle", "*/*", "json\x00", "../../etc/passwd", "\U0001f980", "x" * 5000, "%ff", "format"]
GRAPH_VALUES = ["https://w3id.org/soles/graph/reference", "not an iri", "", "urn:x", "<x>", "http://127.0.0.1:9/g",
                "\x00", "https://w3id.org/soles/graph/" + "g" * 3000, "https://w3id.org/soles/graph/fixture-report"]


@dataclass
class SparqlCase:
    index: int
    origin: str
    query: str
    how: str  # get | get-raw-bytes | form | multipart | body
    accept: str | None
    fmt: str | None
    graph: tuple[str, str] | None
    content_type: str

    def describe(self) -> str:
        shown = self.query if len(self.query) <= 240 else f"{self.query[:200]!s}...({len(self.query)} chars)"
        return (f"[seed {SEED} sparql case #{self.index} from {self.origin}] {self.how} /sparql "
                f"accept={self.accept!r:.80} format={self.fmt!r:.40} graph={self.graph!r:.80} "
                f"content-type={self.content_type!r} query={shown!r}")


def benign(rng: random.Random, text: str, port: int) -> str:
    """An example query changed in ways the engine still accepts: the query must run (or fail as a query)."""
    for _ in range(rng.randrange(1, 4)):
        choice = rng.randrange(7)
        if choice == 0:  # a keyword in another case, or spelled with \u escapes
            words = [word for word in set(re.findall(r"\b[A-Z]{3,}\b", text)) if word not in ("SEPARATOR",)]
            if words:
                word = rng.choice(sorted(words))
                spelled = rng.choice([word.lower(), word.swapcase().title(),
                                      "".join(f"\\u{ord(char):04x}" for char in word)])
                text = re.sub(rf"\b{word}\b", spelled.replace("\\", "\\\\"), text, count=1)
        elif choice == 1:  # comments that mention what the endpoint refuses
            text = text.replace("\n", f"\n# SERVICE <http://127.0.0.1:{port}/sparql> INSERT LOAD\n", 1)
        elif choice == 2:
            text = re.sub(r"\s+(?:LIMIT|OFFSET)\s+\d+\s*$", "", text.rstrip()) + f"\nLIMIT {rng.randrange(0, 99)}"
        elif choice == 3:  # a harmless filter or bind inside the first group
            extra = rng.choice(["FILTER(true)", "BIND('SERVICE <x:y>' AS ?unused)", "FILTER(1 < 2 || '{' != '}')",
                                "OPTIONAL { ?nothing <urn:none> 'LOAD' }", f"BIND(\"{'é' * 50}\" AS ?long)"])
            text = text.replace("WHERE {", "WHERE { " + extra + " ", 1)
        elif choice == 4:
            text = "\n".join(line.rstrip() + rng.choice(["", " ", "\t", "  "]) for line in text.splitlines())
        elif choice == 5:
            text = text.replace("SELECT", "SELECT REDUCED", 1) if "DISTINCT" not in text.split("{")[0] else text
        else:
            text = rng.choice(["\ufeff", "", "\n\n", "#\n"]) + text
    return text


def sparql_cases(seed: int, port: int, count: int = SPARQL_CASES) -> list[SparqlCase]:
    rng = random.Random(seed)
    examples = example_queries()
    names = list(examples)
    cases = []
    spellings = service_spellings(port)
    for index in range(count):
        roll = rng.random()
        if index < len(spellings):
            origin = "service"
            query = spellings[index]
        elif roll < 0.4:
            origin = rng.choice(names)
            query = mutate(rng, examples[origin], port)
        elif roll < 0.6:
            origin = rng.choice(names) + " (still valid)"
            query = benign(rng, examples[origin.split()[0]], port)
        elif roll < 0.75:
            origin = "service"
            query = with_service(rng, port, rng.choice([
                "SELECT * WHERE { }", "ASK { }", "CONSTRUCT { ?s ?p ?o } WHERE { }", "SELECT * { OPTIONAL { } }",
                "DESCRIBE ?s { }", "SELECT * { FILTER NOT EXISTS { } }", "SELECT * { ?s ?p ?o } LIMIT 1",
                "SELECT * { { SELECT * { ?a ?b ?c } LIMIT 1 } UNION { } }"]), where=None)
        elif roll < 0.9:
            origin = "random tokens"
            query = random_query(rng, port)
        else:
            origin = "example as is"
            query = examples[rng.choice(names)]
        how = rng.choice(["get", "get", "get-raw-bytes", "form", "form", "multipart", "body", "body"])
        graph = None
        if rng.random() < 0.12:
            graph = (rng.choice(["default-graph-uri", "default-graph-uri", "named-graph-uri", "named-graph-uri",
                                 "update", "query", "format"]), rng.choice(GRAPH_VALUES))
        accept = rng.choice(ACCEPTS if rng.random() < 0.4 else SANE_ACCEPTS)
        fmt = rng.choice(FORMATS) if rng.random() < 0.25 else None
        content_type = rng.choice(["application/sparql-query", "application/sparql-query; charset=utf-8",
                                   "APPLICATION/SPARQL-QUERY", "application/sparql-query; charset=latin-1",
                                   "application/sparql-query;;", "application/sparql-query; boundary=\x7f"])
        cases.append(SparqlCase(index, origin, query, how, accept, fmt, graph, content_type))
    return cases


def _latin1(value: str) -> bytes:
    return value.encode("latin-1", errors="replace")


def _mangle_percent_encoding(rng: random.Random, encoded: str) -> str:
    """Percent-encoding that is not UTF-8 (or not percent-encoding at all) spliced into an encoded query."""
    for _ in range(rng.randrange(1, 4)):
        where = rng.randrange(len(encoded) + 1)
        junk = rng.choice(["%FF", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "%00", "%", "%G1", "%E2%82",
                           "%FE%FF", "+", "%2B", "&", "&query=", ";", "%26query%3DASK%7B%7D"])
        encoded = encoded[:where] + junk + encoded[where:]
    return encoded


def send_sparql(port: int, case: SparqlCase) -> tuple[int, bytes, str | None]:
    """Send a case; its status, the head of its body, and a note when the exchange itself went wrong."""
    rng = random.Random(f"{SEED}-{case.index}")
    params = [("query", case.query)]
    if case.fmt is not None:
        params.append(("format", case.fmt))
    if case.graph is not None:
        params.append(case.graph)
    headers = {}
    if case.accept is not None:
        headers["Accept"] = _latin1(case.accept)
    body: bytes | None = None
    path = "/sparql"
    if case.how in ("get", "get-raw-bytes"):
        method = "GET"
        encoded = urllib.parse.urlencode(params, errors="surrogatepass")
        if case.how == "get-raw-bytes":
            encoded = _mangle_percent_encoding(rng, encoded)
        path += "?" + encoded
    elif case.how == "form":
        method = "POST"
        encoded = urllib.parse.urlencode(params, errors="surrogatepass")
        if rng.random() < 0.15:
            encoded = _mangle_percent_encoding(rng, encoded)
        body = encoded.encode()
        headers["Content-Type"] = rng.choice(["application/x-www-form-urlencoded",
                                              "application/x-www-form-urlencoded; charset=utf-8",
                                              "application/x-www-form-urlencoded; charset=koi8-r"])
    elif case.how == "multipart":
        method = "POST"
        boundary = rng.choice(["xyz", "xyz", "a" * 70, "--", "é"])
        parts = b"".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode()
                         + value.encode(errors="surrogatepass") + b"\r\n" for name, value in params)
        body = parts + f"--{boundary}--\r\n".encode()
        if rng.random() < 0.15:
            body = body[:rng.randrange(len(body) + 1)]  # cut short
        headers["Content-Type"] = _latin1(f"multipart/form-data; boundary={boundary}" if rng.random() < 0.7 else
                                          rng.choice(["multipart/form-data", "multipart/form-data; boundary=",
                                                      f"multipart/form-data; boundary=\"{boundary}\"; x=y"]))
    else:
        method = "POST"
        body = case.query.encode(errors="surrogatepass")
        if rng.random() < 0.2:
            body = body.replace(b"e", b"\xe9", rng.randrange(1, 4))  # latin-1, not UTF-8
        rest = [(name, value) for name, value in params if name != "query"]
        if rest:
            path += "?" + urllib.parse.urlencode(rest)
        headers["Content-Type"] = _latin1(case.content_type)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        status = response.status
        try:
            head = response.read(MAX_READ)
        except http.client.IncompleteRead as cut:  # a streamed result cut short at the time limit
            head = cut.partial
        return status, head, None
    except TimeoutError:
        return 0, b"", f"no answer within {CLIENT_TIMEOUT} s"
    except (http.client.HTTPException, ConnectionError) as error:
        return 0, b"", f"the connection broke without an answer: {error!r}"
    finally:
        connection.close()


def test_mutated_and_random_sparql(server, listener, rng_seed):
    started = time.monotonic()
    findings = Findings(rng_seed)
    port = int(listener.iri.split(":")[2].split("/")[0])
    cases = sparql_cases(rng_seed, port)

    def run(case: SparqlCase) -> None:
        status, body, note = send_sparql(server.server.port, case)
        kind = case.origin if case.origin in ("service", "random tokens", "example as is") else \
            "still valid" if case.origin.endswith("(still valid)") else "mutated"
        findings.record(case.describe(), [status] if status else [], [body] if status else [], note, kind=kind)

    if ONLY:
        cases = [case for case in cases if case.index in ONLY]
    with ThreadPoolExecutor(2) as pool:  # two at a time: the per-client share, so no 429 from waiting
        list(pool.map(run, cases))
    print(findings.summary("mutated SPARQL", started))
    print("  by kind of case and status:", dict(sorted(findings.by_kind.items())))
    assert findings.requests == len(cases)
    findings.check()
    # The fuzzing reached the engine and the refusals, not only the checks in front of them.
    assert ONLY or findings.statuses[200] > 20 and findings.statuses[400] > 20 and findings.statuses[403] > 20


# --- raw HTTP: bodies, framing, headers, methods, paths --------------------------------------------------


class _Unclosable(io.BytesIO):
    def close(self) -> None:  # http.client closes its file after each response; later responses follow
        pass


class _Recorded:
    def __init__(self, data: bytes):
        self.file = _Unclosable(data)

    def makefile(self, mode: str):
        return self.file


def parse_responses(answer: bytes, method: str) -> tuple[list[int], list[bytes], str | None]:
    """Every response in what the server sent on one connection (requests may have been pipelined)."""
    recorded = _Recorded(answer)
    statuses, bodies = [], []
    while recorded.file.tell() < len(answer):
        response = http.client.HTTPResponse(recorded, method=method)
        try:
            response.begin()
            body = response.read()
        except http.client.IncompleteRead as cut:
            body = cut.partial
        except http.client.HTTPException as error:
            return statuses, bodies, f"unreadable response {error!r}: {answer[recorded.file.tell():][:200]!r}"
        statuses.append(response.status)
        bodies.append(body)
    return statuses, bodies, None


def raw_exchange(port: int, payload: bytes, method: str = "POST") -> tuple[list[int], list[bytes], str | None]:
    """Send bytes as they are, say no more is coming, and read every answer (a hung socket is a failure)."""
    answer = b""
    deadline = time.monotonic() + 2 * RAW_TIMEOUT
    with socket.create_connection(("127.0.0.1", port), timeout=RAW_TIMEOUT) as connection:
        try:
            connection.sendall(payload)
            connection.shutdown(socket.SHUT_WR)
        except OSError:  # EPIPE, ECONNRESET, ENOTCONN: the server answered and closed before reading it all
            pass
        try:
            while chunk := connection.recv(65536):
                answer += chunk
                if time.monotonic() > deadline:
                    return [], [], f"still sending after {2 * RAW_TIMEOUT} s"
        except TimeoutError:
            return [], [], f"no end of the answer within {RAW_TIMEOUT} s (got {answer[:120]!r})"
        except ConnectionResetError:
            if not answer:
                return [], [], RESET
    statuses, bodies, note = parse_responses(answer, method)
    if note and method == "HEAD":  # a request line too broken to be read as HEAD gets an error page with a body
        statuses, bodies, note = parse_responses(answer, "GET")
    if not statuses and note is None:
        note = "the connection was closed without any answer"
    return statuses, bodies, note


RESET = "the connection was reset without any answer"


@dataclass
class RawCase:
    name: str
    payload: bytes
    method: str = "POST"
    answer_expected: bool = True  # False: the request is so broken that closing without a word is fine
    # True: a body past the server's limit, which it may stop reading; closing a socket with unread data
    # resets it, and the reset can overtake the answer (rarely, under load)
    reset_ok: bool = False

    def describe(self, index: int) -> str:
        shown = self.payload if len(self.payload) <= 300 else self.payload[:260] + b"...(%d bytes)" % len(self.payload)
        return f"[seed {SEED} raw case #{index}: {self.name}] {shown!r}"


def post(content_type: bytes | None, body: bytes, extra: bytes = b"", length: int | None = None,
         path: bytes = b"/sparql") -> bytes:
    head = b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
    if content_type is not None:
        head += b"Content-Type: " + content_type + b"\r\n"
    if length is not None:
        head += b"Content-Length: %d\r\n" % length
    return head + extra + b"\r\n" + body


def sized(content_type: bytes, body: bytes) -> bytes:
    """A POST to /sparql whose Content-Length is right."""
    return post(content_type, body, length=len(body))


def get(path: bytes, headers: bytes = b"", version: bytes = b"HTTP/1.1", method: bytes = b"GET") -> bytes:
    return method + b" " + path + b" " + version + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n"


CONTENT_TYPES = [b"application/sparql-query", b"application/x-www-form-urlencoded", b"multipart/form-data",
                 b"multipart/form-data; boundary=b", b"application/sparql-update", b"application/json", b"text/plain",
                 b"", b";", b"application/sparql-query; charset=\xff", b"x" * 5000, b"*/*", b"application/",
                 b"application/sparql-query, application/x-www-form-urlencoded", b"\x00", b"multipart/mixed"]
QUERY_BODY = b"ASK {}"
FORM_BODY = b"query=ASK%20%7B%7D"


def framing_cases() -> list[RawCase]:
    cases = []
    for content_type, body in ((b"application/sparql-query", QUERY_BODY),
                               (b"application/x-www-form-urlencoded", FORM_BODY),
                               (b"multipart/form-data; boundary=b",
                                b'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\nASK {}\r\n--b--\r\n')):
        kind = content_type.split(b";")[0].decode()
        cases += [
            RawCase(f"{kind}: Content-Length longer than the body", post(content_type, body, length=len(body) + 500)),
            RawCase(f"{kind}: Content-Length 1 longer", post(content_type, body, length=len(body) + 1)),
            RawCase(f"{kind}: Content-Length shorter than the body", post(content_type, body, length=3)),
            RawCase(f"{kind}: Content-Length 0", post(content_type, body, length=0)),
            RawCase(f"{kind}: Content-Length not a number", post(content_type, body, extra=b"Content-Length: abc\r\n")),
            RawCase(f"{kind}: Content-Length negative", post(content_type, body, extra=b"Content-Length: -1\r\n")),
            RawCase(f"{kind}: Content-Length huge", post(content_type, body,
                                                         extra=b"Content-Length: 99999999999999999999\r\n")),
            RawCase(f"{kind}: Content-Length twice, differing",
                    post(content_type, body, extra=b"Content-Length: 6\r\nContent-Length: 7\r\n")),
            RawCase(f"{kind}: Content-Length with a plus", post(content_type, body, extra=b"Content-Length: +6\r\n")),
            RawCase(f"{kind}: Content-Length and chunked",
                    post(content_type, b"6\r\nASK {}\r\n0\r\n\r\n",
                         extra=b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n")),
        ]
        chunked = b"Transfer-Encoding: chunked\r\n"
        for name, framed in {
            "chunk size not hexadecimal": b"zz\r\n" + body + b"\r\n0\r\n\r\n",
            "chunk size negative": b"-6\r\n" + body + b"\r\n0\r\n\r\n",
            "chunk size huge": b"ffffffffffffffffffffffff\r\n" + body + b"\r\n0\r\n\r\n",
            "chunk size larger than the data": b"%x\r\n" % (len(body) + 40) + body + b"\r\n0\r\n\r\n",
            "chunk size smaller than the data": b"2\r\n" + body + b"\r\n0\r\n\r\n",
            "chunk without its CRLF": b"%x\r\n" % len(body) + body + b"XX0\r\n\r\n",
            "no last chunk": b"%x\r\n" % len(body) + body + b"\r\n",
            "last chunk without the final CRLF": b"%x\r\n" % len(body) + body + b"\r\n0\r\n",
            "chunk extension garbage": b"%x;\x00;=;\r\n" % len(body) + body + b"\r\n0\r\n\r\n",
            "trailer garbage": b"%x\r\n" % len(body) + body + b"\r\n0\r\n\x00bad trailer\r\n\r\n",
            "chunk size with spaces": b" %x \r\n" % len(body) + body + b"\r\n0\r\n\r\n",
            "bare LF framing": b"%x\n" % len(body) + body + b"\n0\n\n",
            "empty chunk size": b"\r\n" + body + b"\r\n0\r\n\r\n",
            "only the terminator": b"0\r\n\r\n",
            "nothing at all": b"",
        }.items():
            cases.append(RawCase(f"{kind}: chunked, {name}", post(content_type, framed, extra=chunked)))
        for coding in (b"gzip, chunked", b"chunked, gzip", b"identity", b"Chunked", b"chunked\x00", b"x" * 300,
                       b"chunked, chunked"):
            cases.append(RawCase(f"{kind}: Transfer-Encoding {coding[:20]!r}",
                                 post(content_type, b"6\r\nASK {}\r\n0\r\n\r\n",
                                      extra=b"Transfer-Encoding: " + coding + b"\r\n")))
        cases.append(RawCase(f"{kind}: Expect 100-continue, body never sent",
                             post(content_type, b"", length=len(body), extra=b"Expect: 100-continue\r\n")))
        cases.append(RawCase(f"{kind}: Expect something else",
                             post(content_type, body, length=len(body), extra=b"Expect: 999-nonsense\r\n")))
    return cases


def header_cases() -> list[RawCase]:
    ask = b"/sparql?query=ASK%7B%7D"
    return [
        RawCase("one huge header value", get(ask, b"X-Big: " + b"a" * 20_000 + b"\r\n")),
        RawCase("a huge Accept", get(ask, b"Accept: " + b"text/csv;q=0.1," * 2_000 + b"\r\n")),
        RawCase("a header just under gunicorn's limit", get(ask, b"X-Big: " + b"a" * 8_000 + b"\r\n")),
        RawCase("200 headers", get(ask, b"".join(b"X-H%d: v\r\n" % index for index in range(200)))),
        RawCase("99 headers", get(ask, b"".join(b"X-H%d: v\r\n" % index for index in range(95)))),
        RawCase("a header without a colon", get(ask, b"NoColonHere\r\n")),
        RawCase("a header name with a space", get(ask, b"Bad Name: v\r\n")),
        RawCase("an empty header name", get(ask, b": v\r\n")),
        RawCase("a NUL in a header value", get(ask, b"Accept: text/csv\x00\r\n")),
        RawCase("a header value of bytes past ASCII", get(ask, b"Accept: \xff\xfe\xe9\r\n")),
        RawCase("an obsolete folded header", get(ask, b"Accept: text/csv,\r\n application/json\r\n")),
        RawCase("a header line with a bare CR", get(ask, b"Accept: text/csv\rX-Y: z\r\n")),
        RawCase("two Host headers", get(ask, b"Host: evil.example\r\n")),
        RawCase("an odd Host", get(ask, b"Host: [::1\r\n")),
        RawCase("X-Forwarded-For garbage", get(ask, b"X-Forwarded-For: \xff, ,,, 999.1.1.1\r\n")),
        RawCase("a PATH_INFO header", get(ask, b"PATH_INFO: /../../etc/passwd\r\n")),
        RawCase("a SCRIPT-NAME header (dash)", get(ask, b"SCRIPT-NAME: /elsewhere\r\n")),
        RawCase("X-Forwarded-Proto garbage", get(ask, b"X-Forwarded-Proto: gopher\r\n")),
        RawCase("X-Forwarded-Proto and X-Forwarded-Ssl disagreeing",
                get(ask, b"X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n")),
        RawCase("X-Forwarded-Proto twice", get(ask, b"X-Forwarded-Proto: https\r\nX-Forwarded-Proto: http\r\n")),
        RawCase("Forwarded garbage", get(ask, b"Forwarded: for=\"[::1\";proto=gopher\r\n")),
        RawCase("Accept-Encoding odd", get(ask, b"Accept-Encoding: gzip;q=nan, br;q=-1, *;q=2\r\n")),
        RawCase("Accept-Charset odd", get(ask, b"Accept-Charset: \x01;q=1\r\n")),
        RawCase("If-None-Match garbage", get(b"/void", b"If-None-Match: W/\"\r\n")),
        RawCase("If-Modified-Since garbage", get(b"/void", b"If-Modified-Since: yesterday-ish\r\n")),
        RawCase("Range garbage on /void", get(b"/void", b"Range: bytes=9-1,a-b,-0\r\n")),
        RawCase("Origin and preflight oddities",
                get(b"/sparql", b"Origin: null\r\nAccess-Control-Request-Method: \xff\r\n", method=b"OPTIONS")),
        RawCase("Cookie garbage", get(ask, b"Cookie: ;;;=\x01;" + b"a=" * 1000 + b"\r\n")),
        RawCase("Authorization garbage", get(ask, b"Authorization: Basic !!!not base64\r\n")),
        RawCase("Content-Type with a huge parameter list on POST",
                sized(b"application/sparql-query" + b"; a=b" * 1500, QUERY_BODY)),
        RawCase("form body with thousands of fields",
                sized(b"application/x-www-form-urlencoded", b"a=b&" * 20_000 + FORM_BODY)),
        RawCase("form body with a megabyte field",
                sized(b"application/x-www-form-urlencoded", b"junk=" + b"x" * 1_000_000 + b"&" + FORM_BODY),
                reset_ok=True),
        RawCase("multipart with a megabyte part",
                sized(b"multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'
                      + b"x" * 1_000_000 + b"\r\n--b--\r\n"), reset_ok=True),
        RawCase("multipart with a file part",
                sized(b"multipart/form-data; boundary=b",
                      b'--b\r\nContent-Disposition: form-data; name="query"; filename="q.rq"\r\n'
                      b"Content-Type: application/sparql-query\r\n\r\nASK {}\r\n--b--\r\n")),
        RawCase("query body over the limit", sized(b"application/sparql-query", b"#" * 300_000 + b"\nASK {}"),
                reset_ok=True),
        RawCase("query body of NULs", sized(b"application/sparql-query", b"\x00" * 1000)),
        RawCase("query body, a lone UTF-8 continuation byte", sized(b"application/sparql-query", b"ASK {\x80}")),
        RawCase("a UTF-8 BOM before the query", sized(b"application/sparql-query", b"\xef\xbb\xbfASK {}")),
        RawCase("a UTF-16 query", sized(b"application/sparql-query", "ASK {}".encode("utf-16"))),
        RawCase("pipelined: a valid GET, then garbage", get(ask).replace(b"Connection: close\r\n", b"")
                + b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + b"\r\n\r\n", method="GET"),
        RawCase("pipelined: two queries", get(ask).replace(b"Connection: close\r\n", b"") + get(ask), method="GET"),
        RawCase("a TLS ClientHello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
                answer_expected=False),
        RawCase("an HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", answer_expected=False),
        RawCase("nothing but CRLFs", b"\r\n" * 200, answer_expected=False),
        RawCase("nothing at all", b"", answer_expected=False),
    ]


def method_and_line_cases() -> list[RawCase]:
    ask = b"/sparql?query=ASK%7B%7D"
    cases = []
    for method in (b"FOO", b"get", b"PUT", b"DELETE", b"PATCH", b"PROPFIND", b"TRACE", b"CONNECT", b"M" * 5000,
                   b"GET\x00", b"G\xc3\xa9T", b"", b"-", b"GET/", b"HEAD"):
        cases.append(RawCase(f"method {method[:20]!r}", get(ask, method=method),
                             method="HEAD" if method == b"HEAD" else "GET"))
    for version in (b"HTTP/1.0", b"HTTP/0.9", b"HTTP/2.0", b"HTTP/9.9", b"HTTP/1.1x", b"HTTP/1", b"http/1.1",
                    b"HTTP/1.1 extra", b"", b"HTTP/01.01", b"HTTP/1.10"):
        cases.append(RawCase(f"version {version!r}", get(ask, version=version), method="GET"))
    for name, line in {
        "a bare request line": b"GET /\r\n\r\n",
        "an absolute URI": b"GET http://127.0.0.1/sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n\r\n",
        "an absolute URI to elsewhere": b"GET http://example.org/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "an asterisk": b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "an authority form": b"CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "tabs for spaces": b"GET\t/sparql\tHTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "two spaces": b"GET  /sparql  HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a 100 kB request line": get(b"/sparql?query=" + b"%23" * 35_000 + b"%0AASK%7B%7D"),
        "a 400 kB request line": get(b"/sparql?query=" + b"%23" * 130_000 + b"%0AASK%7B%7D"),
        "a path of 30 000 segments": get(b"/id" + b"/a" * 30_000),
    }.items():
        cases.append(RawCase(name, line, method="GET"))
    return cases


def path_cases(rng: random.Random, download: str) -> list[RawCase]:
    """Odd paths and parameters to /sparql, /search, /id/..., /downloads/... and the rest of the site."""
    pieces = [b"..", b"%2e%2e", b"%2f", b"%5c", b"%00", b"\x00", b"%ff", b"\xff", b"%c0%af", b"%", b"%%", b"%zz",
              b";", b";x=1", b"?", b"#", b"&", b"=", b"//", b"\\", b"~", b"'", b"\"", b"<", b">", b"{", b"}", b"|",
              b" ", b"%20", b"+", b"\xc3\xa9", "\U0001f980".encode(), b"%F0%9F%A6%80", b"%ED%A0%80", b".ttl", b".nt",
              b".jsonld", b".rdf", b".html", b".xyz", b".", b"a" * 3000, b"%0d%0aX-Injected: 1", b"\t", b"*",
              b"alice-example", b"person", b"allegation", b"ontology", b"graph", b"%3Cscript%3E"]
    accepts = [b"", b"Accept: text/turtle\r\n", b"Accept: application/ld+json\r\n", b"Accept: image/png\r\n",
               b"Accept: */*;q=nan\r\n", b"Accept: text/html;q=0, */*;q=0\r\n", b"Accept: application/json\r\n"]
    ranges = [b"bytes=0-0", b"bytes=-1", b"bytes=999999999-", b"bytes=5-1", b"bytes=a-b", b"bytes=0-0,0-0,0-0",
              b",".join(b"%d-%d" % (index, index) for index in range(2000)).join([b"bytes=", b""]), b"lines=1-2",
              b"bytes=-0", b"bytes=0-18446744073709551616", b"bytes"]
    cases = []
    for index in range(110):
        prefix = rng.choice([b"/sparql", b"/search", b"/id/", b"/id/person/", b"/downloads/", b"/", b"/void",
                             b"/ontology/", b"/static/", b"/graph/", b"/downloads", b"/.well-known/"])
        path = prefix + b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))
        if prefix == b"/search" or rng.random() < 0.25:
            value = b"".join(rng.choice(pieces) for _ in range(rng.randrange(0, 6)))
            path += b"?" + rng.choice([b"q=", b"format=", b"page=", b"query=", b"q=a&q=", b"page=-1&q="]) + value
        headers = rng.choice(accepts)
        method = "GET"
        if prefix == b"/downloads/" and rng.random() < 0.5:
            path = b"/downloads/" + download.encode()
            headers += b"Range: " + rng.choice(ranges) + b"\r\n"
            if rng.random() < 0.5:
                headers += rng.choice([b"If-Range: \"nope\"\r\n", b"If-None-Match: *\r\n",
                                       b"If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
                                       b"If-Match: \"\xff\"\r\n", b"If-Unmodified-Since: tomorrow\r\n"])
        if rng.random() < 0.1:
            method = "HEAD"
        cases.append(RawCase(f"odd path #{index}", get(path, headers, method=method.encode()), method=method))
    return cases


def search_cases(rng: random.Random) -> list[RawCase]:
    """Label search: words of three letters or more go to an SQLite full-text index, shorter ones are scanned."""
    pieces = [b"ali", b"alice", b"example", b"Ruritania", b"%C3%A9", b"%00", b"%22", b"%27", b"*", b"^", b"-", b":",
              b"(", b")", b"%2B", b"NEAR", b"AND", b"OR", b"NOT", b"%20", b"+", b"%5C", b"%F0%9F%A6%80", b"%ff", b"%0a",
              b"%ef%bf%bd", b"%e2%80%8b", b"%c2%a0", b"%cc%81", b"%C7%85", b"%EF%AC%81", b"ab", b"a"]
    cases = [RawCase(f"search {value!r}", get(b"/search?q=" + value + accept), method="GET")
             for value, accept in ((b"%00abc", b""), (b"ali%00ce", b"&format=json"), (b"%22%00%22", b""))]
    for index in range(40):
        value = b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 8)))
        path = b"/search?q=" + value + rng.choice([b"", b"&format=json", b"&q=second", b"&format=csv"])
        cases.append(RawCase(f"search #{index}", get(path, rng.choice([b"", b"Accept: application/json\r\n"])),
                             method="GET"))
    return cases


def page_number_cases(rng: random.Random) -> list[RawCase]:
    """The page number of a long list on a page (?events=2): anything that is not one is page 1."""
    pages = [b"/", b"/id/person/alice-example", b"/id/place/strelsau", b"/id/allegation/alice-smuggles-cheese",
             b"/id/organization/daily-fixture", b"/graph/fixture-report"]
    names = [b"events", b"accused", b"claims", b"involved", b"members", b"party", b"performed", b"published",
             b"actors", b"allegations", b"contains", b"attributions", b"sources", b"page", b"as_of"]
    values = [b"%C2%B2", b"%D9%A3", b"%EF%BC%92", b"9" * 5000, b"99999999999999999999", b"-1", b"0", b"1e3",
              b"1.5", b"%201", b"", b"%00", b"0x10", b"1_000", b"+2", b"2024", b"2024-02-30", b"0000-01-01",
              b"9999-12", b"%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94", b"2024-06-01T00:00:00Z", b"2024%0A"]
    cases = [RawCase("page number '²' on the home page", get(b"/?events=%C2%B2"), method="GET"),
             RawCase("page number of 5000 digits on an actor's page",
                     get(b"/id/person/alice-example?accused=" + b"9" * 5000), method="GET")]
    for index in range(30):
        query = b"&".join(rng.choice(names) + b"=" + rng.choice(values) for _ in range(rng.randrange(1, 4)))
        cases.append(RawCase(f"page number #{index}", get(rng.choice(pages) + b"?" + query), method="GET"))
    return cases


def random_body_cases(rng: random.Random) -> list[RawCase]:
    cases = []
    for index in range(45):
        body = rng.randbytes(rng.choice([0, 1, 7, 100, 1000, 20_000]))
        if rng.random() < 0.3:
            body = b"query=" + body
        content_type = rng.choice(CONTENT_TYPES + [None])
        length = rng.choice([len(body), len(body), len(body) + rng.randrange(1, 100), max(0, len(body) - 3)])
        extra = rng.choice([b"", b"Accept: text/turtle\r\n", b"Content-Encoding: gzip\r\n",
                            b"Content-Encoding: br, deflate\r\n", b"Content-Language: \xff\r\n"])
        path = rng.choice([b"/sparql", b"/sparql?format=csv", b"/sparql?query=ASK%7B%7D", b"/search?q=x", b"/",
                           b"/downloads/x", b"/id/person/alice-example"])
        cases.append(RawCase(f"random body #{index} ({len(body)} bytes, Content-Length {length})",
                             post(content_type, body, extra=extra, length=length, path=path)))
    return cases


def test_raw_http_oddities(server, rng_seed):
    started = time.monotonic()
    findings = Findings(rng_seed)
    rng = random.Random(rng_seed + 1)
    files = requests.get(server.server.url + "/downloads.json", timeout=10).json()["files"]
    cases = (framing_cases() + header_cases() + method_and_line_cases()
             + path_cases(rng, files[0]["name"]) + search_cases(rng) + page_number_cases(rng)
             + random_body_cases(rng))

    def run(numbered: tuple[int, RawCase]) -> None:
        index, case = numbered
        statuses, bodies, note = raw_exchange(server.server.port, case.payload, case.method)
        if note and not statuses and (not case.answer_expected or case.reset_ok and note == RESET):
            note = None
        findings.record(case.describe(index) + f" -> {statuses}", statuses, bodies, note)

    numbered = [(index, case) for index, case in enumerate(cases) if not ONLY or index in ONLY]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(run, numbered))
    print(findings.summary("raw HTTP", started))
    assert findings.requests == len(numbered)
    findings.check()


def test_a_script_name_header_from_a_client_is_no_500(server):
    """gunicorn takes SCRIPT_NAME from a request header when the client is a trusted forwarder, which by
    default is any client on 127.0.0.1 or ::1 (its forwarded_allow_ips and forwarder_headers settings)."""
    answers = {}
    for script_name in (b"/elsewhere", b"/sparql/", b"\xff"):
        statuses, bodies, _ = raw_exchange(server.server.port, get(b"/sparql?query=ASK%7B%7D",
                                                                   b"SCRIPT_NAME: " + script_name + b"\r\n"), "GET")
        answers[script_name] = (statuses, bodies[0][-160:] if bodies else b"")
    assert all(statuses and statuses[0] < 500 for statuses, _ in answers.values()), answers


def test_head_on_sparql_is_answered_like_get(server):
    """Link checkers and monitors send HEAD: the endpoint answers it as GET, without the body."""
    for params in ({"query": "ASK {}"}, {"query": "SELECT * { ?s ?p ?o . ?a ?b ?c } LIMIT 30000"}, {}):
        head = requests.head(server.server.url + "/sparql", params=params, timeout=10)
        got = requests.get(server.server.url + "/sparql", params=params, timeout=10)
        assert head.status_code == got.status_code == 200, (params, head.status_code, head.text)
        assert head.headers["Content-Type"] == got.headers["Content-Type"] and head.content == b""


# --- heavy queries from many clients at once, and clients that hang up ------------------------------------

HEAVY = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } ORDER BY DESC(?c) ?o",
    "SELECT (GROUP_CONCAT(STR(?o)) AS ?all) WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f }",
    "CONSTRUCT { ?s ?p ?c } WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f }",
    "ASK { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i FILTER(STR(?c) = CONCAT(STR(?f), STR(?i), 'never')) }",
    "SELECT * WHERE { ?s (<urn:p>|!<urn:q>)* ?o . ?o (!<urn:r>)+ ?x }",
]
STREAMED = "/sparql?" + urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 200000",
                                                 "format": "tsv"})


def from_address(port: int, address: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` as a client of its own (a loopback source address), reading all of the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT, source_address=(address, 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        head = b""
        try:
            while chunk := response.read(1 << 16):
                head = head or chunk
        except http.client.IncompleteRead as cut:  # a stream cut short at the time limit
            head = head or cut.partial
        return response.status, head
    finally:
        connection.close()


def hang_up(port: int, how: int) -> None:
    """A client that goes away: mid-stream (closing or resetting), before reading, or mid-body."""
    with socket.create_connection(("127.0.0.1", port), timeout=RAW_TIMEOUT) as connection:
        if how % 3 == 2:
            connection.sendall(post(b"application/sparql-query", b"SELECT * {", length=500))
        else:
            connection.sendall(get(STREAMED.encode()))
            if how % 3 == 0:
                connection.recv(4096)
        if how % 2:  # a reset rather than a close
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_heavy_queries_from_many_clients_and_hang_ups(server, rng_seed):
    started = time.monotonic()
    findings = Findings(rng_seed)
    port = server.server.port
    with ThreadPoolExecutor(10) as pool:
        heavy = {pool.submit(from_address, port, f"127.0.0.{10 + index % 5}",
                             "/sparql?" + urllib.parse.urlencode({"query": HEAVY[index % len(HEAVY)]})): index
                 for index in range(10)}
        for future, index in heavy.items():
            status, body = future.result()
            findings.record(f"[heavy query #{index} from 127.0.0.{10 + index % 5}] {HEAVY[index % len(HEAVY)]}",
                            [status], [body])
        list(pool.map(lambda how: hang_up(port, how), range(12)))
    print(findings.summary("heavy queries", started))
    findings.check()
    assert findings.statuses[503] >= 2  # the time limit, and the slots, were reached
    # every slot and query process was given back: four clients at once are answered at once
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda index: from_address(port, f"127.0.0.{30 + index}", "/sparql?query=ASK%7B%7D"),
                                range(4)))
    assert [status for status, _ in answers] == [200] * 4, answers


def test_a_stream_cut_short_by_the_time_limit_is_no_server_error(server):
    """A result streamed past the time limit is cut short, so that the client sees it is incomplete; that is
    the query's doing, not a fault of the server, so it logs no error and no traceback."""
    logged = len(server.output())
    query = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c . ?d ?e ?f }"  # millions of rows, sent as they come
    with requests.get(server.server.url + "/sparql", params={"query": query, "format": "tsv"}, stream=True,
                      timeout=CLIENT_TIMEOUT) as response:
        assert response.status_code == 200 and response.headers.get("Transfer-Encoding") == "chunked"
        with pytest.raises(requests.exceptions.ChunkedEncodingError):  # no last chunk: visibly incomplete
            for _ in response.iter_content(1 << 16):
                pass
    time.sleep(0.5)
    errors = [line for line in server.output()[logged:].splitlines()
              if LOG_ERRORS.search(line) or EXCEPTION_LINE.match(line)]
    assert not errors, "\n".join(errors)


# --- afterwards: alive, never connected, a clean log --------------------------------------------------------


def test_afterwards_alive_no_connection_and_a_clean_log(server, listener):
    response = requests.get(server.server.url + "/sparql", params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 200 and response.json()["boolean"] is True
    output = server.stop()
    time.sleep(0.3)  # a connection made at the very end is counted too
    assert listener.connections == 0, f"SERVICE reached the listener {listener.connections} times"
    levels = Counter(match.group(1) or match.group(2)  # gunicorn's "[pid] [LEVEL]", Flask's "] LEVEL in app"
                     for match in re.finditer(r"\] \[\d+\] \[([A-Z]+)\]|\] ([A-Z]+) in \w", output))
    print(f"server log: {len(output.splitlines())} lines, by level {dict(levels)}")
    if os.environ.get("SOLES_FUZZ_LOG"):
        Path(os.environ["SOLES_FUZZ_LOG"]).write_text(output)
    errors = [line for line in output.splitlines() if LOG_ERRORS.search(line) or EXCEPTION_LINE.match(line)]
    assert not errors, "the server logged errors (and these exceptions):\n" + "\n".join(errors[:40])
    assert "soles serving" in output
