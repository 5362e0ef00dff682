"""An actor's counterparts: who is accused with them, who asserts, denies or disputes the allegations against
them, and whom the allegations they take a stance on accuse; each with how many allegations, a page at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from kg.schema import STANCES
from server.pages.blanket import name_key
from server.pages.lists import Pager
from server.pages.record import rows
from server.pages.resources import Ref, ref
from server.pages.stances import Involvement

STANCE_NAMES = {stance.value: name for name, stance in STANCES}  # sol:Denies -> "denies"


@dataclass(frozen=True)
class Counterpart:
    """Another actor, and how many allegations of the page's actor they share or take each stance on."""

    actor: Ref
    allegations: dict[str, int]  # co-accused: {"shared": n}; otherwise per stance ("asserts", "denies", ...)


def counterparts(this: str, shown: dict[str, dict], today: Involvement | None) -> dict:
    """A page each of ``co_accused``, ``voices`` (those who take a stance on the allegations against ``this``)
    and ``concerned`` (those accused in the allegations ``this`` takes a stance on), the most allegations
    first, with their pagers. ``shown``: the page's attributions (server.pages.blanket.attributions_shown),
    where the voices are: every attribution there by another actor is on an allegation against ``this``.
    The others are counted from ``today`` (stances.involvement), else by the store."""
    names: dict[str, str] = {}
    co_accused, concerned = _counted(this, today, names) if today is not None else _queried(this, names)
    voices: dict[str, dict[str, set[str]]] = {}
    for row in shown.values():
        if row["claimant"].value != this:
            names[row["claimant"].value] = name_key(row["claimant"], row["claimantName"])
            stances = voices.setdefault(row["claimant"].value, {})
            stances.setdefault(STANCE_NAMES[row["stance"].value], set()).add(row["allegation"].value)
    context = {}
    for name, listed in (("co_accused", co_accused), ("concerned", list(concerned.items())),
                         ("voices", [(actor, {stance: len(found) for stance, found in by_stance.items()})
                                     for actor, by_stance in voices.items()])):
        listed.sort(key=lambda item: (-sum(item[1].values()), names[item[0]], item[0]))
        pager = Pager.of(name, len(listed))
        context[name] = [Counterpart(ref(actor), counts) for actor, counts in pager.window(listed)]
        context[f"{name}_pager"] = pager
    return context


def _queried(this: str, names: dict[str, str]) -> tuple[list, dict[str, dict[str, int]]]:
    """The co-accused of ``this`` (actor, {"shared": n}) and those concerned (actor -> stance -> n), from
    the store; ``names`` gets each one's name key."""
    co_accused = []
    for row in rows("coaccused", this=this):
        names[row["actor"].value] = name_key(row["actor"], row["name"])
        co_accused.append((row["actor"].value, {"shared": int(row["shared"].value)}))
    concerned: dict[str, dict[str, int]] = {}
    for row in rows("counterparts", this=this):
        names[row["actor"].value] = name_key(row["actor"], row["name"])
        concerned.setdefault(row["actor"].value, {})[STANCE_NAMES[row["stance"].value]] = int(row["allegations"].value)
    return co_accused, concerned


def _counted(this: str, today: Involvement, names: dict[str, str]) -> tuple[list, dict[str, dict[str, int]]]:
    """As _queried, counted from the allegations of ``today``, as coaccused.rq and counterparts.rq count."""
    shared: dict[str, set[str]] = {}
    by_stance: dict[str, dict[str, set[str]]] = {}
    for entry in today.entries.values():
        others = entry.accused - {this}
        if this in entry.accused:
            for actor in others:
                shared.setdefault(actor, set()).add(entry.iri)
        for voice in entry.voices:
            if voice.claimant == this:
                for actor in others:
                    by_stance.setdefault(actor, {}).setdefault(STANCE_NAMES[voice.stance], set()).add(entry.iri)
    for actor in shared.keys() | by_stance.keys():
        name = today.names.get(actor)
        names[actor] = name_key(NamedNode(actor), Literal(name) if name is not None else None)
    return ([(actor, {"shared": len(found)}) for actor, found in shared.items()],
            {actor: {stance: len(found) for stance, found in counts.items()} for actor, counts in by_stance.items()})
