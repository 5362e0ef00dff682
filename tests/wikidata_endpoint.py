"""Wikidata stand-ins on loopback: a real Oxigraph server holding a few Wikidata-shaped triples about the
fixture's ids (Q1001 Alice Example, Q1002 Ruritania, Q1003 Daily Fixture) and some candidates for the
backlog, and a stub endpoint that answers 429 or never answers, recording the requests it gets."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import requests

from tests.oxigraph_server import OxigraphServer

WIKIDATA_TURTLE = """\
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <http://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

wd:Q1001 rdfs:label "Alice Example"@en ; schema:description "fictional minister"@en ; wdt:P31 wd:Q5 ;
    wdt:P569 "1970-01-02T00:00:00Z"^^xsd:dateTime ; wdt:P39 wd:Q2001 ;
    wdt:P26 wd:Q2002 ; wdt:P3373 wd:Q2003 .
wd:Q2001 rdfs:label "Minister of Examples"@en , "Ministre des exemples"@fr .
wd:Q2002 rdfs:label "Carol Example"@en ; wdt:P31 wd:Q5 .
wd:Q2003 rdfs:label "Dan Example"@en ; wdt:P31 wd:Q5 .
wd:Q1002 rdfs:label "Ruritania"@en ; wdt:P31 wd:Q6256 .
wd:Q1003 rdfs:label "Daily Fixture"@en ; wdt:P31 wd:Q11032 .

wd:Q2004 rdfs:label "Bob Sample"@en ; skos:altLabel "Robert Sample"@en ; schema:description "general of Ruritania"@en ;
    wdt:P31 wd:Q5 .
wd:Q2005 rdfs:label "Bob Sample"@en ; schema:description "rock band"@en ; wdt:P31 wd:Q215380 .
wd:Q2006 rdfs:label "Strelsau"@en ; schema:description "capital of Ruritania"@en ; wdt:P31 wd:Q515 .
wd:Q2007 rdfs:label "Mallory Script"@en ; wdt:P31 wd:Q5 .
"""


class WikidataShapedEndpoint(OxigraphServer):
    """An Oxigraph server loaded with WIKIDATA_TURTLE in its default graph."""

    def __init__(self, location: Path):
        super().__init__(location)
        response = requests.post(self.store_url + "?default", data=WIKIDATA_TURTLE.encode(),
                                 headers={"Content-Type": "text/turtle"}, timeout=10)
        response.raise_for_status()


class StubEndpoint:
    """A SPARQL endpoint on loopback that answers 429 with Retry-After (``mode="429"``; after ``refusals`` of
    them, if given, an empty result) or never answers (``mode="hang"``, until closed). ``requests`` keeps the
    method, path and headers (names in lower case) of each request."""

    def __init__(self, mode: str, retry_after: int = 30, refusals: int | None = None):
        self.requests: list[dict] = []
        self.released = threading.Event()
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.answer()

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.answer()

            def answer(self):
                stub.requests.append({"method": self.command, "path": self.path,
                                      **{name.lower(): value for name, value in self.headers.items()}})
                if mode == "hang":
                    stub.released.wait(60)
                    return
                if refusals is not None and len(stub.requests) > refusals:
                    body = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
                    self.send_response(200)
                    self.send_header("Content-Type", "application/sparql-results+json")
                else:
                    body = b"Too many requests: slow down"
                    self.send_response(429)
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                """Quiet: what matters is recorded in ``requests``."""

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
