"""The ``kg`` command: build | validate | query | stats | reconcile | load | serve."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from kg.curation import DataError
from kg.paths import DEFAULT_BUILD_DIR, DEFAULT_DATA_DIR
from kg.remote import RemoteError
from kg.validate import InconsistentError
from kg.vocab import SOL
from kg.wikidata import WIKIDATA_SPARQL, WikidataError

QUERY_FORMATS = ("table", "json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads")

COUNTED_CLASSES = ("Actor", "Allegation", "Attribution", "Event", "Group", "Organization", "Person", "Place", "Source")
COUNTED_STANCES = ("Asserts", "Denies", "Disputes")
def _print_counts(counts: dict) -> None:
    width = max(map(len, counts), default=0)
    for name, value in counts.items():
        print(f"  {name:<{width}}  {value}")


def cmd_build(args) -> int:
    from kg.layout import resolve
    from kg.pipeline import build

    manifest = build(args.data, args.out, reason=not args.no_reason, import_paths=tuple(args.imports), progress=True,
                     keep=args.keep)
    print(f"built {manifest['quads']} quads into {Path(args.out).resolve()}, "
          f"published as release {resolve(args.out).id} (kept: the newest {args.keep})")
    for entry in manifest["files"]:
        print(f"  {entry['name']:<14} {entry['statements']:>8} statements {entry['bytes']:>10} bytes")
    _print_backlog(manifest["reconciliation_backlog"])
    return 0


def _print_backlog(backlog: list[dict]) -> None:
    print(f"reconciliation backlog: {len(backlog)} actors and places without a confirmed Wikidata id (unnamed groups excluded)")
    for item in backlog:
        print(f"  {item['kind']:<12} {item['id']:<36} {item['name']}  ({item['file']}:{item['line']})")


def cmd_validate(args) -> int:
    from kg.pipeline import backlog, check
    from kg.validate import check_quotes

    checked = check(args.data, reason=not args.no_reason)
    print(f"data is valid: {len(checked.quads)} quads pass the shapes"
          + ("" if args.no_reason else " and HermiT finds them consistent"))
    for spec in args.source_text:
        source_id, _, path = spec.partition("=")
        if not path:
            raise SystemExit(f"--source-text takes SOURCE_ID=FILE, got {spec!r}")
        count = check_quotes(checked.catalog, source_id, Path(path))
        print(f"all {count} quotes of {source_id} appear verbatim in {path}")
    _print_backlog(backlog(checked.catalog))
    return 0


def _table(results: dict) -> str:
    """SPARQL JSON results as a plain text table."""
    if "boolean" in results:
        return "yes" if results["boolean"] else "no"
    names = results["head"]["vars"]
    rows = [[row[name]["value"] if name in row else "" for name in names] for row in results["results"]["bindings"]]
    widths = [max([len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines) + f"\n({len(rows)} rows)"


def cmd_query(args) -> int:
    """Run the query in a confined query process, as the server does (same sandbox, memory and time limits)."""
    from kg import formats
    from server.engines.interface import QueryFailed, QueryJob
    from server.engines.local import Limits, QueryPool, QueryRunner
    from server.query_shape import GRAPH_FORMS, MalformedQuery, inspect_query

    query = sys.stdin.read() if args.query == "-" else args.query
    try:
        graph = inspect_query(query).form in GRAPH_FORMS
    except MalformedQuery:
        graph = False  # the engine will say what is wrong with it
    name = args.format
    if name == "table":
        name = "turtle" if graph else "json"
    limits = Limits(timeout=args.timeout, memory=args.max_query_memory, allowed_services=tuple(args.allow_service))
    runner = QueryRunner(args.build, QueryPool.start(1, limits))
    graphs = tuple(graph.value for graph in _graphs_as_of(args.build, args.as_of)) if args.as_of else ()
    try:
        output = b"".join(runner.run(QueryJob(query, formats.by_name(name), graphs, graphs)))
    except QueryFailed as error:
        raise QueryCommandError(str(error)) from None
    if args.format == "table" and not graph:
        print(_table(json.loads(output)))
    else:
        sys.stdout.buffer.write(output)
        sys.stdout.flush()
    return 0


def _graphs_as_of(build: Path, text: str):
    """The graphs of the record as it stood on a day (kg.history): our own query, run in-process."""
    from kg.history import graphs_as_of, parse_as_of
    from kg.store import open_store

    try:
        day = parse_as_of(text)
    except ValueError as error:
        raise QueryCommandError(f"--as-of: {error}") from None
    return graphs_as_of(open_store(build), day)


class QueryCommandError(Exception):
    """kg query could not answer: the message says why (syntax, time or memory limit, refused connection)."""


def cmd_stats(args) -> int:
    from kg.layout import read_manifest

    manifest = read_manifest(args.build)
    print(f"{manifest['quads']} quads in {Path(args.build).resolve()}")
    counts = manifest["overview"]["counts"]  # counted by the build (kg.overview)
    print("entities by class:")
    _print_counts({name: counts.get(SOL[name].value, 0) for name in COUNTED_CLASSES})
    print("attributions by stance:")
    _print_counts({name: counts.get(SOL[name].value, 0) for name in COUNTED_STANCES})
    _print_backlog(manifest["reconciliation_backlog"])  # listed by the build (kg.pipeline.backlog)
    return 0


def cmd_reconcile(args) -> int:
    """Propose Wikidata candidates for the backlog (kg.wikidata); an editor accepts them, nothing is linked here."""
    from kg import wikidata
    from kg.curation import load

    if args.contact is None and args.endpoint == WIKIDATA_SPARQL:
        raise SystemExit("error: give --contact EMAIL-OR-URL: Wikimedia's User-Agent policy asks that a "
                         "script's requests say how to reach whoever runs it")
    catalog = load(args.data)
    client = wikidata.PoliteClient(args.endpoint, args.contact or wikidata.PROJECT_URL, timeout=args.timeout,
                                   pause=args.pause)
    document = wikidata.propose(catalog, client, limit=args.limit)
    out = args.out or args.data / "proposals" / "wikidata.yaml"
    wikidata.write(document, out)
    found = sum(1 for proposal in document["proposals"] if proposal["candidates"])
    print(f"{found} of {len(document['proposals'])} backlog entries have candidates, written to {out} "
          f"({client.requests_made} requests to {args.endpoint})")
    return 0


def cmd_load(args) -> int:
    from kg.remote import load_into

    for graph, size in load_into(args.build, args.into):
        print(f"replaced {graph} ({size} bytes)")
    return 0


def cmd_serve(args) -> int:
    from kg.layout import other_format, read_manifest
    from server.run import serve

    try:
        manifest = read_manifest(args.build)
    except FileNotFoundError:
        missing = f"no build in {args.build.resolve()}"
    else:
        missing = (wrong := other_format(manifest)) and f"{args.build.resolve()} holds {wrong}"
        if missing and manifest.get("imports"):  # data/ alone would not make it again
            print(f"kg serve: {missing}, with imported files ({', '.join(manifest['imports'])}): build it again with "
                  f"kg build --out {args.build} --import FILE ...", file=sys.stderr)
            return 2
    if missing:
        print(f"{missing}: building it from {args.data.resolve()} first", flush=True)
        # In a process of its own: the build's writable store leaves engine threads and locks behind, and
        # workers forked from a process holding them crash or hang when they exit.
        built = subprocess.run([sys.executable, "-m", "kg.cli", "build", "--data", str(args.data),
                                "--out", str(args.build)])
        if built.returncode != 0:
            return built.returncode
    app_config = {"BUILD_DIR": args.build, "QUERY_TIMEOUT": args.timeout, "REMOTE_STORE": args.store,
                  "SERVICE_ALLOWLIST": tuple(args.allow_service), "MAX_QUERY_MEMORY": args.max_query_memory,
                  "QUERY_SLOTS": args.query_slots, "QUERY_SLOTS_PER_CLIENT": args.query_slots_per_client}
    return serve(app_config, args.host, args.port, args.workers)


def _memory_size(text: str) -> int:
    """``512M``, ``1G``, ``1.5GiB`` or a number of bytes."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    number, unit = text.strip().upper().removesuffix("IB").removesuffix("B"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        return int(float(number) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 512M or 1G") from None


def _add_query_limits(command: argparse.ArgumentParser, defaults: dict) -> None:
    """The limits every query runs under, in kg serve and kg query alike (kg.sandbox)."""
    command.add_argument("--allow-service", action="append", default=[], metavar="URL",
                         help="an endpoint SERVICE clauses may call, e.g. https://query.wikidata.org/sparql "
                              "(repeatable; none by default: a query process cannot open any network connection)")
    command.add_argument("--max-query-memory", type=_memory_size, default=defaults["MAX_QUERY_MEMORY"],
                         metavar="SIZE", help="memory one query may use before it is stopped "
                                              f"(default {defaults['MAX_QUERY_MEMORY'] >> 20}M)")


def parser() -> argparse.ArgumentParser:
    from server import DEFAULT_CONFIG as defaults  # the server's settings, written once

    main = argparse.ArgumentParser(prog="kg", description="Build, check, query and serve the soles knowledge graph.")
    sub = main.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="validate data/ and write dumps and the query store")
    build.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="curated data directory (default: data/)")
    build.add_argument("--out", type=Path, default=DEFAULT_BUILD_DIR, help="output directory (default: build/)")
    build.add_argument("--import", dest="imports", type=Path, action="append", default=[], metavar="FILE",
                       help="add an RDF file (N-Quads, TriG, Turtle...; .gz allowed) to the build, checked "
                            "against the shapes (repeatable)")
    build.add_argument("--no-reason", action="store_true", help="skip the HermiT consistency check")
    build.add_argument("--keep", type=int, default=3, metavar="N",
                       help="releases to keep in the output directory, the current and previous ones always "
                            "among them (default 3)")
    build.set_defaults(run=cmd_build)

    check = sub.add_parser("validate", help="run every check without writing anything")
    check.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    check.add_argument("--source-text", action="append", default=[], metavar="SOURCE_ID=FILE",
                       help="check the quotes of a source against a local copy of its text (repeatable)")
    check.add_argument("--no-reason", action="store_true", help="skip the HermiT consistency check")
    check.set_defaults(run=cmd_validate)

    query = sub.add_parser("query", help="run a SPARQL query on the build ('-' reads it from stdin)")
    query.add_argument("query")
    query.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    query.add_argument("--format", choices=QUERY_FORMATS, default="table")
    query.add_argument("--timeout", type=float, default=60.0, help="stop the query after this many seconds (default 60)")
    query.add_argument("--as-of", metavar="DATE", help="query the record as it stood on DATE (YYYY-MM-DD): only "
                                                       "the sources published by then, with the reference data")
    _add_query_limits(query, defaults)
    query.set_defaults(run=cmd_query)

    stats = sub.add_parser("stats", help="counts per class and the reconciliation backlog")
    stats.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    stats.set_defaults(run=cmd_stats)

    reconcile = sub.add_parser("reconcile", help="propose Wikidata candidates for the reconciliation backlog")
    reconcile.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    reconcile.add_argument("--endpoint", default=WIKIDATA_SPARQL, metavar="URL",
                           help="a Wikidata-shaped SPARQL endpoint (default: the Wikidata Query Service)")
    reconcile.add_argument("--out", type=Path, metavar="FILE",
                           help="where to write the proposals (default: DATA/proposals/wikidata.yaml)")
    reconcile.add_argument("--contact", metavar="EMAIL-OR-URL",
                           help="how the endpoint's operators can reach you, sent in the User-Agent")
    reconcile.add_argument("--limit", type=int, default=3, help="candidates per entity (default 3)")
    reconcile.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    reconcile.add_argument("--pause", type=float, default=1.0, help="seconds between requests (default 1)")
    reconcile.set_defaults(run=cmd_reconcile)

    load = sub.add_parser("load", help="push a build into a remote store, one named graph at a time")
    load.add_argument("--into", required=True, metavar="URL",
                      help="the store's SPARQL 1.1 Graph Store Protocol endpoint, e.g. http://host:7878/store")
    load.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    load.set_defaults(run=cmd_load)

    serve = sub.add_parser("serve", help="serve the build over HTTP (builds first if needed)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--timeout", type=float, default=defaults["QUERY_TIMEOUT"],
                       help=f"query timeout in seconds (default {defaults['QUERY_TIMEOUT']:g})")
    serve.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    serve.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    serve.add_argument("--store", metavar="URL", default=None,
                       help="query this SPARQL 1.1 endpoint instead of the embedded store (load it with 'kg load')")
    _add_query_limits(serve, defaults)
    serve.add_argument("--query-slots", type=int, default=defaults["QUERY_SLOTS"], metavar="N",
                       help=f"SPARQL queries running at once in the whole server (default {defaults['QUERY_SLOTS']})")
    serve.add_argument("--query-slots-per-client", type=int, default=defaults["QUERY_SLOTS_PER_CLIENT"], metavar="N",
                       help=f"of those, how many one client address may hold "
                            f"(default {defaults['QUERY_SLOTS_PER_CLIENT']})")
    serve.set_defaults(run=cmd_serve)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataError, InconsistentError, RemoteError, QueryCommandError, FileNotFoundError, FileExistsError,
            SyntaxError, ValueError, WikidataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
