"""Pitfall checks (OOPS!/ROBOT style): silent on our ontology, and each one catches its pitfall.

Each broken case starts from a small clean ontology snippet, breaks one thing, and expects the check's
finding code; the clean snippet itself must produce no finding, so every case can fail.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg.namespaces import DCPA, DCPAV, ONTOLOGY_IRI
from kg.ontology_checks import CHECKS, errors, run_checks

CLEAN = """
@prefix dcpa: <https://w3id.org/dcpa/ontology#> .
@prefix dcpav: <https://w3id.org/dcpa/vocab/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix vann: <http://purl.org/vocab/vann/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/dcpa/ontology> a owl:Ontology ;
    owl:versionIRI <https://w3id.org/dcpa/ontology/9.9.9> ; owl:versionInfo "9.9.9" ;
    dcterms:title "测试"@zh , "Test"@en ; dcterms:description "测试本体"@zh , "A test ontology"@en ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ; dcterms:creator "tester" ;
    dcterms:created "2026-01-01"^^xsd:date ; dcterms:modified "2026-01-02"^^xsd:date ;
    vann:preferredNamespacePrefix "dcpa" ; vann:preferredNamespaceUri "https://w3id.org/dcpa/ontology#" .

dcpa:Thing1 a owl:Class ; rdfs:label "事物"@zh , "Thing one"@en ;
    skos:definition "一个事物。"@zh , "A thing."@en .
dcpa:SubA a owl:Class ; rdfs:subClassOf dcpa:Thing1 ; rdfs:label "甲"@zh , "Sub A"@en ;
    skos:definition "甲类。"@zh , "Kind A."@en .
dcpa:SubB a owl:Class ; rdfs:subClassOf dcpa:Thing1 ; rdfs:label "乙"@zh , "Sub B"@en ;
    skos:definition "乙类。"@zh , "Kind B."@en .
[] a owl:AllDisjointClasses ; owl:members ( dcpa:SubA dcpa:SubB ) .
dcpa:relatesTo a owl:ObjectProperty ; rdfs:domain dcpa:SubA ; rdfs:range dcpa:SubB ;
    rdfs:label "关联"@zh , "relates to"@en ; skos:definition "甲关联乙。"@zh , "A relates to B."@en .
dcpa:code a owl:DatatypeProperty ; rdfs:domain dcpa:Thing1 ; rdfs:range xsd:string ;
    rdfs:label "代码"@zh , "code"@en ; skos:definition "代码。"@zh , "A code."@en .

dcpav:S a skos:ConceptScheme , owl:NamedIndividual ; skos:prefLabel "方案"@zh , "Scheme"@en ;
    skos:definition "测试方案。"@zh , "A scheme."@en .
dcpav:C1 a skos:Concept , owl:NamedIndividual ; skos:inScheme dcpav:S ; skos:topConceptOf dcpav:S ;
    skos:notation "C1" ; skos:prefLabel "一"@zh , "One"@en ; skos:definition "第一。"@zh , "First."@en .
dcpav:C11 a skos:Concept , owl:NamedIndividual ; skos:inScheme dcpav:S ; skos:broader dcpav:C1 ;
    skos:notation "C11" ; skos:prefLabel "一一"@zh , "One-one"@en ; skos:altLabel "十一"@zh ;
    skos:definition "第一之一。"@zh , "First of first."@en .
"""

ONT = URIRef(ONTOLOGY_IRI)


def clean() -> rdflib.Graph:
    return rdflib.Graph().parse(data=CLEAN, format="turtle")


def _add_class(g: rdflib.Graph, name: str, parent: URIRef | None = None) -> URIRef:
    c = DCPA[name]
    g.add((c, RDF.type, OWL.Class))
    g.add((c, RDFS.label, Literal(name + "类", lang="zh")))
    g.add((c, RDFS.label, Literal(name, lang="en")))
    g.add((c, SKOS.definition, Literal("定义。", lang="zh")))
    g.add((c, SKOS.definition, Literal("Definition.", lang="en")))
    if parent is not None:
        g.add((c, RDFS.subClassOf, parent))
    return c


def _remove_disjointness(g: rdflib.Graph) -> None:
    for axiom in list(g.subjects(RDF.type, OWL.AllDisjointClasses)):
        g.remove((axiom, None, None))


def _set(g: rdflib.Graph, s: URIRef, p: URIRef, o: rdflib.term.Node) -> None:
    g.set((s, p, o))


BREAKS: dict[str, tuple[str, Callable[[rdflib.Graph], object]]] = {
    "unconnected class": ("unconnected_class", lambda g: _add_class(g, "Lonely")),
    "missing domain": ("missing_domain", lambda g: g.remove((DCPA.relatesTo, RDFS.domain, None))),
    "missing range": ("missing_range", lambda g: g.remove((DCPA.code, RDFS.range, None))),
    "two domains": ("multiple_domains", lambda g: g.add((DCPA.relatesTo, RDFS.domain, DCPA.SubB))),
    "two ranges": ("multiple_ranges", lambda g: g.add((DCPA.code, RDFS.range, XSD.integer))),
    "object property with datatype range": ("range_kind", lambda g: _set(g, DCPA.relatesTo, RDFS.range, XSD.string)),
    "lower-case class": ("class_naming", lambda g: _add_class(g, "sub_c", DCPA.SubA)),
    "upper-case property": (
        "property_naming",
        lambda g: (g.add((DCPA.Has_Part, RDF.type, OWL.ObjectProperty)),),
    ),
    "untyped property": ("untyped_property", lambda g: g.add((DCPA.SubA, DCPA.undeclared, Literal("x")))),
    "untyped class": ("untyped_class", lambda g: g.add((DCPA.SubA, RDFS.subClassOf, DCPA.Ghost))),
    "duplicate class label": ("duplicate_label", lambda g: _set(g, DCPA.SubB, RDFS.label, Literal("甲", lang="zh"))),
    "siblings not disjoint": ("missing_disjointness", _remove_disjointness),
    "no license": ("missing_license", lambda g: g.remove((ONT, DCTERMS.license, None))),
    "no creator": ("missing_metadata", lambda g: g.remove((ONT, DCTERMS.creator, None))),
    "version IRI equals ontology IRI": ("version_iri", lambda g: _set(g, ONT, OWL.versionIRI, ONT)),
    "two ontologies": ("ontology_count", lambda g: g.add((DCPA.Other, RDF.type, OWL.Ontology))),
    "untagged label": ("untagged_label", lambda g: g.add((DCPA.SubA, RDFS.label, Literal("A")))),
    "missing English label": ("label_count", lambda g: g.remove((DCPA.SubA, RDFS.label, Literal("Sub A", lang="en")))),
    "two Chinese labels": ("label_count", lambda g: g.add((DCPA.code, RDFS.label, Literal("编码", lang="zh")))),
    "missing definition": ("definition_count", lambda g: g.remove((DCPAV.C11, SKOS.definition, None))),
    "concept in no scheme": ("concept_without_scheme", lambda g: g.remove((DCPAV.C11, SKOS.inScheme, None))),
    "scheme without top concept": (
        "scheme_without_top_concepts",
        lambda g: g.remove((DCPAV.C1, SKOS.topConceptOf, None)),
    ),
    "top concept with broader": ("top_concept_with_broader", lambda g: g.add((DCPAV.C1, SKOS.broader, DCPAV.C11))),
    "broader cycle": ("broader_cycle", lambda g: g.add((DCPAV.C1, SKOS.broader, DCPAV.C11))),
    "duplicate notation": ("duplicate_notation", lambda g: _set(g, DCPAV.C11, SKOS.notation, Literal("C1"))),
    "missing notation": ("missing_notation", lambda g: g.remove((DCPAV.C11, SKOS.notation, None))),
    "prefLabel also altLabel": (
        "pref_alt_clash",
        lambda g: g.add((DCPAV.C11, SKOS.altLabel, Literal("一一", lang="zh"))),
    ),
    "two prefLabels": ("multiple_preflabels", lambda g: g.add((DCPAV.C11, SKOS.prefLabel, Literal("又一", lang="zh")))),
    "duplicate prefLabel in scheme": (
        "duplicate_preflabel",
        lambda g: _set(g, DCPAV.C11, SKOS.prefLabel, Literal("One", lang="en")),
    ),
    "broader and narrower both stated": (
        "individual_cycle",
        lambda g: g.add((DCPAV.C1, SKOS.narrower, DCPAV.C11)),
    ),
}


def test_our_ontology_has_no_error_level_finding(ontology):
    found = errors(run_checks(ontology))
    assert found == [], "\n".join(f"{f.code} {f.term}: {f.message}" for f in found)


def test_clean_snippet_has_no_finding_at_all():
    assert run_checks(clean()) == []


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_each_pitfall_is_detected(case):
    code, breaker = BREAKS[case]
    g = clean()
    breaker(g)
    codes = {f.code for f in run_checks(g)}
    assert code in codes, f"{case}: expected {code}, got {sorted(codes)}"
    assert all(f.severity in ("error", "warning", "info") for f in run_checks(g))


def test_every_check_is_exercised_by_a_broken_case():
    """A check no case triggers could be silently dead."""
    triggered = set()
    for code, breaker in BREAKS.values():
        g = clean()
        breaker(g)
        for name, check in CHECKS.items():
            if any(f.code == code for f in check(g)):
                triggered.add(name)
    assert triggered == set(CHECKS)


def test_union_domains_count_as_one_domain_and_connect_their_classes():
    g = clean()
    g.remove((DCPA.relatesTo, RDFS.domain, None))
    union = rdflib.BNode()
    lst = rdflib.BNode()
    from rdflib.collection import Collection

    Collection(g, lst, [DCPA.SubA, DCPA.SubB])
    g.add((union, RDF.type, OWL.Class))
    g.add((union, OWL.unionOf, lst))
    g.add((DCPA.relatesTo, RDFS.domain, union))
    assert run_checks(g) == []
