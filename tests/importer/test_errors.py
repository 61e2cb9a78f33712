"""Each kind of bad input gives a clear error (file, row, column, value) and leaves the store as it was."""

from __future__ import annotations

import datetime
import os
import random
import zipfile
from pathlib import Path

import pytest

from kg.errors import NotFound, ValidationFailed
from kg.importer import ImportUsageError, import_files
from kg.namespaces import import_graph
from kg.settings import Settings

from .conftest import nquads, write_csv

HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]
GOOD = ["210123206200", "N22", "4", "120", "survey", "2018-05-12", "张晓梅"]


def row(**changes: str) -> list[str]:
    keys = HEADER
    values = dict(zip(keys, GOOD, strict=True)) | changes
    return [values[k] for k in keys]


def refused(store, settings, paths: list[Path]) -> list:
    """Import must fail, write nothing, keep nothing; returns the issues."""
    before = nquads(store)
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, paths, user="t", settings=settings)
    assert nquads(store) == before, "a refused import changed the store"
    assert not (settings.imports_path / "manifest.json").exists(), "a refused import was retained"
    return exc.value.issues


@pytest.mark.parametrize(
    ("change", "column", "value", "message"),
    [
        ({"village_code": "210199999999"}, "village_code", "210199999999", "unknown village code"),
        ({"village_code": "2101232062"}, "village_code", "2101232062", "malformed area code"),
        ({"village_code": "210123206"}, "village_code", "210123206", "malformed area code"),
        ({"need_type": "N99"}, "need_type", "N99", "unknown need type"),
        ({"need_type": "无此类型"}, "need_type", "无此类型", "未知的需求类型"),
        # in the right form but not in the calendar: said so (it was "bad date — write the date as YYYY-MM-DD")
        ({"identified_on": "2018-02-30"}, "identified_on", "2018-02-30", "日期不存在 / no such date: 2018-02-30"),
        ({"identified_on": "2018年2月29日"}, "identified_on", "2018年2月29日", "no such date: 2018-02-29"),
        ({"identified_on": "2018-13-01"}, "identified_on", "2018-13-01", "no such date"),
        ({"identified_on": "去年春天"}, "identified_on", "去年春天", "bad date"),
        ({"people_affected": "-5"}, "people_affected", "-5", "negative count"),
        ({"people_affected": "12.5"}, "people_affected", "12.5", "not a whole number"),
        ({"severity": "9"}, "severity", "9", "out of range"),
        # a comma that groups no thousands was dropped: 1,5 (a decimal comma, or a slip) was stored as 15
        ({"people_affected": "1,5"}, "people_affected", "1,5", "a comma that does not group thousands"),
        ({"people_affected": "１，２０"}, "people_affected", "１，２０", "逗号的位置不对"),
        ({"people_affected": "1,2,0"}, "people_affected", "1,2,0", "a comma that does not group thousands"),
        ({"source": "rumour"}, "source", "rumour", "unknown source kind"),
        ({"surveyor": " "}, "surveyor", "", "required value missing"),
    ],
)
def test_bad_cell_is_reported_with_its_place(store, settings, tmp_path, change, column, value, message):
    path = write_csv(tmp_path / "needs.csv", HEADER, [row(), row(**change)])
    issues = refused(store, settings, [path])
    assert len(issues) == 1, issues
    i = issues[0]
    assert (i.file, i.row, i.column, i.value) == ("needs.csv", 3, column, value)
    assert message in i.message
    assert i.hint


@pytest.mark.parametrize(("typed", "message", "hint"), [
    ("120人", "数字带单位 / a number with a unit", "不带单位（人），如 120"),
    ("３，０００ 人次", "数字带单位 / a number with a unit", "如 3000"),
    ("1.2万", "数字带“万” / a number written with 万", "write the whole number: 12000"),
    ("0.5万人", "数字带“万”", "不带单位（人）：5000"),
])
def test_a_number_written_with_its_unit_or_wan_says_what_to_write(store, settings, tmp_path, typed, message, hint):
    """120人 or 1.2万 in a count was 'not a whole number' with 'write a whole number such as 120': the steward did not
    see what was wrong. Refused still (120户 in a column of people is not 120 people), with what to write."""
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, [row(people_affected=typed)])])
    [i] = issues
    assert (i.row, i.column, i.value) == (2, "people_affected", typed) and message in i.message
    assert hint in i.hint and i.hint.index("/") > 0  # Chinese first


@pytest.mark.parametrize(("typed", "whole"), [("3千", "3000"), ("5百人", "500"), ("1.5千万", "15000000"),
                                             ("5k", "5000"), ("1.2w", "12000"), ("1.2W", "12000")])
def test_a_number_written_with_qian_or_k_is_told_its_whole_number_not_to_drop_the_multiplier(typed, whole):
    """3千 or 5k was 'a number with a unit', hint 'write 3': a steward following it stored 3 for 3000."""
    from kg.importer.mapping import CellError, parse_int

    with pytest.raises(CellError) as e:
        parse_int(typed)
    assert f"：{whole} / " in e.value.hint and e.value.hint.endswith(f": {whole}"), e.value.hint
    with pytest.raises(CellError) as kg:  # a unit that starts with k is a unit
        parse_int("5kg")
    assert "（kg），如 5" in kg.value.hint


@pytest.mark.parametrize("typed", ["120-150", "120~150", "2万-3万", "1/2", "1.5e3人"])
def test_a_range_or_a_fraction_is_not_told_to_keep_its_first_number(typed):
    """120-150 was 'a number with a unit (-150)', hint 'write 120': a range is not 120 with a unit after it."""
    from kg.importer.mapping import CellError, UnitInNumber, parse_decimal, parse_int

    for parse in (parse_decimal, parse_int):
        with pytest.raises(CellError) as e:
            parse(typed)
        assert not isinstance(e.value, UnitInNumber), e.value.hint


def test_a_day_the_calendar_does_not_have_is_told_apart_from_a_badly_written_date():
    """The hint says what to check (the days of that month), in Chinese then English; a date-or-year column too."""
    from kg.importer.mapping import CellError, parse_cell
    from kg.importer.specs import RECORD_KINDS

    when = next(c for spec in RECORD_KINDS.values() for c in spec.columns if c.type == "date")
    issued = next(c for spec in RECORD_KINDS.values() for c in spec.columns if c.type == "date_or_year")
    for col in (when, issued):
        with pytest.raises(CellError) as e:
            parse_cell(col, "2026-02-30", {})
        assert e.value.message == "日期不存在 / no such date: 2026-02-30"
        assert e.value.hint == "2026 年 2 月只有 28 天，请核对日和月 / 2026-02 has 28 days: check the day and the month"
    with pytest.raises(CellError) as e:
        parse_cell(issued, "去年春天", {})
    assert e.value.message == "日期格式错误 / bad date"


def test_a_date_shown_as_a_spreadsheet_day_number_says_so_and_which_day(store, settings, tmp_path):
    """A date cell formatted General (a workbook's number, a CSV's digits) was "bad date — write YYYY-MM-DD" to a
    steward who had typed 2018-05-12: the hint names the day and how to show it as one; it is not read as that day."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "needs"
    ws.append(HEADER)
    ws.append([*GOOD[:5], 43232, GOOD[6]])  # 2018-05-12, its cell's format set to General
    wb.save(tmp_path / "needs.xlsx")
    csv_path = write_csv(tmp_path / "needs.csv", HEADER, [row(identified_on="43233")])
    for path, day in ((tmp_path / "needs.xlsx", "2018-05-12"), (csv_path, "2018-05-13")):
        [i] = refused(store, settings, [path])
        assert (i.file, i.row, i.column) == (path.name, 2, "identified_on")
        assert i.message.startswith("日期变成了数字 / a date shown as a spreadsheet's day number") and day in i.message
        assert "设为“日期”格式" in i.hint and f"type the date as {day}" in i.hint


def test_a_title_row_above_the_header_is_not_taken_for_the_header(store, settings, tmp_path):
    """A sheet opening with its title merged across the table was 'unknown column 康平县…' and every column missing."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "needs"
    ws.append(["康平县图书馆 2018 年需求调查表"])
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(HEADER)
    ws.append(row())
    ws.append(row(village_code="1"))
    wb.save(tmp_path / "needs.xlsx")
    # the rows keep the numbers the spreadsheet shows: the header is on row 3
    [i] = refused(store, settings, [tmp_path / "needs.xlsx"])
    assert (i.row, i.column, i.message) == (5, "village_code", "区划代码格式错误 / malformed area code")
    # one cell that is no title (nothing below names columns) is still the header, and said to be wrong
    lone = write_csv(tmp_path / "needs2.csv", ["村民需求"], [["210123206200"]])
    assert [i.message for i in refused(store, settings, [lone])][0] == "未知的列 / unknown column"
    csv_path = write_csv(tmp_path / "需求.csv", ["康平县图书馆需求调查表"], [HEADER, row()])
    assert import_files(store, [csv_path], user="t", settings=settings).counts == {"needs": 1}


def test_a_header_over_two_rows_with_merged_cells_is_read_as_one(store, settings, tmp_path):
    """A form grouping columns under a merged cell (需求 over its type, severity and people; the others merged down
    over both rows) was refused: the grouped columns 'missing', the lower row 'required value missing'."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "需求"
    ws.append(["村级代码", "需求", None, None, "证据来源", "识别日期", "调查人"])
    ws.append([None, "需求类型", "严重程度", "受影响人数", None, None, None])
    ws.merge_cells("B1:D1")
    for c in "AEFG":
        ws.merge_cells(f"{c}1:{c}2")
    ws.append(row())
    ws.append(row(severity="9"))
    wb.save(tmp_path / "需求.xlsx")
    [i] = refused(store, settings, [tmp_path / "需求.xlsx"])  # the rows keep their numbers, the columns their names
    assert (i.row, i.column, i.message) == (4, "严重程度", "超出范围 / out of range (1–5)")
    ws.delete_rows(4)
    wb.save(tmp_path / "需求.xlsx")
    assert import_files(store, [tmp_path / "需求.xlsx"], user="t", settings=settings).counts == {"needs": 1}


def test_a_bad_later_row_stops_the_good_rows_too(store, settings, tmp_path):
    rows = [row(identified_on=f"2018-05-{d:02d}") for d in range(1, 21)] + [row(need_type="N99")]
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, rows)])
    assert [(i.row, i.column) for i in issues] == [(22, "need_type")]


def test_every_problem_is_listed_not_only_the_first(store, settings, tmp_path):
    rows = [row(need_type="N99"), row(identified_on="2018-13-01", people_affected="-1"), row(village_code="1")]
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, rows)])
    assert sorted((i.row, i.column) for i in issues) == [
        (2, "need_type"),
        (3, "identified_on"),
        (3, "people_affected"),
        (4, "village_code"),
    ]


def test_the_refusal_itself_is_said_in_chinese_then_english(store, settings, tmp_path):
    """`dcpa import` and the JSON error led with "3 problem(s) found; nothing was written" in English alone, above
    problems each said in Chinese, then English."""
    rows = [row(need_type="N99"), row(village_code="1"), row(severity="9")]
    with pytest.raises(ValidationFailed) as e:
        import_files(store, [write_csv(tmp_path / "needs.csv", HEADER, rows)], user="t", settings=settings)
    assert e.value.message == "发现 3 个问题，什么都没有写入 / 3 problem(s) found; nothing was written"


def test_column_named_as_written_in_the_header(store, settings, tmp_path):
    header = [
        "村级代码 / Village code",
        "需求类型",
        "Severity",
        "people affected",
        "证据来源 / Source",
        "识别日期 / Identified on",
        "调查人 / Surveyor",
    ]
    issues = refused(store, settings, [write_csv(tmp_path / "x.csv", header, [row(need_type="N99")])])
    assert [(i.row, i.column) for i in issues] == [(2, "需求类型")]


def test_a_header_pasted_with_a_zero_width_space_names_its_column(store, settings, tmp_path):
    """Copied from a document or a chat, 村级代码 carried a ZERO WIDTH SPACE: 'unknown column' and 'missing column'."""
    header = ["\u200b村级代码", "需求类型\u2060", *HEADER[2:]]
    issues = refused(store, settings, [write_csv(tmp_path / "x.csv", header, [row(need_type="N99")])])
    assert [(i.row, i.message) for i in issues] == [(2, "未知的需求类型 / unknown need type")]


def test_a_header_wrapped_onto_two_lines_names_its_column(store, settings, tmp_path):
    """村级代码 Alt+Enter Village code (a header wrapped in Excel or WPS to fit the column) was an 'unknown column'."""
    header = ["村级代码\nVillage code", "需求类型\r\nNeed type", *HEADER[2:]]
    issues = refused(store, settings, [write_csv(tmp_path / "x.csv", header, [row(need_type="N99")])])
    assert [(i.row, i.message) for i in issues] == [(2, "未知的需求类型 / unknown need type")]


def test_a_header_marked_required_or_optional_names_its_column(store, settings, tmp_path):
    """A form marks what must be filled (*村级代码, 需求类型（必填）, Severity (required)): each was an 'unknown column'
    and its column 'missing'. A note that may change the meaning stays part of the name (人数（户） is no column)."""
    header = ["*村级代码", "需求类型（必填）", "Severity (required)", "受影响人数＊", *HEADER[4:]]
    issues = refused(store, settings, [write_csv(tmp_path / "x.csv", header, [row(need_type="N99")])])
    assert [(i.row, i.message) for i in issues] == [(2, "未知的需求类型 / unknown need type")]
    header[3] = "受影响人数（户）"
    issues = refused(store, settings, [write_csv(tmp_path / "y.csv", header, [row(need_type="N22")])])
    assert ("unknown column", "受影响人数（户）") in {(i.message.split(" / ")[-1], i.column) for i in issues}


def test_a_header_with_a_note_on_how_to_write_its_values_names_its_column(store, settings, tmp_path):
    """A form says how to write a value in its header (村级代码（12位）, 识别日期(YYYY-MM-DD), 严重程度（1-5）,
    需求类型（如：N22）): each was an 'unknown column' and its column 'missing'."""
    header = ["村级代码（12位）", "需求类型（如：N22）（必填）", "严重程度(1-5)", "受影响人数", "证据来源",
              "识别日期（格式：YYYY-MM-DD）", "调查人"]
    issues = refused(store, settings, [write_csv(tmp_path / "x.csv", header, [row(need_type="N99")])])
    assert [(i.row, i.message) for i in issues] == [(2, "未知的需求类型 / unknown need type")]
    from kg.importer.specs import RECORD_KINDS

    columns = {c.key: c for c in RECORD_KINDS["needs"].columns}
    for key, header_cell in [("village_code", "Village code (12 digits)"), ("identified_on", "识别日期(yyyy/mm/dd)"),
                             ("severity", "严重程度（1～5级）"), ("identified_on", "识别日期（YYYY年MM月DD日）")]:
        assert columns[key].matches(header_cell), header_cell
    assert not columns["people_affected"].matches("受影响人数（户）")  # a unit: households are not people
    assert not columns["severity"].matches("严重程度（旧标准）")  # another note may change the meaning


def test_a_header_with_both_marks_names_its_column():
    """需求类型（必填）* or 需求类型*（必填）, a form marking a column twice, was an 'unknown column'."""
    from kg.importer.specs import RECORD_KINDS

    need_type = next(c for c in RECORD_KINDS["needs"].columns if c.key == "need_type")
    for header in ("需求类型（必填）*", "需求类型*（必填）", "＊需求类型 (required) *"):
        assert need_type.matches(header), header


def test_missing_column(store, settings, tmp_path):
    header = [h for h in HEADER if h != "severity"]
    rows = [[v for h, v in zip(HEADER, row(), strict=True) if h != "severity"]]
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", header, rows)])
    assert [(i.row, i.message.split(" / ")[1]) for i in issues] == [(1, "missing required column")]
    assert "severity" in issues[0].column.lower()


def test_unknown_column_is_refused_rather_than_silently_dropped(store, settings, tmp_path):
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER + ["remarks"], [row() + ["x"]])])
    assert [(i.row, i.column, i.message) for i in issues] == [(1, "remarks", "未知的列 / unknown column")]


def test_duplicate_rows(store, settings, tmp_path):
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, [row(), row(surveyor="李四")])])
    assert [(i.row, i.message) for i in issues] == [(3, "重复的记录 / duplicate row")]
    assert "row 2" in (issues[0].hint or "")


def test_same_record_imported_twice_is_refused(store, settings, tmp_path):
    path = write_csv(tmp_path / "needs.csv", HEADER, [row()])
    import_files(store, [path], user="t", settings=settings)
    before = nquads(store)
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [path], user="t", settings=settings)
    [issue] = exc.value.issues  # one per row, though the derived graph states facts about the need too
    assert "already exists" in issue.message and issue.row == 2
    assert "derived" not in issue.hint and "import batch" in issue.hint and "new ID" not in issue.hint
    assert "village_code, need_type, identified_on" in issue.hint and "PUT /api/needs/" in issue.hint
    assert nquads(store) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        ("\ufeff" + ",".join(HEADER) + "\r\n", "no data rows"),
        (b"\r\n\r\n", "no content"),
        ("caf\xe9,na\xefve\r\n1,2\r\n".encode("latin-1"), "unknown text encoding"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(random.Random(7).randrange(256) for _ in range(500)),
            "unknown text encoding",
        ),
    ],
    ids=["empty", "header-only", "blank-lines", "latin-1", "binary"],
)
def test_empty_and_undecodable_files(store, settings, tmp_path, content, message):
    path = tmp_path / "needs.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    issues = refused(store, settings, [path])
    assert [i.file for i in issues] == ["needs.csv"]
    assert message in issues[0].message


def test_not_an_xlsx(store, settings, tmp_path):
    path = tmp_path / "needs.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a workbook")
    issues = refused(store, settings, [path])
    assert "not a readable XLSX" in issues[0].message


def _needs_workbook(path: Path, rows: list[list[object]]) -> Path:
    """A needs sheet written by openpyxl, which computes no formula: it stores a formula without its value."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "needs"
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_a_formula_without_a_computed_value_is_reported_as_such(store, settings, tmp_path):
    """It read as an empty cell: "required value missing (value: '')". Saved with its value (as Excel or WPS
    saves it), the value is imported."""
    typed = [210123206200, "N22", 4, 120, "survey", datetime.date(2018, 5, 12), "张晓梅"]  # as Excel stores cells
    rows = [typed, typed[:2] + ["=2+1"] + typed[3:4] + ["survey", "2018-05-13"] + typed[6:],
            typed[:3] + ["=100+20"] + ["survey", "2018-05-14"] + typed[6:]]
    path = _needs_workbook(tmp_path / "needs.xlsx", rows)
    issues = refused(store, settings, [path])
    assert [(i.sheet, i.row, i.column, i.value) for i in issues] == [("needs", 3, "severity", "=2+1"),
                                                                     ("needs", 4, "people_affected", "=100+20")]
    for i in issues:
        assert i.message == "单元格是公式，但没有计算结果 / the cell holds a formula without a computed value"
        assert "Excel 或 WPS" in i.hint and "open the file in Excel or WPS and save it" in i.hint
        assert "type the value instead" in i.hint
    with zipfile.ZipFile(path) as zf:  # the values Excel would have stored with the formulas
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    for formula, value in ((b"2+1", b"3"), (b"100+20", b"120")):
        cell = b"<f>" + formula + b"</f>"
        assert parts[sheet].count(cell + b"<v />") == 1
        parts[sheet] = parts[sheet].replace(cell + b"<v />", cell + b"<v>" + value + b"</v>")
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    assert import_files(store, [path], user="t", settings=settings).counts == {"needs": 3}
    got = store.select("SELECT ?sev ?people ?on WHERE { ?n dcpa:severity ?sev ; dcpa:peopleAffected ?people ; "
                       "dcpa:identifiedOn ?on } ORDER BY ?on")
    assert [(r["sev"], r["people"], r["on"]) for r in got] == [(4, 120, "2018-05-12"), (3, 120, "2018-05-13"),
                                                               (4, 120, "2018-05-14")]


def test_a_formula_computed_to_empty_text_is_an_empty_cell(store, settings, tmp_path):
    """Excel stores =IF(…,"",…) computed to nothing as <c t="str"><f>…</f><v></v></c>: an empty cell, not a formula
    without its value (it was refused as one)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "needs"
    ws.append([*HEADER, "source_title"])  # an optional column
    ws.append([210123206200, "N22", 4, 120, "survey", datetime.date(2018, 5, 12), "张晓梅", '=IF(1=1,"","x")'])
    path = tmp_path / "needs.xlsx"
    wb.save(path)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    openpyxl_cell = b'<c r="H2"><f>IF(1=1,"","x")</f><v /></c>'
    assert parts[sheet].count(openpyxl_cell) == 1
    parts[sheet] = parts[sheet].replace(openpyxl_cell, b'<c r="H2" t="str"><f>IF(1=1,"","x")</f><v></v></c>')
    with zipfile.ZipFile(path, "w") as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    assert import_files(store, [path], user="t", settings=settings).counts == {"needs": 1}


def test_fifty_megabyte_file_is_refused_quickly_with_a_size_error(store, settings, tmp_path):
    path = tmp_path / "needs.csv"
    with path.open("wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, no time to write
    assert os.path.getsize(path) == 50 * 1024 * 1024
    issues = refused(store, settings, [path])
    assert "file too large" in issues[0].message
    assert issues[0].value == str(50 * 1024 * 1024)
    assert "DCPA_MAX_IMPORT_BYTES" in (issues[0].hint or "")


def test_one_bad_file_stops_the_whole_batch(store, settings, tmp_path):
    good = write_csv(tmp_path / "good.csv", HEADER, [row()])
    bad = write_csv(tmp_path / "bad.csv", HEADER, [row(need_type="N99", identified_on="2018-01-01")])
    issues = refused(store, settings, [good, bad])
    assert [i.file for i in issues] == ["bad.csv"]


def test_unknown_reference_in_another_kind(store, settings, tmp_path):
    header = ["id", "name_zh", "resource_type", "held_by"]
    issues = refused(
        store, settings, [write_csv(tmp_path / "resources.csv", header, [["R-X", "某资源", "R22", "NO-SUCH-LIB"]])]
    )
    assert [(i.row, i.column, i.value) for i in issues] == [(2, "held_by", "NO-SUCH-LIB")]
    assert "unknown library ID" in issues[0].message


def test_a_record_of_the_example_data_is_not_sent_to_a_batch_to_withdraw(store, settings, tmp_path):
    """A row that repeats a record no import wrote (example or reference data) cannot be withdrawn or replaced
    through a batch: the hint says so, rather than naming a batch that does not exist."""
    from kg.namespaces import GRAPH_SYNTHETIC
    from kg.store import Store

    from .conftest import load_fixture

    path = write_csv(tmp_path / "needs.csv", HEADER, [row()])
    report = import_files(store, [path], user="t", settings=settings)
    example = load_fixture(Store.memory())  # the same need, as example data
    example.add_graph(str(GRAPH_SYNTHETIC), store.construct(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{report.graph}> {{ ?s a dcpa:Need ; ?p ?o }} }}"))
    issues = refused(example, Settings(imports_path=tmp_path / "other", store_path=tmp_path / "x"), [path])
    assert [(i.row, i.message) for i in issues] == [(2, "记录已存在 / this record already exists")]
    assert str(GRAPH_SYNTHETIC) in issues[0].hint and "which no import wrote" in issues[0].hint
    assert "withdraw" not in issues[0].hint


@pytest.mark.parametrize(
    "change",
    [
        # pasted from a chat or a web page with a zero-width space, or a BOM inside the text: "malformed area code"
        ({"village_code": "210123206200\u200b"}),
        ({"village_code": "\ufeff２１０１２３２０６２００"}),
        # kept as text by an export, or read as numbers and written back: "malformed area code"
        ({"village_code": "'210123206200"}),
        ({"village_code": '="210123206200"'}),
        ({"village_code": "210123206200.0"}),
        # a zero-width space after a number or a date: "not a whole number", "bad date"
        ({"people_affected": "120\u200b"}),
        ({"identified_on": "2018-05-12\u2060"}),
        # the same in a coded value, by its code or by its name: "unknown need type", "unknown source kind"
        ({"need_type": "N22\u200b"}),
        ({"source": "\u200b调查"}),
        # a date-and-time cell saved as CSV by WPS or Excel, or a system's export: "bad date"
        ({"identified_on": "2018/5/12 0:00"}),
        ({"identified_on": "2018-05-12 00:00:00"}),
        ({"identified_on": "2018-05-12T09:30:00"}),
    ],
)
def test_a_code_number_or_date_as_typed_or_pasted_imports_as_what_it_means(store, settings, tmp_path, change):
    import_files(store, [write_csv(tmp_path / "needs.csv", HEADER, [row(**change)])], user="t", settings=settings)
    [r] = store.select("SELECT ?c ?p ?d WHERE { ?n dcpa:needOf ?v ; dcpa:peopleAffected ?p ; dcpa:identifiedOn ?d . "
                       "?v dcpa:areaCode ?c } ")
    assert (r["c"], r["p"], r["d"]) == ("210123206200", 120, "2018-05-12")


def test_a_code_with_a_decimal_part_is_still_refused(store, settings, tmp_path):
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, [row(village_code="2101232062.5")])])
    assert [i.message for i in issues] == ["区划代码格式错误 / malformed area code"]


def test_a_need_identified_in_the_future_is_refused(store, settings, tmp_path):
    """A typed year (2030 for 2020) would make a need that counts nowhere until then: refused, located."""
    import datetime as dt

    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()  # a day's grace for the steward's clock
    rows = [row(identified_on="2030-05-12"), row(identified_on=tomorrow, surveyor="李四")]
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER, rows)])
    assert [(i.row, i.column, i.value) for i in issues] == [(2, "identified_on", "2030-05-12")]
    assert "a date in the future" in issues[0].message and "check the year" in issues[0].hint


def test_a_row_with_a_bad_cell_is_still_checked_whole(store, settings, tmp_path):
    """A row with a number written with 万 and a date in the future was refused for the 万 alone: once the
    steward corrected it, the next import refused the year. Every problem of the row is listed at once."""
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER,
                                                 [row(people_affected="1.2万", identified_on="2030-05-12")])])
    assert [(i.row, i.column) for i in issues] == [(2, "people_affected"), (2, "identified_on")]
    # a cell that did not read says nothing more of itself: no "required value missing" for a bad source
    issues = refused(store, settings, [write_csv(tmp_path / "needs2.csv", HEADER, [row(source="survey?")])])
    assert [(i.row, i.column) for i in issues] == [(2, "source")]


def test_an_unknown_interview_names_the_interviews_sheet(store, settings, tmp_path):
    issues = refused(store, settings, [write_csv(tmp_path / "needs.csv", HEADER + ["interview"],
                                                 [row(source="") + ["ITV-NOPE"]])])
    assert [(i.row, i.column, i.value) for i in issues] == [(2, "interview", "ITV-NOPE")]
    assert "unknown interview ID" in issues[0].message and "on the 'interviews' sheet" in issues[0].hint


def test_every_kind_a_row_refers_to_is_named_in_its_errors():
    from kg.importer.checks import _REF_NAMES
    from kg.importer.mapping import REF_CLASS

    assert {cls: name[2] for cls, name in _REF_NAMES.items() if cls in REF_CLASS.values()} == {
        cls: kind if kind != "programmes" else "policies" for kind, cls in REF_CLASS.items()}


def test_usage_errors(store, settings, tmp_path):
    with pytest.raises(NotFound):
        import_files(store, [tmp_path / "nope.csv"], user="t", settings=settings)
    odd = tmp_path / "needs.xls"
    odd.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportUsageError) as exc:
        import_files(store, [odd], user="t", settings=settings)
    assert exc.value.exit_code == 2
    assert ".xlsx" in (exc.value.hint or "")


INTERVENTION = {"id": "INT-M1", "name_zh": "示例·测试项目", "category": "C2",
                "provided_by": "liaoning-provincial-library", "target_areas": "210123206200", "status": "S2"}


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("personnel", "馆员", "not a role and a count"),  # no count
        ("personnel", "厨师:2", "not a role and a count"),  # not a role of the scheme
        ("funding_source", "彩票公益金", "unknown funding source"),
        ("technology", "量子通信", "unknown technology"),
    ],
)
def test_a_means_cell_outside_its_scheme_is_refused_with_its_place(store, settings, tmp_path, column, value, message):
    cells = INTERVENTION | {column: value}
    path = write_csv(tmp_path / "interventions.csv", list(cells), [list(cells.values())])
    issues = refused(store, settings, [path])
    assert len(issues) == 1, issues
    assert (issues[0].row, issues[0].column, issues[0].value) == (2, column, value)
    assert message in issues[0].message and issues[0].hint


def test_the_row_limit_counts_the_rows_of_a_file_s_sheets_together(store, tmp_path) -> None:
    # DCPA_MAX_IMPORT_ROWS is the most rows one file may hold, but it was counted sheet by sheet: a workbook of
    # nine sheets with the limit's rows on each passed nine times the limit
    import openpyxl

    settings = Settings(imports_path=tmp_path / "imports", store_path=tmp_path / "store", max_import_rows=3)
    wb = openpyxl.Workbook()
    needs = wb.active
    needs.title = "needs"
    needs.append(HEADER)
    for day in (10, 11):
        needs.append(row(identified_on=f"2018-05-{day}"))
    interviews = wb.create_sheet("interviews")
    interviews.append(["id", "interviewee_role", "interviewed_on", "place_code", "interviewer", "consent",
                       "anonymisation"])
    for n in (1, 2):
        interviews.append([f"ITV-R{n}", "IR1", "2018-05-10", "210123206200", "示例·调研组", "CO1", "AN1"])
    wb.save(tmp_path / "two-sheets.xlsx")
    [issue] = refused(store, settings, [tmp_path / "two-sheets.xlsx"])
    assert (issue.file, issue.sheet, issue.row) == ("two-sheets.xlsx", "interviews", 3)
    assert "too many rows (more than 3 in the file)" in issue.message and "各工作表合计" in (issue.hint or "")


def test_an_example_row_overwritten_but_for_its_mark_is_refused_not_skipped(store, settings, tmp_path) -> None:
    # the template says to delete or overwrite its example row: overwritten but for its note (示例 Example…), the
    # row was skipped as the example and the steward's record lost, one line of the report saying so
    import openpyxl

    from kg.templates import write_xlsx_template

    path = write_xlsx_template(tmp_path / "template.xlsx", kinds=["needs"], with_villages=False)
    wb = openpyxl.load_workbook(path)
    wb["needs"].cell(2, 1, "210123206201")
    wb["needs"].cell(2, 8, "张晓梅")
    wb.save(path)
    [issue] = refused(store, settings, [path])
    assert (issue.sheet, issue.row, issue.column) == ("needs", 2, "备注 / Note")
    assert issue.message.startswith("这一行仍带有模板示例的标记") and "村级代码" in (issue.hint or "")
    # the example as Excel saves a CSV template again (the code in scientific notation, the date as 2018/5/12) is
    # still the example, skipped
    example = ["2.10123E+11", "N22 电子商务技能", "4", "120", "survey 调查", "2018/5/12", "示例 Example"]
    needs = write_csv(tmp_path / "needs.csv", HEADER, [example, GOOD], encoding="gb18030")
    report = import_files(store, [needs], user="t", settings=settings, dry_run=True)
    assert report.counts == {"needs": 1} and report.skipped_examples == 1


def test_a_sheet_of_no_known_kind_with_rows_is_named_in_the_report_not_left_out_silently(store, settings,
                                                                                         tmp_path) -> None:
    # a sheet the importer could not tell the kind of (named 第二批, headed in the steward's own words) was skipped
    # with a line in the server's log alone: the import said it imported the workbook, and its rows were not in it
    import openpyxl

    wb = openpyxl.Workbook()
    needs = wb.active
    needs.title = "needs"
    needs.append(HEADER)
    needs.append(GOOD)
    other = wb.create_sheet("第二批")
    other.append(["村", "类型", "程度"])
    other.append(["210123206201", "N22", "4"])
    notes = wb.create_sheet("记录说明")
    notes.append(["只有一行标题，没有数据"])
    wb.save(tmp_path / "survey.xlsx")
    report = import_files(store, [tmp_path / "survey.xlsx"], user="t", settings=settings, dry_run=True)
    assert report.counts == {"needs": 1}
    [warning] = report.warnings
    zh, _, en = warning.partition(" / ")
    assert zh.startswith("survey.xlsx，第二批，第 1 行：工作表不是已知的记录类型") and "not imported" in en


def test_an_unknown_column_with_nothing_in_it_is_ignored_with_a_warning(store, settings, tmp_path) -> None:
    # a column added and left empty (Excel names a table's new column 列1) refused the whole import, though nothing
    # in it could be lost; one with a value still is refused, and one whose header may be a missing required column
    empty = write_csv(tmp_path / "needs.csv", [*HEADER, "列1"], [[*GOOD, ""]])
    report = import_files(store, [empty], user="t", settings=settings, dry_run=True)
    assert report.counts == {"needs": 1}
    [warning] = report.warnings
    assert "未知的列，整列为空，已忽略" in warning and "unknown column, empty: ignored" in warning
    filled = write_csv(tmp_path / "needs.csv", [*HEADER, "列1"], [[*GOOD, "示例"]])
    assert [i.message for i in refused(store, settings, [filled])] == ["未知的列 / unknown column"]
    renamed = write_csv(tmp_path / "needs.csv", ["村代码", *HEADER[1:]], [["", *GOOD[1:]]])
    issues = refused(store, settings, [renamed])
    assert "未知的列 / unknown column" in [i.message for i in issues]


@pytest.mark.parametrize("severity", ["四", "4.5", "高"])
def test_a_severity_that_is_no_whole_number_is_told_its_range_not_a_number_like_120(store, settings, tmp_path,
                                                                                   severity) -> None:
    # "write a whole number such as 120" for a severity of 1 to 5: the steward who followed it was refused next
    # as out of range
    needs = write_csv(tmp_path / "needs.csv", HEADER, [row(severity=severity)])
    [issue] = refused(store, settings, [needs])
    assert issue.message == "不是整数 / not a whole number"
    assert issue.hint == "请填写 1 到 5 之间的整数，如 4 / write a whole number from 1 to 5, such as 4"


def test_a_cell_merged_down_over_several_rows_holds_its_value_in_each(store, settings, tmp_path) -> None:
    # survey forms merge a village's code (and its surveyor) down over the rows of its needs: the rows below the
    # first were "required value missing" in cells the steward saw filled
    import openpyxl

    wb = openpyxl.Workbook()
    needs = wb.active
    needs.title = "needs"
    needs.append(HEADER)
    needs.append(row(need_type="N22"))
    needs.append(["", "N21", "3", "80", "survey", "2018-05-12", ""])
    needs.append(["", "N31", "2", "50", "survey", "2018-05-12", ""])
    needs.append(["", "N41", "2", "50", "survey", "2018-05-12", "示例·另一位调查员"])
    needs.merge_cells("A2:A5")
    needs.merge_cells("G2:G4")
    wb.save(tmp_path / "merged.xlsx")
    report = import_files(store, [tmp_path / "merged.xlsx"], user="t", settings=settings)
    assert report.counts == {"needs": 4}
    found = store.select(f"""SELECT ?village ?surveyor WHERE {{ GRAPH <{import_graph(report.batch_id)}> {{
                             ?n dcpa:needOf ?village ; dcpa:surveyor ?surveyor }} }}""")
    assert sorted((str(r["village"]).rsplit("/", 1)[1], str(r["surveyor"])) for r in found) == [
        ("210123206200", "张晓梅"), ("210123206200", "张晓梅"), ("210123206200", "张晓梅"),
        ("210123206200", "示例·另一位调查员")]


def test_the_template_as_downloaded_is_refused_saying_it_holds_only_its_examples(store, settings, tmp_path) -> None:
    # "no data rows in any sheet of a known kind" for the template as downloaded (or saved before it was filled in),
    # where a CSV file says it held the template's example row alone
    from kg.templates import write_xlsx_template

    path = write_xlsx_template(tmp_path / "template.xlsx", kinds=["needs", "interviews"], with_villages=False)
    [issue] = refused(store, settings, [path])
    assert issue.message == ("工作簿中没有数据行（只有 2 行模板示例，导入时跳过） / "
                             "no data rows in any sheet of a known kind (only the template's 2 example row(s), "
                             "skipped on import)")
