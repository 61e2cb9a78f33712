"""Hostile import files are refused with a located error and nothing written, on every entry path.

Each file comes from ``hostile.py``. Three paths read it: the library (``import_files``), the CLI
(`dcpa import`: exit code 1, the location on stderr, no traceback) and the API (``POST
/api/imports``: 422 in the one JSON error shape). After each refusal the store holds exactly what
it held before and no file was kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from kg.cli import app as cli
from kg.errors import ValidationFailed
from kg.importer import import_files
from kg.store import Store

from . import hostile as h
from .conftest import AUTH, disk_nquads, kept_files, load_fixture, make_settings, nquads

pytestmark = pytest.mark.timeout(120)


@dataclass(frozen=True)
class Case:
    """A hostile file, the words its refusal must say, and where it must say the problem is."""

    make: Callable[[Path], Path]
    says: str
    where: dict[str, Any] = field(default_factory=dict)


def _csv(name: str, rows: list[list[str]], header: list[str] = h.HEADER) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        p = d / name
        p.write_bytes(h.csv_bytes(rows, header))
        return p

    return make


def _nul_csv(d: Path) -> Path:
    p = d / "needs.csv"
    p.write_bytes(h.csv_bytes([h.need_row(1), h.need_row(2, note="a\x00b")]))
    return p


def _text_as_xlsx(d: Path) -> Path:
    p = d / "needs.xlsx"
    p.write_bytes(h.csv_bytes([h.need_row(1)]))
    return p


CASES: dict[str, Case] = {
    # XLSX containers
    "bomb-1GiB": Case(lambda d: h.bomb_xlsx(d / "needs.xlsx", 1024), "expands to 1024.0 MiB"),
    "bomb-ratio": Case(lambda d: h.bomb_xlsx(d / "needs.xlsx", 64), "a decompression bomb"),
    "xxe": Case(lambda d: h.xxe_xlsx(d / "needs.xlsx"), "document type declaration"),
    "billion-laughs": Case(lambda d: h.billion_laughs_xlsx(d / "needs.xlsx"), "document type declaration"),
    "broken-sheet-xml": Case(
        lambda d: h.broken_sheet_xlsx(d / "needs.xlsx"), "broken XML at line 1", {"sheet": "needs"}
    ),
    "xlsm": Case(lambda d: h.macro_xlsx(d / "needs.xlsm"), "macro-enabled workbooks (.xlsm) are not accepted"),
    "macros-named-xlsx": Case(lambda d: h.macro_xlsx(d / "needs.xlsx"), "a workbook with macros or other code"),
    "too-many-sheets": Case(lambda d: h.many_sheets_xlsx(d / "needs.xlsx", 60), "too many sheets (60; at most 50)"),
    "too-many-cells": Case(lambda d: h.wide_rows_xlsx(d / "needs.xlsx", 200), "too many cells", {"sheet": "needs"}),
    "xlsx-named-csv": Case(lambda d: h.xlsx_named_csv(d / "needs.csv"), "an XLSX workbook (ZIP archive)"),
    "csv-named-xlsx": Case(_text_as_xlsx, "a text file (CSV?) named like an XLSX workbook"),
    "bidi-in-xlsx-cell": Case(
        lambda d: h.needs_xlsx(d / "needs.xlsx", [h.need_row(1), h.need_row(2, surveyor="张\u202e晓梅")]),
        "U+202E RIGHT-TO-LEFT OVERRIDE at character 2",
        {"sheet": "needs", "row": 3, "column": "surveyor", "value": "张\\u202e晓梅"},
    ),
    "bidi-in-sheet-name": Case(
        lambda d: h.needs_xlsx(d / "needs.xlsx", [h.need_row(1)], title="needs\u202e"),
        "sheet name: bidirectional control character not allowed",
        {"value": "needs\\u202e"},
    ),
    # CSV structure and encodings
    "unclosed-quote": Case(
        lambda d: h.unclosed_quote_csv(d / "needs.csv"),
        "the quoted field that starts on line 3 never ends",
        {"line": 3},
    ),
    "mixed-encoding": Case(
        lambda d: h.mixed_encoding_csv(d / "needs.csv"), "line 2 is UTF-8 but line 3 is GB18030", {"line": 3}
    ),
    "field-over-128KiB": Case(
        lambda d: h.long_field_csv(d / "needs.csv", 200_000), "longer than 131072 characters", {"line": 3}
    ),
    "cell-over-32767": Case(
        lambda d: h.long_field_csv(d / "needs.csv", 40_000),
        "value too long (40000 characters; at most 32767)",
        {"row": 3, "column": "note"},
    ),
    "nul-byte": Case(_nul_csv, "a NUL byte on line 3", {"line": 3}),
    "escape-sequence": Case(
        _csv("needs.csv", [h.need_row(1), h.need_row(2, surveyor="\x1b[2J\x1b[31m张晓梅")]),
        "control character not allowed: U+001B ESCAPE at character 1",
        {"row": 3, "column": "surveyor", "value": "\\x1b[2J\\x1b[31m张晓梅"},
    ),
    "bidi-in-header": Case(
        _csv("needs.csv", [h.need_row(1)], h.HEADER[:-1] + ["no\u2066te"]),
        "U+2066 LEFT-TO-RIGHT ISOLATE",
        {"row": 1, "column": "column 8"},
    ),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Each hostile file, made once per module (the bombs take a moment)."""
    made: dict[str, Path] = {}

    def get(case: str) -> Path:
        if case not in made:
            d = tmp_path_factory.mktemp(case)
            made[case] = CASES[case].make(d)
        return made[case]

    return get


def _located(issue: dict[str, Any], case: Case, name: str) -> None:
    assert case.says in issue["message"], issue
    assert issue["file"] == name, issue
    assert issue["hint"], issue
    for key, value in case.where.items():
        got = issue.get("extra", {}).get(key) if key == "line" else issue[key]
        assert got == value, (key, issue)


@pytest.mark.parametrize("case", sorted(CASES))
def test_library_refuses_with_the_place_and_writes_nothing(case: str, files: Callable[[str], Path], tmp_path: Path):
    store = load_fixture(Store.memory())
    settings = make_settings(tmp_path)
    before = nquads(store)
    path = files(case)
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [path], user="测试员", settings=settings)
    issues = [i.to_dict() for i in exc.value.issues]
    assert len(issues) == 1, issues
    _located(issues[0], CASES[case], path.name)
    assert nquads(store) == before
    assert kept_files(settings.imports_path) == []


runner = CliRunner()


@pytest.mark.parametrize("case", sorted(CASES))
def test_cli_exits_1_with_the_place_and_no_traceback(case: str, files: Callable[[str], Path], disk_env: Path):
    before = disk_nquads(disk_env)
    path = files(case)
    res = runner.invoke(cli, ["import", str(path)])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "nothing was written" in res.stderr
    assert CASES[case].says in res.stderr
    assert path.name in res.stderr
    where = CASES[case].where
    if "row" in where:
        assert f"row {where['row']}" in res.stderr
    if "line" in where:
        assert f"line {where['line']}" in res.stderr
    assert all(ord(c) >= 32 or c in "\n\t" for c in res.stderr), "control characters reached the terminal"
    assert "\u202e" not in res.stderr and "\u2066" not in res.stderr
    assert disk_nquads(disk_env) == before
    assert kept_files(disk_env / "imports") == []


@dataclass
class Api:
    client: TestClient
    store: Store
    imports: Path
    before: bytes  # the store's dump before any request

    def unchanged(self) -> bool:
        return nquads(self.store) == self.before and kept_files(self.imports) == []


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Api:
    tmp = tmp_path_factory.mktemp("api")
    store = load_fixture(Store.memory())
    return Api(TestClient(create_app(make_settings(tmp), store)), store, tmp / "imports", nquads(store))


@pytest.mark.parametrize("case", sorted(CASES))
def test_api_upload_is_422_with_the_place(case: str, files: Callable[[str], Path], api: Api):
    path = files(case)
    r = api.client.post("/api/imports", files=[("files", (path.name, path.read_bytes()))], headers=AUTH)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert set(error) == {"code", "message", "hint", "details"}
    assert error["code"] == "validation_failed" and "nothing was written" in error["message"]
    [issue] = error["details"]
    _located(issue, CASES[case], path.name)
    assert api.unchanged()


def test_stale_dimension_loses_no_row(tmp_path: Path):
    """openpyxl's read-only mode trusts <dimension>: a stale one (row 2) must not drop rows 3-6."""
    store = load_fixture(Store.memory())
    path = h.stale_dimension_xlsx(tmp_path / "needs.xlsx", rows=5)
    report = import_files(store, [path], user="测试员", settings=make_settings(tmp_path), dry_run=True)
    assert report.counts == {"needs": 5}


def test_a_file_name_of_300_characters_is_refused_before_anything_is_written(api: Api):
    name = "需" * 300 + ".csv"
    body = h.csv_bytes([h.need_row(1)])
    r = api.client.post("/api/imports", files=[("files", (name, body))], headers=AUTH)
    assert r.status_code == 422, r.text
    [issue] = r.json()["error"]["details"]
    assert "file name too long (904 bytes in UTF-8; at most 200)" in issue["message"]
    assert issue["file"].startswith("需" * 60) and issue["hint"]
    assert api.unchanged()


def test_a_file_name_with_a_bidi_override_is_refused(tmp_path: Path):
    store = load_fixture(Store.memory())
    path = tmp_path / "needs\u202etxt.csv"
    path.write_bytes(h.csv_bytes([h.need_row(1)]))
    with pytest.raises(ValidationFailed) as exc:
        import_files(store, [path], user="测试员", settings=make_settings(tmp_path))
    [issue] = exc.value.issues
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in issue.message and issue.file == "needs\\u202etxt.csv"


def test_a_rebuild_still_replays_files_accepted_before_the_rules_were_tightened(tmp_path: Path, caplog):
    """Retained files that earlier versions accepted (macro-enabled, mixed encodings, an unclosed quote)
    are replayed as they were read then, with a warning: a rebuild loses nothing users entered."""
    from kg.importer import replay_retained
    from kg.importer.retain import retain, settle
    from kg.namespaces import import_graph

    made = [
        h.macro_xlsx(tmp_path / "needs.xlsm"),
        h.mixed_encoding_csv(tmp_path / "mixed.csv"),
        h.unclosed_quote_csv(tmp_path / "unclosed.csv"),
    ]
    root = tmp_path / "imports"
    batches = [f"20200101T00000{i}Z-abcdef" for i in range(len(made))]
    for i, (bid, path) in enumerate(zip(batches, made, strict=True)):
        entry = {"batch_id": bid, "user": "早先的用户", "time": f"2020-01-01T00:00:0{i}Z", "source": "files"}
        entry["files"] = [{"name": path.name, "stored": path.name}]
        retain(root, entry, [(path.name, path)])
        settle(root, bid)  # a completed import (interrupted ones are rolled back, not replayed)
    store = load_fixture(Store.memory())
    with caplog.at_level("WARNING"):
        assert replay_retained(store, root) == 3

    def needs(bid: str) -> int:
        q = f"SELECT (COUNT(?n) AS ?c) WHERE {{ GRAPH <{import_graph(bid)}> {{ ?n a dcpa:Need }} }}"
        return int(store.select(q)[0]["c"])

    # the unclosed quote swallowed lines 3-5 into one note, as earlier versions read it: 2 needs
    assert [needs(b) for b in batches] == [2, 2, 2]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "macro-enabled" in warned and "mixes two text encodings" in warned and "unclosed quote" in warned
