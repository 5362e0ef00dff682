"""The files of the build: the ``/downloads`` list, each file, and the VoID description.

Only files named in the manifest of the request's release are served, so no request can reach any other
path, and the list, each file, its ETag and the VoID description always come from one release.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request, send_file, url_for
from pyoxigraph import parse, serialize

from kg import formats, void
from kg.release import VOID_DUMP
from server.db import current_release, get_manifest
from server.http import HTML, choose, with_alternates

bp = Blueprint("downloads", __name__)

JSON = formats.by_name("json")
JSON_MEDIA_TYPE = "application/json"  # the listing is plain JSON, whatever the JSON format's own media type


def _manifest_entry(filename: str) -> dict | None:
    return next((entry for entry in get_manifest()["files"] if entry["name"] == filename), None)


def _human_size(size: int) -> str:
    """``43.4 kB``, with a no-break space so that a narrow table column never splits it."""
    if size < 1000:
        return f"{size}\u00a0bytes"
    if size < 1_000_000:
        return f"{size / 1000:.1f}\u00a0kB"
    return f"{size / 1_000_000:.1f}\u00a0MB"


def _listing() -> dict:
    manifest = get_manifest()
    files = [{**entry, "url": url_for("downloads.download", filename=entry["name"], _external=True)}
             for entry in manifest["files"]]
    return {"dataset": manifest["dataset"], "files": files,
            "void": url_for("downloads.void_description", _external=True)}


@bp.get("/downloads")
def listing():
    if choose((HTML, JSON), HTML) == JSON:
        return listing_json()
    page = _listing()
    for entry in page["files"]:
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
    """The VoID description written by the build, in the RDF format the client asks for."""
    fmt = choose(formats.RDF_FORMATS, VOID_DUMP.format)
    entry = _manifest_entry(VOID_DUMP.filename)
    data = (current_release().path / entry["name"]).read_bytes()
    if fmt != VOID_DUMP.format:
        data = serialize(parse(data, format=VOID_DUMP.format.rdf), format=fmt.rdf, prefixes=void.PREFIXES)
    response = Response(data, mimetype=fmt.media_type)
    response.set_etag(f"{entry['sha256']}-{fmt.name}")
    response.vary.add("Accept")
    return response.make_conditional(request)
