"""The SHACL shapes accept good data and name the record behind each violation."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, Quad, Store

from kg import curation, ids, shacl
from kg.curation import DataError
from kg.quads import catalog_quads
from kg.release import ontology_quads
from kg.validate import check_shapes
from kg.vocab import DCTERMS, SOL


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
    store = Store()
    store.extend(changed)
    store.extend(ontology_quads())
    by_sparql = {v.focus for v in shacl.violations(store)}
    assert by_sparql == by_pyshacl
    assert (mutation == "unchanged") == (not by_sparql)
