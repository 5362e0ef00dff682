"""What the page of an actor (or a place) shows of the allegations that name it, each list in the order the page
shows it: the allegations that accuse or involve it (or are about it as a place), the blanket statements among
the attributions the page shows, the allegations it speaks to in words of its own, and its counterparts with
how many allegations each.

A hub is named by thousands of allegations: the build works these lists out once (``involvement_lists``) and
writes them into the page index (kg.page_index), so that a page reads only the window it shows. A page of the
record as of a day works them out from the store's rows, with the same functions (server.pages.blanket,
server.pages.counterparts). An allegation here is one of the page index (kg.page_index.Entry, which imports
this module to write the lists: named only in words here).

A blanket statement is one claimant's one quote in one source that covers several allegations ("Maduro denies
all allegations"): the attributions that share claimant, stance, quote and source, when they cover two
allegations or more of those the page shows (the actor's own statements on any allegation, and everyone's on
the allegations against the actor). The graph keeps one attribution per allegation; only the page groups them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from kg import ids
from kg.schema import STANCES
from kg.search import folded

STANCE_NAMES = {stance.value: name for name, stance in STANCES}  # sol:Denies -> "denies"


class Said(NamedTuple):
    """One attribution an actor's page shows, with what makes its statement and the allegation it is about."""

    attribution: str
    allegation: str
    label: str  # the allegation's
    claimant: str
    claimant_name: str | None  # the claimant's first rdfs:label, which orders claimants
    stance: str
    quote: str | None
    translation: str | None
    source: str

    @property
    def statement(self) -> tuple[str, str, str | None, str]:
        """What one statement's attributions share: claimant, stance, quote and source."""
        return self.claimant, self.stance, self.quote, self.source


def name_key(actor: str, name: str | None) -> str:
    """How an actor sorts by its name (its first rdfs:label; None: its IRI's last segment)."""
    return folded(name if name is not None else ids.last_segment(actor))


def reading_order(label: str, iri: str) -> tuple[str, str]:
    """How an allegation sorts in a list: by its label without case or accents, then by its IRI."""
    return folded(label), iri


def reading_positions(entries: Iterable) -> dict[str, int]:
    """Each allegation's place among ``entries`` in reading order (reading_order): a key that sorts as it does,
    each label folded once."""
    in_order = sorted(entries, key=lambda entry: reading_order(entry.label, entry.iri))
    return {entry.iri: number for number, entry in enumerate(in_order)}


def said_order(said: Said) -> tuple[str, str]:
    """The reading order of the allegation an attribution is about."""
    return reading_order(said.label, said.allegation)


def said_in(entry, names: dict[str, str]) -> tuple[Said, ...]:
    """The attributions of an allegation of the page index as Said; ``names``: each claimant's name."""
    return tuple(Said(voice.attribution, entry.iri, entry.label, voice.claimant, names.get(voice.claimant),
                      voice.stance, voice.quote, voice.translation, voice.source) for voice in entry.voices)


def attributions_shown(this: str, entries: Iterable, said: dict[str, tuple[Said, ...]]) -> dict[str, Said]:
    """The attributions the page of ``this`` shows, by IRI: its own, and everyone's on the allegations against
    it, among ``entries`` (the allegations naming it, in IRI order); ``said``: each one's attributions (said_in)."""
    shown = {}
    for entry in entries:
        against = this in entry.accused
        for found in said[entry.iri]:
            if against or found.claimant == this:
                shown[found.attribution] = found
    return shown


def blanket_statements(this: str, shown: Iterable[Said], order: Callable[[Said], Any] = said_order) -> list[list[Said]]:
    """The blanket statements among ``shown``, each its attributions in reading order of their allegations
    (``order``: said_order, or a key that sorts as it does): the actor's own first, then by claimant, the
    widest first."""
    grouped: dict[tuple, list[Said]] = {}
    for said in shown:
        if said.quote is not None:
            grouped.setdefault(said.statement, []).append(said)
    blanket = [sorted(found, key=order) for found in grouped.values() if len(found) > 1]  # a source has one per allegation, claimant, stance
    return sorted(blanket, key=lambda found: (found[0].claimant != this,
                                              name_key(found[0].claimant, found[0].claimant_name),
                                              -len(found), found[0].quote))


def own_claims(this: str, shown: Iterable[Said], blanket: list[list[Said]],
               order: Callable[[Said], Any] = said_order) -> list[str]:
    """The allegations ``this`` asserts, denies or disputes in words of their own, in reading order (``order``,
    as for blanket_statements): those that only a blanket statement of theirs covers are listed with it."""
    covered = {said.attribution for found in blanket for said in found}
    claimed = {said.allegation: said for said in shown if said.claimant == this and said.attribution not in covered}
    return sorted(claimed, key=lambda iri: order(claimed[iri]))


def voices(this: str, shown: Iterable[Said]) -> dict[str, dict[str, int]]:
    """Who else takes a stance on the allegations against ``this`` (all of ``shown`` by others is on one of
    them): claimant -> stance name -> how many allegations."""
    found: dict[str, dict[str, set[str]]] = {}
    for said in shown:
        if said.claimant != this:
            found.setdefault(said.claimant, {}).setdefault(STANCE_NAMES[said.stance], set()).add(said.allegation)
    return {actor: {stance: len(allegations) for stance, allegations in by_stance.items()}
            for actor, by_stance in found.items()}


def ranked(counted: Iterable[tuple[str, dict[str, int]]], keys: dict[str, str]) -> list[tuple[str, dict[str, int]]]:
    """Counterparts (actor, its counts), the most allegations first, then by ``keys`` (actor -> name_key)."""
    return sorted(counted, key=lambda item: (-sum(item[1].values()), keys[item[0]], item[0]))


def counterparts(this: str, entries: Iterable) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Who is accused with ``this`` (actor -> {"shared": n}) and who is accused in the allegations ``this``
    takes a stance on (actor -> stance name -> n), counted in ``entries``, the allegations naming it."""
    shared: dict[str, set[str]] = {}
    concerned: dict[str, dict[str, set[str]]] = {}
    for entry in entries:
        others = [actor for actor in entry.accused if actor != this]
        if len(others) < len(entry.accused):
            for actor in others:
                shared.setdefault(actor, set()).add(entry.iri)
        for voice in entry.voices:
            if voice.claimant == this and others:
                stance = STANCE_NAMES[voice.stance]
                for actor in others:
                    concerned.setdefault(actor, {}).setdefault(stance, set()).add(entry.iri)
    return ({actor: {"shared": len(found)} for actor, found in shared.items()},
            {actor: {stance: len(found) for stance, found in by_stance.items()}
             for actor, by_stance in concerned.items()})


# The lists of an actor or place (involvement_lists) that name allegations, by the column of Entry that names it.
ALLEGATION_LISTS = {"accused": "accused", "involved": "involves", "at": "places"}


def involvement_lists(entries: list, names: dict[str, str], positions: dict[str, int],
                      labels: dict[str, str]) -> dict[str, dict[str, list]]:
    """The lists of every actor or place that allegations name (``entries``: every allegation, in IRI order;
    ``names``: each actor's name; ``positions``: reading_positions of ``entries``; ``labels``: each IRI's label as
    pages show it, if it has one), by its IRI then the list's name, each in page order; only lists with items,
    only IRIs with lists:

    - "accused", "involved", "at": the allegations that accuse it, involve it, are about it as a place (IRIs);
    - "claims": the allegations it speaks to in words of its own (own_claims);
    - "statements": its page's blanket statements, each [claimant, stance, quote, translation, source, how
      many allegations it covers], and "statement-<n>" the [allegation, attribution]s the n-th covers;
    - "co-accused", "voices", "concerned": counterparts, each [actor, {its counts}, its label] (see counterparts,
      voices): a hub's page shows 150, whose labels it would otherwise look up one by one;
    - "speaks-to": the allegations it speaks to without being accused in them, and "sources": the sources of
      the attributions its page shows (IRI order), which its dossier (server.pages.dossier) counts and pages.
    """
    def order(said: Said) -> int:  # as said_order
        return positions[said.allegation]

    naming: dict[str, list] = {}
    concerning: dict[str, list] = {}  # accused in it, or speaking to it: whose page shows its voices
    said_of = {entry.iri: said_in(entry, names) for entry in entries}
    for entry in entries:
        speakers = {voice.claimant for voice in entry.voices}
        for part in {*entry.accused, *entry.involves, *entry.places, *speakers}:
            naming.setdefault(part, []).append(entry)
        for part in entry.accused | speakers:
            concerning.setdefault(part, []).append(entry)
    keys: dict[str, str] = {}  # name_key of each counterpart, worked out once
    found: dict[str, dict[str, list]] = {}
    for this, named in naming.items():
        lists = found[this] = {}
        in_order = sorted(named, key=lambda entry: positions[entry.iri])
        for name, column in ALLEGATION_LISTS.items():
            lists[name] = [entry.iri for entry in in_order if this in getattr(entry, column)]
        if this not in concerning:  # a place, or an actor only involved
            continue
        shown = attributions_shown(this, concerning[this], said_of).values()
        blanket = blanket_statements(this, shown, order)
        lists["claims"] = own_claims(this, shown, blanket, order)
        lists["speaks-to"] = sorted((entry.iri for entry in concerning[this] if this not in entry.accused),
                                    key=positions.__getitem__)
        lists["sources"] = sorted({said.source for said in shown})
        lists["statements"] = [[first.claimant, first.stance, first.quote, first.translation, first.source,
                                len(covered)] for covered in blanket for first in covered[:1]]
        for number, covered in enumerate(blanket, 1):
            lists[f"statement-{number}"] = [[said.allegation, said.attribution] for said in covered]
        co_accused, concerned = counterparts(this, concerning[this])
        spoken = voices(this, shown)
        for actor in {*co_accused, *spoken, *concerned}.difference(keys):
            keys[actor] = name_key(actor, names.get(actor))
        for name, counted in (("co-accused", co_accused), ("voices", spoken), ("concerned", concerned)):
            lists[name] = [[actor, counts, labels.get(actor) or ids.last_segment(actor)]
                           for actor, counts in ranked(counted.items(), keys)]
    with_items = {this: {name: items for name, items in lists.items() if items} for this, lists in found.items()}
    return {this: lists for this, lists in with_items.items() if lists}
