"""The SHACL shapes accept good data and name the record behind each violation."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, Quad, Store

from kg import curation, ids, shacl
from kg.curation import DataError
from kg.quads import catalog_quads
from kg.release import ontology_quads
from kg.validate import check_shapes
from kg.vocab import DCTERMS, RDFS, SOL
from tests.fixtures import SOURCE_ID


@pytest.fixture(scope="module")
def built(fixture_data):
    return catalog_quads(curation.load(fixture_data))


def without(quads, predicate, subject=None):
    return [q for q in quads if not (q.predicate == predicate and (subject is None or q.subject == subject))]


def test_fixture_conforms(built):
    check_shapes(*built)


def test_allegation_without_an_asserting_attribution_is_rejected(built):
    quads, origins = built
    allegation = ids.entity("allegation", "mallory-takes-bribes")
    attributions = {q.subject for q in quads if q.predicate == SOL.allegation and q.object == allegation}
    kept = [q for q in quads if q.subject not in attributions]
    with pytest.raises(DataError) as caught:
        check_shapes(kept, origins)
    assert "asserts" in str(caught.value)
    assert caught.value.file == "data/sources/fixture-report.yaml"
    assert caught.value.line is not None


def test_attribution_without_quote_is_rejected(built):
    quads, origins = built
    with pytest.raises(DataError) as caught:
        check_shapes(without(quads, SOL.quote), origins)
    assert "quote" in str(caught.value)


def test_source_without_publisher_is_rejected(built):
    quads, origins = built
    with pytest.raises(DataError) as caught:
        check_shapes(without(quads, DCTERMS.publisher), origins)
    assert "publisher" in str(caught.value)


def test_allegation_without_status_is_rejected(built):
    quads, origins = built
    with pytest.raises(DataError) as caught:
        check_shapes(without(quads, SOL.status), origins)
    assert "status" in str(caught.value)


MUTATIONS = {
    "unchanged": lambda quads: quads,
    "no quotes": lambda quads: without(quads, SOL.quote),
    "no publisher": lambda quads: without(quads, DCTERMS.publisher),
    "no status": lambda quads: without(quads, SOL.status),
    "no stance": lambda quads: without(quads, SOL.stance),
    "no claimant": lambda quads: without(quads, SOL.claimant),
    "no event type": lambda quads: without(quads, SOL.eventType),
    "long quote": lambda quads: [
        Quad(q.subject, q.predicate, Literal(" ".join(["word"] * 26)), q.graph_name) if q.predicate == SOL.quote else q
        for q in quads],
    "denials only": lambda quads: [
        Quad(q.subject, q.predicate, SOL.Denies, q.graph_name) if q.predicate == SOL.stance else q for q in quads],
    "two statuses": lambda quads: quads + [
        Quad(q.subject, SOL.status, SOL.Convicted, q.graph_name) for q in quads if q.predicate == SOL.status],
    # The compiled shapes read the union of the graphs: a statement in two graphs is one value, not two.
    "a status in two graphs": lambda quads: quads + [
        Quad(q.subject, q.predicate, q.object, ids.REFERENCE_GRAPH) for q in quads if q.predicate == SOL.status],
    "accused not an actor": lambda quads: [
        Quad(q.subject, q.predicate, ids.entity("source", SOURCE_ID), q.graph_name) if q.predicate == SOL.accused
        else q for q in quads],
    "quote not a string": lambda quads: [
        Quad(q.subject, q.predicate, Literal(25), q.graph_name) if q.predicate == SOL.quote else q for q in quads],
    "event undated": lambda quads: without(quads, SOL.date),
    "two labels": lambda quads: quads + [
        Quad(q.subject, q.predicate, Literal(q.object.value + " (again)"), q.graph_name)
        for q in quads if q.predicate == RDFS.label and q.subject == ids.entity("person", "alice-example")],
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_compiled_shapes_agree_with_pyshacl(built, mutation):
    quads, origins = built
    changed = MUTATIONS[mutation](quads)
    try:
        check_shapes(changed, origins)
        by_pyshacl = set()
    except DataError as error:
        by_pyshacl = {p.field.split(" ")[0] for p in error.problems}
    by_sparql = {v.focus for v in shacl.violations(with_ontology(changed))}
    assert by_sparql == by_pyshacl
    assert (mutation in ("unchanged", "a status in two graphs")) == (not by_sparql)


def with_ontology(quads) -> Store:
    store = Store()
    store.extend(quads)
    store.extend(ontology_quads())
    return store


def test_compiled_shapes_name_the_constraint_broken(built):
    """A value breaking a nested shape (a type from another concept scheme) is laid at its holder's door, with
    the message of the property it is the value of; pyshacl names the value instead."""
    quads, _ = built
    changed = [Quad(q.subject, q.predicate, SOL.Convicted, q.graph_name) if q.predicate == SOL.allegationType else q
               for q in quads]
    allegations = {q.subject.value for q in quads if q.predicate == SOL.allegationType}
    found = shacl.violations(with_ontology(changed))
    assert {(v.focus, v.path, v.message) for v in found} == {
        (allegation, SOL.allegationType.value, "an allegation needs a type from the allegation type scheme")
        for allegation in allegations}
