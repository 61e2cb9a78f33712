"""HermiT (through owlready2): the ontology and valid data are consistent; contradictions are caught.

One reasoner run per dataset (module-scoped fixtures); each run takes a few seconds.
"""

from __future__ import annotations

import pytest
import rdflib

from kg.reasoning import check_consistency, sample_graph

from .conftest import INCONSISTENT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def ontology_report():
    return check_consistency()


@pytest.fixture(scope="module")
def valid_report(valid_data):
    return check_consistency(valid_data)


@pytest.fixture(scope="module")
def inconsistent_report():
    return check_consistency(rdflib.Graph().parse(INCONSISTENT, format="turtle"))


def test_ontology_alone_is_consistent_with_no_unsatisfiable_class(ontology_report):
    assert ontology_report.consistent, ontology_report.message
    assert ontology_report.unsatisfiable == []
    assert ontology_report.ok
    assert not ontology_report.sampled


def test_ontology_with_valid_fixture_is_consistent(valid_report, ontology_report, valid_data):
    assert valid_report.consistent, valid_report.message
    assert valid_report.unsatisfiable == []
    assert valid_report.triples >= ontology_report.triples + len(valid_data) - 5  # blank nodes may merge


def test_node_typed_village_and_urban_community_is_inconsistent(inconsistent_report):
    assert not inconsistent_report.consistent
    assert "inconsistent" in inconsistent_report.message


def test_functional_need_type_with_two_concepts_is_inconsistent(valid_data):
    """Concepts of a scheme are owl:AllDifferent, so two need types on one need contradict."""
    g = rdflib.Graph()
    for t in valid_data:
        g.add(t)
    dcpa = rdflib.Namespace("https://w3id.org/dcpa/ontology#")
    g.add(
        (
            rdflib.URIRef("https://w3id.org/dcpa/id/need/1"),
            dcpa.needType,
            rdflib.URIRef("https://w3id.org/dcpa/vocab/N11"),
        )
    )
    assert not check_consistency(g).consistent


def test_unsatisfiable_class_is_reported():
    g = rdflib.Graph().parse(
        data="""
        @prefix dcpa: <https://w3id.org/dcpa/ontology#> .
        @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <https://w3id.org/dcpa/test#Hybrid> a owl:Class ; rdfs:subClassOf dcpa:Village , dcpa:UrbanCommunity .
        """,
        format="turtle",
    )
    report = check_consistency(g)
    assert report.consistent
    assert report.unsatisfiable == ["https://w3id.org/dcpa/test#Hybrid"]
    assert not report.ok


def test_sampling_keeps_whole_subjects_and_says_so(valid_data):
    small = sample_graph(valid_data, 60)
    assert 0 < len(small) <= 60
    for s in set(small.subjects()):
        assert set(small.triples((s, None, None))) == set(valid_data.triples((s, None, None)))
    assert set(sample_graph(valid_data, 60)) == set(small)  # same seed, same sample


def test_check_consistency_reports_sampling(valid_data):
    report = check_consistency(valid_data, max_triples=50)
    assert report.sampled
    assert "sample" in report.message
