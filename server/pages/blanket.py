"""Blanket statements on an actor's page: one claimant's one quote in one source that covers several allegations
("Maduro denies all allegations"), shown once with the allegations it covers rather than once per allegation
(kg.involvement says which statements are blanket).

The record today has them in the build's page index, in page order; the record as of a day groups the
attributions the page shows, read from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.involvement import Said
from kg.page_index import Lists
from server.pages.lists import Pager, sections
from server.pages.record import rows
from server.pages.resources import Ref, ref, request_labels
from server.pages.stances import Stances

# The attributions an actor's page shows with their quotes (#LISTS# of blanket-statements.rq).
SHOWN = {
    "own": "?attribution sol:claimant ?this .",
    "against": "?allegation sol:accused ?this . ?attribution sol:allegation ?allegation .",
}


@dataclass(frozen=True)
class Statement:
    """One blanket statement: who, which stance, in whose words and where, and a page of what it covers."""

    anchor: str  # its id on the page, and its list's page parameter
    claimant: Ref
    stance: Ref
    quote: str
    translation: str | None
    source: Ref
    own: bool  # made by the actor of the page
    covered: list[tuple[Ref, Ref]]  # a page of (allegation, attribution), in reading order
    pager: Pager

    @property
    def said(self) -> tuple[str, str, str, str]:
        """What each attribution it covers says: claimant, stance, quote and source (Said.statement)."""
        return self.claimant.iri, self.stance.iri, self.quote, self.source.iri


def attributions_shown(this: str) -> dict[str, Said]:
    """The attributions an actor's page shows (SHOWN), by IRI, read from the store (the record as of a day)."""
    shown = {}
    for row in rows("blanket-statements", lists=sections(SHOWN, this), this=this):
        shown[row["attribution"].value] = Said(*(value_of(row[name]) for name in (
            "attribution", "allegation", "label", "claimant", "claimantName", "stance", "quote", "translation",
            "source")))
    return shown


def value_of(term) -> str | None:
    """The IRI or text of a term of a row, None when unbound."""
    return term.value if term is not None else None


def blanket_context(statements: list[Statement]) -> dict:
    """The page's blanket statements, as the template names them: the actor's ``own_statements`` and others'
    ``statements_against`` the actor."""
    return {"own_statements": [item for item in statements if item.own],
            "statements_against": [item for item in statements if not item.own]}


def grouped_statements(this: str, blanket: list[list[Said]]) -> list[Statement]:
    """The Statements of ``blanket`` (kg.involvement.blanket_statements), each with a page of what it covers."""
    found = []
    for number, covered in enumerate(blanket, 1):
        first, anchor = covered[0], f"statement-{number}"
        pager = Pager.of(anchor, len(covered))
        found.append(Statement(anchor, ref(first.claimant), ref(first.stance), first.quote, first.translation,
                               ref(first.source), first.claimant == this,
                               [(ref(said.allegation), ref(said.attribution)) for said in pager.window(covered)],
                               pager))
    return found


def indexed_statements(this: str, about: Lists) -> list[Statement]:
    """The blanket statements of the page of ``this`` in the build's page index (``about``: its lists, see
    kg.involvement.involvement_lists), each with the page it shows of what it covers."""
    refer = request_labels().ref
    found = []
    for number, (claimant, stance, quote, translation, source, covers) in enumerate(about.whole("statements"), 1):
        anchor = f"statement-{number}"
        pager = Pager.of(anchor, covers)
        found.append(Statement(anchor, refer(claimant), refer(stance), quote, translation, refer(source),
                               claimant == this, [(refer(allegation), refer(attribution)) for allegation, attribution
                                                  in about.window(anchor, pager.start, pager.size)],
                               pager))
    return found


def mark(found: tuple[list[Stances], Pager], statements: list[Statement]) -> tuple[list[Stances], Pager]:
    """A page of allegations (paged_stances), each attribution that a blanket statement covers naming it
    (``row["statement"]``), so that the page refers to the statement instead of repeating its quote. A
    statement covers every attribution the page shows that says what it says (an attribution has one
    claimant, stance, quote and source)."""
    by_said = {statement.said: statement for statement in statements}
    for item in found[0]:
        for row in item.attributions:
            row["statement"] = by_said.get((row["claimant"].iri, row["stance"].iri, row["quote"], row["source"].iri))
    return found
