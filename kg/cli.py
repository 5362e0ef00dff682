"""The ``kg`` command: build | validate | query | stats | serve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyoxigraph import QueryBoolean, QuerySolutions

from kg import formats
from kg.curation import DataError
from kg.remote import RemoteError
from kg.paths import DEFAULT_BUILD_DIR, DEFAULT_DATA_DIR
from kg.validate import InconsistentError
from kg.vocab import SOL

QUERY_FORMATS = ("table", "json", "xml", "csv", "tsv", "turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads")

COUNTED_CLASSES = ("Actor", "Allegation", "Attribution", "Event", "Group", "Organization", "Person", "Place", "Source")
COUNTED_STANCES = ("Asserts", "Denies")
UNLINKED = """
SELECT ?entity ?label ?class WHERE {
  VALUES ?class { sol:Person sol:Organization sol:Place }
  ?entity a ?class ; rdfs:label ?label .
  FILTER NOT EXISTS { ?entity owl:sameAs ?wikidata }
} ORDER BY ?class ?label
"""


def _print_counts(counts: dict) -> None:
    width = max(map(len, counts), default=0)
    for name, value in counts.items():
        print(f"  {name:<{width}}  {value}")


def _local_name(term) -> str:
    value = term.value
    return value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def cmd_build(args) -> int:
    from kg.pipeline import build

    manifest = build(args.data, args.out, reason=not args.no_reason, import_paths=tuple(args.imports), progress=True)
    print(f"built {manifest['quads']} quads into {Path(args.out).resolve()}")
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


def _table(result) -> str:
    if isinstance(result, QueryBoolean):
        return "yes" if bool(result) else "no"
    names = [v.value for v in result.variables]
    rows = [[str(row[name].value) if row[name] is not None else "" for name in names] for row in result]
    widths = [max([len(name)] + [len(r[i]) for r in rows]) for i, name in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths)), "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines) + f"\n({len(rows)} rows)"


def cmd_query(args) -> int:
    from kg.store import open_store, run_query, write_result

    query = sys.stdin.read() if args.query == "-" else args.query
    result = run_query(open_store(args.build), query)
    if args.format == "table" and isinstance(result, (QuerySolutions, QueryBoolean)):
        print(_table(result))
        return 0
    fmt = formats.by_name("turtle" if args.format == "table" else args.format)
    sys.stdout.buffer.write(write_result(result, fmt))
    sys.stdout.flush()
    return 0


def cmd_stats(args) -> int:
    from kg.release import read_manifest
    from kg.store import open_store, run_query

    store = open_store(args.build)
    manifest = read_manifest(args.build)
    print(f"{manifest['quads']} quads in {Path(args.build).resolve()}")
    counts = manifest["overview"]["counts"]  # counted by the build (kg.overview)
    print("entities by class:")
    _print_counts({name: counts.get(SOL[name].value, 0) for name in COUNTED_CLASSES})
    print("attributions by stance:")
    _print_counts({name: counts.get(SOL[name].value, 0) for name in COUNTED_STANCES})
    unlinked = list(run_query(store, UNLINKED))
    print(f"reconciliation backlog: {len(unlinked)} actors and places without a confirmed Wikidata id"
          " (unnamed groups excluded)")
    for row in unlinked:
        print(f"  {_local_name(row['class']):<12} {row['label'].value:<44} {row['entity'].value}")
    return 0


def cmd_load(args) -> int:
    from kg.remote import load_into

    for graph, size in load_into(args.build, args.into):
        print(f"replaced {graph} ({size} bytes)")
    return 0


def cmd_serve(args) -> int:
    from server.run import serve

    return serve(args)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="kg", description="Build, check, query and serve the soles knowledge graph.")
    sub = main.add_subparsers(dest="command", required=True)

    build = sub.add_parser("build", help="validate data/ and write dumps and the query store")
    build.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="curated data directory (default: data/)")
    build.add_argument("--out", type=Path, default=DEFAULT_BUILD_DIR, help="output directory (default: build/)")
    build.add_argument("--import", dest="imports", type=Path, action="append", default=[], metavar="FILE",
                       help="add an RDF file (N-Quads, TriG, Turtle...; .gz allowed) to the build, checked "
                            "against the shapes (repeatable)")
    build.add_argument("--no-reason", action="store_true", help="skip the HermiT consistency check")
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
    query.set_defaults(run=cmd_query)

    stats = sub.add_parser("stats", help="counts per class and the reconciliation backlog")
    stats.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    stats.set_defaults(run=cmd_stats)

    load = sub.add_parser("load", help="push a build into a remote store, one named graph at a time")
    load.add_argument("--into", required=True, metavar="URL",
                      help="the store's SPARQL 1.1 Graph Store Protocol endpoint, e.g. http://host:7878/store")
    load.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    load.set_defaults(run=cmd_load)

    serve = sub.add_parser("serve", help="serve the build over HTTP (builds first if needed)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--workers", type=int, default=2)
    serve.add_argument("--timeout", type=float, default=10.0, help="query timeout in seconds (default 10)")
    serve.add_argument("--build", type=Path, default=DEFAULT_BUILD_DIR)
    serve.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    serve.add_argument("--store", metavar="URL", default=None,
                       help="query this SPARQL 1.1 endpoint instead of the embedded store (load it with 'kg load')")
    serve.add_argument("--allow-service", action="append", default=[], metavar="URL",
                       help="an endpoint SERVICE clauses may call, e.g. https://query.wikidata.org/sparql "
                            "(repeatable; none by default)")
    serve.set_defaults(run=cmd_serve)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (InconsistentError, RemoteError, FileNotFoundError, FileExistsError, SyntaxError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
