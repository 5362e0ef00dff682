"""The files of the build: the ``/downloads`` list, each file, and the VoID description.

Only files named in the manifest of the request's release are served, so no request can reach any other
path, and the list, each file, its ETag and the VoID description always come from one release.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file, url_for
from pyoxigraph import parse, serialize

from kg import formats, ids
from kg.release import VOID_DUMP
from kg.vocab import VOID
from server.http import HTML, choose, with_alternates
from server.pages.render import made_once_per_release
from server.pages.resources import Ref, compact, readable_term, reading_order
from server.release import current_release, get_manifest, per_process

bp = Blueprint("downloads", __name__)

JSON = formats.by_name("json")
JSON_MEDIA_TYPE = "application/json"  # the listing is plain JSON, whatever the JSON format's own media type
FILE_SECTIONS = ("network", "ftm")  # manifest sections with files of their own (kg.network, kg.ftm)


def _manifest_entry(filename: str) -> dict | None:
    return next((entry for entry in _all_files(get_manifest()) if entry["name"] == filename), None)


def _all_files(listing: dict) -> list[dict]:
    """The dumps and the files of every section of a manifest (or of the listing made of it)."""
    return [*listing["files"], *(entry for section in FILE_SECTIONS for entry in listing[section]["files"])]


def _human_size(size: int) -> str:
    """``43.4 kB``, with a no-break space so that a narrow table column never splits it."""
    if size < 1000:
        return f"{size}\u00a0bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f}\u00a0kB"
    return f"{size / 1_000_000:.1f}\u00a0MB"


def _listing() -> dict:
    manifest = get_manifest()

    def with_urls(entries: list[dict]) -> list[dict]:
        return [{**entry, "url": url_for("downloads.download", filename=entry["name"], _external=True)}
                for entry in entries]
    return {"dataset": manifest["dataset"], "files": with_urls(manifest["files"]),
            **{section: {**manifest[section], "files": with_urls(manifest[section]["files"])}
               for section in FILE_SECTIONS},
            "void": url_for("downloads.void_description", _external=True)}


@bp.get("/downloads")
def listing():
    if choose((HTML, JSON), HTML) == JSON:
        return listing_json()
    page = _listing()
    for entry in _all_files(page):
        entry["size"] = _human_size(entry["bytes"])
    return with_alternates(Response(render_template("downloads.html", **page)),
                           [(JSON_MEDIA_TYPE, url_for("downloads.listing_json"))])


@bp.get("/downloads.json")
def listing_json():
    return with_alternates(jsonify(_listing()), [(HTML.media_type, url_for("downloads.listing"))])


@bp.get("/downloads/<filename>")
def download(filename: str):
    entry = _manifest_entry(filename)
    if entry is None:
        abort(404, description=f"There is no file {filename!r} to download: see /downloads.")
    return send_file(current_release().path / entry["name"], mimetype=entry["media_type"],
                     as_attachment=True, download_name=entry["name"], conditional=True, etag=entry["sha256"])


@bp.get("/.well-known/void")
@bp.get("/void")  # registered first, so url_for() gives this address
def void_description():
    """The VoID description written by the build, in the RDF format the client asks for; a page for browsers."""
    fmt = choose((*formats.RDF_FORMATS, HTML), VOID_DUMP.format)
    entry = _manifest_entry(VOID_DUMP.filename)

    def data() -> bytes:
        return (current_release().path / entry["name"]).read_bytes()
    # The page and the other formats are the same for every request to a release, and a big one describes tens of
    # thousands of graphs (at a million statements, parsing and writing them took 1.5 s a request): made once per
    # process and release.
    if fmt is HTML:
        response = with_alternates(Response(made_once_per_release("void page", lambda: _void_page(data()))), [
            (twin.media_type, href) for twin, href in _void_twins()])
    elif fmt != VOID_DUMP.format:
        response = Response(per_process(f"void {fmt.name}", lambda: serialize(
            parse(data(), format=VOID_DUMP.format.rdf), format=fmt.rdf, prefixes=ids.PREFIXES)), mimetype=fmt.media_type)
    else:
        response = Response(data(), mimetype=fmt.media_type)
    response.set_etag(f"{entry['sha256']}-{fmt.name}")
    response.vary.add("Accept")
    return response.make_conditional(request)


def _void_twins() -> list[tuple[formats.Format, str]]:
    return [(fmt, url_for("downloads.void_description", format=fmt.name)) for fmt in formats.RDF_FORMATS]


def _void_page(data: bytes) -> str:
    """The VoID description as a page: the dataset's statements, then its graphs and classes as tables."""
    described: dict = {}
    for triple in parse(data, format=VOID_DUMP.format.rdf):
        described.setdefault(triple.subject, {}).setdefault(triple.predicate, []).append(triple.object)

    def values(subject, predicate) -> list:
        readable = [readable_term(term) for term in described.get(subject, {}).get(predicate, [])]
        if predicate == VOID.vocabulary:  # a namespace reads as its IRI: its last segment is empty
            readable = [Ref(namespace.iri, namespace.href, namespace.iri) for namespace in readable]
        return sorted(readable, key=reading_order)

    dataset = described.get(ids.DATASET, {})
    tabled = (VOID.subset, VOID.classPartition)
    properties = sorted((compact(predicate.value), values(ids.DATASET, predicate))
                        for predicate in dataset if predicate not in tabled)
    graphs = [{"graph": readable_term(graph), "triples": values(graph, VOID.triples),
               "entities": values(graph, VOID.entities), "dumps": values(graph, VOID.dataDump)}
              for graph in sorted(dataset.get(VOID.subset, []), key=str)]
    classes = sorted(({"class": values(partition, VOID["class"]), "entities": values(partition, VOID.entities)}
                      for partition in dataset.get(VOID.classPartition, [])),
                     key=lambda row: [reading_order(kind) for kind in row["class"]])
    return render_template("void.html", dataset=get_manifest()["dataset"], properties=properties, graphs=graphs,
                           classes=classes, twins=_void_twins(),
                           file_url=url_for("downloads.download", filename=VOID_DUMP.filename))
