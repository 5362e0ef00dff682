"""An actor's counterparts: who is accused with them, who asserts, denies or disputes the allegations against
them, and whom the allegations they take a stance on accuse; each with how many allegations, a page at a time.

The record today has them in the build's page index, ranked (kg.involvement); the record as of a day counts
them in the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.involvement import STANCE_NAMES, Said, name_key, ranked, voices
from kg.page_index import Lists
from server.pages.blanket import value_of
from server.pages.lists import Pager
from server.pages.record import rows
from server.pages.resources import Ref, ref, request_labels

# The counterparts a page lists: the name of each list in the template (and its page parameter) -> in the index.
LISTS = {"co_accused": "co-accused", "voices": "voices", "concerned": "concerned"}


@dataclass(frozen=True)
class Counterpart:
    """Another actor, and how many allegations of the page's actor they share or take each stance on."""

    actor: Ref
    allegations: dict[str, int]  # co-accused: {"shared": n}; otherwise per stance ("asserts", "denies", ...)


def indexed_counterparts(about: Lists) -> dict:
    """A page each of ``co_accused``, ``voices`` (those who take a stance on the allegations against the actor)
    and ``concerned`` (those accused in the allegations the actor takes a stance on), the most allegations
    first, with their pagers, from the actor's lists in the build's page index (``about``)."""
    labels = request_labels()
    context = {}
    for name, indexed in LISTS.items():
        pager = Pager.of(name, about.size(indexed))
        window = about.window(indexed, pager.start, pager.size)
        labels.remember({actor: label for actor, _, label in window})  # the build wrote them with the list
        context[name] = [Counterpart(labels.ref(actor), counts) for actor, counts, _ in window]
        context[f"{name}_pager"] = pager
    return context


def counterparts(this: str, shown: dict[str, Said]) -> dict:
    """As indexed_counterparts, counted in the store (the record as of a day). ``shown``: the page's
    attributions (server.pages.blanket.attributions_shown), where the voices are."""
    keys: dict[str, str] = {}
    co_accused = []
    for row in rows("coaccused", this=this):
        keys[row["actor"].value] = name_key(row["actor"].value, value_of(row["name"]))
        co_accused.append((row["actor"].value, {"shared": int(row["shared"].value)}))
    concerned: dict[str, dict[str, int]] = {}
    for row in rows("counterparts", this=this):
        keys[row["actor"].value] = name_key(row["actor"].value, value_of(row["name"]))
        concerned.setdefault(row["actor"].value, {})[STANCE_NAMES[row["stance"].value]] = int(row["allegations"].value)
    for said in shown.values():
        if said.claimant != this:
            keys[said.claimant] = name_key(said.claimant, said.claimant_name)
    context = {}
    for name, counted in (("co_accused", co_accused), ("voices", voices(this, shown.values()).items()),
                          ("concerned", concerned.items())):
        listed = ranked(counted, keys)
        pager = Pager.of(name, len(listed))
        context[name] = [Counterpart(ref(actor), counts) for actor, counts in pager.window(listed)]
        context[f"{name}_pager"] = pager
    return context
