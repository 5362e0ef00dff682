"""What a page gives to cite it: its permanent IRI, the dataset's version, and ready text (plain, BibTeX, CSL-JSON).

A record is cited with the sources it was taken from: each document with its date and address, where and
when the editors read the words quoted (seen_at, read_on), and the primary documents it reproduces or
reports on. The dataset's version is the build that answers: its UTC time and the hash of its manifest,
which names every file of the build by its SHA-256 (kg.release).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property

from flask import Flask, current_app
from markupsafe import Markup
from pyoxigraph import NamedNode

from kg import ids
from kg.history import date_order
from kg.page_index import PageIndex
from kg.vocab import SOL
from kg.wording import human_date
from server.pages.listing import Recent
from server.pages.lists import sections
from server.pages.record import page_index, rows, today_index
from server.pages.resources import Labels, Ref, Resource, last_segment, reading_order, ref
from server.release import current_release, get_manifest, per_process

# The attributions concerning an actor: on the allegations against them, and their own (a list pattern
# each, binding ?attribution from ?this: an engine evaluates a UNION's branches before binding ?this).
ACTOR_ATTRIBUTIONS = {
    "accused": "?allegation sol:accused ?this . ?attribution sol:allegation ?allegation .",
    "claims": "?attribution sol:claimant ?this .",
}
# For each kind of record, the list patterns that bind ?source to the documents it was taken from. An
# actor's page leaves them to the dossier (server.pages.dossier), which reads them with ACTOR_SOURCES: a
# hub is named in hundreds of attributions, and its page must stay fast.
SOURCES_OF = (
    (SOL.Attribution, {"source": "?this sol:source ?source ."}),
    (SOL.Event, {"source": "?this sol:source ?source ."}),
    (SOL.Allegation, {"attributions": "?attribution sol:allegation ?this ; sol:source ?source ."}),
    (SOL.Source, {"itself": "BIND(?this AS ?source)"}),
)
ACTOR_SOURCES = {name: pattern + " ?attribution sol:source ?source ." for name, pattern in ACTOR_ATTRIBUTIONS.items()}
# Sources a process keeps as cited, with their primary documents and what each form of citation writes of them:
# a page cites a few dozen, and those cited again cost nothing.
CITED_KEPT = 2_000
# CSL item types of our kinds of source; any other is a "document".
CSL_TYPES = {SOL.NewsReport.value: "article-newspaper", SOL.CourtRecord.value: "legal_case",
             SOL.Legislation.value: "legislation", SOL.Indictment.value: "legal_case",
             SOL.GovernmentNotice.value: "report", SOL.Analysis.value: "report",
             SOL.Letter.value: "personal_communication"}
BUILD_ID = re.compile(r"(?P<day>\d{8})T(?P<time>\d{6})\.\d+Z-(?P<hash>[0-9a-f]+)")
# What LaTeX reads as commands, written so that it prints them; braces escaped keep each field balanced.
BIBTEX_SPECIALS = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                   "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
BIBTEX_SPECIAL = re.compile("|".join(map(re.escape, BIBTEX_SPECIALS)))


def init_app(app: Flask) -> None:
    app.add_template_global(citation_of, "citation")


@dataclass(frozen=True)
class Version:
    """The build a page was read from: its id, the hash of its manifest, when it was built (UTC) and the
    curation date of its data."""

    build_id: str
    content_hash: str
    built: str | None  # 2026-11-30T16:14:59Z; None for a build of the layout before releases
    modified: str | None

    @property
    def built_day(self) -> str | None:
        return self.built and self.built[:10]


def dataset_version() -> Version:
    build_id = current_release().id
    modified = get_manifest()["dataset"].get("modified")
    match = BUILD_ID.fullmatch(build_id)
    if not match:  # unversioned-<hash>
        return Version(build_id, build_id.rpartition("-")[2], None, modified)
    day, time = match["day"], match["time"]
    built = f"{day[:4]}-{day[4:6]}-{day[6:]}T{time[:2]}:{time[2:4]}:{time[4:]}Z"
    return Version(build_id, match["hash"], built, modified)


@dataclass(frozen=True)
class Cited:
    """A document as a citation names it; ``originals`` are the primary documents it reproduces or reports on.

    What it reads as in each form of citation is written once per process and release (its cached
    properties): the sources last cited are kept per process (sources_of), and a source is cited by every page
    taken from it."""

    iri: str
    title: str
    kind: str | None
    publishers: tuple[str, ...]
    date: str | None
    url: str | None
    seen_at: str | None
    read_on: str | None
    originals: tuple[Cited, ...] = ()

    @cached_property
    def key(self) -> str:
        """Its BibTeX key and CSL id: the source's own id (``fixture-report``), as its curators named it."""
        return citation_key(last_segment(self.iri))

    @property
    def page(self) -> str:
        """Its page here."""
        return "/" + ids.local_path(self.iri)

    @property
    def web_url(self) -> str | None:
        """Its address, if it is one a browser may follow."""
        return web_address(self.url)

    @property
    def web_seen_at(self) -> str | None:
        return web_address(self.seen_at)

    @property
    def where_read(self) -> str | None:
        """Where and when the editors read it, if the record says."""
        if not self.seen_at:
            return None
        return f"Read at {self.seen_at}" + (f" on {self.read_on}" if self.read_on else "")

    @cached_property
    def plain(self) -> str:
        who = ", ".join(self.publishers) or "Unknown publisher"
        text = f"{who} ({human_date(self.date, 'n.d.')}). {self.title}."
        if self.url:
            text += f" {self.url}."
        if self.seen_at:
            text += f" Read at {self.seen_at}" + (f" on {human_date(self.read_on)}" if self.read_on else "") + "."
        return text

    @cached_property
    def bibtex(self) -> str:
        return bibtex_entry(self.key, {
            "author": " and ".join("{" + bibtex_text(name) + "}" for name in self.publishers),
            "title": "{" + bibtex_text(self.title) + "}",
            "year": (self.date or "")[:4],
            "date": self.date,
            "url": self.url and bibtex_url(self.url),
            "urldate": self.read_on,
            "note": self.where_read and bibtex_text(self.where_read),
            "related": ",".join(original.key for original in self.originals),
        })

    @cached_property
    def csl_json(self) -> str:
        return csl_item({
            "id": self.key, "type": CSL_TYPES.get(self.kind, "document"), "title": self.title,
            "author": [{"literal": name} for name in self.publishers],
            "publisher": ", ".join(self.publishers), "issued": csl_date(self.date),
            "URL": self.url, "accessed": csl_date(self.read_on),
            "note": self.where_read,
        })

    @cached_property
    def html(self) -> Markup:
        """As the "Cite" box and the dossier list it, with its primary documents (_cite_macros.html)."""
        return current_app.jinja_env.get_template("_cite_macros.html").module.cited_with_originals(self)


def sources_of(iri: str, patterns: dict[str, str], taken_from: list[str] | None = None) -> list[Cited]:
    """The documents the record ``iri`` was taken from (``patterns`` bind them to ?source from ?this), dated
    ones first in date order, each with the primary documents it reproduces or reports on. The record today
    names them (``taken_from``: read by the page already) without a query, and the build's page index the
    primary documents."""
    index = today_index()
    if index is not None and taken_from is not None:
        sources = sorted(set(taken_from))
        found = index.lists_of(sources, "originals")
        originals = {source: set(found.get(source, ())) for source in sources}
    else:
        originals = {}
        for row in rows("citation-sources", lists=sections(patterns, iri), this=iri):
            source, cited = row["source"].value, row["cited"].value
            primaries = originals.setdefault(source, set())
            if cited != source:
                primaries.add(cited)
    kept = per_process("sources as cited", lambda: Recent(CITED_KEPT))
    cited = kept.get([(source, frozenset(primaries)) for source, primaries in originals.items()], _with_originals)
    return sorted(cited, key=_date_order)


def _with_originals(keys: list[tuple[str, frozenset[str]]]) -> dict[tuple, Cited]:
    """Each source of ``keys`` (its IRI and those of its primary documents) as cited with its primary documents."""
    named = documents({document for source, originals in keys for document in (source, *originals)})

    def cited(document: str) -> Cited:
        return named.get(document) or Cited(document, ref(document).label, None, (), None, None, None, None)
    return {(source, originals): replace(cited(source), originals=tuple(sorted(map(cited, originals), key=_date_order)))
            for source, originals in keys}


def documents(iris: set[str]) -> dict[str, Cited]:
    """The sources ``iris`` as a citation names them, from the build's page index: the whole record, on a page of
    the record as of a day too (a document is cited as it is described today)."""
    described = page_index().documents(sorted(iris))
    labels = Labels()
    for document, fields in described.items():
        for named in (document, *fields.get("publisher", ())):
            labels.expect(named)
    return {document: _document(document, fields, labels) for document, fields in described.items()}


def _document(iri: str, fields: dict[str, list[str]], labels: Labels) -> Cited:
    def first(field: str) -> str | None:
        return min(fields.get(field, ()), default=None)

    kinds = sorted(set(fields.get("kind", ())) - {SOL.Source.value}, key=lambda kind: (kind not in CSL_TYPES, kind))
    publishers = sorted((labels.of(publisher) for publisher in fields.get("publisher", ())), key=reading_order)
    return Cited(iri, first("title") or labels.of(iri), kinds[0] if kinds else None, tuple(publishers),
                 first("date"), first("url"), first("seen_at"), first("read_on"))


def _date_order(item: Cited) -> tuple:
    return item.date is None, *date_order(item.date), reading_order(item.title), item.iri


def web_address(address: str | None) -> str | None:
    return address if address and address.startswith(("http://", "https://")) else None


def citation_key(text: str) -> str:
    """A BibTeX key (and CSL id): ``text``'s letters and digits, joined by hyphens."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")


@dataclass(frozen=True)
class Citation:
    """How to cite one record of the dataset: as plain text, BibTeX and CSL-JSON."""

    iri: str
    title: str
    kind: str
    dataset: str
    editors: str
    version: Version
    accessed: str
    sources: tuple[Cited, ...] | None  # None: not listed with this record (an actor's are in the dossier)

    @cached_property
    def key(self) -> str:
        """The record's BibTeX key and CSL id: ``soles-id-person-alice-example``."""
        return citation_key("soles " + self.iri.removeprefix(ids.BASE))

    @property
    def documents(self) -> list[Cited]:
        """Every source and every primary document, once each."""
        seen: dict[str, Cited] = {}
        for source in self.sources or ():
            for document in (source, *source.originals):
                seen.setdefault(document.iri, document)
        return list(seen.values())

    @property
    def note(self) -> str:
        """The build, and the keys of the sources' own entries."""
        taken_from = ". Taken from: " + ", ".join(source.key for source in self.sources) if self.sources else ""
        return f"Dataset build {self.version.build_id}{taken_from}"

    def plain(self) -> str:
        built = f", built {human_date(self.version.built_day)}" if self.version.built_day else ""
        lines = [f"{self.editors} ({(self.version.built_day or self.version.modified or 'n.d.')[:4]}). "
                 f"{self.title} [{self.kind}]. In {self.dataset}, version {self.version.content_hash}{built}. "
                 f"{self.iri} (accessed {human_date(self.accessed)})."]
        if self.sources:
            lines.append("Taken from:")
        for source in self.sources or ():
            lines.append(f"- {source.plain}")
            lines.extend(f"  Primary document: {original.plain}" for original in source.originals)
        return "\n".join(lines)

    def bibtex(self) -> str:
        record = {
            "author": "{" + bibtex_text(self.editors) + "}",
            "title": "{" + bibtex_text(self.title) + "}",
            "howpublished": bibtex_text(f"Record ({self.kind}) in {self.dataset}"),
            "version": self.version.content_hash,
            "year": (self.version.built_day or self.version.modified or "")[:4],
            "date": self.version.built_day or self.version.modified,
            "url": bibtex_url(self.iri),
            "urldate": self.accessed,
            "note": bibtex_text(self.note),
        }
        return "\n\n".join([bibtex_entry(self.key, record), *(document.bibtex for document in self.documents)])

    def csl_json(self) -> str:
        record = {
            "id": self.key, "type": "dataset", "title": self.title, "genre": self.kind,
            "author": [{"literal": self.editors}], "publisher": self.editors, "container-title": self.dataset,
            "version": self.version.content_hash, "URL": self.iri, "accessed": csl_date(self.accessed),
            "issued": csl_date(self.version.built_day or self.version.modified),
            "note": self.note,
        }
        # An item a line: short enough to read, and still one JSON array to paste.
        return "[\n" + ",\n".join([csl_item(record), *(document.csl_json for document in self.documents)]) + "\n]"


def citation_of(resource: Resource, sources: list[Cited] | None = None) -> Citation:
    """How to cite ``resource``'s record, as the page shows it (a template global): with ``sources``, or
    else those its kind of record names (None for an actor: see SOURCES_OF)."""
    if sources is None:
        kind, patterns = next(((cls, patterns) for cls, patterns in SOURCES_OF if resource.is_a(cls)), (None, None))
        index = today_index()
        sources = None if patterns is None else sources_of(
            resource.ref.iri, patterns, None if index is None else taken_from(resource, kind, index))
    kinds = resource.kinds
    return Citation(
        iri=resource.ref.iri, title=resource.ref.label, kind=kinds[0].label if kinds else "record",
        dataset=get_manifest()["dataset"].get("title") or "soles", editors=dataset_editors(),
        version=dataset_version(), accessed=datetime.now(timezone.utc).date().isoformat(),
        sources=None if sources is None else tuple(sources))


def taken_from(resource: Resource, kind: NamedNode, index: PageIndex) -> list[str]:
    """The sources the record today of ``resource`` (of the ``kind`` of SOURCES_OF it is) was taken from, as
    SOURCES_OF's patterns bind them: its own source, its attributions' (from the page index), or itself."""
    if kind == SOL.Allegation:
        entry = index.allegations([resource.ref.iri]).get(resource.ref.iri)
        return [voice.source for voice in entry.voices] if entry else []
    if kind == SOL.Source:
        return [resource.ref.iri]
    return [source.iri for source in resource.values("sol:source") if isinstance(source, Ref)]


def dataset_editors() -> str:
    """Who publishes the dataset, by name: the author of every record's citation (looked up once per process)."""
    def compute():
        publisher = get_manifest()["dataset"].get("publisher")
        return Labels().of(publisher) if publisher else "soles editors"
    return per_process("dataset editors", compute)


def bibtex_text(text: str) -> str:
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_SPECIALS[match.group()], text)


def bibtex_url(url: str) -> str:
    """An address as a BibTeX url field, which is read verbatim: only what would unbalance it is encoded."""
    return url.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D").replace(" ", "%20")


def bibtex_entry(key: str, fields: dict[str, str | None]) -> str:
    lines = [f"  {name} = {{{value}}}," for name, value in fields.items() if value]
    return "\n".join([f"@misc{{{key},", *lines, "}"])


def csl_item(fields: dict) -> str:
    """A CSL-JSON item on one line, without its empty fields."""
    return json.dumps({name: value for name, value in fields.items() if value}, ensure_ascii=False)


def csl_date(date: str | None) -> dict | None:
    """A date of any precision (2024, 2024-05, 2024-05-01) as CSL date-parts."""
    if not date or not re.fullmatch(r"\d{4}(-\d{2}){0,2}", date):
        return None
    return {"date-parts": [[int(part) for part in date.split("-")]]}
