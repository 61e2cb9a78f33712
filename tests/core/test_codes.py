"""The official code rules type every area by its code, agree with the ontology and the shapes, and are cited."""

from __future__ import annotations

import collections
import csv
import re

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS

from kg import codes, fastshacl
from kg import reference as ref
from kg.namespaces import DCPA, area
from kg.resources import ontology_graph, shapes_graph

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SHAPES = rdflib.Namespace("https://w3id.org/dcpa/shapes#")


def _classes_by_name() -> dict[str, tuple[str, ...]]:
    return {a.name: codes.area_classes(a.code, a.name) for a in ref.areas()}


def test_every_bundled_area_has_its_level_class_and_one_rule_class() -> None:
    per_level: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for a in ref.areas():
        classes = codes.area_classes(a.code, a.name)
        level = codes.level_of(a.code)
        assert level is not None and classes[0] == codes.LEVEL_CLASS[level]
        if level in ("county", "township", "village"):
            assert codes.rule_for(a.code) is not None, f"no code rule covers {a.code} {a.name}"
            per_level[level][classes[1]] += 1
    # the counts the rule gives for Liaoning (2023 codes); SOURCES.md says 25 县, 16 县级市, 59 区
    assert per_level["county"] == {"UrbanDistrict": 59, "County": 25, "CountyLevelCity": 16}
    assert per_level["township"] == {"Town": 639, "Subdistrict": 507, "RuralTownship": 201,
                                      "SpecialTownshipLevelUnit": 59}
    assert per_level["village"] == {"Village": 11492, "UrbanCommunity": 5029, "VillageLikeUnit": 119,
                                    "CommunityLikeUnit": 87}


def test_the_code_decides_not_the_name() -> None:
    by_name = _classes_by_name()
    # the examples: a development zone and a farm are not townships proper, a prison is not a community
    assert by_name["沈阳市经济技术开发区"][1] == "SpecialTownshipLevelUnit"
    assert by_name["青年农场"][1] == "SpecialTownshipLevelUnit"
    assert by_name["辽宁省康平监狱社区"][1] == "CommunityLikeUnit"
    assert by_name["高楼子社区村民委员会"][1] == "Village"  # a villagers' committee, whatever its name says
    assert by_name["青年农场虚拟生活区"][1] == "VillageLikeUnit"


def test_autonomous_counties_are_marked() -> None:
    marked = sorted(a.name for a in ref.areas() if codes.AUTONOMOUS_COUNTY in codes.area_classes(a.code, a.name))
    assert marked == sorted(["岫岩满族自治县", "新宾满族自治县", "清原满族自治县", "本溪满族自治县", "桓仁满族自治县",
                             "宽甸满族自治县", "阜新蒙古族自治县", "喀喇沁左翼蒙古族自治县"])
    assert codes.most_specific(codes.area_classes("210323", "岫岩满族自治县")) == "AutonomousCounty"


def test_a_code_of_no_known_length_is_refused() -> None:
    with pytest.raises(ValueError, match="2, 4, 6, 9 or 12 digits"):
        codes.area_classes("2101011")


def test_every_rule_is_cited_and_names_an_ontology_class_of_its_level() -> None:
    onto = ontology_graph()
    with codes.CODE_RULES_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(codes.code_rules())
    for r in codes.code_rules():
        cls = DCPA[r.cls]
        assert (cls, RDF.type, OWL.Class) in onto
        assert (cls, RDFS.subClassOf, DCPA[codes.LEVEL_CLASS[r.level]]) in onto
        assert {lit.language for lit in onto.objects(cls, RDFS.label)} >= {"zh", "en"}
        assert r.confidence in ("high", "medium", "low") and r.original_publisher and r.seen_at
    assert "not seen" in " ".join(r.original_publisher for r in codes.code_rules() if r.level == "village")


@pytest.mark.parametrize("rule", codes.code_rules(), ids=lambda r: r.cls)
def test_each_shape_pattern_accepts_exactly_its_range(rule: codes.CodeRule) -> None:
    shapes = shapes_graph()
    patterns = [str(p) for prop in shapes.objects(SHAPES[f"{rule.cls}CodeShape"], SH.property)
                for p in shapes.objects(prop, SH.pattern)]
    assert len(patterns) == 1

    width = {"county": 2, "township": 3, "village": 3}[rule.level]
    prefix = {"county": "2101", "township": "210102", "village": "210102001"}[rule.level]
    for n in range(1, 10 ** width):
        code = f"{prefix}{n:0{width}d}"
        assert bool(re.fullmatch(patterns[0], code)) == (rule.first <= n <= rule.last), code


def test_the_reference_areas_meet_the_shapes_and_state_their_code_vintage() -> None:
    g = ref.reference_graph()
    vintages = {str(v) for v in g.objects(None, DCPA.codeVintage)}
    assert vintages == {codes.CODE_VINTAGE}
    assert len(set(g.subjects(DCPA.codeVintage, None))) == len(ref.areas())
    assert fastshacl.validate([g, ontology_graph()], shapes_graph()) == []
    # a town whose code is a subdistrict's is refused, with the rule in the message
    bad = rdflib.Graph()
    s = rdflib.URIRef(area("210102001"))
    bad.add((s, RDF.type, DCPA.Town))
    bad.add((s, DCPA.areaCode, rdflib.Literal("210102001")))
    found = fastshacl.validate([bad, ontology_graph()], shapes_graph())
    assert any("100–199" in " ".join(str(m) for m in r.messages) for r in found)


@pytest.mark.parametrize("typed", ["２１０１", "2101\u3000", "\u200b2101", " 21 01 ", "\ufeff２１０１\u00ad"])
def test_a_code_as_typed_is_the_code_the_graph_writes(typed: str) -> None:
    assert codes.normal_code(typed) == "2101"
    assert re.match(codes.TYPED_AREA_CODE_PATTERN, typed)  # what the API's parameters accept
    assert not re.match(codes.AREA_CODE_PATTERN, typed)  # the graph's own form is ASCII digits alone


@pytest.mark.parametrize("typed", ["210123 203200", "2101 2320 3200", "21\u300001\u300023",
                                   "２１０１２３　２０３２００"])
def test_a_code_typed_in_groups_is_accepted_as_the_library_reads_it(typed: str) -> None:
    """The API refused with 422 what the library, the CLI and the importer read: a code typed in groups."""
    pattern = codes.TYPED_VILLAGE_CODE_PATTERN if len(codes.normal_code(typed)) == 12 else codes.TYPED_AREA_CODE_PATTERN
    assert re.match(pattern, typed) and re.match(codes.TYPED_AREA_CODE_PATTERN, typed)
    assert re.match(codes.AREA_CODE_PATTERN, codes.normal_code(typed))


@pytest.mark.parametrize("typed", ["21 0", "2 1 0", "2101 2", "21012", "2101232032001", "21-01", "21 01 x"])
def test_a_code_of_no_level_is_still_refused(typed: str) -> None:
    assert not re.match(codes.TYPED_AREA_CODE_PATTERN, typed)
