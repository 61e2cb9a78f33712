"""SKOS integrity and the content the design asks of the schemes."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import RDF, SKOS

from kg.namespaces import DCPA, DCPAV
from kg.ontology_checks import check_individual_cycles, check_skos, concepts, schemes


def test_skos_checks_find_nothing(ontology):
    assert check_skos(ontology) == []


def test_no_cycle_among_named_individuals(ontology):
    """A broader/narrower pair would make pySHACL's ontology mixing exponential."""
    assert check_individual_cycles(ontology) == []


def test_every_concept_is_in_a_scheme_and_reaches_a_top_concept(ontology):
    for c in concepts(ontology):
        schemes_of = set(ontology.objects(c, SKOS.inScheme))
        assert schemes_of, c
        top = c
        seen = set()
        while (b := ontology.value(top, SKOS.broader)) is not None:
            assert b not in seen, f"cycle at {c}"
            seen.add(b)
            top = b
        assert set(ontology.objects(top, SKOS.topConceptOf)) & schemes_of, c


def test_notations_unique_across_all_schemes(ontology):
    notations = [str(n) for c in concepts(ontology) for n in ontology.objects(c, SKOS.notation)]
    assert len(notations) == len(set(notations)) == len(concepts(ontology))


@pytest.mark.parametrize(
    "scheme, concept_class, minimum",
    [
        ("NeedTypes", "NeedType", 12),
        ("ResourceTypes", "ResourceType", 8),
        ("InterventionCategories", "InterventionCategory", 4),
        ("PovertyCauses", "PovertyCause", 11),
        ("Indicators", "Indicator", 5),
        ("PovertyStatusTypes", "PovertyStatusType", 2),
        ("InterventionStatuses", "InterventionStatus", 4),
        ("ReachModes", "ReachMode", 3),
    ],
)
def test_scheme_concepts_are_typed_with_their_class(ontology, scheme, concept_class, minimum):
    members = set(ontology.subjects(SKOS.inScheme, DCPAV[scheme]))
    assert len(members) >= minimum
    assert members == set(ontology.subjects(RDF.type, DCPA[concept_class]))


def test_exactly_four_intervention_categories(ontology):
    assert len(set(ontology.subjects(SKOS.inScheme, DCPAV.InterventionCategories))) == 4


def test_need_types_have_a_hierarchy(ontology):
    narrower = [c for c in ontology.subjects(SKOS.inScheme, DCPAV.NeedTypes) if ontology.value(c, SKOS.broader)]
    assert len(narrower) >= 12


def test_every_leaf_resource_type_and_every_category_addresses_a_need_type(ontology):
    need_types = set(ontology.subjects(RDF.type, DCPA.NeedType))
    for c in ontology.subjects(SKOS.inScheme, DCPAV.ResourceTypes):
        if ontology.value(c, SKOS.broader) is not None:
            addressed = set(ontology.objects(c, DCPA.addressesNeedType))
            assert addressed and addressed <= need_types, c
    for c in ontology.subjects(SKOS.inScheme, DCPAV.InterventionCategories):
        assert set(ontology.objects(c, DCPA.addressesNeedType)) & need_types, c
        assert ontology.value(c, DCPA.typicalResourceType) is not None, c


def test_every_need_type_is_addressed_by_something(ontology):
    """Otherwise a need of that type could never be met, and every such need would be a gap."""
    addressed = set(ontology.objects(None, DCPA.addressesNeedType))
    closure = set()
    for n in addressed:
        closure |= set(ontology.transitive_subjects(SKOS.broader, n))
    assert set(ontology.subjects(RDF.type, DCPA.NeedType)) <= closure


def test_sdg_targets_are_close_matches(ontology):
    matches = {str(o) for o in ontology.objects(None, SKOS.closeMatch)}
    assert {"http://metadata.un.org/sdg/1.4", "http://metadata.un.org/sdg/4.4"} <= matches


def test_skos_checks_detect_a_concept_outside_any_scheme():
    g = rdflib.Graph()
    g.add((DCPAV.X, RDF.type, SKOS.Concept))
    g.add((DCPAV.X, SKOS.notation, rdflib.Literal("X")))
    assert {f.code for f in check_skos(g)} >= {"concept_without_scheme", "orphan_concept"}


def test_schemes_listed(ontology):
    # the eleven of the rule and the answers, the three means (funds, technology, personnel roles), the
    # categories of poor households, and the three of interviews (roles, consent, anonymisation)
    assert len(schemes(ontology)) == 18
    assert {str(s).rsplit("/", 1)[1] for s in schemes(ontology)} >= {
        "IntervieweeRoles", "ConsentKinds", "AnonymisationKinds", "FundingSources", "Technologies", "PersonnelRoles",
        "HouseholdCategories"}
