"""Long lists on a page, a page of them at a time: the Pager, and lists of events and of other resources.

A page asks for all its lists of one kind in one query: each list is a pattern (its name -> SPARQL binding
the list's variable from ?this), and ``sections()`` joins them into the #LISTS# of the query. The record
today has them in the build's page index (kg.page_index.resource_lists), in order: a page names its lists
there (``indexed``: a list's name -> its name in the index) and reads the window it shows by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, g, request
from pyoxigraph import Literal

from kg.history import date_order
from kg.page_index import Lists
from kg.query_text import values
from kg.search import folded
from server.pages.record import rows, today_index
from server.pages.resources import Ref, Row, readable, request_labels

# Allegations a page shows with all their voices and quotes (allegation blocks), a page at a time: fewer than
# the items of a list, for a hub is accused hundreds of times and each block quotes everyone who speaks to it.
BLOCKS_PER_PAGE = 10


@dataclass(frozen=True)
class Pager:
    """Where one page of a long list sits: items ``first`` to ``last`` of ``total``, and its neighbours.

    Each list on a page has its own query parameter (``?accused=2``), so its pages turn independently.
    """

    parameter: str
    number: int
    size: int
    total: int

    @classmethod
    def of(cls, parameter: str, total: int, at_most: int | None = None) -> Pager:
        """The page asked for of a list of ``total`` items, PAGE_SIZE of them a page, or ``at_most`` if fewer."""
        size = current_app.config["PAGE_SIZE"]
        size = min(size, at_most or size)
        asked = request.args.get(parameter, "1")
        # Only a plain number of a sane length is a page number ("²" is a digit to str.isdigit).
        number = int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 9 and int(asked) > 0 else 1
        return cls(parameter, min(number, max(1, -(-total // size))), size, total)

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    def window(self, items: list) -> list:
        return items[self.start:self.start + self.size]

    @property
    def first(self) -> int:
        return min(self.start + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.start + self.size, self.total)

    @property
    def split(self) -> bool:
        return self.total > self.size

    def href(self, number: int) -> str | None:
        if not 1 <= number <= -(-self.total // self.size) or number == self.number:
            return None
        # Every value of a repeated parameter is kept (a list's filters: ?status=a&status=b).
        args = [(name, value) for name, value in request.args.items(multi=True) if name != self.parameter]
        if number > 1:
            args.append((self.parameter, str(number)))
        return request.path + ("?" + urlencode(sorted(args)) if args else "")

    @property
    def previous_href(self) -> str | None:
        return self.href(self.number - 1)

    @property
    def next_href(self) -> str | None:
        return self.href(self.number + 1)


def paged(name: str, found: tuple[list, Pager]) -> dict:
    """A page's list and its pager, as the template names them: ``name`` and ``name_pager``."""
    items, pager = found
    return {name: items, f"{name}_pager": pager}


def sections(lists: dict[str, str], this: str | None) -> str:
    """The #LISTS# of a query: the union of ``lists``' patterns, each binding ?section to its list's name.

    The query binds ?this at its head (#VALUES#), so that the engine starts from it rather than from every
    allegation or event of the graph; each branch binds it again, for the engine evaluates a UNION's
    branches before joining them with the rest.
    """
    start = values("this", [this]) + " " if this is not None else ""
    return "\n  UNION ".join(f'{{ {start}{pattern} BIND("{name}" AS ?section) }}' for name, pattern in lists.items())


def indexed_lists(this: str | None, indexed: dict[str, str] | None) -> Lists | None:
    """The lists of the page index about ``this``; None when the page reads the store (``?as_of=``) or names
    no list of the index."""
    return lists_about(this) if this is not None and indexed else None


def lists_about(iri: str) -> Lists | None:
    """The lists of the page index about ``iri`` (None with ``?as_of=``), read once per request: a page shows
    several of them, each in a section of its own."""
    index = today_index()
    if index is None:
        return None
    read = g.setdefault("lists_about", {})
    found = read.get(iri)
    if found is None:
        found = read[iri] = index.lists_about(iri)
    return found


def paged_events(lists: dict[str, str], this: str | None, indexed: dict[str, str] | None = None) -> dict[str, tuple]:
    """A page of events for each of ``lists`` (name -> pattern binding ?event), dated ones first in
    date order (a year sorts before its months): for each list, its rows and its Pager."""
    about = indexed_lists(this, indexed)
    if about is not None:
        windows = {}
        for name in lists:
            pager = Pager.of(name, about.size(indexed[name]))
            windows[name] = (about.window(indexed[name], pager.start, pager.size), pager)
        found = about.index.events({iri for shown, _ in windows.values() for iri in shown})
        labels = request_labels()
        labels.remember({iri: label for iri, (_, _, label) in found.items()})
        refer = labels.ref
        return {name: ([Row(event=refer(iri), date=found[iri][0], type=found[iri][1] and refer(found[iri][1]))
                        for iri in shown], pager) for name, (shown, pager) in windows.items()}

    def date(row) -> str | None:
        return row["date"].value if isinstance(row["date"], Literal) else None

    found: dict[str, list] = {name: [] for name in lists}
    for row in rows("event-lists", lists=sections(lists, this), this=this):
        found[row.pop("section").value].append(row)
    pages = {}
    for name, events in found.items():
        events.sort(key=lambda row: (date(row) is None, *date_order(date(row)), row["event"].value))
        pager = Pager.of(name, len(events))
        pages[name] = (readable(pager.window(events)), pager)
    return pages


def subject_iris(lists: dict[str, str], this: str | None) -> dict[str, list[str]]:
    """For each of ``lists`` (name -> pattern binding ?item), its resources in reading order, read from
    the same query, so that only the resources a page shows need their labels looked up."""
    names: dict[str, dict[str, str]] = {name: {} for name in lists}
    for row in rows("subject-lists", lists=sections(lists, this), this=this):
        iri, name, found = row["item"].value, row["name"], names[row["section"].value]
        key = folded(name.value) if isinstance(name, Literal) else folded(iri.rsplit("/", 1)[-1])
        found[iri] = min(key, found.get(iri, key))
    return {name: sorted(found, key=lambda iri: (found[iri], iri)) for name, found in names.items()}


def paged_subjects(lists: dict[str, str], this: str | None, indexed: dict[str, str] | None = None) -> dict[str, tuple]:
    """A page of resources, in reading order, for each of ``lists``: its Refs and its Pager."""
    about = indexed_lists(this, indexed)
    refer = request_labels().ref
    pages = {}
    if about is not None:
        for name in lists:
            pager = Pager.of(name, about.size(indexed[name]))
            pages[name] = ([refer(iri) for iri in about.window(indexed[name], pager.start, pager.size)], pager)
        return pages
    for name, ordered in subject_iris(lists, this).items():
        pager = Pager.of(name, len(ordered))
        pages[name] = ([refer(iri) for iri in pager.window(ordered)], pager)
    return pages


def subjects(pattern: str, this: str, indexed: str | None = None) -> list[Ref]:
    """Every resource ``pattern`` binds to ?item, in reading order: for lists that stay short. ``indexed``:
    the list's name in the page index."""
    about = indexed_lists(this, {"all": indexed}) if indexed is not None else None
    found = about.whole(indexed) if about is not None else subject_iris({"all": pattern}, this)["all"]
    refer = request_labels().ref
    return [refer(iri) for iri in found]
