"""``python -m bench generate | run | pages``: see bench/README.md."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.generate import check_shapes, generate


def cmd_generate(args) -> int:
    started = time.monotonic()
    summary = generate(args.triples, args.out, seed=args.seed)
    print(f"wrote {summary['triples']} quads ({summary['sources']} sources, {summary['actors']} actors, "
          f"{summary['places']} places) to {args.out} in {time.monotonic() - started:.1f} s")
    if args.check_shapes:
        conforms, report = check_shapes(args.out)
        print("the data satisfies ontology/shapes.ttl" if conforms else report)
        return 0 if conforms else 1
    return 0


def cmd_run(args) -> int:
    from bench.run import run

    return run(args)


def cmd_pages(args) -> int:
    from bench.pages import run

    return run(args.build, args.page, args.repeat, args.target_ms, args.instructions)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = main.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a synthetic soles dataset as N-Quads")
    gen.add_argument("--triples", type=int, required=True, help="about how many quads to write")
    gen.add_argument("--out", type=Path, required=True, help="the .nq file to write")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--check-shapes", action="store_true",
                     help="validate the output against ontology/shapes.ttl with pyshacl (small sizes only)")
    gen.set_defaults(run=cmd_generate)

    from bench.run import add_arguments

    bench_run = sub.add_parser("run", help="load one dataset into every system and measure them side by side")
    add_arguments(bench_run)
    bench_run.set_defaults(run=cmd_run)

    pages = sub.add_parser("pages", help="p50 of every page kind in-process, against a static file served alike")
    pages.add_argument("--build", type=Path, default=Path("build"), help="the build to serve (default: build/)")
    pages.add_argument("--page", action="append", default=[], metavar="PATH", help="another page to time (repeatable)")
    pages.add_argument("--repeat", type=int, default=50, help="requests per page after a warm-up (default 50)")
    pages.add_argument("--target-ms", type=float, default=10.0, help="the p50 each page must stay under (default 10)")
    pages.add_argument("--instructions", action="store_true",
                       help="also count each page's instructions under valgrind (minutes; exact on a busy machine)")
    pages.set_defaults(run=cmd_pages)
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
