"""Each curation rule written twice, once for the YAML (kg.curation, kg.schema) and once for the graph
(ontology/shapes.ttl, which also checks imports), is proven to agree: the same mistake is refused by the
loader, by pyshacl and by the shapes compiled to SPARQL, and the fixture passes all three."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from kg import ids, shacl
from kg.curation import DataError, load
from kg.quads import catalog_quads, wikidata_match_iri
from kg.release import ontology_quads
from kg.validate import check_shapes
from kg.vocab import OWL, SOL
from tests.fixtures import SOURCE_ID, write_fixture_data

SOURCE_FILE = f"sources/{SOURCE_ID}.yaml"
GRAPH = ids.graph(SOURCE_ID)
ALLEGATION = ids.entity("allegation", "mallory-takes-bribes")
ATTRIBUTION = ids.attribution(SOURCE_ID, "mallory-takes-bribes", "daily-fixture", "asserts")
EVENT = ids.entity("event", "alice-indicted")
SOURCE = ids.entity("source", SOURCE_ID)
ALICE = ids.entity("person", "alice-example")


def _without(quads, subject, predicate):
    return [q for q in quads if not (q.subject == subject and q.predicate == predicate)]


def _replaced(quads, subject, predicate, value):
    return _without(quads, subject, predicate) + [Quad(subject, predicate, value, GRAPH)]


# Each rule: the YAML edit that breaks it (file, old text, new text) and the same break made in the graph.
RULES = {
    "an allegation needs an asserting attribution": (
        (SOURCE_FILE, "        stance: asserts\n        quote: \"Mallory took bribes\"",
         "        stance: denies\n        quote: \"Mallory took bribes\""),
        lambda quads: _replaced(quads, ATTRIBUTION, SOL.stance, SOL.Denies)),
    "a quote has at most 25 words": (
        (SOURCE_FILE, "quote: \"Mallory took bribes\"", "quote: \"" + " ".join(["bribes"] * 26) + "\""),
        lambda quads: _replaced(quads, ATTRIBUTION, SOL.quote, Literal(" ".join(["bribes"] * 26), language="en"))),
    "a Wikidata link is a Wikidata item id": (
        ("actors.yaml", "    wikidata: Q1001", "    wikidata: P1001"),
        lambda quads: _without(quads, ALICE, OWL.sameAs)
        + [Quad(ALICE, OWL.sameAs, NamedNode("http://www.wikidata.org/entity/P1001"), ids.REFERENCE_GRAPH)]),
    "an accepted Wikidata match says who accepted it, when and on what evidence": (
        ("wikidata.yaml", "kind: person, checked_in: test fixture}",
         "kind: person, checked_in: test fixture, accepted_by: fixture-editors, evidence: label and type}"),
        lambda quads: quads + [Quad(wikidata_match_iri(ALICE), SOL.acceptedBy, ids.entity("organization", "fixture-editors"),
                                    ids.REFERENCE_GRAPH)]),
    "a source needs a publisher, unless it is a summary of one": (
        (SOURCE_FILE, "  publisher: [daily-fixture]\n", ""),
        lambda quads: _without(quads, SOURCE, NamedNode("http://purl.org/dc/terms/publisher"))),
    "an event needs a date or a reason why it has none": (
        (SOURCE_FILE, "    date: 2024-03\n", ""),
        lambda quads: _without(quads, EVENT, SOL.date)),
    "a stance is asserts, denies or disputes": (
        (SOURCE_FILE, "        stance: asserts\n        quote: \"Mallory", "        stance: doubts\n        quote: \"Mallory"),
        lambda quads: _replaced(quads, ATTRIBUTION, SOL.stance, SOL.Alleged)),
}


def graph_refusals(quads) -> tuple[bool, bool]:
    """Whether pyshacl and the compiled shapes each refuse the quads."""
    try:
        check_shapes(quads, {})
        by_pyshacl = False
    except DataError:
        by_pyshacl = True
    store = Store()
    store.extend(quads + ontology_quads())  # the concept schemes the shapes refer to, as in a build
    return by_pyshacl, bool(shacl.violations(store))


@pytest.fixture(scope="module")
def valid_quads(tmp_path_factory):
    quads, _ = catalog_quads(load(write_fixture_data(tmp_path_factory.mktemp("rules") / "data")))
    return quads


def test_the_fixture_passes_every_rule_everywhere(valid_quads):
    assert graph_refusals(valid_quads) == (False, False)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_the_loader_and_both_shape_checkers_refuse_the_same_mistake(rule, tmp_path, valid_quads):
    (name, old, new), break_graph = RULES[rule]
    data = write_fixture_data(tmp_path / "data")
    path = data / name
    text = path.read_text(encoding="utf-8")
    assert old in text, rule
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError):
        load(data)
    assert graph_refusals(break_graph(valid_quads)) == (True, True), rule
