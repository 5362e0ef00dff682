"""Blanket statements on an actor's page: one claimant's one quote in one source that covers several allegations
("Maduro denies all allegations"), shown once with the allegations it covers rather than once per allegation.

A statement is what its attributions share: claimant, stance, quote and source. It is blanket when it covers
two allegations or more of those the page shows: the actor's own statements on any allegation, and everyone's
on the allegations against the actor. The graph keeps one attribution per allegation; only the page groups them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from kg.search import folded
from server.pages.lists import BLOCKS_PER_PAGE, Pager, sections
from server.pages.record import rows
from server.pages.resources import Ref, last_segment, ref
from server.pages.stances import Involvement, Stances

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


def attributions_shown(this: str, today: Involvement | None) -> dict[str, dict]:
    """The attributions an actor's page shows (SHOWN), by IRI, with what makes their statements, as
    blanket-statements.rq gives them: from ``today`` (stances.involvement), else from the store."""
    if today is None:
        return {row["attribution"].value: row
                for row in rows("blanket-statements", lists=sections(SHOWN, this), this=this)}
    shown = {}
    for entry in today.entries.values():
        for voice in entry.voices:
            if voice.claimant == this or this in entry.accused:
                shown[voice.attribution] = {
                    "attribution": NamedNode(voice.attribution), "allegation": NamedNode(entry.iri),
                    "label": Literal(entry.label), "claimant": NamedNode(voice.claimant),
                    "claimantName": _literal(today.names.get(voice.claimant)), "stance": NamedNode(voice.stance),
                    "quote": _literal(voice.quote), "translation": _literal(voice.translation),
                    "source": NamedNode(voice.source)}
    return shown


def _literal(text: str | None) -> Literal | None:
    return Literal(text) if text is not None else None


def blanket_statements(this: str, shown: dict[str, dict]) -> dict:
    """The page's blanket statements: the actor's ``own_statements`` and others' ``statements_against`` the
    actor; and ``statement_of`` each attribution they cover. ``shown``: attributions_shown(this)."""
    blanket = sorted(_blanket(shown.values()), key=lambda found: _order(found, this))
    statements = [_statement(f"statement-{number}", found, this) for number, found in enumerate(blanket, 1)]
    return {"own_statements": [item for item in statements if item.own],
            "statements_against": [item for item in statements if not item.own],
            "statement_of": {row["attribution"].value: item for item, found in zip(statements, blanket) for row in found}}


def own_claims_window(this: str, shown: dict[str, dict], statement_of: dict[str, Statement]) -> tuple[list[str], Pager]:
    """A page of the allegations the actor asserts, denies or disputes in words of their own (page parameter
    ``claims``), in reading order: those that only a blanket statement of theirs covers are listed with it."""
    others = {row["allegation"].value: row["label"].value for iri, row in shown.items()
              if row["claimant"].value == this and iri not in statement_of}
    pager = Pager.of("claims", len(others), BLOCKS_PER_PAGE)
    return pager.window(sorted(others, key=lambda iri: (folded(others[iri]), iri))), pager


def mark(found: tuple[list[Stances], Pager], statement_of: dict[str, Statement]) -> tuple[list[Stances], Pager]:
    """A page of allegations (paged_stances), each attribution that a blanket statement covers naming it
    (``row["statement"]``), so that the page refers to the statement instead of repeating its quote."""
    for item in found[0]:
        for row in item.attributions:
            row["statement"] = statement_of.get(row["attribution"].iri)
    return found


def _blanket(shown) -> list[list[dict]]:
    """The attributions grouped by statement, for the statements that cover two allegations or more."""
    grouped: dict[tuple, list[dict]] = {}
    for row in shown:
        if row["quote"] is not None:
            key = tuple(row[name].value for name in ("claimant", "stance", "quote", "source"))
            grouped.setdefault(key, []).append(row)
    return [sorted(found, key=lambda row: (folded(row["label"].value), row["allegation"].value))
            for found in grouped.values() if len(found) > 1]  # a source has one per allegation, claimant, stance


def _order(found: list[dict], this: str) -> tuple:
    """The actor's own statements first, then by claimant, the widest first."""
    first = found[0]
    return (first["claimant"].value != this, name_key(first["claimant"], first["claimantName"]), -len(found),
            first["quote"].value)


def _statement(anchor: str, found: list[dict], this: str) -> Statement:
    first = found[0]
    pager = Pager.of(anchor, len(found))
    translation = first["translation"]
    return Statement(anchor, ref(first["claimant"].value), ref(first["stance"].value), first["quote"].value,
                     translation.value if translation is not None else None, ref(first["source"].value),
                     first["claimant"].value == this,
                     [(ref(row["allegation"].value), ref(row["attribution"].value)) for row in pager.window(found)],
                     pager)


def name_key(actor, name) -> str:
    """How an actor (an IRI term) sorts by its name (a literal, or None: its IRI's last segment)."""
    return folded(name.value if name is not None else last_segment(actor.value))
