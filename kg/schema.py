"""The shape of the YAML in data/, as data: one table of fields per kind of record and per file.

Each field says what values it takes, whether it is required or repeated, and which predicate
it becomes in the graph. The loader (kg.curation) checks records against these tables and the
builder (kg.quads) turns them into triples, so a new field is added here and nowhere else.
Every file has a table too, so every key anywhere in data/, top level included, is one the
tables name; any other key is reported as unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pyoxigraph import Literal, NamedNode

from kg.ids import is_slug
from kg.vocab import DCTERMS, OWL, RDFS, SCHEMA, SKOS, SOL, WIKIDATA_ENTITY, XSD

MAX_QUOTE_WORDS = 25


class Kind:
    """A kind of value: how to check the raw YAML value and how to write it as an RDF term."""

    def parse(self, raw):
        """Return the checked value, or raise ValueError with a reason a curator understands."""
        return raw

    def term(self, value, resolve) -> NamedNode | Literal:
        return Literal(value)


def _text(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("must be non-empty text")
    return " ".join(raw.split())


@dataclass(frozen=True)
class Text(Kind):
    language: str | None = None

    def parse(self, raw):
        return _text(raw)

    def term(self, value, resolve):
        return Literal(value, language=self.language) if self.language else Literal(value)


@dataclass(frozen=True)
class Slug(Kind):
    def parse(self, raw):
        if not isinstance(raw, str) or not is_slug(raw):
            raise ValueError(f"{raw!r} is not an id: use lower-case letters, digits and single hyphens")
        return raw


@dataclass(frozen=True)
class Ref(Slug):
    """A reference by id to a record defined elsewhere in data/ (checked once all files are read)."""

    registry: str = ""

    def term(self, value, resolve):
        return resolve(self.registry, value)


@dataclass(frozen=True)
class Choice(Kind):
    options: tuple[tuple[str, NamedNode], ...] = ()

    def parse(self, raw):
        names = [name for name, _ in self.options]
        if raw not in names:
            raise ValueError(f"{raw!r} is not one of: {', '.join(names)}")
        return raw

    def term(self, value, resolve):
        return dict(self.options)[value]


DATE_FORMATS = (
    (re.compile(r"^\d{4}$"), XSD.gYear),
    (re.compile(r"^\d{4}-\d{2}$"), XSD.gYearMonth),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), XSD.date),
)


@dataclass(frozen=True)
class Date(Kind):
    """A date as precise as the source allows: YYYY, YYYY-MM or YYYY-MM-DD."""

    def parse(self, raw):
        text = str(raw).strip()
        for pattern, _ in DATE_FORMATS:
            if pattern.match(text):
                padded = text + "-01" * (2 - text.count("-"))
                try:
                    date.fromisoformat(padded)
                except ValueError:
                    raise ValueError(f"{text!r} is not a real date") from None
                return text
        raise ValueError(f"{text!r} is not a date: write YYYY, YYYY-MM or YYYY-MM-DD")

    def term(self, value, resolve):
        datatype = next(dt for pattern, dt in DATE_FORMATS if pattern.match(value))
        return Literal(value, datatype=datatype)


@dataclass(frozen=True)
class Url(Kind):
    def parse(self, raw):
        text = _text(raw)
        if not re.match(r"^https?://[^\s/]+\.[^\s]+$", text):
            raise ValueError(f"{text!r} is not an http(s) URL")
        return text

    def term(self, value, resolve):
        return Literal(value, datatype=XSD.anyURI)


@dataclass(frozen=True)
class Quote(Kind):
    """The exact words of a source: at most MAX_QUOTE_WORDS words, never rewrapped."""

    def parse(self, raw):
        if not isinstance(raw, str) or not raw.strip():
            raise ValueError("must be the exact words of the source")
        words = len(raw.split())
        if words > MAX_QUOTE_WORDS:
            raise ValueError(f"has {words} words; a quote may have at most {MAX_QUOTE_WORDS}")
        return raw.strip()


@dataclass(frozen=True)
class Qid(Kind):
    """A Wikidata item id; the loader also checks it is in data/wikidata.yaml."""

    def parse(self, raw):
        if not isinstance(raw, str) or not re.match(r"^Q[1-9]\d*$", raw):
            raise ValueError(f"{raw!r} is not a Wikidata item id such as Q123")
        return raw

    def term(self, value, resolve):
        return WIKIDATA_ENTITY[value]


@dataclass(frozen=True)
class Amount(Kind):
    """A sum written out in digits, as xsd:decimal wants it: no sign, exponent, NaN or infinity."""

    def parse(self, raw):
        text = str(raw).strip()
        if text.startswith("-"):
            raise ValueError("must not be negative")
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            raise ValueError(f"{text!r} is not an amount: write it in digits, such as 50000000 or 1.5")
        return text

    def term(self, value, resolve):
        return Literal(value, datatype=XSD.decimal)


@dataclass(frozen=True)
class Currency(Kind):
    def parse(self, raw):
        if not isinstance(raw, str) or not re.match(r"^[A-Z]{3}$", raw):
            raise ValueError(f"{raw!r} is not an ISO 4217 currency code such as USD")
        return raw


@dataclass(frozen=True)
class Nested(Kind):
    """A list of records of another schema written inside this one."""

    schema: str = ""


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind
    required: bool = False
    many: bool = False
    predicate: NamedNode | None = None
    help: str = ""


@dataclass(frozen=True)
class Schema:
    name: str
    fields: tuple[Field, ...]
    help: str = ""
    by_name: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


ACTOR_TYPES = (("person", SOL.Person), ("organization", SOL.Organization), ("group", SOL.Group))
PLACE_TYPES = (("country", SCHEMA.Country), ("city", SCHEMA.City), ("region", SCHEMA.Place))
SOURCE_TYPES = (
    ("news-report", SOL.NewsReport),
    ("summary", SOL.Summary),
    ("indictment", SOL.Indictment),
    ("official-statement", SOL.OfficialStatement),
    ("press-release", SOL.PressRelease),
    ("court-record", SOL.CourtRecord),
    ("government-notice", SOL.GovernmentNotice),
    ("analysis", SOL.Analysis),
    ("legislation", SOL.Legislation),
    ("letter", SOL.Letter),
)
STANCES = (("asserts", SOL.Asserts), ("denies", SOL.Denies), ("disputes", SOL.Disputes))
ALLEGATION_STATUSES = (
    ("alleged", SOL.Alleged),
    ("reported", SOL.Reported),
    ("charged", SOL.Charged),
    ("arrested", SOL.Arrested),
    ("extradited", SOL.Extradited),
    ("pleaded-not-guilty", SOL.PleadedNotGuilty),
    ("pleaded-guilty", SOL.PleadedGuilty),
    ("convicted", SOL.Convicted),
    ("sentenced", SOL.Sentenced),
    ("sanctioned", SOL.Sanctioned),
    ("designated", SOL.Designated),
    ("reward-offered", SOL.RewardOffered),
    ("charge-dropped", SOL.ChargeDropped),
    ("acquitted", SOL.Acquitted),
)
ALLEGATION_TYPES = (
    ("drug-trafficking", SOL.DrugTrafficking),
    ("bribery", SOL.Bribery),
    ("arms-supply", SOL.ArmsSupply),
    ("protection-of-traffickers", SOL.ProtectionOfTraffickers),
    ("criminal-leadership", SOL.CriminalLeadership),
    ("terrorism", SOL.Terrorism),
    ("corruption", SOL.Corruption),
    ("support-of-armed-groups", SOL.SupportOfArmedGroups),
    ("sanctions-evasion", SOL.SanctionsEvasion),
)
EVENT_TYPES = (
    ("indictment", SOL.IndictmentFiled),
    ("arrest", SOL.Arrest),
    ("designation", SOL.Designation),
    ("reward-offer", SOL.RewardOffer),
    ("military-operation", SOL.MilitaryOperation),
    ("strike", SOL.Strike),
    ("statement", SOL.Statement),
    ("extradition", SOL.Extradition),
    ("plea", SOL.Plea),
    ("sentencing", SOL.Sentencing),
    ("charge-dropped", SOL.ChargeDropping),
    ("court-proceeding", SOL.CourtProceeding),
    ("release", SOL.Release),
    ("rejection", SOL.Rejection),
    ("publication", SOL.Publication),
)

ACTOR = Schema("actor", (
    Field("id", Slug(), required=True),
    Field("type", Choice(ACTOR_TYPES), required=True, help="person, organization or group"),
    Field("name", Text(), required=True, predicate=RDFS.label),
    Field("also_known_as", Text(), many=True, predicate=SKOS.altLabel),
    Field("description", Text("en"), predicate=DCTERMS.description),
    Field("roles", Text("en"), many=True, predicate=SOL.role),
    Field("country", Ref(registry="place"), predicate=SOL.country),
    Field("member_of", Ref(registry="actor"), many=True, predicate=SOL.memberOf),
    Field("wikidata", Qid(), predicate=OWL.sameAs),
), help="a person, organization or unnamed group")

PLACE = Schema("place", (
    Field("id", Slug(), required=True),
    Field("type", Choice(PLACE_TYPES), required=True, help="country, city or region"),
    Field("name", Text(), required=True, predicate=RDFS.label),
    Field("description", Text("en"), predicate=DCTERMS.description),
    Field("part_of", Ref(registry="place"), many=True, predicate=SOL.partOf),
    Field("wikidata", Qid(), predicate=OWL.sameAs),
), help="a place")

WIKIDATA_LINK = Schema("wikidata", (
    Field("qid", Qid(), required=True, predicate=SOL.wikidataItem),
    Field("label", Text(), required=True),
    Field("kind", Text(), required=True),
    Field("checked_in", Text(), required=True, predicate=SOL.checkedIn,
          help="where the id was seen printed beside the label"),
    # A match accepted from `kg reconcile`'s proposals says who accepted it, when and why (all three or none).
    Field("accepted_by", Ref(registry="actor"), predicate=SOL.acceptedBy, help="the editor who accepted the match"),
    Field("accepted_on", Date(), predicate=SOL.acceptedOn, help="the day the editor accepted it"),
    Field("evidence", Text("en"), predicate=SOL.matchEvidence,
          help="what the editor checked: the item's label, description and type, the proposal's reasons"),
), help="a Wikidata id checked against a public source")
ACCEPTANCE_FIELDS = ("accepted_by", "accepted_on", "evidence")

ATTRIBUTION = Schema("attribution", (
    Field("allegation", Ref(registry="allegation"), help="only for attributions listed outside an allegation"),
    Field("claimant", Ref(registry="actor"), required=True),
    Field("stance", Choice(STANCES), required=True),
    Field("quote", Quote(), required=True, predicate=SOL.quote),
    Field("translation", Text("en"), predicate=SOL.translation,
          help="our English rendering of a quote that is not in English"),
    Field("note", Text("en"), predicate=RDFS.comment, help="the editors' note, in our own words"),
), help="one actor's stance on one allegation, with the source's words")

ALLEGATION = Schema("allegation", (
    Field("id", Slug(), required=True),
    Field("label", Text("en"), required=True, predicate=RDFS.label),
    Field("summary", Text("en"), required=True, predicate=DCTERMS.description),
    Field("types", Choice(ALLEGATION_TYPES), required=True, many=True, predicate=SOL.allegationType),
    Field("status", Choice(ALLEGATION_STATUSES),
          help="the status this source reports, as a status statement dated with the source's date"),
    Field("accused", Ref(registry="actor"), required=True, many=True, predicate=SOL.accused),
    Field("involves", Ref(registry="actor"), many=True, predicate=SOL.involves),
    Field("places", Ref(registry="place"), many=True, predicate=SOL.place),
    Field("timeframe", Text("en"), predicate=SOL.timeframe),
    Field("during", Ref(registry="period"), many=True, predicate=SOL.during),
    Field("start_date", Date(), predicate=SOL.startDate),
    Field("end_date", Date(), predicate=SOL.endDate),
    Field("attributions", Nested(schema="attribution"), required=True, many=True),
), help="an accusation, with who asserts and who denies it")

EVENT = Schema("event", (
    Field("id", Slug(), required=True),
    Field("type", Choice(EVENT_TYPES), required=True, predicate=SOL.eventType),
    Field("label", Text("en"), required=True, predicate=RDFS.label),
    Field("summary", Text("en"), required=True, predicate=DCTERMS.description),
    Field("date", Date(), predicate=SOL.date),
    Field("start_date", Date(), predicate=SOL.startDate),
    Field("end_date", Date(), predicate=SOL.endDate),
    Field("timeframe", Text("en"), predicate=SOL.timeframe),
    Field("undated_reason", Text("en"), predicate=SOL.undatedReason,
          help="why no date is known, when the event has none"),
    Field("during", Ref(registry="period"), many=True, predicate=SOL.during),
    Field("performed_by", Ref(registry="actor"), many=True, predicate=SOL.performedBy),
    Field("involves", Ref(registry="actor"), many=True, predicate=SOL.involves),
    Field("places", Ref(registry="place"), many=True, predicate=SOL.place),
    Field("allegations", Ref(registry="allegation"), many=True, predicate=SOL.relatedAllegation),
    Field("amount", Amount(), predicate=SOL.amount),
    Field("currency", Currency(), predicate=SOL.currency),
    Field("quote", Quote(), predicate=SOL.quote),
    Field("translation", Text("en"), predicate=SOL.translation, help="our English rendering of a quote not in English"),
), help="a dated happening")

SOURCE = Schema("source", (
    Field("id", Slug(), required=True),
    Field("type", Choice(SOURCE_TYPES), required=True),
    Field("title", Text(), required=True, predicate=DCTERMS.title),
    Field("publisher", Ref(registry="actor"), many=True, predicate=DCTERMS.publisher),
    Field("authors", Ref(registry="actor"), many=True, predicate=DCTERMS.creator),
    Field("url", Url(), predicate=SOL.url),
    Field("date", Date(), predicate=DCTERMS.issued, help="only where the source gives it"),
    Field("language", Text(), predicate=DCTERMS.language),
    Field("summarizes", Ref(registry="source"), predicate=SOL.summarizes),
    Field("reproduces", Ref(registry="source"), predicate=SOL.reproduces,
          help="for a reprint: the source id of the document it reproduces"),
    Field("reports_on", Ref(registry="source"), many=True, predicate=SOL.reportsOn,
          help="for a news report: the documents it reports on"),
    Field("seen_at", Url(), predicate=SOL.seenAt, help="the address of the copy the quotes were read in"),
    Field("read_on", Date(), predicate=SOL.readOn, help="when the quotes were read there"),
    Field("access_note", Text("en"), predicate=SOL.accessNote),
), help="the document itself")

STATUS_CHANGE = Schema("status change", (
    Field("id", Slug(), required=True),
    Field("allegation", Ref(registry="allegation"), required=True, predicate=SOL.statusOf),
    Field("status", Choice(ALLEGATION_STATUSES), required=True, predicate=SOL.statusValue),
    Field("date", Date(), required=True, predicate=SOL.date, help="as precise as the source: YYYY, YYYY-MM or YYYY-MM-DD"),
    Field("concerns", Ref(registry="actor"), many=True, predicate=SOL.concerns),
    Field("case", Text(), predicate=SOL.caseName),
    Field("detail", Text("en"), predicate=SOL.detail),
    Field("quote", Quote(), predicate=SOL.quote),
    Field("translation", Text("en"), predicate=SOL.translation, help="our English rendering of a quote not in English"),
    Field("supersedes", Ref(registry="status"), predicate=SOL.supersedes,
          help="the id of an earlier status statement found wrong (it is kept, marked superseded)"),
    Field("correction_reason", Text("en"), predicate=SOL.correctionReason, help="why the superseded one was wrong"),
), help="one dated step in how an allegation was taken up")

PERIOD = Schema("period", (
    Field("id", Slug(), required=True),
    Field("label", Text("en"), required=True, predicate=RDFS.label),
    Field("description", Text("en"), predicate=DCTERMS.description),
    Field("start", Date(), required=True, predicate=SOL.startDate),
    Field("end", Date(), predicate=SOL.endDate),
    Field("belongs_to", Ref(registry="actor"), many=True, predicate=SOL.belongsTo),
    Field("seen_in", Text(), required=True, predicate=SOL.datesSeenIn, help="where the dates were read"),
), help="a span of time the sources name in words")

CURATION = Schema("curation", (
    Field("curated_by", Ref(registry="actor"), required=True, many=True),
    Field("curated_on", Date(), required=True),
), help="who took the records from the source, and when")

SOURCE_FILE = Schema("source file", (
    Field("source", Nested(schema="source"), required=True),
    Field("curation", Nested(schema="curation"), required=True),
    Field("allegations", Nested(schema="allegation"), many=True),
    Field("attributions", Nested(schema="attribution"), many=True,
          help="stances on allegations recorded from other sources"),
    Field("events", Nested(schema="event"), many=True),
    Field("status_changes", Nested(schema="status change"), many=True,
          help="steps in the course of allegations (this source's or others')"),
))

DATASET = Schema("dataset", (
    Field("title", Text("en"), required=True, predicate=DCTERMS.title),
    Field("description", Text("en"), required=True, predicate=DCTERMS.description),
    Field("license", Url(), required=True),
    Field("publisher", Ref(registry="actor"), required=True, predicate=DCTERMS.publisher),
    Field("curation", Nested(schema="curation"), required=True),
))

ACTOR_LIST = Schema("actor list", (
    Field("actors", Nested(schema="actor"), required=True, many=True),
), help="an 'actors:' list")

PLACE_LIST = Schema("place list", (
    Field("places", Nested(schema="place"), required=True, many=True),
), help="a 'places:' list")

PERIOD_LIST = Schema("period list", (
    Field("periods", Nested(schema="period"), required=True, many=True),
), help="a 'periods:' list")

WIKIDATA_LIST = Schema("wikidata list", (
    Field("verified", Nested(schema="wikidata"), required=True, many=True),
), help="a 'verified:' list of checked Wikidata ids")

SCHEMAS = {s.name: s for s in (ACTOR, PLACE, WIKIDATA_LINK, ATTRIBUTION, ALLEGATION, EVENT, SOURCE, STATUS_CHANGE,
                               PERIOD, CURATION, SOURCE_FILE, DATASET, ACTOR_LIST, PLACE_LIST, PERIOD_LIST,
                               WIKIDATA_LIST)}
