"""``kg build`` and ``kg validate`` end to end: data/ -> checked records -> quads -> checks -> build/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Quad

from kg import curation, release, validate, void
from kg.quads import catalog_quads


@dataclass
class Checked:
    catalog: curation.Catalog
    quads: list[Quad]


def check(data_dir: Path, reason: bool = True) -> Checked:
    """Load and check everything; raise DataError or InconsistentError on the first failing stage."""
    catalog = curation.load(data_dir)
    quads, origins = catalog_quads(catalog)
    validate.check_shapes(quads, origins)
    if reason:
        validate.check_consistency(quads)
    return Checked(catalog, quads)


def backlog(catalog: curation.Catalog) -> list[dict]:
    return [{"id": r.id, "name": r.values["name"], "kind": r.values["type"], "file": r.file, "line": r.line}
            for r in catalog.unlinked()]


def build(data_dir: Path, out_dir: Path, reason: bool = True, import_paths: tuple[Path, ...] = (),
          progress: bool = False, keep: int = release.DEFAULT_KEEP, processes: int | None = None,
          copies: bool | None = None) -> dict:
    """Check data/, add the imported RDF files, and publish the build as a new release of ``out_dir``,
    keeping its newest ``keep`` releases, its dumps and indexes written by ``processes`` processes, reading copies
    of the statements in memory if ``copies`` (see kg.release.publish). Returns the manifest.

    The curated data goes through every check (YAML, SHACL with pyshacl, HermiT); imports, which may
    hold millions of statements, are checked against the same shapes compiled to SPARQL.
    """
    def checked_data() -> tuple[list[Quad], dict]:  # run by release.publish while it reads large imports
        checked = check(data_dir, reason=reason)
        return checked.quads, {"reconciliation_backlog": backlog(checked.catalog),
                               "dataset": void.dataset_metadata(checked.catalog),
                               "imports": [Path(p).name for p in import_paths]}

    return release.publish(checked_data, out_dir, import_paths=tuple(import_paths), progress=progress, keep=keep,
                           processes=processes, copies=copies)
