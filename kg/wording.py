"""How soles words what it says: verbs that agree with their subject, dates in words at their precision.

Dates: "2020", "March 2020", "26 March 2020", as precise as the record is; never a raw timestamp.

Verbs agree with the actor who is their subject: "U.S. officials deny", "Nicolás Maduro denies". The rule: an unnamed group (``type: group``, sol:Group: "U.S. officials") takes a plural verb; a person or
an organization takes a singular one ("the Cartel of the Suns denies", "Reuters reports"), unless the
organization's name ends in a plural common noun ("Venezuelan armed forces", "Spanish police").
"""

from __future__ import annotations

import re
from functools import lru_cache

from pyoxigraph import Literal

# Third person singular -> plural, where dropping the "s" is wrong.
IRREGULAR_VERBS = {"is": "are", "has": "have", "does": "do", "was": "were"}
# Nouns that are plural without an "s".
PLURAL_WITHOUT_S = {"police", "people"}


def takes_plural(kind: str, name: str) -> bool:
    """Whether an actor of ``kind`` (person, organization, group) named ``name`` takes a plural verb."""
    if kind == "group":
        return True
    last_word = name.rsplit(" ", 1)[-1]
    # A capitalised last word is a proper name ("Reuters", "The New York Times", "Cartel of the Suns").
    return kind == "organization" and (last_word in PLURAL_WITHOUT_S or bool(re.fullmatch(r"[a-z]+[^s]s", last_word)))


def plural_verb(verb: str) -> str:
    """``denies`` -> ``deny``, ``asserts`` -> ``assert``: the plural of a verb in the third person singular."""
    if verb in IRREGULAR_VERBS:
        return IRREGULAR_VERBS[verb]
    if re.search(r"[^aeiou]ies$", verb):
        return verb[:-3] + "y"
    if re.search(r"(ss|sh|ch|x|z|o)es$", verb):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") and not verb.endswith("ss") else verb


def agree(verb: str, kind: str, name: str) -> str:
    """``verb`` (third person singular: "denies") as an actor of ``kind`` named ``name`` takes it."""
    return plural_verb(verb) if takes_plural(kind, name) else verb


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
# xsd:gYear, xsd:gYearMonth, xsd:date and xsd:dateTime lexical forms (a time of day is not shown).
DATE = re.compile(r"(?P<year>-?\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?(?:T[0-9:.]+)?(?:Z|[+-]\d{2}:\d{2})?")


def _parts(value: str | Literal) -> re.Match | None:
    match = DATE.fullmatch(value.value if isinstance(value, Literal) else str(value))
    return match if match and 1 <= int(match["month"] or 1) <= 12 else None


def human_date(value: str | Literal | None, undated: str = "undated") -> str:
    """``value`` (a literal or its text) in words; text that is no date is returned as it is."""
    if value is None or value == "":
        return undated
    return _in_words(value.value if isinstance(value, Literal) else str(value))


@lru_cache(maxsize=8192)  # a long page words the same few dates of its sources and events dozens of times
def _in_words(text: str) -> str:
    match = _parts(text)
    if not match:
        return text
    year, month, day = match["year"], match["month"], match["day"]
    if day:
        return f"{int(day)} {MONTHS[int(month) - 1]} {year}"
    if month:
        return f"{MONTHS[int(month) - 1]} {year}"
    return year


def date_precision(value: str | Literal | None) -> str | None:
    """"year", "month" or "day": how precisely the record dates something (None when it does not)."""
    match = _parts(value) if value is not None and value != "" else None
    if not match:
        return None
    return "day" if match["day"] else "month" if match["month"] else "year"
