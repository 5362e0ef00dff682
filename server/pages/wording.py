"""Words that agree, as template filters: a verb with its subject, a noun with its count, a licence by its name.

Verbs follow kg.wording's rule (a group takes a plural verb); our IRIs name their kind
(``.../id/group/<slug>``, kg.ids), so no query is needed to know it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask

from kg import ids, wording

IRREGULAR_NOUNS = {"person": "people", "analysis": "analyses", "police": "police"}
LICENCES = {
    "creativecommons.org/licenses/by/4.0": "CC BY 4.0",
    "creativecommons.org/licenses/by-sa/4.0": "CC BY-SA 4.0",
    "creativecommons.org/licenses/by-nc/4.0": "CC BY-NC 4.0",
    "creativecommons.org/publicdomain/zero/1.0": "CC0 1.0",
    "opendatacommons.org/licenses/odbl/1-0": "ODbL 1.0",
    "opendatacommons.org/licenses/by/1-0": "ODC-By 1.0",
    "opendatacommons.org/licenses/pddl/1-0": "PDDL 1.0",
}


def agree(verb: str, subject) -> str:
    """``verb`` (third person singular: "denies") as ``subject`` (a Ref to an actor) takes it: "U.S. officials deny"."""
    return _agreed(verb, subject.iri, subject.label)


@lru_cache(maxsize=4096)  # a page words the same few verbs for the same few actors dozens of times
def _agreed(verb: str, iri: str, label: str) -> str:
    kind, _ = ids.kind_and_slug(iri)
    return wording.agree(verb, kind, label)


def plural(noun: str, count: int = 2) -> str:
    """``noun`` in the plural unless ``count`` is 1; in a phrase ("status statement"), its last word."""
    return noun if count == 1 else _plural_of(noun)


@lru_cache(maxsize=256)  # pages count the same few nouns hundreds of times
def _plural_of(noun: str) -> str:
    head, space, last = noun.rpartition(" ")
    if last in IRREGULAR_NOUNS:
        last = IRREGULAR_NOUNS[last]
    elif re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|sh|ch|x|z)$", last):
        last += "es"
    else:
        last += "s"
    return head + space + last


def counted(count: int, noun: str) -> str:
    """``1 allegation``, ``14 allegations``."""
    return f"{count} {plural(noun, count)}"


def licence_name(iri) -> str:
    """A licence's short name ("CC BY 4.0") for the licences we know, else its address (``iri``: text or a Ref)."""
    address = getattr(iri, "iri", str(iri))
    return LICENCES.get(re.sub(r"^https?://(www\.)?", "", address).rstrip("/").removesuffix("/legalcode"), address)


def init_app(app: Flask) -> None:
    for function in (agree, plural, counted, licence_name, wording.human_date, wording.date_precision):
        app.add_template_filter(function)
