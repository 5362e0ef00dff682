"""Reads the curated YAML in data/ into checked records.

Every problem names the file, the line and the field, and all problems of a run are reported
together in one DataError, so a curator can fix a file in one pass. A file that cannot be read
at all (too large, not UTF-8, not YAML, not a mapping) is reported once, and the checks that
would only repeat its absence (references into it) are skipped, so that its own problem shows.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kg import ids
from kg import schema as sc

DATASET_FILE = "dataset.yaml"
ACTORS_FILE = "actors.yaml"
PLACES_FILE = "places.yaml"
WIKIDATA_FILE = "wikidata.yaml"
PERIODS_FILE = "periods.yaml"  # optional: periods the sources name in words
SOURCES_DIR = "sources"

MEBIBYTE = 1024 * 1024
# The real files are tens of kilobytes. A file far larger is a mistake (or an attack) and is
# refused before it is parsed: the pure-Python YAML parser needs seconds per MiB of ordinary YAML
# and tens of seconds per MiB of dense tokens ("[x,x,x,..."), so the limit bounds that time too.
MAX_YAML_BYTES = 1 * MEBIBYTE
# The data nests about six levels deep; the YAML composer recurses once per level, so a bound
# far above that keeps a deeply nested file from exhausting the Python stack.
MAX_YAML_NESTING = 20


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class DataError(Exception):
    """The curated data is wrong; ``problems`` says where and why, first problem first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0]
        self.file, self.line, self.field = first.file, first.line, first.field
        count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
        super().__init__(f"{count} in the data:\n" + "\n".join(f"  {p}" for p in problems))

    def __reduce__(self):
        # Made again from its problems (not its message) when a build's process sends it to another.
        return type(self), (self.problems,)


class _Unreadable(Exception):
    """A file that cannot be read or parsed at all: ``problem`` says why, and nothing in it is checked."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


class _RefusedYAML(yaml.MarkedYAMLError):
    """Valid YAML that curated data does not use: anchors, deep nesting, keys that are not text."""


class LineMap(dict):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int
    lines: dict


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records lines, leaves dates as written, and refuses duplicate keys,
    anchors and aliases, nesting deeper than MAX_YAML_NESTING and keys that are not text."""

    def __init__(self, stream):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        # The data never needs anchors. Refusing them outright stops an alias bomb ("billion
        # laughs") at its first anchor, before anything is expanded.
        if event.anchor is not None:
            raise _RefusedYAML(problem="YAML anchors and aliases (&name, *name) are not allowed; write the value out",
                               problem_mark=event.start_mark)
        if self.depth >= MAX_YAML_NESTING:
            raise _RefusedYAML(problem=f"nested more than {MAX_YAML_NESTING} levels deep",
                               problem_mark=event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except ValueError as error:  # e.g. an integer with more digits than Python converts
            raise _RefusedYAML(problem=f"cannot read this value: {error}", problem_mark=node.start_mark) from None


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineMap:
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise _RefusedYAML(problem="a field name must be plain text, not a list or mapping",
                               problem_mark=key_node.start_mark)
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            raise _RefusedYAML(problem=f"a field name must be text, but {key_node.value!r} reads as "
                                       f"{type(key).__name__}", problem_mark=key_node.start_mark)
        if key in mapping:
            raise yaml.MarkedYAMLError(problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_text(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    """Text as written; YAML refuses control characters written raw, and so do we when escaped."""
    text = loader.construct_scalar(node)
    unprintable = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if unprintable:
        raise _RefusedYAML(problem=f"holds the character U+{ord(unprintable.group()):04X}, a control character or "
                                   "half of a surrogate pair, which curated text may not contain",
                           problem_mark=node.start_mark)
    return text


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:str", _construct_text)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)


def _read_text(path: Path, name: str) -> str:
    """The file as text, refused if it is missing, unreadable, over MAX_YAML_BYTES or not UTF-8."""
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size > MAX_YAML_BYTES:
                raise _Unreadable(Problem(name, None, "(file)",
                                          f"is {size:,} bytes, over the limit of {MAX_YAML_BYTES:,} bytes "
                                          f"({MAX_YAML_BYTES // MEBIBYTE} MiB) for a curated YAML file; "
                                          "it was not read"))
            data = stream.read()
    except FileNotFoundError:
        raise _Unreadable(Problem(name, None, "(file)", "file is missing")) from None
    except OSError as error:
        raise _Unreadable(Problem(name, None, "(file)", f"cannot be read: {error.strerror or error}")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - line_start + 1
        raise _Unreadable(Problem(name, line, "(encoding)", f"is not UTF-8 text: byte {data[error.start]:#04x} at "
                                                            f"column {column} (byte offset {error.start}): "
                                                            f"{error.reason}")) from None


def _parse_yaml(text: str, name: str):
    try:
        return yaml.load(text, Loader=_LineLoader)
    except _RefusedYAML as error:
        raise _Unreadable(Problem(name, error.problem_mark.line + 1, "(yaml)", error.problem)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = ", ".join(part for part in (error.context, error.problem) if part)
        raise _Unreadable(Problem(name, mark.line + 1 if mark else None, "(syntax)",
                                  f"YAML syntax error: {reason}")) from None
    except yaml.reader.ReaderError as error:
        raise _Unreadable(Problem(name, text.count("\n", 0, error.position) + 1, "(syntax)",
                                  f"YAML syntax error: character U+{error.character:04X} is not allowed "
                                  f"({error.reason})")) from None


def _describe(value) -> str:
    if value is None:
        return "an empty document"
    return "a list" if isinstance(value, list) else "a single value"


@dataclass
class Record:
    """One checked YAML mapping: parsed values, and where each came from."""

    schema: sc.Schema
    values: dict[str, Any]
    file: str
    line: int
    lines: dict[str, int]
    path: str

    @property
    def id(self) -> str:
        return self.values["id"]

    def get(self, name: str, default=None):
        return self.values.get(name, default)

    def many(self, name: str) -> list:
        return self.values.get(name, [])

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)

    def field_path(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name


@dataclass
class SourceFile:
    """One file of data/sources/: a source, its curation, and what was taken from it."""

    file: str
    source: Record
    curation: Record
    allegations: list[Record]
    events: list[Record]
    attributions: list[tuple[str, Record]]  # (allegation id, attribution), nested ones included
    status_changes: list[Record] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.source.id


@dataclass
class Catalog:
    """Everything in data/, checked and cross-referenced."""

    dataset: Record
    actors: dict[str, Record]
    places: dict[str, Record]
    wikidata: dict[str, Record]
    sources: dict[str, SourceFile]
    periods: dict[str, Record] = field(default_factory=dict)
    allegations: dict[str, tuple[Record, SourceFile]] = field(default_factory=dict)
    events: dict[str, tuple[Record, SourceFile]] = field(default_factory=dict)
    statuses: dict[str, tuple[Record, SourceFile]] = field(default_factory=dict)

    def unlinked(self) -> list[Record]:
        """Named actors and places with no confirmed Wikidata id: the reconciliation backlog.

        Unnamed groups ("U.S. officials") have no Wikidata item to find, so they are not in it.
        """
        records = [r for r in self.actors.values() if r.values["type"] != "group"] + list(self.places.values())
        return sorted((r for r in records if not r.get("wikidata")), key=lambda r: r.id)


class _Reader:
    """Collects problems while reading, so every one is reported at once."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.problems: list[Problem] = []

    def problem(self, file: str, line: int | None, field_name: str, message: str) -> None:
        self.problems.append(Problem(file, line, field_name, message))

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.data_dir.parent))
        except ValueError:
            return str(path)

    def read_file(self, schema: sc.Schema, path: Path) -> Record | None:
        """The whole file checked against its schema, or None (with the problem noted) if it cannot be read."""
        name = self.relative(path)
        try:
            data = _parse_yaml(_read_text(path, name), name)
        except _Unreadable as unreadable:
            self.problems.append(unreadable.problem)
            return None
        if not isinstance(data, LineMap):
            self.problem(name, 1, "(file)", f"must hold a mapping of fields at the top level "
                                            f"({schema.help or schema.name}), not {_describe(data)}")
            return None
        return self.record(schema, data, name, data.line, "")

    def listed(self, schema: sc.Schema, path: Path, key: str) -> list[Record] | None:
        """The records of a file holding one top-level list, or None if that list could not be read."""
        whole = self.read_file(schema, path)
        return whole.values.get(key) if whole is not None else None

    def record(self, schema: sc.Schema, raw, file: str, line: int, path: str) -> Record | None:
        if not isinstance(raw, LineMap):
            self.problem(file, line, path or schema.name, f"must be a mapping of fields ({schema.help or schema.name})")
            return None
        values: dict[str, Any] = {}
        for key in raw:
            if key not in schema.by_name:
                self.problem(file, raw.lines[key], _join(path, key), _unknown_field(key, schema))
        for spec in schema.fields:
            field_path = _join(path, spec.name)
            if spec.name not in raw or raw[spec.name] is None or raw[spec.name] == []:
                if spec.required:
                    self.problem(file, raw.line, field_path, "is required" + (f" ({spec.help})" if spec.help else ""))
                continue
            value_line = raw.lines[spec.name]
            value = self.field_value(spec, raw[spec.name], file, value_line, field_path)
            if value is not None:
                values[spec.name] = value
        return Record(schema, values, file, raw.line, dict(raw.lines), path)

    def field_value(self, spec: sc.Field, raw, file: str, line: int, path: str):
        if spec.many:
            if not isinstance(raw, list):
                self.problem(file, line, path, "must be a list (write each item on a line starting with '- ')")
                return None
            items = [self.single_value(spec, item, file, _item_line(item, line), f"{path}[{i}]")
                     for i, item in enumerate(raw)]
            return [item for item in items if item is not None]
        return self.single_value(spec, raw, file, line, path)

    def single_value(self, spec: sc.Field, raw, file: str, line: int, path: str):
        if isinstance(spec.kind, sc.Nested):
            return self.record(sc.SCHEMAS[spec.kind.schema], raw, file, _item_line(raw, line), path)
        if isinstance(raw, (dict, list)):
            self.problem(file, line, path, "must be a single value, not a list or mapping")
            return None
        try:
            return spec.kind.parse(raw)
        except ValueError as error:
            self.problem(file, line, path, str(error))
            return None

    def registry(self, records, what: str, key=lambda r: r.get("id")) -> dict:
        table: dict = {}
        for record in records:
            name = key(record)
            if name is None:  # the id is missing or malformed, which is already reported
                continue
            if name in table:
                first = table[name]
                first = first[0] if isinstance(first, tuple) else first
                self.problem(record.file, record.line_of("id"), record.field_path("id"),
                             f"duplicate {what} id {name!r}, first defined at {first.file}:{first.line_of('id')}")
                continue
            table[name] = record
        return table

    def source_file(self, path: Path) -> SourceFile | None:
        whole = self.read_file(sc.SOURCE_FILE, path)
        if whole is None or "source" not in whole.values or "curation" not in whole.values:
            return None
        name = whole.file
        source = whole.values["source"]
        if source.get("id") and source.id != path.stem:
            self.problem(name, source.line_of("id"), source.field_path("id"),
                         f"the source id {source.id!r} must match the file name {path.stem!r}")
        attributions = []
        for allegation in whole.many("allegations"):
            for attribution in allegation.many("attributions"):
                if attribution.get("allegation"):
                    self.problem(name, attribution.line_of("allegation"), attribution.field_path("allegation"),
                                 "an attribution listed under an allegation must not name another allegation")
                elif allegation.get("id"):
                    attributions.append((allegation.id, attribution))
        for attribution in whole.many("attributions"):
            if not attribution.get("allegation"):
                self.problem(name, attribution.line, attribution.field_path("allegation"),
                             "is required for an attribution listed outside an allegation")
            else:
                attributions.append((attribution.values["allegation"], attribution))
        return SourceFile(name, source, whole.values["curation"], whole.many("allegations"),
                          whole.many("events"), attributions, whole.many("status_changes"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _unknown_field(name: str, schema: sc.Schema) -> str:
    close = difflib.get_close_matches(name, schema.by_name, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field; {hint}known fields: {', '.join(schema.by_name)}"


def _item_line(item, fallback: int) -> int:
    return item.line if isinstance(item, LineMap) else fallback


def _walk(record: Record):
    """The record and every record nested in it."""
    yield record
    for value in record.values.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Record):
                yield from _walk(item)


def load(data_dir: Path) -> Catalog:
    """Read and check all of data/; raise DataError naming every problem found."""
    data_dir = Path(data_dir).resolve()
    reader = _Reader(data_dir)
    if not data_dir.is_dir():
        raise DataError([Problem(str(data_dir), None, "(directory)",
                                 "data directory does not exist: give the curated data with --data DIR (a folder "
                                 "holding dataset.yaml, actors.yaml, places.yaml, wikidata.yaml and sources/)")])

    dataset = reader.read_file(sc.DATASET, data_dir / DATASET_FILE)
    actor_list = reader.listed(sc.ACTOR_LIST, data_dir / ACTORS_FILE, "actors")
    place_list = reader.listed(sc.PLACE_LIST, data_dir / PLACES_FILE, "places")
    wikidata_list = reader.listed(sc.WIKIDATA_LIST, data_dir / WIKIDATA_FILE, "verified")
    period_list = (reader.listed(sc.PERIOD_LIST, data_dir / PERIODS_FILE, "periods")
                   if (data_dir / PERIODS_FILE).exists() else [])
    actors = reader.registry(actor_list or [], "actor")
    places = reader.registry(place_list or [], "place")
    wikidata = reader.registry(wikidata_list or [], "Wikidata", key=lambda r: r.get("qid"))
    source_paths = sorted((data_dir / SOURCES_DIR).glob("*.yaml"))
    if not source_paths:
        reader.problem(reader.relative(data_dir / SOURCES_DIR), None, "(directory)", "holds no source files")
    read_sources = [reader.source_file(path) for path in source_paths]
    source_files = [sf for sf in read_sources if sf is not None]
    # Registries whose file could not be read: a reference into one is not checked, since every
    # such reference would be reported as unknown and bury the one problem that matters.
    unread = {registry for registry, found in (("actor", actor_list), ("place", place_list),
                                               ("wikidata", wikidata_list), ("period", period_list)) if found is None}
    if None in read_sources:
        unread |= {"source", "allegation", "event", "status"}
    sources = {}
    for sf in source_files:
        if sf.source.get("id"):
            sources.setdefault(sf.id, sf)
    reader.registry([sf.source for sf in source_files], "source")

    periods = reader.registry(period_list or [], "period")
    catalog = Catalog(dataset, actors, places, wikidata, sources, periods)
    allegation_records = [(a, sf) for sf in source_files for a in sf.allegations]
    event_records = [(e, sf) for sf in source_files for e in sf.events]
    status_records = [(c, sf) for sf in source_files for c in sf.status_changes]
    reader.registry([a for a, _ in allegation_records], "allegation")
    reader.registry([e for e, _ in event_records], "event")
    reader.registry([c for c, _ in status_records], "status change")
    for record, sf in status_records:
        if record.get("id"):
            catalog.statuses.setdefault(record.id, (record, sf))
    for record, sf in allegation_records:
        if record.get("id"):
            catalog.allegations.setdefault(record.id, (record, sf))
    for record, sf in event_records:
        if record.get("id"):
            catalog.events.setdefault(record.id, (record, sf))

    _check_references(reader, catalog, source_files, unread)
    _check_wikidata(reader, catalog, unread)
    _check_sources(reader, catalog)
    _check_attributions(reader, catalog, source_files, unread)
    _check_dates_and_corrections(reader, catalog)
    if reader.problems:
        raise DataError(reader.problems)
    return catalog


def _check_references(reader: _Reader, catalog: Catalog, source_files: list[SourceFile], unread: set[str]) -> None:
    registries = {
        "actor": catalog.actors,
        "place": catalog.places,
        "source": catalog.sources,
        "allegation": catalog.allegations,
        "event": catalog.events,
        "period": catalog.periods,
        "status": catalog.statuses,
    }
    roots = list(catalog.actors.values()) + list(catalog.places.values())
    roots += [catalog.dataset] if catalog.dataset else []
    roots += [sf.source for sf in source_files] + [sf.curation for sf in source_files]
    roots += [r for sf in source_files for r in sf.allegations + sf.events + sf.status_changes]
    roots += list(catalog.periods.values()) + list(catalog.wikidata.values())
    roots += [a for sf in source_files for _, a in sf.attributions if a.get("allegation")]
    for root in roots:
        for record in _walk(root):
            for spec in record.schema.fields:
                if (not isinstance(spec.kind, sc.Ref) or spec.name not in record.values
                        or spec.kind.registry in unread):
                    continue
                value = record.values[spec.name]
                for i, slug in enumerate(value if spec.many else [value]):
                    if slug not in registries[spec.kind.registry]:
                        path = record.field_path(spec.name) + (f"[{i}]" if spec.many else "")
                        reader.problem(record.file, record.line_of(spec.name), path,
                                       f"unknown {spec.kind.registry} {slug!r}")


def _check_wikidata(reader: _Reader, catalog: Catalog, unread: set[str]) -> None:
    for entry in catalog.wikidata.values():
        given = [name for name in sc.ACCEPTANCE_FIELDS if entry.get(name) is not None]
        if given and len(given) < len(sc.ACCEPTANCE_FIELDS):
            missing = [name for name in sc.ACCEPTANCE_FIELDS if name not in given]
            reader.problem(entry.file, entry.line_of(given[0]), entry.field_path(missing[0]),
                           f"an accepted match says who accepted it, when and on what evidence: "
                           f"{', '.join(given)} given without {', '.join(missing)}")
    linked: dict[str, Record] = {}
    for record in list(catalog.actors.values()) + list(catalog.places.values()):
        qid = record.get("wikidata")
        if qid is None:
            continue
        where = (record.file, record.line_of("wikidata"), record.field_path("wikidata"))
        if qid not in catalog.wikidata and "wikidata" not in unread:
            reader.problem(*where, f"{qid} is not in the verified list data/{WIKIDATA_FILE}; "
                                   "leave the link out until it is checked")
        elif qid in linked:
            reader.problem(*where, f"{qid} is already the link of {linked[qid].id!r}")
        linked[qid] = record


def _quotes(sf: SourceFile) -> list[Record]:
    """The records of a source file that carry words quoted from it."""
    return [r for r in [a for _, a in sf.attributions] + sf.events + sf.status_changes if r.get("quote")]


def _check_sources(reader: _Reader, catalog: Catalog) -> None:
    for sf in catalog.sources.values():
        source = sf.source
        if sf.id in ids.RESERVED_GRAPH_NAMES:
            reader.problem(source.file, source.line_of("id"), source.field_path("id"),
                           f"{sf.id!r} is the name of a graph the build makes itself: choose another id")
        if _quotes(sf) and source.get("type") != "summary":
            # Where the words were read is what lets a reader check them; the summary is the one text
            # the editors were handed rather than found, and says so in its access note.
            for name in ("seen_at", "read_on"):
                if not source.get(name):
                    reader.problem(source.file, source.line, source.field_path(name),
                                   "is required for a source that is quoted: where and when the quotes were read")
        if source.get("reproduces") and source.get("reproduces") == sf.id:
            reader.problem(source.file, source.line_of("reproduces"), source.field_path("reproduces"),
                           "a source cannot reproduce itself")
        if source.get("type") == "summary":
            if not source.get("summarizes"):
                reader.problem(source.file, source.line, source.field_path("summarizes"),
                               "a summary must name the source it summarizes")
            continue
        if not source.get("publisher"):
            reader.problem(source.file, source.line, source.field_path("publisher"),
                           "is required (only a summary may lack it, and must then name what it summarizes)")
        if not source.get("url") and (_quotes(sf) or not source.get("access_note")):
            # A document known only from a reprint or report may have no known address: it is then never
            # quoted, and its access note must say so. Inventing an address is worse than having none.
            reader.problem(source.file, source.line, source.field_path("url"),
                           "is required, unless the source is not quoted and its access_note says why no "
                           "address is known")


def _check_attributions(reader: _Reader, catalog: Catalog, source_files: list[SourceFile], unread: set[str]) -> None:
    asserted: set[str] = set()
    seen: dict[tuple, Record] = {}
    for sf in source_files:
        for allegation_id, attribution in sf.attributions:
            key = (sf.file, allegation_id, attribution.get("claimant"), attribution.get("stance"))
            if key in seen:
                first = seen[key]
                reader.problem(attribution.file, attribution.line, attribution.field_path("claimant"),
                               f"duplicate attribution: {key[2]!r} already {key[3]} this allegation "
                               f"in this source at line {first.line}; merge the two")
            seen[key] = attribution
            if attribution.get("stance") == "asserts":
                asserted.add(allegation_id)
            if sf.source.get("language", "en") != "en" and not attribution.get("translation"):
                reader.problem(attribution.file, attribution.line, attribution.field_path("translation"),
                               f"is required: the quote is in {sf.source.get('language')!r}; give our English "
                               "rendering beside it")
    if "allegation" in unread:  # the asserting attribution may be in the source file that could not be read
        return
    for allegation_id, (record, _) in catalog.allegations.items():
        if allegation_id not in asserted:
            reader.problem(record.file, record.line_of("attributions"), record.field_path("attributions"),
                           "an allegation needs at least one attribution whose stance is 'asserts'")


def _check_dates_and_corrections(reader: _Reader, catalog: Catalog) -> None:
    """Every event is dated or says why not; a correction names what it corrects and why."""
    for record, _ in catalog.events.values():
        if not any(name in record.lines for name in ("date", "start_date", "undated_reason")):  # a bad one is reported
            reader.problem(record.file, record.line, record.field_path("date"),
                           "an event needs a date (or start_date), or an undated_reason saying why none is known")
    for record, _ in catalog.statuses.values():
        superseded, reason = record.get("supersedes"), record.get("correction_reason")
        if bool(superseded) != bool(reason):
            missing = "correction_reason" if superseded else "supersedes"
            reader.problem(record.file, record.line, record.field_path(missing),
                           "supersedes and correction_reason go together: name the record found wrong and why")
        if superseded and superseded == record.get("id"):
            reader.problem(record.file, record.line_of("supersedes"), record.field_path("supersedes"),
                           "a status statement cannot supersede itself")
