"""Every allegation as the lists (/allegations, /contested) filter, count and sort them, read once per process.

For each allegation the build's page index (kg.page_index: Entry) holds what the lists need: its label, current
status (derived by the build), kinds of wrongdoing, whom it accuses, the dates of its status statements, and
each attribution (a "voice": Voice): claimant, stance, source, source date and words. It is the same for every
request, so a process reads all of it once per release (server.release.per_process), labels included, and each
request only filters, sorts and shows it: a list runs no query of its own.

The lists also share their query parameters (``sort``, ``page``) and their twins (JSON and CSV of the
whole list, in the order of the page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Callable
from urllib.parse import urlencode

from flask import Response, abort, jsonify, render_template, request
from markupsafe import Markup

from kg import formats, ids
from kg import schema as sc
from kg.page_index import Entry, Voice  # noqa: F401 -- the lists' views name them listing.Entry, listing.Voice
from kg.search import folded
from server.http import HTML, choose, csv_text, with_alternates
from server.pages.lists import Pager
from server.pages.record import page_index
from server.pages.resources import Labels, Ref, last_segment
from server.pages.stances import Stances, entry_stances
from server.release import per_process

JSON = formats.Format("json", "JSON", "application/json", "json")  # plain JSON, not SPARQL results
CSV = formats.by_name("csv")
TWIN_FORMATS = (JSON, CSV)
# The names of the ontology's statuses, kinds and stances ("charged"), and of our resources their slug,
# are the values of the lists' query parameters: short, readable links.
CONCEPT_NAMES = {concept.value: name for name, concept in (*sc.ALLEGATION_STATUSES, *sc.ALLEGATION_TYPES, *sc.STANCES)}
VIEW_ONLY = ("page", "format")  # parameters that say how to show a view, not which view it is


@dataclass
class Index:
    """Every allegation in reading order, the label of every IRI they name, and each allegation with its
    attributions as pages show them (made once per process, when first shown)."""

    entries: tuple[Entry, ...]
    labels: dict[str, str]
    made: dict[str, Stances] = field(default_factory=dict)

    def ref(self, iri: str) -> Ref:
        return Ref(iri, "/" + ids.local_path(iri), self.labels[iri])

    def stances(self, entry: Entry) -> Stances:
        """``entry`` with its attributions as pages show them, made the first time a page shows it."""
        if entry.iri not in self.made:
            missing = [voice.attribution for voice in entry.voices if voice.attribution not in self.labels]
            if missing:
                labels = Labels()
                labels.fetch(missing)
                self.labels.update(labels.known)
            self.made[entry.iri] = entry_stances(entry, self.ref)
        return self.made[entry.iri]

    @cached_property
    def contested(self) -> dict[str, list[Entry]]:
        """The contested allegations in each order they are listed in."""
        contested = [entry for entry in self.entries if entry.contested]
        return {sort: sorted_entries(contested, sort) for sort in SORTS}

    @cached_property
    def keys(self) -> dict[str, str]:
        """What stands for each IRI in a link: a concept's name, or our resource's slug (each found when first
        asked for: the lists name tens of thousands)."""
        return _Keys()


class _Keys(dict):
    def __missing__(self, iri: str) -> str:
        key = self[iri] = CONCEPT_NAMES.get(iri) or last_segment(iri)
        return key


def allegations() -> Index:
    """The index of the release this request reads (the whole record: the lists have no ``as_of``)."""
    return per_process("allegation index", _read_index)


def _read_index() -> Index:
    entries = [entry for entry in page_index().allegations().values() if entry.voices]  # those someone speaks to
    # The attributions' labels wait for a page that shows them (stances()): the lists name only the rest.
    named = {iri for entry in entries for iri in (entry.iri, entry.status, *entry.types, *entry.accused,
                                                  *(term for voice in entry.voices for term in (
                                                      voice.claimant, voice.stance, voice.source)))
             if iri} | CONCEPT_NAMES.keys()  # a filter may name a status no allegation has
    labels = Labels()
    labels.fetch(sorted(named))
    return Index(tuple(sorted(entries, key=lambda entry: (folded(entry.label), entry.iri))), labels.known)


# ---------------------------------------------------------------- parameters shared by the lists


SORTS = {  # name -> what a reader is told, the key, whether the largest comes first
    "label": ("name", lambda entry: 0, False),
    "voices": ("most voices", lambda entry: len(entry.voices), True),
    "status": ("status, in the order a case moves", lambda entry: entry.status_rank, False),
    "latest": ("latest date", lambda entry: (entry.latest is not None, entry.latest or ""), True),
}


def sorted_entries(entries: list[Entry], sort: str) -> list[Entry]:
    """``entries`` (in reading order) by ``sort``; a stable sort, so reading order breaks ties."""
    _, key, largest_first = SORTS[sort]
    return sorted(entries, key=key, reverse=largest_first)


def checked_parameters(default_sort: str, problems: list[str]) -> str:
    """The ``sort`` asked for (``default_sort`` if none); 400 for a sort, page or ``as_of`` these lists
    do not have, with the reason, and with the list's own ``problems`` with its other parameters."""
    problems = list(problems)
    sort = request.args.get("sort", default_sort)
    if sort not in SORTS:
        problems.append(f"sort: {sort!r} is not a way to sort this list; use one of {', '.join(SORTS)}")
    page = request.args.get("page", "1")
    if not (page.isascii() and page.isdigit() and 0 < len(page) <= 9 and int(page) > 0):
        problems.append(f"page: {page!r} is not a page number (1, 2, ...)")
    if "as_of" in request.args:
        problems.append("as_of: the lists show the record today; an allegation's own page shows it as of a day")
    if problems:
        abort(400, description="; ".join(problems))
    return sort


def sort_links(sort: str, default_sort: str) -> list[dict]:
    """A link for each way to sort, keeping the rest of the view (back to its first page)."""
    return [{"name": name, "label": label, "current": name == sort,
             "href": view_href(replace={"sort": None if name == default_sort else name})}
            for name, (label, _, _) in SORTS.items()]


def view_href(replace: dict[str, str | None] | None = None, path: str | None = None, **change: list[str]) -> str:
    """This view's address with parameters replaced (None: removed) or given new lists of values, on its
    first page; the parameters in a stable order, so that one view has one address."""
    replace = replace or {}
    args = [(name, value) for name, value in request.args.items(multi=True)
            if name not in replace and name not in change and name not in VIEW_ONLY]
    args += [(name, value) for name, value in replace.items() if value is not None]
    args += [(name, value) for name, values in change.items() for value in values]
    query = "&".join(_encoded(name, value) for name, value in sorted(args))  # as urlencode(sorted(args)) does
    return (path or request.path) + ("?" + query if query else "")


def views_by(name: str) -> Callable[[list[str]], str]:
    """For links to many views that differ from this one in parameter ``name`` only (a facet's values):
    a function from that parameter's values to the view's address, as view_href gives it, quicker."""
    args = sorted((arg, value) for arg, value in request.args.items(multi=True) if arg != name and arg not in VIEW_ONLY)
    before = [_encoded(arg, value) for arg, value in args if arg < name]
    after = [_encoded(arg, value) for arg, value in args if arg > name]
    path = request.path

    def href(values: list[str]) -> str:
        query = "&".join([*before, *(_encoded(name, value) for value in sorted(values)), *after])
        return path + ("?" + query if query else "")
    return href


@lru_cache(maxsize=1024)  # a page links to a hundred views that differ in one parameter: encode each once
def _encoded(name: str, value: str) -> str:
    return urlencode([(name, value)])


def absolute(item: Ref) -> str:
    """The full address of one of our pages, for the twins: data leaves this site."""
    return request.url_root.rstrip("/") + item.href


def paged_window(entries: list) -> tuple[list, Pager]:
    pager = Pager.of("page", len(entries))
    return pager.window(entries), pager


def select_options(options: list[tuple[str, str]], chosen: dict[str, str], unlisted: str = "",
                   once: str | None = None) -> Markup:
    """The options of a select, (value, label) each, those ``chosen`` (value -> label) selected, and a last
    disabled one saying ``unlisted``. With ``once`` (a name for them), ``options`` are written out once per
    process and release, as hundreds of options cost a page milliseconds, then marked per request; a chosen
    value not among them comes first."""
    if once is None:
        return _options(options, set(chosen), unlisted)
    written = per_process("select options", dict)
    if once not in written:
        written[once] = (_options(options, set(), unlisted), {value for value, _ in options})
    html, offered = written[once]
    for value in sorted(chosen.keys() & offered):
        start = Markup('<option value="{}"').format(value)
        html = html.replace(start + Markup(">"), start + Markup(" selected>"), 1)
    extra = sorted(chosen.keys() - offered)
    return _options([(value, chosen[value]) for value in extra], set(extra), "") + html if extra else html


def _options(options: list[tuple[str, str]], chosen: set[str], unlisted: str) -> Markup:
    return Markup(render_template("_select_options.html", options=options, chosen=chosen, unlisted=unlisted))


# ---------------------------------------------------------------- twins


def chosen_format(extension: str | None) -> formats.Format:
    """The format of ``/list.json`` or ``/list.csv``, or for ``/list`` the one the client asks for."""
    if extension:
        return {twin.extension: twin for twin in TWIN_FORMATS}[extension]
    fmt = choose((HTML, formats.by_name("json"), CSV), HTML)
    return JSON if fmt.name == JSON.name else fmt


def twins(stem: str) -> list[tuple[formats.Format, str]]:
    """The view's other representations (all of the list, in this order), for the page's head and footer."""
    return [(fmt, view_href(path=f"{stem}.{fmt.extension}")) for fmt in TWIN_FORMATS]


def answer(fmt: formats.Format, stem: str, html: Callable[[], str], data: Callable[[], dict],
           table: Callable[[], tuple[list[str], list[list]]]) -> Response:
    """The response in ``fmt``: the page (``html()``), ``data()`` as JSON, or ``table()`` (columns, rows)
    as CSV; each naming the others in ``Link`` headers."""
    if fmt is HTML:
        response = Response(html(), mimetype=HTML.media_type)
    elif fmt is CSV:
        response = Response(csv_text(*table()), mimetype=CSV.media_type)
    else:
        response = jsonify(data())
    alternates = [(HTML.media_type, view_href(path=stem))] + [(twin.media_type, href) for twin, href in twins(stem)]
    return with_alternates(response, alternates)

