"""An actor's FollowTheMoney entities (kg.ftm): ``/id/<kind>/<slug>.ftm.json``, the lines of ``soles.ftm.json``
that concern the actor (the actor, the relationships it is a side of, the entities they refer to), as the build
indexed them."""

from __future__ import annotations

from flask import Blueprint, Response

from kg import ftm, ids
from server.http import HTML, with_alternates
from server.pages.dereference import not_found
from server.pages.resources import Resource
from server.release import current_release

bp = Blueprint("ftm", __name__)


@bp.get(f"/id/<any({', '.join(ids.ACTOR_KINDS)}):kind>/<slug>.ftm.json")
def actor_entities(kind: str, slug: str):
    iri = f"{ids.ENTITY_BASE}{kind}/{slug}"
    with ftm.FtmIndex(current_release().path / ftm.FTM_INDEX) as index:
        found = index.lines_concerning(iri) if ids.is_slug(slug) else ""
    if not found:
        return not_found(iri)
    response = Response(found, mimetype=ftm.MEDIA_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="soles-{kind}-{slug}.ftm.json"'
    return with_alternates(response, [(HTML.media_type, f"/id/{kind}/{slug}")])


@bp.app_template_global()
def ftm_export(resource: Resource) -> str:
    """The address of an actor's FollowTheMoney entities (actor_entities), for its page to link to (a template
    global): its page's address with a suffix, as its other twins have (url_for costs more than the rest of the
    page's exports section)."""
    return f"{resource.ref.href}.ftm.json"
