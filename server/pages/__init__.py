"""The linked-data pages: every IRI of ours as a page for people and RDF for programs; home, search, ontology.

One blueprint per concern: ``dereference`` (a resource, whatever its kind: actor.py, allegation.py, ...),
``home``, ``search`` and ``ontology``. Pages run only their own small, bounded queries (queries/*.rq,
through record.py) on the read-only store, in-process.
"""

from __future__ import annotations

from flask import Flask

from server.pages import (
    allegation_list,
    citation,
    contested,
    dereference,
    dossier,
    fragments,
    ftm,
    home,
    network,
    ontology,
    record,
    resources,
    search,
    timeline,
    wording,
)
from server.pages.resources import link


def init_app(app: Flask) -> None:
    record.init_app(app)
    resources.init_app(app)
    wording.init_app(app)
    citation.init_app(app)
    fragments.init_app(app)
    app.add_template_global(link)
    app.add_template_global(static_href_of(app), "static_href")
    for blueprint in (home.bp, search.bp, ontology.bp, allegation_list.bp, contested.bp, network.bp, dossier.bp,
                      timeline.bp, ftm.bp, dereference.bp):
        app.register_blueprint(blueprint)


def static_href_of(app: Flask):
    """The address of one of the app's static files (``static_href("style.css")``), as url_for gives it for a
    site served at the root, as the pages' own links assume. A page links a dozen static files; url_for costs
    more than all the rest of a small page's links."""
    prefix = app.static_url_path
    return lambda filename: f"{prefix}/{filename}"
