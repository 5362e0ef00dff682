"""A page's HTML: its template with what every page shows (the dataset, the as-of day, its twins, JSON-LD).

Each kind of resource page (server.pages.actor, ...) is a PageKind: the class whose members get it, its
template, and the function that reads what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import render_template
from pyoxigraph import NamedNode

from server.pages import schema_org
from server.pages.record import as_of_day
from server.pages.resources import Resource
from server.release import get_manifest, per_process


@dataclass(frozen=True)
class PageKind:
    """A kind of resource page: members of ``cls`` get ``template``, filled with ``context(resource)``."""

    cls: NamedNode | None  # None for the page of any other resource
    template: str
    context: Callable[[Resource], dict]


def render_page(template: str, json_ld: dict | None = None, twins: list | None = None, **context) -> str:
    return render_template(template, json_ld=json_ld and schema_org.script(json_ld), twins=twins or [],
                           dataset=get_manifest()["dataset"], as_of=as_of_day(), **context)


def made_once_per_release(name: str, make: Callable[[], str]) -> str:
    """A page that is the same for every request to a release (the home page, the ontology): made once per
    process and release; with ``?as_of=`` it shows another day's record, so it is made anew."""
    return make() if as_of_day() else per_process(name, make)
