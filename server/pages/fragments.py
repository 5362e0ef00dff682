"""The pieces of HTML that long pages repeat most: attributions (who, their stance, their words, where) in
columns by stance.

A hub's page, an allegation with many sources and a dossier show dozens of attributions. As Jinja macros,
each of their values goes through the template's attribute look-up, call and escaping machinery, which cost
more than a third of such a page; written here, it is plain string joining with each value escaped once.
Templates call them as globals:

- any value: ``value`` and ``values``, ``quote``, ``claim_badge``, ``status``, ``pager_nav`` (a page has a dozen lists);
- allegations: ``allegation_blocks`` (with ``stance_columns`` and ``attribution_items``), ``allegation_list``,
  ``claim_blocks`` (an actor's own), ``blanket_statements`` and ``dossier_allegations``;
- an actor's page: ``co_accused_list`` and ``counterpart_table`` (a hub's counts 150 counterparts), ``event_list`` (and lists 50 events),
  ``timeline_latest`` (its timeline section).

The list views write their rows with ``network_row`` (a relation) and ``timeline_entry`` (an event or status
change), and /allegations its facets with ``facet_sections`` (six facets of up to 24 values each).
"""

from __future__ import annotations

from flask import Flask
from markupsafe import Markup

from kg.wording import human_date
from server.pages.escaping import escaped
from server.pages.resources import Ref, link
from server.pages.wording import agree, counted

TRANSLATION_LABEL = '<p class="translation"><span class="note-label">In English (the editors’ rendering):</span> '
NOTE_LABEL = '<p class="note"><span class="note-label">Editors’ note:</span> '


CLAIM_BADGE = Markup('<span class="badge badge-claim">Allegation — a claim, not a finding</span>')
# The columns of an allegation's attributions: side (the CSS class and the Stances attribute), its label,
# its heading, and what it says when empty (None: the column is left out).
STANCE_COLUMNS = (("asserting", "Asserting", "Asserted by", "No one on record asserts it."),
                  ("denying", "Denying", "Denied by", "No denial on record."),
                  ("disputing", "Disputing", "Disputed by (not accused)", None))


# The columns of a table of counterparts: the stance counted, and its heading.
COUNTERPART_COLUMNS = (("asserts", "Asserting"), ("denies", "Denying"), ("disputes", "Disputing"))


# What a chosen value of a facet adds: its tick, and what following its link does.
CHOSEN_MARK = '<span aria-hidden="true">✓ </span>'
CHOSEN_CURRENT = ' aria-current="true"'
CHOSEN_NOTE = '<span class="visually-hidden"> (chosen; follow to remove)</span>'


def facet_sections(facets: list[dict]) -> Markup:
    """The facets of /allegations (server.pages.allegation_list.facet_values), each with its values, their counts and
    the links that choose them; the values past the first few fold away ("12 more")."""
    parts = []
    for facet in facets:
        name, values = escaped(facet["name"]), facet["values"]
        parts.append(f'<section class="facet" aria-labelledby="facet-{name}">\n'
                     f'<h2 id="facet-{name}">{escaped(facet["heading"])}</h2>\n<ul class="facet-values">\n')
        for index, value in enumerate(values):
            if index == facet["folded_at"]:
                parts.append(f'</ul>\n<details class="facet-more">\n<summary>{len(values) - index} more</summary>\n'
                             '<ul class="facet-values">\n')
            chosen = value.selected
            parts.append(f'<li><a class="facet-value{" selected" if chosen else ""}" href="{escaped(value.href)}" '
                         f'rel="nofollow" data-facet="{name}" data-value="{escaped(value.key)}"'
                         f'{CHOSEN_CURRENT if chosen else ""}>\n'
                         f'<span class="facet-label">{CHOSEN_MARK if chosen else ""}{escaped(value.label)}</span>\n'
                         f'<span class="facet-count">{value.count}</span>{CHOSEN_NOTE if chosen else ""}</a></li>\n')
        if not values:
            parts.append('<li class="none">None with the filters chosen.</li>\n')
        parts.append("</ul>\n")
        if len(values) > facet["folded_at"]:
            parts.append("</details>\n")
        if facet["more"]:
            parts.append(f'<p class="facet-unlisted">{counted(facet["more"], "other value")}, each on fewer '
                         'allegations: choose other filters to see them.</p>\n')
        parts.append("</section>\n")
    return Markup("".join(parts))


def init_app(app: Flask) -> None:
    app.add_template_global(value)
    app.add_template_global(values)
    app.add_template_global(claim_badge)
    app.add_template_global(status)
    app.add_template_global(allegation_blocks)
    app.add_template_global(stance_columns)
    app.add_template_global(attribution_items)
    app.add_template_global(dossier_allegations)
    app.add_template_global(co_accused_list)
    app.add_template_global(counterpart_table)
    app.add_template_global(event_list)
    app.add_template_global(pager_nav)
    app.add_template_global(allegation_list)
    app.add_template_global(blanket_statements)
    app.add_template_global(claim_blocks)
    app.add_template_global(quote)
    app.add_template_global(timeline_latest)


def value(item) -> Markup:
    """A value as a page shows it: a resource as a link (or its label), a date in words ("26 March 2020"),
    any other text as it is."""
    return link(item) if isinstance(item, Ref) else escaped(human_date(item, undated=""))


def values(items, empty: str = "—") -> Markup:
    """``items`` as ``value`` shows each, separated by commas; ``empty`` if there is none."""
    return Markup(", ".join(map(value, items))) if items else escaped(empty)


def claim_badge() -> Markup:
    return CLAIM_BADGE


def status(item, explain: bool = True) -> Markup:
    """The status of the allegation ``item`` as a badge; with ``explain``, what the status does and does not
    mean (its concept's comment: "presumed innocent") beside it, else in its tooltip alone."""
    if not item.status:
        return Markup()
    note = item.status_note
    text = f' <span class="status-note">{escaped(note)}</span>' if explain and note else ""
    return Markup(f'<span class="status"><span class="badge badge-status" title="{escaped(note or "")}">'
                  f"{escaped(item.status.label)}</span>{text}</span>")


def allegation_blocks(items, when_empty: str) -> Markup:
    """Each allegation with its status and who asserts and denies it, side by side; ``when_empty`` if none."""
    if not items:
        return Markup(f'<p class="none">{escaped(when_empty)}</p>')
    return Markup("".join(f'<section class="allegation-block">\n  <h3>{link(item.allegation)}</h3>\n'
                          f"  <p>{CLAIM_BADGE} {status(item)}</p>\n  {stance_columns(item)}\n</section>\n"
                          for item in items))


def blanket_statements(items, level: int = 3) -> Markup:
    """Blanket statements (server.pages.blanket.Statement), each quoted once with the allegations it covers and
    a link to the record of each attribution it stands for."""
    parts = []
    for item in items:
        anchor, stance, total = escaped(item.anchor), escaped(item.stance.label), item.pager.total
        covers = "both allegations" if total == 2 else f"all {escaped(counted(total, 'allegation'))}"
        parts.append(f'<section class="blanket-statement stance-{stance}" id="{anchor}" aria-labelledby="{anchor}-heading">\n'
                     f'  <h{level} id="{anchor}-heading">{link(item.claimant)} <span class="stance">'
                     f"{escaped(agree(item.stance.label, item.claimant))}</span>\n    {covers}\n"
                     f"    below, in one statement</h{level}>\n  {quote(item.quote, item.source)}\n"
                     f'{translation(item.translation)}  <ul class="covered">\n')
        for allegation, attribution in item.covered:
            parts.append(f'    <li>{link(allegation)} <a class="permalink" href="{escaped(attribution.href)}" '
                         'title="This attribution on its own page">record</a></li>\n')
        parts.append(f'  </ul>\n  {pager_nav(item.pager, "allegations this statement covers")}\n</section>\n')
    return Markup("".join(parts))


def claim_blocks(items) -> Markup:
    """The allegations an actor takes a stance on, each with its status and the actor's own attributions."""
    return Markup("".join(f'<section class="allegation-block">\n  <h3>{link(item.allegation)}</h3>\n'
                          f"  <p>{CLAIM_BADGE} {status(item, explain=False)}</p>\n"
                          f'  <ul class="attributions">\n'
                          f"{attribution_items(item.asserting + item.denying + item.disputing, who=False)}\n"
                          "  </ul>\n</section>\n" for item in items))


def allegation_list(items) -> Markup:
    """Allegations in a list, each with its status and how many voices assert and deny it."""
    parts = ['<ul class="allegation-list">\n']
    for item in items:
        parts.append(f"  <li>{link(item.allegation)} {status(item, explain=False)}\n"
                     f'    <span class="counts">asserted by {item.asserted_by}, denied by {item.denied_by}</span></li>\n')
    parts.append("</ul>")
    return Markup("".join(parts))


def stance_columns(item, level: int = 4) -> Markup:
    """Who asserts, denies and disputes the allegation ``item`` (a Stances), in columns headed at ``level``."""
    parts = ['<div class="stances">\n']
    for side, label, heading, empty in STANCE_COLUMNS:
        rows = getattr(item, side)
        if rows or empty is not None:
            parts.append(_column(side, label, heading, level, attribution_items(rows, empty=empty)))
    parts.append("</div>")
    return Markup("".join(parts))


def _column(side: str, label: str, heading: str, level: int, items: str) -> str:
    return (f'  <section class="column {escaped(side)}" aria-label="{escaped(label)}">\n'
            f"    <h{level}>{escaped(heading)}</h{level}>\n"
            f'    <ul class="attributions">\n{items}\n    </ul>\n  </section>\n')


def attribution_items(rows, who: bool = True, empty: str | None = None) -> Markup:
    """Each attribution of ``rows`` as an item of a list: who (unless ``who`` is false), their stance, their
    words and where; ``empty`` as the one item if there is none. ``row.statement``: a blanket statement quoted
    once on the page (server.pages.blanket), referred to instead of its quote."""
    if not rows:
        return Markup(f'<li class="none">{escaped(empty)}</li>') if empty else Markup()
    parts = []
    for row in rows:
        claimant = row.claimant
        parts.append('<li class="attribution">\n  <p class="who">')
        if who:
            parts.append(f"{link(claimant)} ")
        parts.append(f'<span class="stance">{escaped(agree(row.stance.label, claimant))}</span>\n'
                     f'    <a class="permalink" href="{escaped(row.attribution.href)}" '
                     'title="This attribution on its own page">record</a></p>\n')
        statement = getattr(row, "statement", None)
        if statement:
            parts.append(f'  <p class="blanket-ref">In <a href="#{escaped(statement.anchor)}">one statement covering\n'
                         f'    {escaped(counted(statement.pager.total, "allegation"))}</a>, quoted once on this page.</p>\n')
        else:
            parts.append(_words(row))
        note = getattr(row, "note", None)
        if note:
            parts.append(f"  {NOTE_LABEL}{escaped(note)}</p>\n")
        parts.append("</li>")
    return Markup("".join(parts))


def _words(row) -> str:
    """An attribution's quote and where it was read (or its source alone), and the editors' translation."""
    source = row.source
    text = f"  {quote(row.quote, source)}\n" if row.quote else f'  <p class="source">Source: {link(source)}</p>\n'
    return text + translation(getattr(row, "translation", None))


def quote(text: str, source: Ref | None = None) -> Markup:
    """Words quoted, and the source they are quoted from if it is named."""
    cite = f' cite="{escaped(source.href)}"' if source is not None and source.href else ""
    caption = f"<figcaption>Quoted from {link(source)}</figcaption>" if source is not None else ""
    return Markup(f'<figure class="quote">\n  <blockquote{cite}><p><span class="visually-hidden">Quote: </span>'
                  f"“{escaped(text)}”</p></blockquote>\n  {caption}\n</figure>")


def translation(text: str | None) -> str:
    """The editors' English rendering of a quote, if they made one."""
    return f"  {TRANSLATION_LABEL}{escaped(text)}</p>\n" if text else ""


def dossier_columns(columns, source_by_iri: dict, source_number: dict) -> Markup:
    """The dossier's columns of an allegation, each ``(rows, heading, side, empty)``: a column with no rows
    shows ``empty``, or is left out if ``empty`` is None."""
    return Markup("".join(_column(side, heading, heading, 4, dossier_voice_items(rows, empty, source_by_iri, source_number))
                          for rows, heading, side, empty in columns if rows or empty is not None))


def dossier_voice_items(rows, empty: str, source_by_iri: dict, source_number: dict) -> str:
    """The dossier's attributions of one side of an allegation: who, their stance and words, the source with
    its date and its number in the dossier's list of sources, and the attribution's permanent address."""
    if not rows:
        return f'<li class="none">{escaped(empty)}</li>'
    parts = []
    for row in rows:
        parts.append(f'<li class="attribution">\n  <p class="who">{link(row.claimant)} '
                     f'<span class="stance">{escaped(row.stance.label)}</span></p>\n')
        if row.quote:
            parts.append(f"  {quote(row.quote)}\n")
        parts.append(translation(getattr(row, "translation", None)))
        note = getattr(row, "note", None)
        if note:
            parts.append(f"  {NOTE_LABEL}{escaped(note)}</p>\n")
        parts.append(f'  <p class="voice-source">Source: {link(row.source)}')
        source = source_by_iri.get(row.source.iri)
        if source:
            number = source_number[source.iri]
            parts.append(f', <span class="date">{escaped(human_date(source.date, "undated"))}</span>\n'
                         f'    <a href="#source-{number}" aria-label="source {number} in the list of sources">[{number}]</a>')
        parts.append(f'</p>\n  <p class="record-iri">Record: <a href="{escaped(row.attribution.href)}">'
                     f"{escaped(row.attribution.iri)}</a></p>\n</li>")
    return "".join(parts)


def co_accused_list(items) -> Markup:
    """Those accused with an actor (server.pages.counterparts.Counterpart), each with how many allegations they
    share."""
    rows = "".join(f'      <li>{link(item.actor)} <span class="muted">{escaped(counted(item.allegations["shared"], "allegation"))}'
                   " in common</span></li>\n" for item in items)
    return Markup(f'<ul class="co-accused">\n{rows}    </ul>')


def counterpart_table(items, caption: str, who: str) -> Markup:
    """A table of counterparts (server.pages.counterparts.Counterpart): each actor (headed ``who``), and how many
    allegations it asserts, denies and disputes ("–" for none)."""
    rows = "".join(
        f'<tr><th scope="row">{link(item.actor)}</th>\n      '
        + "".join(f'<td data-label="{heading}">{item.allegations.get(stance) or "–"}</td>'
                  for stance, heading in COUNTERPART_COLUMNS) + "</tr>\n" for item in items)
    return Markup(f'<div class="table-scroll">\n<table class="counterparts-table">\n  <caption>{escaped(caption)}</caption>\n'
                  f'  <thead><tr><th scope="col">{escaped(who)}</th><th scope="col" class="asserting">Asserting</th>\n'
                  '    <th scope="col" class="denying">Denying</th><th scope="col" class="disputing">Disputing</th></tr></thead>\n'
                  f"  <tbody>\n    {rows}\n  </tbody>\n</table>\n</div>")


def event_list(rows) -> Markup:
    """Events in a list, each with its date in words, a link to it and its type."""
    parts = ['<ol class="event-list">\n']
    for row in rows:
        kind = f' <span class="badge">{escaped(row.type.label)}</span>' if row.type else ""
        parts.append(f'  <li><span class="date">{escaped(human_date(row.date))}</span> {link(row.event)}{kind}</li>\n')
    parts.append("</ol>")
    return Markup("".join(parts))


def pager_nav(p, what: str) -> Markup:
    """Where the page of a list (a server.pages.lists.Pager) sits, with links to its neighbours: shown only when
    the list is longer than a page. A page has a dozen lists; most fit on one page."""
    if not p.split:
        return Markup()
    what = escaped(what)
    parts = [f'<nav class="pager" aria-label="Pages of {what}">\n'
             f'  <span class="pager-position">{p.first}–{p.last} of {p.total} {what}</span>\n']
    if p.previous_href:
        parts.append(f'  <a rel="prev" href="{escaped(p.previous_href)}">← previous {p.size}</a>\n')
    if p.next_href:
        parts.append(f'  <a rel="next" href="{escaped(p.next_href)}">next {p.size} →</a>\n')
    parts.append("</nav>")
    return Markup("".join(parts))


def network_row(row) -> Markup:
    """One relation (server.pages.network.Row) as the network's table lists it: who, the relation, whom, on
    what, and where."""
    status = f' <span class="badge badge-status">{escaped(row.status.label)}</span>' if row.status else ""
    record = (f' <a class="permalink" href="{escaped(row.record.href)}" title="This attribution on its own page">record</a>'
              if row.record else "")
    return Markup(f'<tr>\n  <td data-label="Who">{link(row.who)}</td>\n'
                  f'  <td data-label="Relation" class="{escaped(row.css_class)}"><span class="swatch" aria-hidden="true">'
                  f'</span>{escaped(row.relation)}</td>\n  <td data-label="Whom">{link(row.whom)}</td>\n'
                  f'  <td data-label="On">{link(row.about)}{status}</td>\n'
                  f'  <td data-label="Source">{link(row.source)}{record}</td>\n</tr>')


def timeline_entry(item) -> Markup:
    """An event or status change as /timeline lists it (server.pages.timeline.items): its date as written and
    as a machine reads it, its type, what it is, its record (a status change's) and source, and why it is
    undated if it is."""
    date = f' datetime="{escaped(item.date)}"' if item.date else ""
    status = item.kind == "status"
    badge = escaped(item.type.label if item.type else item.kind)
    parts = [f'<li class="timeline-entry kind-{escaped(item.kind)}">\n  <time class="date"{date}>{escaped(item.when)}</time>\n'
             f'  <span class="badge{" badge-status" if status else ""}">{badge}</span>\n  {link(item.title)}\n']
    if status:
        parts.append(f'  <a class="permalink" href="{escaped(item.item.href)}" title="This status statement on its own page">'
                     "record</a>\n")
    if item.source:
        parts.append(f'  <span class="timeline-source">Source: {link(item.source)}</span>\n')
    if item.reason:
        parts.append(f'  <p class="undated-reason"><span class="note-label">Why undated:</span> {escaped(item.reason)}</p>\n')
    parts.append("</li>")
    return Markup("".join(parts))


def timeline_latest(items) -> Markup:
    """The latest dated items of a page's timeline section (server.pages.timeline.section): date, type, link."""
    parts = ['<ol class="event-list timeline-compact">\n']
    for item in items:
        date = f' datetime="{escaped(item.date)}"' if item.date else ""
        badge = (f'<span class="badge{" badge-status" if item.kind == "status" else ""}">{escaped(item.type.label)}</span>'
                 if item.type else "")
        parts.append(f'  <li><time class="date"{date}>{escaped(item.when)}</time>\n    {badge}\n    {link(item.link)}</li>\n')
    parts.append("</ol>")
    return Markup("".join(parts))


def dossier_allegations(items, source_by_iri: dict, source_number: dict, own_words_of: str | None = None) -> Markup:
    """The dossier's allegation blocks: each allegation with its status, its record's IRI and its voices in
    columns by stance; or, ``own_words_of`` an actor's name, its statements on them in one column."""
    parts = []
    for item in items:
        if own_words_of is None:
            columns = [(getattr(item, side), heading, side, empty) for side, _, heading, empty in STANCE_COLUMNS]
        else:
            columns = [(item.asserting + item.denying + item.disputing, f"What {own_words_of} said", "own", "")]
        parts.append(f'<section class="allegation-block dossier-allegation">\n  <h3>{link(item.allegation)}</h3>\n'
                     f"  <p>{CLAIM_BADGE} {status(item)}</p>\n"
                     f'  <p class="record-iri">Record: {escaped(item.allegation.iri)}</p>\n'
                     f'  <div class="stances{"" if own_words_of is None else " own"}">\n'
                     f"{dossier_columns(columns, source_by_iri, source_number)}  </div>\n</section>\n")
    return Markup("".join(parts))
