"""Text made safe to put in HTML, as a plain string.

markupsafe's ``escape`` returns a Markup object for every value; the fragments written in Python
(server.pages.fragments, Ref.html) escape a thousand values a long page and wrap their result in Markup once,
so they escape to plain strings here, with the same entities as markupsafe (and Jinja's autoescape).
"""

from __future__ import annotations


def escaped(text: str) -> str:
    """``text`` with &, <, >, " and ' written as entities, as markupsafe writes them."""
    if "&" in text or "<" in text or ">" in text or '"' in text or "'" in text:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&#34;").replace("'", "&#39;"))
    return text
