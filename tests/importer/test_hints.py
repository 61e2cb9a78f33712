"""The hint of every refused import says how to fix it in Chinese first, then in English (``中文 / English``),
as the messages do: a county library's data steward reads the Chinese."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest

from kg.errors import ValidationFailed
from kg.importer import import_files, import_records
from kg.importer.batch import batch_time, build_batch, new_batch_id
from kg.importer.mapping import Batch, record_rows
from kg.importer.vocab import LIST_TITLES, code_lists

from .conftest import NEED as NEED_ROW
from .conftest import nquads, write_csv


def _cjk_at(text: str) -> int:
    """Where the first Chinese character of ``text`` is (-1: none)."""
    return next((i for i, c in enumerate(text) if unicodedata.east_asian_width(c) in "WF"), -1)


def test_every_hint_of_a_file_with_typical_mistakes_is_in_chinese_then_english(store, settings, tmp_path):
    future = (dt.date.today() + dt.timedelta(days=800)).isoformat()
    header = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor",
              "remarks"]
    needs = write_csv(tmp_path / "needs.csv", header, [
        ["210123206200", "N99", "4", "120", "survey", "2018-05-12", "张晓梅", "x"],  # an unknown code
        ["210123206200", "N22", "4", "120", "survey", future, "张晓梅", ""],  # a date in the future
        ["210123206200", "N21", "3", "80", "survey", "2018-05-12", "", ""],  # a missing required value
    ])  # and an unknown column: remarks
    evaluations = write_csv(
        tmp_path / "evaluations.csv",
        ["intervention_id", "indicator", "area_code", "actual_value", "period_start", "period_end"],
        [["INT-NOWHERE", "I01", "210123206200", "5", "2019-06-30", "2019-01-01"]],  # ends before it starts
    )
    before = nquads(store)
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [needs, evaluations], user="t", settings=settings)
    assert nquads(store) == before
    # (what the message says, words of the English hint as they were before the hints had a Chinese half)
    expected = {
        "unknown column": "the columns of 'needs' are: village_code, need_type",
        "unknown need type": "use a code or a Chinese/English label from the template's 'need_types' list, e.g. N",
        "a date in the future": "'identified_on' is when it happened, so it cannot be after the import (",
        "required value missing": "fill in '",
        "ends before it starts": "'period_end' must not be before 'period_start'",
        "unknown intervention ID": "no intervention with this ID in the graph or in this import",
    }
    issues = exc.value.issues
    assert sorted(next(k for k in expected if k in i.message) for i in issues) == sorted(expected), issues
    for issue in issues:
        hint = issue.hint or ""
        english = next(v for k, v in expected.items() if k in issue.message)
        zh, _, en = hint.partition(" / ")
        assert _cjk_at(zh) >= 0 and english in en, f"not 中文 / English: {hint!r}"
        assert _cjk_at(zh) < hint.index(english), f"the Chinese comes after the English: {hint!r}"
    future_hint = next(i.hint for i in issues if "future" in i.message)
    assert "请检查年份" in future_hint and "'identified_on'" in future_hint.partition(" / ")[0]


def test_every_coded_list_has_names_so_an_unknown_value_is_reported_not_a_crash(store, settings) -> None:
    # an unknown delivery mode (or reach scope) crashed the import with KeyError: 'delivery_modes'
    assert set(code_lists()) <= set(LIST_TITLES)
    lib = {"id": "LIB-H", "name_zh": "提示测试馆", "library_type": "county", "located_in": "210124"}
    res = {"id": "RES-H", "name_zh": "示例·在线课", "resource_type": "R31", "held_by": "LIB-H",
           "delivery_mode": "by pigeon", "source": "document"}
    import_records(store, "libraries", [lib], user="t", settings=settings)
    with pytest.raises(ValidationFailed) as e:
        import_records(store, "resources", [res], user="t", settings=settings)
    [issue] = e.value.issues
    assert issue.message == "未知的提供方式 / unknown delivery mode" and issue.column == "delivery_mode"
    assert "DM1" in (issue.hint or "")
    assert b"RES-H" not in nquads(store)  # nothing of the refused resource was written


def test_a_code_glued_to_its_label_is_read_and_an_unknown_value_is_shown_the_ones_it_resembles(store, settings,
                                                                                              tmp_path) -> None:
    # N22电子商务技能 and survey调查 (the drop-down's spelling without its space) were "unknown", with a hint listing
    # N22 电子商务技能 as if it were something else; 电子商务 was shown N1…N21, never the N22 it is part of
    header = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]
    glued = write_csv(tmp_path / "needs.csv", header, [
        ["210123206200", "N22电子商务技能", "4", "120", "survey调查", "2018-05-12", "张晓梅"],
    ])
    report = import_files(store, [glued], user="t", settings=settings, dry_run=True)
    assert report.counts == {"needs": 1}
    part = write_csv(tmp_path / "needs.csv", header, [
        ["210123206200", "电子商务", "4", "120", "survey", "2018-05-12", "张晓梅"],
    ])
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [part], user="t", settings=settings, dry_run=True)
    [issue] = exc.value.issues
    zh, _, en = (issue.hint or "").partition(" / ")
    assert "如 N22 电子商务技能," in zh and "e.g. N22 电子商务技能," in en, issue.hint


def test_an_unknown_column_is_told_in_chinese_which_column_it_may_be_or_to_delete_it(store, settings,
                                                                                    tmp_path) -> None:
    # the hint listed the keys (village_code, need_type…) in its Chinese half too, and said neither that 村代码 is
    # likely 村级代码 nor what to do with a column of one's own (联系电话)
    header = ["村代码", "需求类型", "严重程度", "受影响人数", "识别日期", "调查人", "联系电话"]
    needs = write_csv(tmp_path / "needs.csv", header, [
        ["210123206200", "N22", "4", "120", "2018-05-12", "张晓梅", "示例电话"],
    ])
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [needs], user="t", settings=settings, dry_run=True)
    hints = {i.column: i.hint or "" for i in exc.value.issues if "unknown column" in i.message}
    zh, _, en = hints["村代码"].partition(" / ")
    assert "是不是“村级代码”" in zh and "村级代码、需求类型" in zh and "village_code" not in zh
    assert "did you mean 'Village code'" in en
    zh, _, en = hints["联系电话"].partition(" / ")
    assert "请删除" in zh and "是不是" not in zh and "delete a column of your own" in en


def test_a_reference_differing_from_an_id_of_the_import_only_in_case_is_told_so(store, settings) -> None:
    # "unknown library ID" for Lib-1 beside a row of LIB-1 in the same import told the steward to add the library
    # they had just added (IDs are told apart by case, as the record's IRI is)
    lib = {"id": "LIB-CASE", "name_zh": "示例·大小写馆", "library_type": "county", "located_in": "210124"}
    res = {"id": "RES-CASE", "name_zh": "示例·在线课", "resource_type": "R31", "held_by": "Lib-Case",
           "source": "document"}
    now = batch_time()
    batch = build_batch(store, Batch(new_batch_id(now), "t", now), [
        ("示例.xlsx", [("libraries", record_rows("libraries", "示例.xlsx", [lib])),
                      ("resources", record_rows("resources", "示例.xlsx", [res]))]),
    ])
    [issue] = batch.issues
    assert issue.message == "未知的图书馆编号 / unknown library ID" and issue.value == "Lib-Case"
    zh, _, en = (issue.hint or "").partition(" / ")
    assert "“LIB-CASE”" in zh and "区分大小写" in zh and "'LIB-CASE'" in en and "case-sensitive" in en


def test_a_duplicate_or_existing_record_is_shown_as_typed_and_named_by_its_chinese_columns(store, settings) -> None:
    # the value was shown case-folded (int-1 for INT-1, a value found nowhere in the file), and the Chinese half of
    # the hint named the columns by their keys (village_code, need_type, identified_on)
    lib = {"id": "LIB-DUP", "name_zh": "示例·重复馆", "library_type": "county", "located_in": "210124"}
    import_records(store, "libraries", [lib], user="t", settings=settings)
    with pytest.raises(ValidationFailed) as exc:
        import_records(store, "libraries", [lib], user="t", settings=settings)
    [issue] = exc.value.issues
    assert issue.value == "LIB-DUP"
    with pytest.raises(ValidationFailed) as exc:
        import_records(store, "needs", [NEED_ROW, NEED_ROW], user="t", settings=settings, dry_run=True)
    [issue] = exc.value.issues
    zh = (issue.hint or "").partition(" / ")[0]
    assert "“村级代码”、“需求类型”、“识别日期”" in zh and "village_code" not in zh
