"""``python -m bench pages``: every page kind served in-process (Flask's test client) from one build, p50 per page.

Each page is asked ``--repeat`` times after one warm-up request; the anchor is a static file served by the
same app in the same run (the cost of Flask's dispatch alone), so a noisy machine shows in both columns. The
p50 of the thread's CPU time is shown beside the wall time: on a shared machine the wall time also counts the
time the process waited for a core. ``--instructions`` adds what valgrind counts (bench.instructions).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from bench.instructions import per_request
from bench.interpreter import described
from kg.layout import resolve
from server import create_app

ANCHOR = "/static/favicon.svg"
INSTRUCTION_REPEAT = 10  # requests per counted process: a count does not vary, so few are enough
# The pages of the real data worth timing: each page kind, the hub (Nicolás Maduro) and a typical actor, the
# allegation with the most sources, the one with the longest course, the source most taken from, the event
# with the most statements, the graph of reference data, and the hub's dossier; the facet views with one value,
# two of one facet, values of several facets, and a date range.
PAGES = (
    "/",
    "/id/person/nicolas-maduro",
    "/id/person/diosdado-cabello",
    "/id/person/vladimir-padrino",
    "/id/place/venezuela",
    "/id/allegation/maduro-heads-cartel-of-the-suns",
    "/id/allegation/carvajal-and-alcala-charged",
    "/id/attribution/wsj-venezuelan-generals-cocaine-summary/cabello-and-padrino-targeted-by-us-rewards/us-government/asserts",
    "/id/source/wsj-venezuelan-generals-cocaine-summary",
    "/id/event/state-reward-offers-four-officials-2020",
    "/graph/wsj-venezuelan-generals-cocaine-summary",
    "/dossier/person/nicolas-maduro",
    "/timeline",
    "/network",
    "/contested",
    "/allegations",
    "/allegations?stance=denies",
    "/allegations?type=drug-trafficking&type=corruption",
    "/allegations?status=charged&stance=denies",
    "/allegations?stance=asserts&stance=denies",
    "/allegations?type=corruption&from=2010",
    "/search?q=maduro",
    "/search?q=fake+news",
    "/sparql",
    "/downloads",
    "/ontology",
)


def timed(client, path: str, repeat: int) -> tuple[int, float, float]:
    """The status and the median wall and CPU times in ms of ``repeat`` GETs of ``path`` (after one warm-up)."""
    with client.get(path) as response:
        status = response.status_code
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        client.get(path).close()  # a static file's response holds the file open until closed
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    return status, statistics.median(wall), statistics.median(cpu)


def measure(build: Path, paths: tuple[str, ...], repeat: int) -> list[tuple[str, int, float, float]]:
    resolve(build)  # a clear error when there is no build there, rather than a table of 500s
    client = create_app({"BUILD_DIR": build}).test_client()
    return [(path, *timed(client, path, repeat)) for path in (ANCHOR, *paths)]


def run(build: Path, extra: list[str], repeat: int, target_ms: float, instructions: bool = False) -> int:
    paths = PAGES + tuple(extra)
    rows = measure(build, paths, repeat)
    counted = per_request(build, [ANCHOR, *paths], INSTRUCTION_REPEAT, jobs=2) if instructions else {}
    anchor = rows[0][2]
    print(f"Served in-process by {described()}.\n")
    print(f"| page | status | p50 ms | x anchor | CPU p50 ms | under {target_ms:g} ms |"
          + (" M instructions | x anchor |" if counted else ""))
    print("| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if counted else ""))
    for path, status, p50, cpu in rows:
        met = "anchor" if path == ANCHOR else ("yes" if p50 < target_ms and status == 200 else "NO")
        count = (f" {counted[path]:.2f} | {counted[path] / counted[ANCHOR]:.1f} |" if counted else "")
        print(f"| `{path}` | {status} | {p50:.2f} | {p50 / anchor:.1f} | {cpu:.2f} | {met} |{count}")
    return 0 if all(status == 200 for _, status, _, _ in rows) else 1
