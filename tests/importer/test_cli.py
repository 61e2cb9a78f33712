"""`dcpa template`, `dcpa import`, `dcpa validate` through typer's CliRunner: output and exit codes."""

from __future__ import annotations

import datetime as dt
import gc
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from kg.cli import app
from kg.importer import RECORD_KINDS
from kg.safetext import spreadsheet_cell
from kg.settings import get_settings
from kg.store import Store

from .conftest import load_fixture, nquads, write_csv

HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]
GOOD = ["210123206200", "N22", "4", "120", "survey", "2018-05-12", "张晓梅"]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An on-disk store with the fixture, and settings pointing at it."""
    store_path = tmp_path / "store"
    s = load_fixture(Store.open(store_path))
    s.close()
    del s
    monkeypatch.setenv("DCPA_STORE_PATH", str(store_path))
    monkeypatch.setenv("DCPA_IMPORTS_PATH", str(tmp_path / "imports"))
    monkeypatch.setenv("DCPA_DEFAULT_USER", "默认用户")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def dump(env: Path) -> bytes:
    gc.collect()  # the CLI's store handle must be gone before the store opens again
    s = Store.open(env / "store", create=False)
    try:
        return nquads(s)
    finally:
        s.close()


runner = CliRunner()


def test_template_csv_writes_one_bom_file_per_kind(tmp_path):
    res = runner.invoke(app, ["template", "--format", "csv", "-o", str(tmp_path / "forms")])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in (tmp_path / "forms").iterdir())
    assert files == sorted(f"{k}.csv" for k in RECORD_KINDS)
    raw = (tmp_path / "forms" / "needs.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "村级代码 / Village code" in raw.decode("utf-8-sig")


def test_template_xlsx_has_sheets_lists_and_dropdowns(tmp_path):
    out = tmp_path / "t.xlsx"
    res = runner.invoke(app, ["template", "-o", str(out), "--kind", "needs", "--no-villages"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["readme", "needs", "lists"]
    assert wb["lists"].sheet_state == "hidden"
    ws = wb["needs"]
    assert ws.cell(1, 1).value == "村级代码 / Village code"
    assert ws.cell(2, 2).value == "N22 电子商务技能"  # the example, as the drop-down writes it
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert any(f.startswith("=lists!") for f in formulas)
    needs_list = [c.value for c in wb["lists"]["A"]][1:]
    assert "N22 电子商务技能" in needs_list  # labels come from the ontology


def test_template_unknown_kind_or_format_is_a_usage_error(tmp_path):
    assert runner.invoke(app, ["template", "--kind", "nonsense", "-o", str(tmp_path / "x.xlsx")]).exit_code == 2
    assert runner.invoke(app, ["template", "--format", "pdf"]).exit_code == 2


def test_import_ok_then_bad_then_dry_run(env):
    good = write_csv(env / "needs.csv", HEADER, [GOOD])
    res = runner.invoke(app, ["import", str(good), "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["counts"] == {"needs": 1} and report["user"] == "默认用户"
    assert "imported 1 record(s)" in res.stderr

    before = dump(env)
    bad = write_csv(env / "bad.csv", HEADER, [GOOD[:1] + ["N99"] + GOOD[2:]])
    res = runner.invoke(app, ["import", str(bad), "--user", "李四"])
    assert res.exit_code == 1
    # each problem as one line, its place, message, value and hint in Chinese, then all of it in English
    assert "bad.csv，第 2 行，“need_type”列：未知的需求类型（值：'N99'）——" in res.stderr
    assert " / bad.csv, row 2, column need_type: unknown need type (value: 'N99') — " in res.stderr
    assert dump(env) == before

    other = write_csv(env / "other.csv", HEADER, [GOOD[:5] + ["2019-01-01"] + GOOD[6:]])
    res = runner.invoke(app, ["import", str(other), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "nothing was written" in res.stderr
    assert dump(env) == before


def test_import_usage_errors_exit_2(env):
    assert runner.invoke(app, ["import", str(env / "missing.csv")]).exit_code == 2
    odd = env / "data.ods"
    odd.write_bytes(b"x")
    res = runner.invoke(app, ["import", str(odd)])
    assert res.exit_code == 2 and "unknown file format" in res.stderr


def test_validate_reports_and_fails_on_a_violation(env):
    res = runner.invoke(app, ["validate", "--no-reasoner"])
    assert res.exit_code == 0, res.output
    assert "SHACL: conforms" in res.stderr and "all 58 nodes" in res.stderr

    res = runner.invoke(app, ["validate", "--no-reasoner", "--sample", "5"])
    assert res.exit_code == 0, res.output
    assert "random sample of 5 of 58 nodes" in res.stderr

    s = Store.open(env / "store")
    s.add_graph(  # a need with severity 9 and no village, written around the importer
        "https://w3id.org/dcpa/graph/import/bad",
        b"<https://w3id.org/dcpa/id/need/x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<https://w3id.org/dcpa/ontology#Need> .\n"
        b'<https://w3id.org/dcpa/id/need/x> <https://w3id.org/dcpa/ontology#severity> "9"^^'
        b"<http://www.w3.org/2001/XMLSchema#integer> .\n",
    )
    s.close()
    del s
    res = runner.invoke(app, ["validate", "--no-reasoner", "--format", "json"])
    assert res.exit_code == 1
    report = json.loads(res.stdout)
    assert not report["conforms"] and report["violations"] >= 2
    assert {r["focus"] for r in report["results"]} == {"https://w3id.org/dcpa/id/need/x"}


def test_export_xlsx_writes_the_imported_records_as_a_template_that_imports_again(env):
    path = write_csv(env / "needs.csv", HEADER, [GOOD])
    assert runner.invoke(app, ["import", str(path)]).exit_code == 0
    res = runner.invoke(app, ["export", "--format", "xlsx", "-o", str(env / "records.xlsx")])
    assert res.exit_code == 0, res.output
    assert "records.xlsx" in res.output
    book = openpyxl.load_workbook(env / "records.xlsx", read_only=True)
    keys = [c.key for c in RECORD_KINDS["needs"].columns]
    row = dict(zip(keys, list(book["needs"].iter_rows(values_only=True))[1], strict=True))
    assert (row["village_code"], row["surveyor"]) == ("210123206200", "张晓梅")
    assert row["identified_on"] == dt.datetime(2018, 5, 12)  # a date cell, which a spreadsheet sorts as a date
    # already there (a need is keyed by its village, type and day: the date cell reads as the day it was): refused
    res = runner.invoke(app, ["import", str(env / "records.xlsx"), "--dry-run"])
    assert res.exit_code != 0 and "already exists" in res.output and "row 2" in res.output.lower()


def test_export_xlsx_without_a_file_name_keeps_last_month_s(env, monkeypatch):
    """Without -o the workbook was dcpa-records.xlsx, and this month's export overwrote last month's; it is named by
    the day, as the data page's download."""
    monkeypatch.chdir(env)
    (env / "dcpa-records-2026-11-05.xlsx").write_bytes(b"last month")
    res = runner.invoke(app, ["export", "--format", "xlsx"])
    assert res.exit_code == 0, res.output
    assert (env / f"dcpa-records-{dt.date.today()}.xlsx").is_file() and not (env / "dcpa-records.xlsx").exists()
    assert (env / "dcpa-records-2026-11-05.xlsx").read_bytes() == b"last month"


def test_export_csv_writes_one_file_per_kind(env):
    res = runner.invoke(app, ["export", "--format", "csv", "-o", str(env / "out")])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in (env / "out").iterdir()) == sorted(f"{k}.csv" for k in RECORD_KINDS)


def test_an_export_imported_again_stores_what_was_exported(env):
    """A CSV export escapes text a spreadsheet would run ('=…); its import reads the text back; a workbook keeps it
    a text cell, never a formula."""
    typed = ['=HYPERLINK("http://x")', "+86 138 0000 0000", "-3", "'plain quote", "'=SUM(A1)", "'+86"]
    # written as a CSV export writes them (a ' before a formula; a CSV's leading ' is read as that escape)
    rows = [GOOD[:5] + [f"2018-05-1{k}", spreadsheet_cell(t)] for k, t in enumerate(typed)]
    res = runner.invoke(app, ["import", str(write_csv(env / "needs.csv", HEADER, rows)), "--format", "json"])
    assert res.exit_code == 0, res.output
    batch = json.loads(res.stdout)["batch_id"]

    def surveyors() -> list[str]:
        gc.collect()
        s = Store.open(env / "store", create=False)
        try:
            return sorted(r["p"] for r in s.select(
                "SELECT ?p WHERE { ?n a dcpa:Need ; dcpa:surveyor ?p FILTER(?p != '张晓梅') }"))
        finally:
            s.close()

    assert surveyors() == sorted(typed)
    assert runner.invoke(app, ["export", "--format", "csv", "-o", str(env / "out")]).exit_code == 0
    exported = (env / "out" / "needs.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in exported and "'+86 138" in exported  # escaped for the spreadsheet
    assert runner.invoke(app, ["export", "--format", "xlsx", "-o", str(env / "records.xlsx")]).exit_code == 0
    sheet = openpyxl.load_workbook(env / "records.xlsx")["needs"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value in typed]
    assert sorted(c.value for c in cells) == sorted(typed) and {c.data_type for c in cells} == {"s"}
    assert runner.invoke(app, ["withdraw", batch, "--reason", "import the export again"]).exit_code == 0
    assert surveyors() == []
    res = runner.invoke(app, ["import", str(env / "out" / "needs.csv"), "--format", "json"])
    assert res.exit_code == 0, res.output
    assert surveyors() == sorted(typed)  # not "'=HYPERLINK(…)", and a ' typed before = kept
    again = json.loads(res.stdout)["batch_id"]
    assert runner.invoke(app, ["withdraw", again, "--reason", "now the workbook"]).exit_code == 0
    res = runner.invoke(app, ["import", str(env / "records.xlsx")])
    assert res.exit_code == 0, res.output
    assert surveyors() == sorted(typed)  # a workbook's text is read as it is


def test_what_the_import_commands_report_is_said_in_chinese(env, lines_chinese_first):
    """`dcpa template`, `import`, `history` and `withdraw` reported what they did in English alone ("wrote …",
    "dry run: 1 record(s) valid …", "imported 1 record(s) as batch …", "withdrew batch …", "no imports yet …")."""
    res = runner.invoke(app, ["history"])
    assert res.exit_code == 0 and "no imports yet" in res.stderr
    lines_chinese_first(res.stderr)
    res = runner.invoke(app, ["template", "--format", "csv", "-o", str(env / "forms")])
    assert res.exit_code == 0 and "wrote " in res.stderr
    lines_chinese_first(res.stderr)
    path = write_csv(env / "needs.csv", HEADER, [GOOD])
    for args in (["--dry-run"], []):
        res = runner.invoke(app, ["import", str(path), *args])
        assert res.exit_code == 0 and "record(s)" in res.stderr, res.output
        lines_chinese_first(res.stderr)
    batch = runner.invoke(app, ["history", "--format", "json"]).stdout
    batch = json.loads(batch)[0]["batch_id"]
    for args in (["--dry-run"], []):
        res = runner.invoke(app, ["withdraw", batch, "--reason", "重复", *args])
        assert res.exit_code == 0 and f"batch {batch}" in res.stderr, res.output
        lines_chinese_first(res.stderr)
