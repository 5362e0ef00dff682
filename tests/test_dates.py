"""Dates are shown in words at the precision the record gives, never as raw timestamps."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode

from kg.wording import date_precision, human_date

XSD = "http://www.w3.org/2001/XMLSchema#"


@pytest.mark.parametrize(("value", "words", "precision"), [
    ("2024", "2024", "year"),
    ("2024-03", "March 2024", "month"),
    ("2024-03-05", "5 March 2024", "day"),
    ("2026-11-28T00:00:00Z", "28 November 2026", "day"),
    (Literal("2019-12", datatype=NamedNode(XSD + "gYearMonth")), "December 2019", "month"),
    (None, "undated", None),
    ("2024-13", "2024-13", None),
    ("soon", "soon", None),
])
def test_a_date_in_words_at_its_precision(value, words, precision):
    assert human_date(value) == words
    assert date_precision(value) == precision
