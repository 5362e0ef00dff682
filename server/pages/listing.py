"""What the lists (/allegations, /contested, /timeline, /network) share: the build's list index, their query
parameters (``sort``, ``page``), the options of their forms and their twins (JSON and CSV of the whole view, in
the order of the page, sent as they are written).

The build writes what the lists read (kg.list_index: every allegation with its row, its place in each order
and its facet values; the timeline; the network) into ``lists.sqlite``; a request reads the few rows its view
shows by key and counts its facets with indexed queries, so a process holds no table of its own.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Callable
from urllib.parse import urlencode

from flask import Response, abort, render_template, request, stream_with_context
from markupsafe import Markup

from kg import formats, ids
from kg.list_index import LIST_INDEX, ListIndex
from server.http import HTML, batches, choose, csv_pieces, with_alternates
from server.pages.resources import Labels, Ref, ontology_labels
from server.release import current_release, per_process

JSON = formats.Format("json", "JSON", "application/json", "json")  # plain JSON, not SPARQL results
CSV = formats.by_name("csv")
TWIN_FORMATS = (JSON, CSV)
VIEW_ONLY = ("page", "format")  # parameters that say how to show a view, not which view it is
# A twin holds the whole view: at a million statements tens of megabytes, which made at once held hundreds of
# megabytes of objects per request and took seconds before the first byte. It is written and sent a chunk of
# items at a time, each chunk read with labels of its own that go with it.
CHUNK = 500
LABELS_KEPT = 20_000


def list_index() -> ListIndex:
    """The build's list index (kg.list_index) of this request's release: one read-only connection per thread
    and release, kept for the next requests, closed with the release when the process forgets it."""
    connections = per_process("list index connections", threading.local)
    index = getattr(connections, "index", None)
    if index is None:
        index = connections.index = ListIndex(current_release().path / LIST_INDEX)
    return index


class Recent:
    """The last ``size`` values a process made, by key (a list's rendered rows): those shown again cost nothing,
    and the memory they take stays bounded however many are shown. Shared by the process's request threads."""

    def __init__(self, size: int):
        self.size, self.lock, self.values = size, threading.Lock(), OrderedDict()

    def get(self, keys: list, make: Callable[[list], dict]) -> list:
        """The value of each of ``keys``: kept, or made by ``make(missing keys)`` (key -> value) and kept."""
        with self.lock:
            found = {key: self.values[key] for key in keys if key in self.values}
            for key in found:
                self.values.move_to_end(key)
        missing = [key for key in keys if key not in found]
        if missing:
            made = make(missing)
            found.update(made)
            with self.lock:
                self.values.update(made)
                while len(self.values) > self.size:
                    self.values.popitem(last=False)
        return [found[key] for key in keys]


def our_ref(iri: str, label: str) -> Ref:
    """One of our resources, with the label the index holds for it."""
    return Ref(iri, "/" + ids.local_path(iri), label)


# ---------------------------------------------------------------- parameters shared by the lists


SORTS = {  # name -> what a reader is told; the orders themselves are the build's (kg.list_index.ORDERS)
    "label": "name",
    "voices": "most voices",
    "status": "status, in the order a case moves",
    "latest": "latest date",
}


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
            for name, label in SORTS.items()]


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


def answer(fmt: formats.Format, stem: str, html: Callable[[], str],
           data: Callable[[], tuple[dict, dict[str, Iterable[dict]]]],
           table: Callable[[], tuple[list[str], Iterable[list]]]) -> Response:
    """The response in ``fmt``: the page (``html()``); as JSON, ``data()``: an object and the lists it ends with
    (name -> items); or as CSV, ``table()``: columns and rows. Each names the others in ``Link`` headers."""
    if fmt is HTML:
        response = Response(html(), mimetype=HTML.media_type)
    elif fmt is CSV:
        response = Response(stream_with_context(csv_pieces(*table(), rows_a_piece=CHUNK)), mimetype=CSV.media_type)
    else:
        response = json_response(*data())
    alternates = [(HTML.media_type, view_href(path=stem))] + [(twin.media_type, href) for twin, href in twins(stem)]
    return with_alternates(response, alternates)


def json_response(head: dict, lists: dict[str, Iterable[dict]]) -> Response:
    """A twin as JSON, sent as it is written (the items iterated as they are sent: read them a chunk at a time,
    ``in_chunks``): the object ``head``, then each of ``lists``, CHUNK items a piece."""
    return Response(stream_with_context(json_pieces(head, lists)), mimetype=JSON.media_type)


def json_pieces(head: dict, lists: dict[str, Iterable[dict]]) -> Iterator[str]:
    """The JSON object ``head`` with ``lists`` after its members, written a chunk of items at a time."""
    yield _compact_json(head)[:-1]  # all but its closing brace
    separator = "," if head else ""
    for name, items in lists.items():
        yield f"{separator}{_compact_json(name)}:["
        separator, between = ",", ""
        for chunk in batches(items, CHUNK):
            yield between + _compact_json(chunk)[1:-1]
            between = ","
        yield "]"
    yield "}"


def _compact_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def in_chunks(keys: list, read: Callable[[list, Labels], Iterable]) -> Iterator:
    """What ``read(chunk, labels)`` gives for each chunk of CHUNK ``keys`` in turn. The chunks share the labels
    read, up to LABELS_KEPT (the same claimants and sources recur), but not the Refs made of them, let go after
    each chunk: a request's Refs and labels would hold every one of a whole list."""
    labels = Labels(ontology_labels())
    for start in range(0, len(keys), CHUNK):
        if len(labels.known) > LABELS_KEPT:
            labels = Labels(ontology_labels())
        yield from read(keys[start:start + CHUNK], labels)
        labels.refs.clear()  # its Refs refer to it: unlinked, they go at once (as at the end of a request)
