"""One table of the formats soles reads and writes: name, media type, file extension.

Dumps, the CLI and HTTP content negotiation all look formats up here.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat


@dataclass(frozen=True)
class Format:
    name: str
    label: str
    media_type: str
    extension: str
    rdf: RdfFormat | None = None
    results: QueryResultsFormat | None = None
    aliases: tuple[str, ...] = ()


FORMATS: tuple[Format, ...] = (
    Format("turtle", "Turtle", "text/turtle", "ttl", rdf=RdfFormat.TURTLE, aliases=("application/x-turtle",)),
    Format("ntriples", "N-Triples", "application/n-triples", "nt", rdf=RdfFormat.N_TRIPLES),
    Format("jsonld", "JSON-LD", "application/ld+json", "jsonld", rdf=RdfFormat.JSON_LD),
    Format("rdfxml", "RDF/XML", "application/rdf+xml", "rdf", rdf=RdfFormat.RDF_XML, aliases=("application/xml",)),
    Format("trig", "TriG", "application/trig", "trig", rdf=RdfFormat.TRIG),
    Format("nquads", "N-Quads", "application/n-quads", "nq", rdf=RdfFormat.N_QUADS),
    Format("json", "SPARQL results JSON", "application/sparql-results+json", "srj",
           results=QueryResultsFormat.JSON, aliases=("application/json",)),
    Format("xml", "SPARQL results XML", "application/sparql-results+xml", "srx",
           results=QueryResultsFormat.XML),
    Format("csv", "CSV", "text/csv", "csv", results=QueryResultsFormat.CSV),
    Format("tsv", "TSV", "text/tab-separated-values", "tsv", results=QueryResultsFormat.TSV),
    Format("html", "HTML", "text/html", "html", aliases=("application/xhtml+xml",)),
)

RDF_FORMATS = tuple(f for f in FORMATS if f.rdf is not None)
RESULTS_FORMATS = tuple(f for f in FORMATS if f.results is not None)


def by_name(name: str) -> Format:
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(f"unknown format {name!r}; known: {', '.join(f.name for f in FORMATS)}")


def by_extension(extension: str) -> Format | None:
    extension = extension.lstrip(".").lower()
    for fmt in FORMATS:
        if fmt.extension == extension:
            return fmt
    return None


def by_media_type(media_type: str) -> Format | None:
    media_type = media_type.split(";")[0].strip().lower()
    for fmt in FORMATS:
        if media_type == fmt.media_type or media_type in fmt.aliases:
            return fmt
    return None


def rdf_format_of_path(path: str) -> Format:
    """The RDF format of a file, from its extension (``.gz`` is looked through)."""
    name = path[:-3] if path.endswith(".gz") else path
    fmt = by_extension(name.rsplit(".", 1)[-1]) if "." in name else None
    if fmt is None or fmt.rdf is None:
        known = ", ".join("." + f.extension for f in RDF_FORMATS)
        raise ValueError(f"{path}: cannot tell the RDF format from the extension (known: {known})")
    return fmt
