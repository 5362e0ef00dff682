"""Dates as people read them, at the precision the record gives: "2020", "March 2020", "26 March 2020"."""

from __future__ import annotations

import re

from flask import Flask
from pyoxigraph import Literal

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
    match = _parts(value)
    if not match:
        return value.value if isinstance(value, Literal) else str(value)
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


def init_app(app: Flask) -> None:
    app.add_template_filter(human_date)
    app.add_template_filter(date_precision)
