"""What a SPARQL query is, found without running it: its form (SELECT, ... or an update) and its SERVICE calls.

The query is read once, token by token, so that /sparql and kg query can refuse SPARQL Update and
SERVICE calls outside the allowlist at once with a clear message. That reading is a courtesy, not the
guard: a spelling it misreads still cannot make a connection (kg.sandbox).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kg import ids

GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})
UPDATE_OPERATIONS = frozenset({"INSERT", "DELETE", "WITH", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"})

# SPARQL reads \u and \U escapes anywhere in a query before parsing it, keywords included.
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# The tokens of SPARQL that matter for finding keywords: everything inside an IRI, a string, a comment,
# a variable, a language tag or a prefixed name is not a keyword.
_TOKEN = re.compile(r"""
    (?P<skip>\s+|\#[^\r\n]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')
  | (?P<unterminated>["'])
  | (?P<variable>[?$]\w+)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<pname>(?:[^\W\d_][\w.-]*)?:(?:[\w:%-]|\\.|\.(?=[\w:%-]))*)
  | (?P<word>[^\W\d]\w*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_LOCAL_NAME_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True)
class QueryShape:
    """What a query is, as far as the endpoint needs to know before running it."""

    form: str | None  # its first keyword (SELECT, ..., or an update operation); None if there is none
    services: tuple[str | None, ...] = ()  # SERVICE endpoints; None when not a known IRI

    @property
    def is_update(self) -> bool:
        return self.form in UPDATE_OPERATIONS


class MalformedQuery(ValueError):
    """A query the engine would refuse too, found so while looking for keywords."""


@lru_cache(maxsize=512)  # the same queries come again and again (applications, the example queries)
def inspect_query(text: str) -> QueryShape:
    """The form of a query and the endpoints its SERVICE clauses call, found without running it."""
    text = _CODEPOINT_ESCAPE.sub(_unescape_codepoint, text)
    tokens = []
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "unterminated":
            # Stop here: looking for its end from every later quote would take time quadratic in the query.
            line = text.count("\n", 0, match.start()) + 1
            raise MalformedQuery(f"the string that starts on line {line} does not end")
        if match.lastgroup != "skip":
            tokens.append((match.lastgroup, match.group()))
    prefixes = dict(ids.PREFIXES)  # predeclared by kg.store.run_query
    form, services = None, []
    for position, (kind, token) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = token.upper()
        following = tokens[position + 1:position + 3]
        if keyword == "PREFIX" and [part for part, _ in following] == ["pname", "iri"]:
            prefixes[following[0][1][:-1]] = following[1][1][1:-1]
        elif keyword == "SERVICE":
            if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
                following = following[1:]
            services.append(_service_iri(following[0] if following else None, prefixes))
        elif form is None and keyword != "BASE":
            form = keyword
    return QueryShape(form, tuple(services))


def _unescape_codepoint(match: re.Match) -> str:
    try:
        return chr(int(match.group(1) or match.group(2), 16))
    except ValueError:  # beyond Unicode: the engine will refuse the query
        return match.group()


def _service_iri(token: tuple[str, str] | None, prefixes: dict[str, str]) -> str | None:
    """The absolute IRI a SERVICE clause calls, or None (a variable, a relative IRI, an unknown prefix)."""
    if token is None:
        return None
    kind, text = token
    if kind == "iri":
        iri = text[1:-1]
    elif kind == "pname":
        prefix, _, local = text.partition(":")
        if prefix not in prefixes:
            return None
        iri = prefixes[prefix] + _LOCAL_NAME_ESCAPE.sub(r"\1", local)
    else:
        return None
    return iri if _ABSOLUTE_IRI.match(iri) else None
