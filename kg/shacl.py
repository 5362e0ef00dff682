"""ontology/shapes.ttl compiled to SPARQL, so the query engine can check millions of imported triples.

pyshacl checks the curated data, where it can point at the YAML line behind a violation. It loads
everything into rdflib, which is far too slow for large imports; there the same shapes are compiled
into one SPARQL query per constraint and run in pyoxigraph. Only the SHACL Core features the shapes
use are compiled; any other feature raises UnsupportedShape instead of being silently skipped, and a
test checks that both validators agree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import rdflib
from pyoxigraph import Store
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH

from kg.paths import ONTOLOGY_FILE, SHAPES_FILE

# Shape keys that carry no constraint of their own.
DESCRIPTIVE = {RDF.type, rdflib.RDFS.label, rdflib.RDFS.comment, SH.message, SH.targetClass, SH.path,
               SH.qualifiedMinCount}
VALUE_CONSTRAINTS = {SH["class"], SH.datatype, SH["in"], SH.pattern, SH.minLength, SH.nodeKind, SH.node, SH["or"]}


class UnsupportedShape(ValueError):
    """The shapes use a SHACL feature this compiler does not translate."""


@dataclass(frozen=True)
class Violation:
    focus: str
    shape: str
    path: str
    message: str


@dataclass(frozen=True)
class Check:
    """One constraint of a targeted shape: ``failing`` binds ?focus to each target node that breaks it."""

    shape: str
    path: str
    message: str
    failing: str

    @property
    def query(self) -> str:
        return f"SELECT DISTINCT ?focus WHERE {{ {self.failing} }} ORDER BY ?focus"


def _sparql(term) -> str:
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.Literal):
        return term.n3()
    raise UnsupportedShape(f"cannot write {term!r} in a query")


def _union(patterns: list[str]) -> str:
    return " UNION ".join(f"{{ {pattern} }}" for pattern in patterns)


class ShapeCompiler:
    """Each constraint compiled into a pattern of the nodes breaking it, within a domain: a group pattern binding
    the node variable (and maybe others) to every node to check.

    The patterns test sets, not nodes one by one: a node lacking a value is the domain MINUS the nodes having
    one, a node with two values is found by GROUP BY, a value of the wrong class is the values MINUS the
    instances of the class. Oxigraph evaluates each of these in one scan of the statements it needs, where
    FILTER EXISTS looked each node up in the store in turn: ten times as slow over a million statements.
    """

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph):
        self.shapes = shapes
        self.ontology = ontology
        self._names = itertools.count()

    def instance_of(self, var: str, cls) -> str:
        """A pattern matching instances of ``cls`` or of its subclasses in the ontology.

        The subclasses are listed rather than followed with rdfs:subClassOf* in the data: the
        hierarchy is fixed, and the listed form is much cheaper over millions of statements.
        """
        classes = sorted(self.ontology.transitive_subjects(rdflib.RDFS.subClassOf, cls))
        kind = self.fresh()
        return f"VALUES {kind} {{ {' '.join(map(_sparql, classes))} }} {var} a {kind} ."

    def fresh(self) -> str:
        return f"?v{next(self._names)}"

    def path(self, shape) -> str:
        path = self.shapes.value(shape, SH.path)
        if isinstance(path, rdflib.URIRef):
            return f"<{path}>"
        inverse = self.shapes.value(path, SH.inversePath)
        if isinstance(inverse, rdflib.URIRef):
            return f"^<{inverse}>"
        raise UnsupportedShape(f"path {path!r} of {shape}")

    def _check_known(self, shape, allowed: set) -> None:
        unknown = {p for p in self.shapes.predicates(shape) if p not in allowed | DESCRIPTIVE}
        if unknown:
            raise UnsupportedShape(f"{shape} uses {sorted(map(str, unknown))}")

    def tests(self, shape, var: str) -> list[str]:
        """The value constraints of ``shape`` that look at the node ``var`` alone, as filter expressions."""
        tests = []
        for datatype in self.shapes.objects(shape, SH.datatype):
            tests.append(f"(isLiteral({var}) && datatype({var}) = {_sparql(datatype)})")
        for members in self.shapes.objects(shape, SH["in"]):
            tests.append(f"{var} IN ({', '.join(map(_sparql, Collection(self.shapes, members)))})")
        for pattern in self.shapes.objects(shape, SH.pattern):
            tests.append(f"REGEX(STR({var}), {_sparql(pattern)})")
        for length in self.shapes.objects(shape, SH.minLength):
            tests.append(f"STRLEN(STR({var})) >= {int(length)}")
        for kind in self.shapes.objects(shape, SH.nodeKind):
            if kind != SH.IRI:
                raise UnsupportedShape(f"sh:nodeKind {kind}")
            tests.append(f"isIRI({var})")
        for options in self._alternatives(shape):
            if self._all_tests(options):
                tests.append("(" + " || ".join(f"({' && '.join(self.tests(option, var)) or 'true'})"
                                               for option in options) + ")")
        return tests

    def _alternatives(self, shape) -> list[list]:
        """The options of each sh:or of ``shape``."""
        return [list(Collection(self.shapes, members)) for members in self.shapes.objects(shape, SH["or"])]

    def _all_tests(self, options: list) -> bool:
        return all(self._only_tests(option) for option in options)

    def _only_tests(self, shape) -> bool:
        """Whether every constraint of ``shape`` is one ``tests`` writes as an expression."""
        self._check_known(shape, VALUE_CONSTRAINTS | {SH.property})
        constraints = set(self.shapes.predicates(shape)) - DESCRIPTIVE
        if constraints - {SH.datatype, SH["in"], SH.pattern, SH.minLength, SH.nodeKind, SH["or"]}:
            return False
        return all(self._all_tests(options) for options in self._alternatives(shape))

    def breaking_values(self, shape, domain: str, var: str) -> list[str]:
        """Patterns of the nodes ``var`` of ``domain`` breaking ``shape``'s value constraints, one per constraint
        (its tests together)."""
        broken = [f"{domain} MINUS {{ {self.instance_of(var, cls)} }}" for cls in self.shapes.objects(shape, SH["class"])]
        tests = self.tests(shape, var)
        if tests:
            broken.append(f"{domain} FILTER(!({' && '.join(tests)}))")
        for node in self.shapes.objects(shape, SH.node):
            broken.append(self.breaking(node, domain, var))
        for options in self._alternatives(shape):
            if not self._all_tests(options):  # else one of the tests
                broken.append(domain + "".join(f" MINUS {{ {self.conforming(option, domain, var)} }}"
                                               for option in options))
        return broken

    def breaking_property(self, prop, domain: str, focus: str) -> list[str]:
        """Patterns of the nodes ``focus`` of ``domain`` breaking one property shape, one per constraint."""
        self._check_known(prop, VALUE_CONSTRAINTS | {SH.minCount, SH.maxCount, SH.hasValue,
                                                     SH.qualifiedValueShape})
        path = self.path(prop)
        broken = []
        for count in self.shapes.objects(prop, SH.minCount):
            if int(count) != 1:
                raise UnsupportedShape(f"sh:minCount {count} (only 1 is compiled)")
            broken.append(f"{domain} MINUS {{ {focus} {path} {self.fresh()} }}")
        for count in self.shapes.objects(prop, SH.maxCount):
            value = self.fresh()
            if int(count) == 0:  # "none of these": what a shape in an sh:or says of the other branch's properties
                broken.append(f"{domain} {{ SELECT DISTINCT {focus} WHERE {{ {focus} {path} {value} }} }}")
                continue
            if int(count) != 1:
                raise UnsupportedShape(f"sh:maxCount {count} (only 0 and 1 are compiled)")
            broken.append(f"{domain} {{ SELECT {focus} WHERE {{ {focus} {path} {value} }} GROUP BY {focus} "
                          f"HAVING(COUNT(DISTINCT {value}) > 1) }}")  # DISTINCT: one statement in two graphs
        for value in self.shapes.objects(prop, SH.hasValue):
            broken.append(f"{domain} MINUS {{ {focus} {path} {_sparql(value)} }}")
        for qualified in self.shapes.objects(prop, SH.qualifiedValueShape):
            minimum = self.shapes.value(prop, SH.qualifiedMinCount)
            if minimum is None or int(minimum) != 1:
                raise UnsupportedShape("sh:qualifiedValueShape needs sh:qualifiedMinCount 1")
            value = self.fresh()
            valued = f"{{ {focus} {path} {value} }}"
            broken.append(f"{domain} MINUS {{ {self.conforming(qualified, valued, value)} }}")
        value = self.fresh()
        wrong_values = self.breaking_values(prop, f"{{ {focus} {path} {value} }}", value)
        if wrong_values:
            broken.append(f"{domain} {{ SELECT DISTINCT {focus} WHERE {{ {_union(wrong_values)} }} }}")
        return broken

    def breaking(self, shape, domain: str, var: str) -> str:
        """A pattern of the nodes ``var`` of ``domain`` breaking any constraint of a node shape."""
        self._check_known(shape, VALUE_CONSTRAINTS | {SH.property})
        broken = self.breaking_values(shape, domain, var)
        for prop in self.shapes.objects(shape, SH.property):
            broken += self.breaking_property(prop, domain, var)
        return _union(broken) if broken else f"{domain} FILTER(false)"

    def conforming(self, shape, domain: str, var: str) -> str:
        """A pattern of the nodes ``var`` of ``domain`` meeting every constraint of a node shape."""
        return f"{domain} MINUS {{ {self.breaking(shape, domain, var)} }}"

    def checks(self) -> list[Check]:
        """A check for each constraint of every targeted shape."""
        found = []
        for shape in sorted(set(self.shapes.subjects(SH.targetClass, None))):
            targets = " UNION ".join(f"{{ {self.instance_of('?focus', c)} }}"
                                     for c in sorted(self.shapes.objects(shape, SH.targetClass)))
            domain = f"{{ SELECT DISTINCT ?focus WHERE {{ {targets} }} }}"
            self._check_known(shape, VALUE_CONSTRAINTS | {SH.property})
            for prop in [None, *sorted(self.shapes.objects(shape, SH.property))]:
                if prop is None:
                    broken = self.breaking_values(shape, domain, "?focus")
                    path, message = "(node)", self.shapes.value(shape, SH.message)
                else:
                    broken = self.breaking_property(prop, domain, "?focus")
                    path, message = str(self.shapes.value(prop, SH.path)), self.shapes.value(prop, SH.message)
                found += [Check(str(shape), path, str(message or "violates a shape"), failing) for failing in broken]
        return found


def compiled_checks() -> list[Check]:
    shapes = rdflib.Graph().parse(data=SHAPES_FILE.read_text(encoding="utf-8"), format="turtle")
    ontology = rdflib.Graph().parse(data=ONTOLOGY_FILE.read_text(encoding="utf-8"), format="turtle")
    return ShapeCompiler(shapes, ontology).checks()


def violations(store: Store, limit: int = 100) -> list[Violation]:
    """Every shape violation in the store's union of graphs (the ontology must be loaded too), at most ``limit``
    per constraint."""
    found = []
    for check in compiled_checks():
        for row in store.query(check.query + f" LIMIT {limit}", use_default_graph_as_union=True):
            found.append(Violation(row["focus"].value, check.shape, check.path, check.message))
    return found
