"""Every term of ours speaks both languages: one label and one definition in @zh and in @en."""

from __future__ import annotations

import pytest
from rdflib import Literal
from rdflib.namespace import RDFS, SKOS

from kg.ontology_checks import classes, concepts, properties, schemes
from kg.resources import ontology_graph

_G = ontology_graph()
_CONCEPTS = set(concepts(_G)) | set(schemes(_G))
TERMS = [*classes(_G), *properties(_G), *sorted(_CONCEPTS)]


def test_the_ontology_is_not_a_toy():
    assert len(classes(_G)) >= 40
    assert len(properties(_G)) >= 60
    assert len(concepts(_G)) >= 60


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1].split("/")[-1])
def test_term_has_one_label_and_one_definition_per_language(term):
    label_p = SKOS.prefLabel if term in _CONCEPTS else RDFS.label
    for p in (label_p, SKOS.definition):
        values = [v for v in _G.objects(term, p) if isinstance(v, Literal)]
        assert all(v.language for v in values), f"untagged {p} on {term}"
        assert sorted(v.language for v in values) == ["en", "zh"], f"{p} of {term}: {values}"
        assert all(str(v).strip() for v in values)


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t.split("#")[-1].split("/")[-1])
def test_no_untagged_label_of_any_kind(term):
    for p in (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition):
        for v in _G.objects(term, p):
            assert isinstance(v, Literal) and v.language in ("zh", "en"), (term, p, v)


def test_chinese_labels_are_chinese():
    for term in TERMS:
        for p in (RDFS.label, SKOS.prefLabel):
            for v in _G.objects(term, p):
                if isinstance(v, Literal) and v.language == "zh":
                    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(v)), (term, v)
