"""HermiT (through owlready2) finds the ontology with the data consistent, and catches contradictions."""

from __future__ import annotations

import pytest
from pyoxigraph import NamedNode, Quad

from kg import curation, ids
from kg.quads import catalog_quads
from kg.validate import InconsistentError, check_consistency
from kg.vocab import RDF, SOL


@pytest.fixture(scope="module")
def fixture_quads(fixture_data):
    quads, _ = catalog_quads(curation.load(fixture_data))
    return quads


def test_fixture_data_is_consistent(fixture_quads):
    check_consistency(fixture_quads)


def test_an_actor_that_is_both_person_and_organization_is_caught(fixture_quads):
    alice = ids.entity("person", "alice-example")
    contradiction = Quad(alice, RDF.type, SOL.Organization, ids.REFERENCE_GRAPH)
    with pytest.raises(InconsistentError):
        check_consistency([*fixture_quads, contradiction])


def test_an_attribution_that_both_asserts_and_denies_is_caught(fixture_quads):
    attribution = next(q.subject for q in fixture_quads if q.predicate == SOL.stance and q.object == SOL.Asserts)
    contradiction = Quad(attribution, SOL.stance, SOL.Denies, NamedNode(ids.GRAPH_BASE + "fixture-report"))
    with pytest.raises(InconsistentError):
        check_consistency([*fixture_quads, contradiction])
