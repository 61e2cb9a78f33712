"""Encodings, API records, retention of accepted imports and their replay after a rebuild."""

from __future__ import annotations

import json

import pytest
from rdflib.compare import isomorphic

from kg.derived import derive_all
from kg.errors import StoreError, ValidationFailed
from kg.importer import import_files, import_records, replay_retained
from kg.namespaces import GRAPH_DERIVED, import_graph
from kg.store import Store

from .conftest import load_fixture, nquads, write_csv

HEADER = [
    "村级代码 / Village code",
    "需求类型 / Need type",
    "严重程度 / Severity",
    "受影响人数 / People affected",
    "证据来源 / Source",
    "识别日期 / Identified on",
    "调查人 / Surveyor",
    "备注 / Note",
]
ROW = ["210123206200", "电子商务技能", "4", "120", "调查", "2018-05-12", "张晓梅", "村民希望学习直播带货"]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_chinese_csv_in_every_encoding_imports_intact(store, settings, tmp_path, encoding):
    path = write_csv(tmp_path / "需求.csv", HEADER, [ROW], encoding=encoding)
    report = import_files(store, [path], user="李四", settings=settings)
    assert report.counts == {"needs": 1}
    rows = store.select("SELECT ?who ?note WHERE { ?n dcpa:surveyor ?who ; rdfs:comment ?note }")
    assert rows == [{"who": "张晓梅", "note": "村民希望学习直播带货"}]
    # the retained copy is byte-for-byte what the user gave
    assert (settings.imports_path / report.batch_id / "需求.csv").read_bytes() == path.read_bytes()


def test_dry_run_validates_and_writes_nothing(store, settings, tmp_path):
    before = nquads(store)
    report = import_files(
        store, [write_csv(tmp_path / "n.csv", HEADER, [ROW])], user="u", settings=settings, dry_run=True
    )
    assert report.dry_run and report.counts == {"needs": 1} and report.triples > 0
    assert nquads(store) == before
    assert not settings.imports_path.exists() or not any(settings.imports_path.iterdir())


def test_report_json_keeps_chinese(store, settings, tmp_path):
    report = import_files(store, [write_csv(tmp_path / "需求.csv", HEADER, [ROW])], user="王五", settings=settings)
    text = json.dumps(report.to_dict(), ensure_ascii=False)
    assert "王五" in text and "需求.csv" in text


def test_api_records_map_like_rows_and_report_by_record(store, settings):
    records = [
        {
            "village_code": "210123206200",
            "need_type": "N22",
            "severity": 4,
            "people_affected": 120,
            "source": "survey",
            "identified_on": "2018-05-12",
            "surveyor": "张晓梅",
        }
    ]
    report = import_records(store, "needs", records, user="api-user", settings=settings, source_name="api")
    assert report.counts == {"needs": 1}
    bad = [dict(records[0], identified_on="2018-05-13"), dict(records[0], village_code="210199999999", extra=1)]
    before = nquads(store)
    with pytest.raises(ValidationFailed) as exc:
        import_records(store, "needs", bad, user="api-user", settings=settings)
    assert sorted((i.row, i.column) for i in exc.value.issues) == [(2, "extra"), (2, "village_code")]
    assert nquads(store) == before


def test_retained_batches_are_replayed_into_a_fresh_store(store, settings, tmp_path):
    files_report = import_files(
        store, [write_csv(tmp_path / "需求.csv", HEADER, [ROW])], user="张三", settings=settings
    )
    lib = [{"id": "LIB-API", "name_zh": "接口测试馆", "library_type": "county", "located_in": "210124"}]
    rec_report = import_records(store, "libraries", lib, user="api", settings=settings)
    res = [{"id": "RES-API", "name_zh": "接口资源", "resource_type": "R22", "held_by": "LIB-API"}]
    res_report = import_records(store, "resources", res, user="api", settings=settings)
    manifest = json.loads((settings.imports_path / "manifest.json").read_text(encoding="utf-8"))
    ids = [b["batch_id"] for b in manifest["batches"]]
    assert ids == [files_report.batch_id, rec_report.batch_id, res_report.batch_id]
    assert manifest["batches"][0]["user"] == "张三"

    fresh = load_fixture(Store.memory())
    assert replay_retained(fresh, settings.imports_path) == 3
    derive_all(fresh)  # as the build does after replaying
    assert fresh.graphs() == store.graphs()
    assert isomorphic(fresh.to_rdflib(str(GRAPH_DERIVED)), store.to_rdflib(str(GRAPH_DERIVED)))
    for _ in range(2):  # replaying again (an idempotent rebuild) changes nothing
        for bid in ids:
            assert isomorphic(fresh.to_rdflib(import_graph(bid)), store.to_rdflib(import_graph(bid))), bid
        replay_retained(fresh, settings.imports_path)


def test_failure_to_retain_removes_the_written_graph(store, settings, tmp_path):
    settings.imports_path.parent.mkdir(parents=True, exist_ok=True)
    settings.imports_path.write_text("not a directory")  # retention must fail
    before = nquads(store)
    with pytest.raises(StoreError):
        import_files(store, [write_csv(tmp_path / "n.csv", HEADER, [ROW])], user="u", settings=settings)
    assert nquads(store) == before


def test_an_import_reports_its_progress_step_by_step(store, settings, tmp_path):
    heard: list[tuple[str, int, int]] = []
    rows = [ROW, [*ROW[:5], "2019-05-12", *ROW[6:]]]
    import_files(store, [write_csv(tmp_path / "n.csv", HEADER, rows)], user="u", settings=settings,
                 progress=lambda step, done, total: heard.append((step, done, total)))
    assert [h[0] for h in heard] == ["read", "read", "map", "check", "check", "write", "write", "refresh",
                                     "refresh"]
    assert ("map", 2, 2) in heard and heard[-1] == ("refresh", 1, 1)
