"""The home page: counts and the head of each list, from the overview the build computed (kg.overview).

Also /favicon.ico, which browsers ask for on every page that names no icon.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, url_for

from kg import ids
from kg.release import DATA_DUMPS
from kg.vocab import SOL
from kg.void import dump_iri
from server.pages.render import made_once_per_release, render_page
from server.pages.resources import ref
from server.pages.schema_org import actor
from server.pages.stances import stances
from server.pages.timeline import latest_events
from server.release import current_release, get_manifest

bp = Blueprint("home", __name__)

COUNTED = (("actors", SOL.Actor), ("allegations", SOL.Allegation), ("asserting", SOL.Asserts),
           ("denying", SOL.Denies), ("disputing", SOL.Disputes), ("events", SOL.Event), ("sources", SOL.Source),
           ("places", SOL.Place))
ACTOR_KINDS = (("People", SOL.Person), ("Organizations", SOL.Organization), ("Groups", SOL.Group))


@bp.get("/")
def home():
    return made_once_per_release("home_page", home_page)


def home_page() -> str:
    limit = current_app.config["PAGE_SIZE"]
    manifest = get_manifest()
    overview = manifest["overview"]
    counts = {name: overview["counts"].get(term.value, 0) for name, term in COUNTED}
    actor_groups = [(heading, overview["counts"].get(kind.value, 0),
                     [{"item": ref(iri), "accusations": accusations}
                      for iri, accusations in overview["most_accused"][kind.value][:limit]])
                    for heading, kind in ACTOR_KINDS]
    allegations = overview["allegations"][:limit]
    return render_page(
        "home.html", json_ld=dataset_node(manifest), counts=counts, actor_groups=actor_groups,
        allegations=stances(allegation=allegations, order=allegations) if allegations else [],
        events=latest_events(limit),
        sources=[ref(iri) for iri in overview["sources"][:limit]])


def dataset_node(manifest: dict) -> dict:
    """The dataset as schema.org describes one, for dataset search engines: what it is, who publishes it, when it
    was last curated, under which licence, and each of its dumps (as VoID lists them). Its permanent addresses, not
    this request's host: the page is made once for every request."""
    dataset = manifest["dataset"]
    dumps = {dump.filename for dump in DATA_DUMPS}
    return {"@context": "https://schema.org", "@type": "Dataset", "@id": ids.DATASET.value, "name": dataset["title"],
            "description": dataset["description"], "license": dataset["license"], "url": ids.BASE,
            "dateModified": dataset["modified"], "version": current_release().id, "isAccessibleForFree": True,
            "publisher": actor(ref(dataset["publisher"])),
            "distribution": [{"@type": "DataDownload", "name": entry["name"], "description": entry["description"],
                              "encodingFormat": entry["media_type"], "contentUrl": dump_iri(entry["name"]).value,
                              "contentSize": f"{entry['bytes']} B"}
                             for entry in manifest["files"] if entry["name"] in dumps]}


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page that names no icon, such as a Turtle file they display."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
