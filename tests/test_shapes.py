"""The SHACL shapes accept good data and name the record behind each violation."""

from __future__ import annotations

import pytest

from kg import curation, ids
from kg.build import catalog_quads
from kg.curation import DataError
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
