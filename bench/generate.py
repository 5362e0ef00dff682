"""A synthetic soles dataset of about N triples, written as N-Quads in the shape ``kg build`` gives real data.

Everything is drawn from one seeded random stream and written as it is drawn, so the same size and
seed give the same file byte for byte, in constant memory. Lines are formatted by hand (no rdflib):
10M triples take under a minute.

Shape of the data, per kg/quads.py and ontology/shapes.ttl:
  * a reference graph (graph:synthetic-reference) holds actors (persons, organizations, groups)
    and places, with explicit sol:Actor / sol:Place types, labels drawn from name lists, and
    owl:sameAs links to Wikidata-like entity IRIs on a share of them;
  * one named graph per source (a news report with title, publisher, URL and date) holds the
    source, its allegations, their attributions (asserting and denying, with quotes of at most
    25 words), its events, and a PROV-O description of the graph itself.
Who gets accused is skewed, so a few actors are hubs and most are accused a handful of times.
Two actors keep the slugs of curated actors so that queries naming them find data:
person:nicolas-maduro is the biggest hub, person:vladimir-padrino an actor of median popularity.
"""

from __future__ import annotations

import random
import unicodedata
from collections import deque
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TextIO

from kg import ids
from kg import schema as sc
from kg.quads import status_statement_label
from kg.vocab import DCTERMS, OWL, PROV, RDF, RDFS, SOL, WIKIDATA_ENTITY, XSD

HUB_ACTOR = ("nicolas-maduro", "Nicolás Maduro", "Q58132")  # the Wikidata id data/ gives him
TYPICAL_ACTOR = ("vladimir-padrino", "Vladimir Padrino", None)
CURATOR_SLUG = "bench-editors"
PUBLICATION_YEARS = range(2000, 2027)

FIRST_NAMES = (
    "Alejandro", "Ana", "Andrés", "Antonio", "Beatriz", "Carlos", "Carmen", "Daniel", "Diego", "Elena",
    "Eduardo", "Fernando", "Francisco", "Gabriela", "Gustavo", "Héctor", "Isabel", "Javier", "Jesús", "Jorge",
    "José", "Juan", "Julio", "Laura", "Luis", "Manuel", "María", "Mario", "Miguel", "Natalia", "Néstor",
    "Óscar", "Pablo", "Pedro", "Rafael", "Ramón", "Ricardo", "Roberto", "Rosa", "Samuel", "Sergio",
    "Sofía", "Tareck", "Teresa", "Vicente", "Víctor", "Walter", "Yolanda",
)
SURNAMES = (
    "Acosta", "Alcalá", "Álvarez", "Arias", "Benítez", "Blanco", "Cabello", "Cardozo", "Carvajal", "Castillo",
    "Castro", "Chacón", "Contreras", "Díaz", "Duarte", "Escalona", "Fernández", "Figueroa", "Flores", "García",
    "Gómez", "González", "Guerrero", "Gutiérrez", "Hernández", "Herrera", "Jiménez", "León", "López",
    "Marín", "Márquez", "Martínez", "Medina", "Mendoza", "Molina", "Morales", "Moreno", "Muñoz", "Navarro",
    "Núñez", "Ochoa", "Ortega", "Padilla", "Paredes", "Peña", "Pérez", "Quintero", "Ramírez", "Ramos",
    "Reyes", "Rincón", "Rivas", "Rodríguez", "Rojas", "Romero", "Salazar", "Sánchez", "Silva", "Soto",
    "Suárez", "Torres", "Urdaneta", "Valera", "Vargas", "Vásquez", "Velásquez", "Villegas", "Zambrano",
)
ROLES = (
    "general of the armed forces", "colonel of the national guard", "governor", "interior minister",
    "defense minister", "intelligence chief", "customs director", "air force commander", "mayor",
    "prosecutor", "businessman", "pilot", "port administrator", "police commissioner", "judge",
    "oil company executive", "naval officer", "legislator",
)
COUNTRIES = (
    ("Venezuela", "Q717"), ("Colombia", "Q739"), ("United States", "Q30"), ("Mexico", "Q96"),
    ("Honduras", "Q783"), ("Guatemala", "Q774"), ("Panama", "Q804"), ("Ecuador", "Q736"), ("Peru", "Q419"),
    ("Bolivia", "Q750"), ("Brazil", "Q155"), ("Dominican Republic", "Q786"), ("Spain", "Q29"),
    ("France", "Q142"), ("Netherlands", "Q55"), ("Cuba", "Q241"), ("Nicaragua", "Q811"), ("Costa Rica", "Q800"),
)
CITIES = (
    "Caracas", "Maracaibo", "Valencia", "Barquisimeto", "San Cristóbal", "Puerto Cabello", "Ciudad Bolívar",
    "Mérida", "Cumaná", "Barinas", "Puerto Ayacucho", "Guasdualito", "La Guaira", "Punto Fijo", "Bogotá",
    "Cúcuta", "Medellín", "Cali", "Barranquilla", "Cartagena", "Riohacha", "Miami", "Houston", "New York",
    "Tegucigalpa", "San Pedro Sula", "Guatemala City", "Panama City", "Guayaquil", "Lima", "Santa Cruz",
    "Santo Domingo", "Madrid", "Paris", "Rotterdam", "Havana", "Managua", "San José", "Culiacán",
)
ORGANIZATION_KINDS = (
    "National Guard", "Armed Forces", "Military Intelligence Directorate", "Interior Ministry",
    "Customs Service", "Air Force", "Navy", "State Oil Company", "Supreme Court", "Attorney General's Office",
    "Anti-Drug Office", "Port Authority", "Police Corps", "Treasury Department",
)
NEWSPAPERS = ("El Diario", "La Voz", "El Heraldo", "La Prensa", "El Observador", "La Crónica", "El Correo")
GROUP_KINDS = ("Officials", "Analysts", "Prosecutors", "Military officers", "Insiders", "Diplomats", "Witnesses")
ALLEGATION_PHRASES = {
    "drug-trafficking": "moved cocaine shipments",
    "bribery": "took bribes from traffickers",
    "arms-supply": "supplied weapons to armed groups",
    "protection-of-traffickers": "shielded traffickers from arrest",
    "criminal-leadership": "led a trafficking network",
    "terrorism": "backed acts of narco-terrorism",
    "corruption": "embezzled public funds",
    "support-of-armed-groups": "gave guerrillas safe haven",
    "sanctions-evasion": "evaded sanctions through front companies",
}
ASSERTING_QUOTES = (
    "{name} {phrase} through {place} for years, according to officials familiar with the case",
    "investigators say {name} {phrase} with the help of senior officers",
    "the indictment alleges that {name} {phrase} in {place}",
    "witnesses told prosecutors that {name} {phrase}",
)
DENYING_QUOTES = (
    "{name} rejected the accusations as lies meant to justify foreign pressure",
    "{name} denied any involvement and called the report fabricated",
    "a spokesman for {name} said the allegations were false",
)
EVENT_LABELS = {
    "indictment": "{name} indicted",
    "arrest": "{name} arrested",
    "designation": "{name} designated under sanctions",
    "reward-offer": "Reward offered for {name}",
    "military-operation": "Military operation against {name}",
    "strike": "Strike on a network tied to {name}",
    "statement": "{name} issues a statement",
    "extradition": "{name} extradited",
    "plea": "{name} enters a plea",
    "sentencing": "{name} sentenced",
    "charge-dropped": "Charges against {name} dropped",
    "court-proceeding": "Hearing in the case of {name} moved",
    "release": "{name} freed in a prisoner exchange",
    "rejection": "{name} rejects the accusations",
    "publication": "Report on {name} published",
}
UNDATED_REASON = "The report does not say when it happened."
TITLE_TEMPLATES = (
    "How {name} {phrase}",
    "Prosecutors say {name} {phrase}",
    "The network behind {name}",
    "Officials link {name} to trafficking in {place}",
)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_text).split())


@lru_cache(maxsize=None)
def slug_of(word: str) -> str:
    """slugify for the words of the name lists, each computed once (there are a few hundred)."""
    return slugify(word)


def iri(node_or_text) -> str:
    return f"<{getattr(node_or_text, 'value', node_or_text)}>"


def literal(text: str, language: str | None = None, datatype=None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if language:
        return f'"{escaped}"@{language}'
    if datatype is not None:
        return f'"{escaped}"^^{iri(datatype)}'
    return f'"{escaped}"'


# N-Quads terms used on every line, formatted once.
A = iri(RDF.type)
LABEL = iri(RDFS.label)
DESCRIPTION = iri(DCTERMS.description)
ACTOR_CLASS = {kind: iri(node) for kind, node in sc.ACTOR_TYPES}
PLACE_CLASS = {kind: iri(node) for kind, node in sc.PLACE_TYPES}
ALLEGATION_TYPE = {slug: iri(node) for slug, node in sc.ALLEGATION_TYPES}
STATUS = {slug: iri(node) for slug, node in sc.ALLEGATION_STATUSES}
STATUS_NAMES = [slug for slug, _ in sc.ALLEGATION_STATUSES]  # in the order a case moves (kg.history.STATUS_ORDER)
STANCE = {slug: iri(node) for slug, node in sc.STANCES}
EVENT_TYPE = {slug: iri(node) for slug, node in sc.EVENT_TYPES}
# Actors and places go into a reference graph of their own: `kg build --import` refuses graphs that
# data/ already builds, such as graph:reference.
REFERENCE_GRAPH = iri(ids.graph("synthetic-reference"))


def entity(kind: str, slug: str) -> str:
    """ids.entity without the slug check, which would dominate the run time at 10M triples."""
    return f"<{ids.ENTITY_BASE}{kind}/{slug}>"


@dataclass(frozen=True)
class Sizes:
    """How many actors and places a dataset of about ``triples`` triples has; sources fill the rest."""

    triples: int

    @property
    def actors(self) -> int:
        return max(60, self.triples // 150)

    @property
    def places(self) -> int:
        return max(len(COUNTRIES) + 20, self.triples // 5000)

    @property
    def typical_actor_index(self) -> int:
        # A person (index ending in 0-6, see actor_kind) halfway down the popularity ranking.
        return self.actors // 20 * 10


def is_newspaper(index: int) -> bool:
    """Organizations (index ending in 7 or 8) at every 30th index are the newspapers that publish sources."""
    return index % 30 == 27


MASK64 = (1 << 64) - 1


def mix(index: int, seed: int) -> int:
    """splitmix64 of (seed, index): well-spread digits to name an entity by its index."""
    z = (index + 1 + seed * 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def actor_kind(index: int) -> str:
    """Seven persons, two organizations and one group in every ten actors; index 0 is a person."""
    return "person" if index % 10 < 7 else "organization" if index % 10 < 9 else "group"


class Generator:
    def __init__(self, sizes: Sizes, seed: int, out: TextIO):
        self.sizes = sizes
        self.seed = seed
        self.random = random.Random(seed)
        self.out = out
        self.triples = 0
        self.sources = 0
        self.recent_allegations: deque[tuple[str, str]] = deque(maxlen=500)  # (slug, label), for later denials
        self.anchors = {0: HUB_ACTOR, sizes.typical_actor_index: TYPICAL_ACTOR}

    # ------------------------------------------------------------ writing

    def emit(self, lines: list[str]) -> None:
        self.triples += len(lines)
        self.out.write("".join(lines))

    @staticmethod
    def quad(subject: str, predicate: str, obj: str, graph: str) -> str:
        return f"{subject} {predicate} {obj} {graph} .\n"

    # ------------------------------------------------------------ reference entities

    def place(self, index: int) -> tuple[str, str]:
        """(IRI, name) of a place: the countries first, then cities."""
        if index < len(COUNTRIES):
            name = COUNTRIES[index][0]
            return entity("place", slug_of(name)), name
        name = CITIES[index % len(CITIES)]
        return entity("place", f"{slug_of(name)}-{index}"), name

    def actor(self, index: int) -> tuple[str, str]:
        """(IRI, name) of an actor."""
        slug, name = self.actor_name(index)
        return entity(actor_kind(index), slug), name

    def actor_name(self, index: int) -> tuple[str, str]:
        """(slug, name) of an actor, a function of its index and the seed alone: actors are named
        wherever they are mentioned without keeping a table of all of them."""
        if index in self.anchors:
            slug, name, _ = self.anchors[index]
            return slug, name
        digits = mix(index, self.seed)

        def pick(choices):
            nonlocal digits
            digits, position = divmod(digits, len(choices))
            return choices[position]

        kind = actor_kind(index)
        if kind == "person":
            parts = (pick(FIRST_NAMES), pick(SURNAMES), pick(SURNAMES))
        elif is_newspaper(index):
            parts = (pick(NEWSPAPERS), "de", pick(CITIES))
        else:
            parts = (pick(ORGANIZATION_KINDS if kind == "organization" else GROUP_KINDS), "of", pick(COUNTRIES)[0])
        return "-".join(slug_of(part) for part in parts) + f"-{index}", " ".join(parts)

    def wikidata(self, index: int, share: float) -> str | None:
        """A Wikidata-like entity IRI for a share of entities; distinct indexes give distinct ids."""
        if self.random.random() >= share:
            return None
        return iri(WIKIDATA_ENTITY[f"Q{(index * 7919) % 90_000_000 + 10_000_000}"])

    def write_places(self) -> None:
        graph, q = REFERENCE_GRAPH, self.quad
        for index in range(self.sizes.places):
            subject, name = self.place(index)
            lines = [q(subject, A, iri(SOL.Place), graph), q(subject, LABEL, literal(name), graph)]
            if index < len(COUNTRIES):
                lines.append(q(subject, A, PLACE_CLASS["country"], graph))
                lines.append(q(subject, iri(OWL.sameAs), iri(WIKIDATA_ENTITY[COUNTRIES[index][1]]), graph))
            else:
                country, _ = self.place(self.random.randrange(len(COUNTRIES)))
                lines.append(q(subject, A, PLACE_CLASS["city"], graph))
                lines.append(q(subject, iri(SOL.partOf), country, graph))
                if (link := self.wikidata(index + 1_000_000, 0.5)) is not None:
                    lines.append(q(subject, iri(OWL.sameAs), link, graph))
            self.emit(lines)

    def write_actors(self) -> None:
        graph, q = REFERENCE_GRAPH, self.quad
        for index in range(self.sizes.actors):
            subject, name = self.actor(index)
            kind = actor_kind(index)
            country, country_name = self.place(self.random.randrange(len(COUNTRIES)))
            lines = [
                q(subject, A, iri(SOL.Actor), graph),
                q(subject, A, ACTOR_CLASS[kind], graph),
                q(subject, LABEL, literal(name), graph),
                q(subject, iri(SOL.country), country, graph),
            ]
            if kind == "person":
                role = ROLES[self.random.randrange(len(ROLES))]
                lines.append(q(subject, iri(SOL.role), literal(role, "en"), graph))
                lines.append(q(subject, DESCRIPTION, literal(f"Synthetic person: {role} ({country_name}).", "en"), graph))
            else:
                lines.append(q(subject, DESCRIPTION, literal(f"Synthetic {kind} of {country_name}.", "en"), graph))
            if index in self.anchors and self.anchors[index][2]:
                lines.append(q(subject, iri(OWL.sameAs), iri(WIKIDATA_ENTITY[self.anchors[index][2]]), graph))
            elif index not in self.anchors and kind != "group" and (link := self.wikidata(index, 0.6)) is not None:
                lines.append(q(subject, iri(OWL.sameAs), link, graph))
            if kind == "person" and self.random.random() < 0.4:
                organization, _ = self.actor(self.random.randrange(self.sizes.actors // 10) * 10 + 8)
                lines.append(q(subject, iri(SOL.memberOf), organization, graph))
            self.emit(lines)
        curator = entity("organization", CURATOR_SLUG)
        self.emit([
            q(curator, A, iri(SOL.Actor), graph),
            q(curator, A, ACTOR_CLASS["organization"], graph),
            q(curator, LABEL, literal("bench editors"), graph),
        ])

    # ------------------------------------------------------------ sources

    def accused_index(self) -> int:
        """Skewed towards low indexes: index 0 is the biggest hub, the median index a typical actor."""
        return int(self.sizes.actors * self.random.random() ** 2)

    def distinct_actors(self, count: int, draw, exclude=()) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < count:
            index = draw()
            if index not in chosen and index not in exclude:
                chosen.append(index)
        return chosen

    def any_actor(self) -> int:
        return self.random.randrange(self.sizes.actors)

    def publisher(self) -> int:
        return self.random.randrange(self.sizes.actors // 30) * 30 + 27  # see is_newspaper

    def date(self) -> tuple[int, str]:
        year = self.random.choice(PUBLICATION_YEARS)
        return year, f"{year}-{self.random.randint(1, 12):02d}-{self.random.randint(1, 28):02d}"

    def write_source(self, number: int) -> None:
        rnd, q = self.random, self.quad
        slug = f"report-{number}"
        graph = iri(ids.GRAPH_BASE + slug)
        source = entity("source", slug)
        publisher = self.publisher()
        publisher_iri, _ = self.actor(publisher)
        year, issued = self.date()

        allegations = [self.allegation(slug, k, graph, source, issued)
                       for k in range(1 + (rnd.random() < 0.5) + (rnd.random() < 0.2))]
        lead_name, lead_phrase, lead_place = allegations[0][2]
        title = rnd.choice(TITLE_TEMPLATES).format(name=lead_name, phrase=lead_phrase, place=lead_place)
        lines = [
            q(graph, A, iri(SOL.SourceGraph), graph),
            q(graph, LABEL, literal(f"Records taken from: {title}", "en"), graph),
            q(graph, iri(PROV.wasDerivedFrom), source, graph),
            q(graph, iri(PROV.generatedAtTime), literal(f"{issued}T00:00:00Z", datatype=XSD.dateTime), graph),
            q(graph, iri(PROV.wasAttributedTo), entity("organization", CURATOR_SLUG), graph),
            q(source, A, iri(SOL.Source), graph),
            q(source, A, iri(SOL.NewsReport), graph),
            q(source, iri(DCTERMS.title), literal(title), graph),
            q(source, iri(DCTERMS.publisher), publisher_iri, graph),
            q(source, iri(SOL.url), literal(f"https://news.example.org/{self.actor_name(publisher)[0]}/{year}/{slug}",
                                            datatype=XSD.anyURI), graph),
            q(source, iri(DCTERMS.issued), literal(issued, datatype=XSD.date), graph),
            q(source, iri(DCTERMS.language), literal(rnd.choice(("es", "en"))), graph),
        ]
        for allegation_lines, _, _ in allegations:
            lines += allegation_lines
        for allegation_lines in self.attributions(slug, source, graph, allegations):
            lines += allegation_lines
        for k in range(int(rnd.random() < 0.5) + int(rnd.random() < 0.3)):
            lines += self.event(slug, k, source, graph, allegations)
        self.emit(lines)
        self.sources += 1
        # Remembered only now, so a later denial never lands in the source the allegation comes from.
        self.recent_allegations.extend((slug, label) for _, (slug, label, _), _ in allegations)

    def allegation(self, source_slug: str, k: int, graph: str, source: str, issued: str):
        """Lines of one allegation and of its course as the source ``source`` (of the day ``issued``) tells it; its
        slug, label and accused; and (name, phrase, place) for titles."""
        rnd, q = self.random, self.quad
        slug = f"{source_slug}-{k + 1}"
        subject = entity("allegation", slug)
        accused = self.distinct_actors(1 + (rnd.random() < 0.45) + (rnd.random() < 0.15), self.accused_index)
        types = rnd.sample(sorted(ALLEGATION_TYPE), 1 + (rnd.random() < 0.3))
        place_count = int(rnd.random() < 0.6) + int(rnd.random() < 0.3)
        places = [self.place(rnd.randrange(self.sizes.places)) for _ in range(place_count)]
        names = [self.actor(i)[1] for i in accused]
        phrase = ALLEGATION_PHRASES[types[0]]
        place_name = places[0][1] if places else "Venezuela"
        who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        label = f"{who} {phrase} in {place_name}"
        lines = [
            q(subject, A, iri(SOL.Allegation), graph),
            q(subject, LABEL, literal(label, "en"), graph),
            q(subject, DESCRIPTION, literal(f"Synthetic allegation: {label}, according to the source.", "en"), graph),
        ]
        course = self.course(issued)
        lines.append(q(subject, iri(SOL.status), STATUS[course[-1][0]], graph))  # its latest step, as kg build has it
        lines += [q(subject, iri(SOL.allegationType), ALLEGATION_TYPE[t], graph) for t in types]
        lines += [q(subject, iri(SOL.accused), self.actor(i)[0], graph) for i in accused]
        lines += [q(subject, iri(SOL.place), place_iri, graph) for place_iri, _ in dict(places).items()]
        if rnd.random() < 0.3:
            lines.append(q(subject, iri(SOL.involves), self.actor(self.any_actor())[0], graph))
        for number, (status, day) in enumerate(course):
            # Named as kg/quads.py names the status a source reports; the steps before it name whom they concern,
            # as the status changes of real sources do.
            step = entity("status", f"{slug}-{status}-in-{source_slug}")
            lines += [
                q(step, A, iri(SOL.StatusStatement), graph),
                q(step, LABEL, literal(status_statement_label(status, day, label), "en"), graph),
                q(step, iri(SOL.source), source, graph),
                q(step, iri(SOL.statusOf), subject, graph),
                q(step, iri(SOL.statusValue), STATUS[status], graph),
                q(step, iri(SOL.date), literal(day, datatype=XSD.date), graph),
            ]
            if number < len(course) - 1:
                lines.append(q(step, iri(SOL.concerns), self.actor(rnd.choice(accused))[0], graph))
        return lines, (slug, label, accused), (names[0], phrase, place_name)

    def course(self, issued: str) -> list[tuple[str, str]]:
        """The steps of an allegation's course a source reports, as (status, day), in date order: the status it
        reports now (any, evenly), on its own day; and, for some, up to three earlier steps of a case, on earlier
        days."""
        rnd = self.random
        current = rnd.randrange(len(STATUS_NAMES))
        earlier = min(current, (rnd.random() < 0.35) + (rnd.random() < 0.2) + (rnd.random() < 0.1))
        steps = sorted(rnd.sample(range(current), earlier)) + [current]
        days_before = sorted(rnd.sample(range(1, 2000), earlier), reverse=True) + [0]
        day = date.fromisoformat(issued)
        return [(STATUS_NAMES[status], (day - timedelta(days=before)).isoformat())
                for status, before in zip(steps, days_before)]

    def attributions(self, source_slug: str, source: str, graph: str, allegations):
        """One or two assertions per allegation, a denial by an accused half the time, and now and
        then a denial of an allegation recorded from an earlier source."""
        rnd = self.random
        for _, (slug, label, accused), (_, phrase, place_name) in allegations:
            asserters = self.distinct_actors(1 + (rnd.random() < 0.3), self.any_actor, exclude=accused)
            stances = [(i, "asserts") for i in asserters]
            if rnd.random() < 0.5:
                stances.append((rnd.choice(accused), "denies"))
            yield [line for claimant, stance in stances
                   for line in self.attribution(source_slug, source, graph, slug, label, claimant, stance,
                                                phrase, place_name)]
        if self.sources > 0 and rnd.random() < 0.2:
            slug, label = rnd.choice(self.recent_allegations)
            yield self.attribution(source_slug, source, graph, slug, label, self.any_actor(), "denies", "", "")

    def attribution(self, source_slug, source, graph, allegation_slug, allegation_label, claimant, stance,
                    phrase, place_name) -> list[str]:
        q = self.quad
        claimant_slug, claimant_name = self.actor_name(claimant)
        claimant_iri = entity(actor_kind(claimant), claimant_slug)
        subject = iri(ids.ENTITY_BASE + f"attribution/{source_slug}/{allegation_slug}/{claimant_slug}/{stance}")
        templates = ASSERTING_QUOTES if stance == "asserts" else DENYING_QUOTES
        quote = self.random.choice(templates).format(name=claimant_name if stance == "denies" else "the accused",
                                                     phrase=phrase, place=place_name)
        return [
            q(subject, A, iri(SOL.Attribution), graph),
            q(subject, LABEL, literal(f"{claimant_name} {stance}: {allegation_label}", "en"), graph),
            q(subject, iri(SOL.allegation), entity("allegation", allegation_slug), graph),
            q(subject, iri(SOL.claimant), claimant_iri, graph),
            q(subject, iri(SOL.stance), STANCE[stance], graph),
            q(subject, iri(SOL.source), source, graph),
            q(subject, iri(SOL.quote), literal(quote), graph),
        ]

    def event(self, source_slug: str, k: int, source: str, graph: str, allegations) -> list[str]:
        rnd, q = self.random, self.quad
        subject = entity("event", f"{source_slug}-event-{k + 1}")
        event_type = rnd.choice(sorted(EVENT_TYPE))
        _, (allegation_slug, _, accused), _ = rnd.choice(allegations)
        party_iri, party_name = self.actor(rnd.choice(accused))
        lines = [
            q(subject, A, iri(SOL.Event), graph),
            q(subject, LABEL, literal(EVENT_LABELS[event_type].format(name=party_name), "en"), graph),
            q(subject, iri(SOL.eventType), EVENT_TYPE[event_type], graph),
            q(subject, iri(SOL.performedBy), self.actor(self.any_actor())[0], graph),
            q(subject, iri(SOL.involves), party_iri, graph),
            q(subject, iri(SOL.relatedAllegation), entity("allegation", allegation_slug), graph),
            q(subject, iri(SOL.source), source, graph),
        ]
        if event_type == "reward-offer":
            amount = f"{rnd.randint(1, 50) * 1_000_000}"
            lines.append(q(subject, iri(SOL.amount), literal(amount, datatype=XSD.decimal), graph))
            lines.append(q(subject, iri(SOL.currency), literal("USD"), graph))
        year, day = self.date()
        precision = rnd.random()
        if precision < 0.6:
            lines.append(q(subject, iri(SOL.date), literal(day, datatype=XSD.date), graph))
        elif precision < 0.8:
            lines.append(q(subject, iri(SOL.date), literal(day[:7], datatype=XSD.gYearMonth), graph))
        elif precision < 0.9:
            lines.append(q(subject, iri(SOL.date), literal(str(year), datatype=XSD.gYear), graph))
        else:  # an event with no date says why, as the shapes require
            lines.append(q(subject, iri(SOL.undatedReason), literal(UNDATED_REASON, "en"), graph))
        return lines

    def write_reference_description(self) -> None:
        """The reference graph is derived from every source, as in kg/quads.py's _reference_graph."""
        graph, q = REFERENCE_GRAPH, self.quad
        lines = [
            q(graph, A, iri(SOL.SourceGraph), graph),
            q(graph, LABEL, literal("Synthetic reference data: actors and places named by the sources", "en"), graph),
            q(graph, iri(PROV.generatedAtTime), literal("2026-01-01T00:00:00Z", datatype=XSD.dateTime), graph),
            q(graph, iri(PROV.wasAttributedTo), entity("organization", CURATOR_SLUG), graph),
        ]
        self.emit(lines)
        derived_from = iri(PROV.wasDerivedFrom)
        for first in range(1, self.sources + 1, 10_000):  # in slices, so memory stays flat at any size
            self.emit([q(graph, derived_from, entity("source", f"report-{n}"), graph)
                       for n in range(first, min(first + 10_000, self.sources + 1))])

    def run(self) -> None:
        self.write_places()
        self.write_actors()
        # Each source adds a line of its own and one to the reference graph's description (4 lines).
        while self.triples + self.sources + 4 < self.sizes.triples:
            self.write_source(self.sources + 1)
        self.write_reference_description()


def generate(triples: int, out: Path, seed: int = 1) -> dict:
    """Write about ``triples`` quads to ``out``; return what was written."""
    sizes = Sizes(triples)
    with open(out, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as handle:
        generator = Generator(sizes, seed, handle)
        generator.run()
    return {"file": str(out), "triples": generator.triples, "sources": generator.sources,
            "actors": sizes.actors, "places": sizes.places, "seed": seed}


@dataclass(frozen=True)
class Rotation:
    """What the bench's rotating series ask for, one request after another (bench/run.py): actors as their
    address under /id/ (``person/<slug>``) with their names, and the pages of /contested."""

    actors: tuple[tuple[str, str], ...]
    contested_pages: int


ROTATED_ACTORS = 2000
ROTATION_SEED = 13


def rotation(path: Path, count: int = ROTATED_ACTORS, page_size: int = 50) -> Rotation:
    """Up to ``count`` of the actors the N-Quads file at ``path`` accuses, taken at even steps down the ranking
    by how often each is accused (hubs, the middle and the tail alike), in a seeded shuffled order so that
    any stretch of requests is a fair sample; and how many pages of ``page_size`` its contested allegations
    (those an attribution denies) fill. Read from the file, so that it also serves ``bench run --data``."""
    accused_iri, label_iri = iri(SOL.accused), LABEL
    actor_bases = tuple(f"<{ids.ENTITY_BASE}{kind}/" for kind in ids.ACTOR_KINDS)
    denial = f"<{ids.ENTITY_BASE}attribution/"
    accused: dict[str, int] = {}
    names: dict[str, str] = {}
    denied: set[str] = set()
    accused_at, label_at, denial_typed = f" {accused_iri} ", f" {label_iri} ", f"/denies> {A} "
    with open(path, encoding="utf-8") as quads:
        for line in quads:  # substring tests first: most lines are none of these (1M lines in a few seconds)
            if accused_at in line:
                actor = line.split(" ", 3)[2]
                accused[actor] = accused.get(actor, 0) + 1
            elif label_at in line and line.startswith(actor_bases):
                rest = line.split(" ", 2)[2]
                names[line.split(" ", 1)[0]] = rest[1:rest.rindex('"')]
            elif denial_typed in line and line.startswith(denial):
                denied.add(line[len(denial):].split("/")[1])
    ranked = sorted(accused, key=lambda actor: (-accused[actor], actor))
    step = max(1, len(ranked) / count)
    chosen = [ranked[int(position * step)] for position in range(min(count, len(ranked)))]
    random.Random(ROTATION_SEED).shuffle(chosen)
    return Rotation(tuple((actor[1 + len(ids.ENTITY_BASE):-1], names.get(actor, "")) for actor in chosen),
                    max(1, len(denied) // page_size))


def check_shapes(path: Path) -> tuple[bool, str]:
    """pyshacl's verdict on a generated file merged with the ontology, as kg validates real data.

    Takes about a second per 10k quads: meant for small sizes."""
    import pyoxigraph
    import rdflib
    from pyshacl import validate

    from kg.paths import ONTOLOGY_FILE, SHAPES_FILE

    # The graphs merged, as N-Triples written by the engine: rdflib's own N-Quads reading leaves the file
    # open and warns of its deprecated default context.
    with open(path, "rb") as quads:
        triples = pyoxigraph.serialize((quad.triple for quad in pyoxigraph.parse(quads, pyoxigraph.RdfFormat.N_QUADS)),
                                       format=pyoxigraph.RdfFormat.N_TRIPLES)
    data = rdflib.Graph().parse(data=triples.decode(), format="nt")
    data.parse(data=ONTOLOGY_FILE.read_text(encoding="utf-8"), format="turtle")
    conforms, _, text = validate(data, shacl_graph=rdflib.Graph().parse(SHAPES_FILE), inference="none")
    return conforms, text
