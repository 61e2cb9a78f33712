"""SHACL shapes: the valid fixture conforms; each broken fixture fails with its expected message.

Broken fixtures live in tests/data/ontology/shacl_broken/*.ttl; each is an addition to fixture_valid.ttl
and names the expected (English) message in a header line ``# expect: ...``. pySHACL is called exactly
as the importer calls it (see ontology/shapes.ttl).
"""

from __future__ import annotations

import re
from pathlib import Path

import pyshacl
import pytest
import rdflib
from rdflib import Literal
from rdflib.namespace import RDF, SH

from kg.namespaces import DCPA
from kg.resources import ontology_graph, shapes_graph
from kg.store import Store

from .conftest import SHACL_BROKEN

BROKEN = sorted(SHACL_BROKEN.glob("*.ttl"))

#: Every instance class of docs/DATA_MODEL.md; each must be the target of some shape.
INSTANCE_CLASSES = [
    "Province", "PrefectureCity", "CountyLevelUnit", "Township", "VillageLevelUnit", "Village", "UrbanCommunity",
    "PovertyStatus", "Need", "Library", "ProvincialLibrary", "CityLibrary", "CountyLibrary", "TownshipBranch",
    "VillageServicePoint", "LibraryResource", "DigitalResource", "Terminal", "TrainingCourse", "Platform",
    "Intervention", "Evaluation", "Policy", "Programme", "Fact", "Source", "Survey", "Interview",
    "DocumentSource", "DatasetSource", "ImportedFile", "SyntheticExampleData", "ImportActivity", "NeedSummary",
    "CoverageSummary", "VillageGapSummary", "Withdrawal", "PersonnelInput", "HouseholdAggregate",
]  # fmt: skip


def validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes_graph(),
        ont_graph=ontology_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    return bool(conforms), report


def results(report: rdflib.Graph) -> list[tuple[rdflib.term.Node, list[str]]]:
    out = []
    for r in report.objects(None, SH.result):  # top-level results, not nested sh:detail ones
        msgs = [str(m) for m in report.objects(r, SH.resultMessage)]
        out.append((report.value(r, SH.focusNode), msgs))
    return out


def expected_message(path: Path) -> str:
    m = re.search(r"^# expect: (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert m, f"{path.name} has no '# expect:' header"
    return m.group(1).strip()


@pytest.fixture(scope="module")
def valid_result(valid_data):
    return validate(valid_data)


def test_valid_fixture_conforms(valid_result):
    conforms, report = valid_result
    assert conforms, results(report)


def test_valid_data_still_conforms_as_the_store_gives_it_back(valid_data):
    """The engine stores some typed numbers otherwise than written (``"11"^^xsd:nonNegativeInteger`` comes back
    an ``xsd:integer``): `dcpa validate` of a fresh build failed on every household and personnel count."""
    store = Store.memory()
    store.add_graph("https://w3id.org/dcpa/graph/test", valid_data.serialize(format="nt").encode("utf-8"))
    back = rdflib.Graph()
    for t in store.triples("https://w3id.org/dcpa/graph/test"):
        back.add(t)
    assert len(back) == len(valid_data)
    conforms, report = validate(back)
    assert conforms, results(report)


def test_valid_fixture_has_an_instance_of_every_instance_class(valid_data, ontology):
    typed = set(valid_data.objects(None, RDF.type))
    for name in INSTANCE_CLASSES:
        cls = DCPA[name]
        subs = set(ontology.transitive_subjects(rdflib.RDFS.subClassOf, cls))
        assert typed & subs, name


def test_every_instance_class_is_targeted_by_a_shape(ontology):
    shapes = shapes_graph()
    targeted = set(shapes.objects(None, SH.targetClass))
    for name in INSTANCE_CLASSES:
        ancestors = set(ontology.transitive_objects(DCPA[name], rdflib.RDFS.subClassOf))
        assert ancestors & targeted, name


def test_every_property_shape_has_a_message_in_both_languages():
    shapes = shapes_graph()
    property_shapes = set(shapes.subjects(SH.path, None))
    assert len(property_shapes) > 60
    for ps in property_shapes:
        if (None, SH["or"], None) in shapes and not list(shapes.objects(ps, SH.message)):
            # a path inside an sh:or list inherits the message of the node shape holding the sh:or
            continue
        langs = sorted(m.language for m in shapes.objects(ps, SH.message) if isinstance(m, Literal))
        assert langs == ["en", "zh"], ps


def test_every_sparql_constraint_and_or_shape_has_a_message_in_both_languages():
    shapes = shapes_graph()
    holders = set(shapes.subjects(SH.select, None)) | {
        s
        for s in shapes.subjects(SH["or"], None)
        if (s, SH.targetClass, None) in shapes or (s, SH.targetSubjectsOf, None) in shapes
    }
    assert holders
    for h in holders:
        assert sorted(m.language for m in shapes.objects(h, SH.message)) == ["en", "zh"], h


def test_the_broken_fixtures_exist():
    assert len(BROKEN) >= 20


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_fixture_fails_with_expected_message(path, valid_data):
    expect = expected_message(path)
    broken = rdflib.Graph().parse(path, format="turtle")
    data = rdflib.Graph()
    for t in valid_data:
        data.add(t)
    for t in broken:
        data.add(t)
    conforms, report = validate(data)
    assert not conforms
    found = results(report)
    messages = [m for _focus, msgs in found for m in msgs]
    assert any(expect in m for m in messages), f"expected {expect!r} in {messages}"
    # every violation is about a node the broken file adds (the rest of the fixture stays valid)
    new_subjects = set(broken.subjects()) - set(valid_data.subjects())
    for focus, msgs in found:
        assert focus in new_subjects, (focus, msgs)
    # and the Chinese message comes with it
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in messages)
