"""Template → filled rows → import → the same facts in the store, for every kind of record."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.importer import RECORD_KINDS, import_files
from kg.importer.vocab import code_lists
from kg.namespaces import PREFIXES, import_graph
from kg.templates import csv_template, write_xlsx_template

from .conftest import EXPECTED, REGEN, normalised

#: Filled rows per kind, keyed by column key; Chinese, labels in either language and codes all occur.
ROWS: dict[str, list[dict[str, str]]] = {
    "needs": [
        {
            "village_code": "210123206200",
            "need_type": "N22 电子商务技能",
            "severity": "4",
            "people_affected": "120",
            "source": "survey 调查",
            "source_title": "2018年春季入户调查",
            "identified_on": "2018-05-12",
            "surveyor": "张晓梅",
        },
        {
            "village_code": "210124101200",
            "need_type": "Children's reading",
            "severity": "3",
            "people_affected": "45",
            "source": "访谈",
            "identified_on": "2018/6/3",
            "surveyor": "李国强",
            "note": "留守儿童较多",
        },
        {
            "village_code": "210124001001",
            "need_type": "宽带",
            "severity": "5",
            "people_affected": "300",
            "source": "document",
            "identified_on": "2019年1月15日",
            "surveyor": "王芳",
        },
    ],
    "interviews": [
        {
            "id": "ITV-T1",
            "interviewee_role": "驻村第一书记",
            "interviewed_on": "2018-05-10",
            "place_code": "210123206200",
            "interviewer": "县图书馆调研组（测试）",
            "consent": "CO1 书面同意",
            "anonymisation": "匿名化",
        },
        {
            "id": "ITV-T2",
            "interviewee_role": "Villager",
            "interviewed_on": "2018/5/11",
            "place_code": "210124101",
            "interviewer": "test team",
            "consent": "口头同意",
            "anonymisation": "AN2",
            "note": "在村委会",
        },
    ],
    "poverty_status": [
        {
            "area_code": "210123206200",
            "status_type": "PS1",
            "registered_year": "2015",
            "exit_year": "2019",
            "poor_households": "35",
            "poor_population": "80",
            "poverty_causes": "PC01；缺技术",
            "source": "document",
            "source_title": "建档立卡名册（示意）",
        },
        {"area_code": "210124", "status_type": "省扶贫开发工作重点县", "registered_year": "2016"},
    ],
    "libraries": [
        {
            "id": "LIB-T1",
            "name_zh": "法库县图书馆测试分馆",
            "name_en": "Faku test branch",
            "library_type": "township",
            "located_in": "210124101",
            "branch_of": "liaoning-provincial-library",
        },
        {
            "id": "LIB-T2",
            "name_zh": "何家窝堡村服务点",
            "library_type": "村级服务点",
            "located_in": "210123206200",
            "serves": "210123206200;210123206201",
            "source": "survey",
        },
    ],
    "resources": [
        {
            "id": "RES-T1",
            "name_zh": "电商技能培训班",
            "name_en": "E-commerce course",
            "resource_type": "R32",
            "held_by": "liaoning-provincial-library",
            "capacity": "12",
            "capacity_unit": "期",
            "unit_cost": "800.50",
            "addresses_need_types": "N22, N23",
        },
        {"id": "RES-T2", "name_zh": "云平台账号", "resource_type": "云平台", "held_by": "liaoning-provincial-library"},
    ],
    "interventions": [
        {
            "id": "INT-T1",
            "name_zh": "电子阅读器进村",
            "name_en": "E-readers to villages",
            "category": "C2",
            "provided_by": "liaoning-provincial-library",
            "target_areas": "210123206200;210124101",
            "uses_resources": "FIX-R1",
            "supported_by": "P06",
            "part_of_programme": "P08",
            "status": "实施中",
            "start_date": "2018-03-01",
            "end_date": "2019-12-31",
            "budget": "50000",
            "funding_source": "省级专项资金",
            "personnel_count": "3",
            "volunteer_count": "5",
            "personnel": "驻村第一书记:1；馆员 2;志愿者：5人",  # role by label, three ways of writing the count
            "technology": "移动网络",
        },
    ],
    "households": [
        {"village_code": "210123206200", "year": "2016", "main_cause": "因病", "category": "低保户", "households": "7",
         "people": "15", "source": "document", "source_title": "2016年建档立卡汇总表"},
        {"village_code": "210123206200", "year": "2016", "main_cause": "PC07", "households": "4"},
    ],
    "evaluations": [
        {
            "intervention_id": "FIX-I1",
            "indicator": "I03",
            "area_code": "210123206200",
            "baseline_value": "0",
            "target_value": "10",
            "actual_value": "12.5",
            "period_start": "2018-01-01",
            "period_end": "2018-12-31",
            "source": "survey",
            "note": "终端覆盖率提高",
        },
    ],
    "policies": [
        {
            "id": "POL-T1",
            "kind": "opinion",
            "level": "county",
            "title_zh": "某县数字文化扶贫实施意见（测试）",
            "title_en": "A county opinion (test)",
            "issuer": "某县人民政府（测试）",
            "issued_on": "2018-06-01",
            "document_number": "测政发〔2018〕1号",
            "supports_need_types": "N21;N41",
        },
        {
            "id": "PRG-T1",
            "kind": "programme",
            "level": "provincial",
            "title_zh": "测试文化工程",
            "issuer": "测试机关",
            "issued_on": "2017",
        },
    ],
}


def fill_csv_template(kind: str, rows: list[dict[str, str]], path: Path) -> Path:
    """Take the generated CSV template, drop its example row and write ``rows`` under its header."""
    text = csv_template(RECORD_KINDS[kind], code_lists()).decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    keys = [c.key for c in RECORD_KINDS[kind].columns]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(k, "") for k in keys])
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return path


def check_golden(name: str, graph: rdflib.Graph) -> None:
    path = EXPECTED / f"{name}.ttl"
    if REGEN or not path.exists():
        # Oxigraph writes Turtle with exact datatypes (rdflib abbreviates xsd:nonNegativeInteger as 1).
        nt = graph.serialize(format="nt", encoding="utf-8")
        triples = sorted(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES), key=str)
        path.write_bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))
        if not REGEN:
            pytest.fail(f"golden file {path} was missing and has been written; review it and re-run")
    expected = rdflib.Graph().parse(path, format="turtle")
    assert isomorphic(graph, expected), f"import of {name} differs from {path}"


@pytest.mark.parametrize("kind", list(RECORD_KINDS))
def test_csv_round_trip_gives_the_expected_facts(kind, store, settings, tmp_path):
    path = fill_csv_template(kind, ROWS[kind], tmp_path / f"{kind}.csv")
    report = import_files(store, [path], user="测试员", settings=settings)
    assert report.counts == {kind: len(ROWS[kind])}
    g = store.to_rdflib(import_graph(report.batch_id))
    assert report.triples == len(g)  # the batch's graph was let go at the write; its size is still told
    check_golden(kind, normalised(g, report.batch_id))


def test_xlsx_template_round_trip_matches_the_csv_one(store, settings, tmp_path):
    """The workbook written by `dcpa template` reads back: the needs sheet gives the same facts as CSV."""
    path = write_xlsx_template(tmp_path / "template.xlsx", with_villages=False)
    wb = openpyxl.load_workbook(path)
    ws = wb["needs"]
    keys = [c.key for c in RECORD_KINDS["needs"].columns]
    for i, row in enumerate(ROWS["needs"]):  # overwrite the example row, then append
        for j, k in enumerate(keys, start=1):
            ws.cell(2 + i, j).value = row.get(k)
    ws.cell(2, keys.index("severity") + 1, 4)  # typed cells, as Excel stores them
    ws.cell(2, keys.index("village_code") + 1, 210123206200)
    wb.save(path)
    report = import_files(store, [path], user="测试员", settings=settings)
    assert report.counts == {"needs": 3}
    g = store.to_rdflib(import_graph(report.batch_id))
    check_golden("needs", normalised(g, report.batch_id))


def test_one_workbook_with_several_kinds_resolves_references_within_the_batch(store, settings, tmp_path):
    path = write_xlsx_template(tmp_path / "all.xlsx", with_villages=False)
    wb = openpyxl.load_workbook(path)
    for kind, rows in (
        ("libraries", [{"id": "LIB-NEW", "name_zh": "新馆", "library_type": "county", "located_in": "210124"}]),
        ("resources", [{"id": "RES-NEW", "name_zh": "新资源", "resource_type": "R22", "held_by": "LIB-NEW"}]),
    ):
        ws = wb[kind]
        keys = [c.key for c in RECORD_KINDS[kind].columns]
        for j, k in enumerate(keys, start=1):
            ws.cell(2, j).value = rows[0].get(k)
    wb.save(path)
    report = import_files(store, [path], user="u", settings=settings)
    assert report.counts == {"libraries": 1, "resources": 1}
    assert report.skipped_examples == len(RECORD_KINDS) - 2  # the example rows of the untouched sheets
    rows = store.select(
        "SELECT ?lib WHERE { <https://w3id.org/dcpa/id/resource/RES-NEW> dcpa:heldBy ?lib . ?lib a dcpa:CountyLibrary }"
    )
    assert rows == [{"lib": "https://w3id.org/dcpa/id/library/LIB-NEW"}]


def test_chinese_text_survives_import_store_and_query(store, settings, tmp_path):
    path = fill_csv_template("needs", ROWS["needs"], tmp_path / "需求调查.csv")
    import_files(store, [path], user="张三", settings=settings)
    rows = store.select(
        "SELECT ?who ?user ?file WHERE { ?n dcpa:surveyor ?who ; "
        "dcpa:needOf <https://w3id.org/dcpa/id/area/210123206200> ; "
        "prov:wasDerivedFrom/prov:wasDerivedFrom ?f . ?f dcpa:fileName ?file ; prov:wasGeneratedBy ?a . "
        "?a dcpa:recordedBy ?user }"
    )
    assert rows == [{"who": "张晓梅", "user": "张三", "file": "需求调查.csv"}]
    labels = store.select("SELECT ?l WHERE { ?s a dcpa:Survey ; rdfs:label ?l }")
    assert labels == [{"l": "2018年春季入户调查"}]
