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
    """One constraint: the focus nodes of ``targets`` that fail ``condition`` violate it."""

    shape: str
    path: str
    message: str
    targets: str
    condition: str

    @property
    def query(self) -> str:
        return f"SELECT DISTINCT ?focus WHERE {{ {self.targets} FILTER(!({self.condition})) }} ORDER BY ?focus"


@dataclass(frozen=True)
class ShapeChecks:
    """One query that finds any node violating a shape, and one query per constraint to say which."""

    shape: str
    targets: str
    checks: list[Check]

    @property
    def any_violation(self) -> str:
        every = " && ".join(f"({check.condition})" for check in self.checks)
        return f"ASK {{ {self.targets} FILTER(!({every})) }}"


def _sparql(term) -> str:
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.Literal):
        return term.n3()
    raise UnsupportedShape(f"cannot write {term!r} in a query")


class ShapeCompiler:
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

    def value_ok(self, shape, var: str) -> list[str]:
        """Conditions a single value node ``var`` must meet under ``shape``'s value constraints."""
        conditions = []
        for cls in self.shapes.objects(shape, SH["class"]):
            conditions.append(f"EXISTS {{ {self.instance_of(var, cls)} }}")
        for datatype in self.shapes.objects(shape, SH.datatype):
            conditions.append(f"(isLiteral({var}) && datatype({var}) = {_sparql(datatype)})")
        for members in self.shapes.objects(shape, SH["in"]):
            conditions.append(f"{var} IN ({', '.join(map(_sparql, Collection(self.shapes, members)))})")
        for pattern in self.shapes.objects(shape, SH.pattern):
            conditions.append(f"REGEX(STR({var}), {_sparql(pattern)})")
        for length in self.shapes.objects(shape, SH.minLength):
            conditions.append(f"STRLEN(STR({var})) >= {int(length)}")
        for kind in self.shapes.objects(shape, SH.nodeKind):
            if kind != SH.IRI:
                raise UnsupportedShape(f"sh:nodeKind {kind}")
            conditions.append(f"isIRI({var})")
        for node in self.shapes.objects(shape, SH.node):
            conditions.append(self.conforms(node, var))
        for members in self.shapes.objects(shape, SH["or"]):
            options = [self.conforms(member, var) for member in Collection(self.shapes, members)]
            conditions.append("(" + " || ".join(options) + ")")
        return conditions

    def property_conditions(self, prop, focus: str) -> list[tuple[str, str]]:
        """(what, condition) pairs a focus node must meet under one property shape."""
        self._check_known(prop, VALUE_CONSTRAINTS | {SH.minCount, SH.maxCount, SH.hasValue,
                                                     SH.qualifiedValueShape})
        path = self.path(prop)
        conditions = []
        for count in self.shapes.objects(prop, SH.minCount):
            if int(count) != 1:
                raise UnsupportedShape(f"sh:minCount {count} (only 1 is compiled)")
            conditions.append(("minCount", f"EXISTS {{ {focus} {path} {self.fresh()} }}"))
        for count in self.shapes.objects(prop, SH.maxCount):
            if int(count) == 0:  # "none of these": what a shape in an sh:or says of the other branch's properties
                conditions.append(("maxCount", f"NOT EXISTS {{ {focus} {path} {self.fresh()} }}"))
                continue
            if int(count) != 1:
                raise UnsupportedShape(f"sh:maxCount {count} (only 0 and 1 are compiled)")
            first, second = self.fresh(), self.fresh()
            conditions.append(("maxCount", f"NOT EXISTS {{ {focus} {path} {first}, {second} "
                                           f"FILTER(!sameTerm({first}, {second})) }}"))
        for value in self.shapes.objects(prop, SH.hasValue):
            conditions.append(("hasValue", f"EXISTS {{ {focus} {path} {_sparql(value)} }}"))
        for qualified in self.shapes.objects(prop, SH.qualifiedValueShape):
            minimum = self.shapes.value(prop, SH.qualifiedMinCount)
            if minimum is None or int(minimum) != 1:
                raise UnsupportedShape("sh:qualifiedValueShape needs sh:qualifiedMinCount 1")
            value = self.fresh()
            conditions.append(("qualifiedValueShape",
                               f"EXISTS {{ {focus} {path} {value} FILTER({self.conforms(qualified, value)}) }}"))
        value = self.fresh()
        value_conditions = self.value_ok(prop, value)
        if value_conditions:
            conditions.append(("values", f"NOT EXISTS {{ {focus} {path} {value} "
                                         f"FILTER(!({' && '.join(value_conditions)})) }}"))
        return conditions

    def node_conditions(self, shape, focus: str) -> list[tuple[str, str]]:
        """(what, condition) pairs for a node shape: its own value constraints and its property shapes."""
        self._check_known(shape, VALUE_CONSTRAINTS | {SH.property})
        conditions = [("node", c) for c in self.value_ok(shape, focus)]
        for prop in self.shapes.objects(shape, SH.property):
            conditions += [(f"{self.shapes.value(prop, SH.path)}", c) for _, c in self.property_conditions(prop, focus)]
        return conditions

    def conforms(self, shape, var: str) -> str:
        conditions = [c for _, c in self.node_conditions(shape, var)] or ["true"]
        return "(" + " && ".join(conditions) + ")"

    def checks(self) -> list[ShapeChecks]:
        """The queries for every targeted shape."""
        found = []
        for shape in sorted(set(self.shapes.subjects(SH.targetClass, None))):
            targets = " UNION ".join(f"{{ {self.instance_of('?focus', c)} }}"
                                     for c in sorted(self.shapes.objects(shape, SH.targetClass)))
            checks = []
            for prop in [None, *sorted(self.shapes.objects(shape, SH.property))]:
                if prop is None:
                    conditions = self.value_ok(shape, "?focus")
                    path, message = "(node)", self.shapes.value(shape, SH.message)
                else:
                    conditions = [c for _, c in self.property_conditions(prop, "?focus")]
                    path, message = str(self.shapes.value(prop, SH.path)), self.shapes.value(prop, SH.message)
                checks += [Check(str(shape), path, str(message or "violates a shape"), targets, condition)
                           for condition in conditions]
            found.append(ShapeChecks(str(shape), targets, checks))
        return found


def compiled_checks() -> list[ShapeChecks]:
    shapes = rdflib.Graph().parse(data=SHAPES_FILE.read_text(encoding="utf-8"), format="turtle")
    ontology = rdflib.Graph().parse(data=ONTOLOGY_FILE.read_text(encoding="utf-8"), format="turtle")
    return ShapeCompiler(shapes, ontology).checks()


def violations(store: Store, limit: int = 100) -> list[Violation]:
    """Every shape violation in the store's union of graphs (the ontology must be loaded too).

    Each shape is first checked as a whole in one pass; only a shape with violations is checked
    constraint by constraint, to say which constraint each node breaks.
    """
    found = []
    for shape in compiled_checks():
        if not store.query(shape.any_violation, use_default_graph_as_union=True):
            continue
        for check in shape.checks:
            for row in store.query(check.query + f" LIMIT {limit}", use_default_graph_as_union=True):
                found.append(Violation(row["focus"].value, check.shape, check.path, check.message))
    return found
