"""Import → export → the same records: what a steward entered comes back, in the template's layout."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kg.importer import RECORD_KINDS, import_files, withdraw
from kg.importer.mapping import parse_cell
from kg.importer.unmap import export_rows
from kg.importer.vocab import Code, code_lists
from kg.settings import Settings
from kg.store import Store
from kg.templates import write_csv_templates, write_xlsx_template

from .conftest import load_fixture
from .test_roundtrip import ROWS, fill_csv_template
from .test_voice import VOICE_NEEDS

LISTS = code_lists()


def _typed(kind: str, row: dict[str, str]) -> dict[str, Any]:
    """A row's cells as the importer reads them: codes by notation, lists as sorted lists, numbers as numbers."""
    spec = RECORD_KINDS[kind]
    out: dict[str, Any] = {}
    for key, raw in row.items():
        if raw in ("", None):
            continue
        value = parse_cell(spec.column(key), raw, LISTS)
        items = value if isinstance(value, list) else [value]
        norm = [(v[0].code, v[1]) if isinstance(v, tuple) else v.code if isinstance(v, Code) else
                v.isoformat() if isinstance(v, dt.date) else v.normalize() if isinstance(v, Decimal) else v
                for v in items]
        out[key] = sorted(norm) if isinstance(value, list) else norm[0]
    if kind == "libraries" and "serves" not in out:  # a library serves where it is unless told (documented)
        out["serves"] = [out["located_in"]]
    if "interview" in out:  # a need with an interview rests on it: source 'interview', stated or not
        out["source"] = "interview"
    return out


def _as_entered(kind: str, rows: list[dict[str, str]]) -> list[str]:
    return sorted(repr(sorted(_typed(kind, r).items())) for r in rows)


def _import_everything(store: Store, settings: Settings, tmp_path: Path) -> None:
    paths = [fill_csv_template(kind, ROWS[kind] + (VOICE_NEEDS if kind == "needs" else []), tmp_path / f"{kind}.csv")
             for kind in RECORD_KINDS]
    import_files(store, paths, user="测试员", settings=settings)


def test_every_kind_comes_back_from_export_as_it_was_entered(store: Store, settings: Settings, tmp_path: Path) -> None:
    _import_everything(store, settings, tmp_path)
    exported = export_rows(store)
    assert set(exported) == set(RECORD_KINDS)
    for kind in RECORD_KINDS:
        entered = ROWS[kind] + (VOICE_NEEDS if kind == "needs" else [])
        assert _as_entered(kind, exported[kind]) == _as_entered(kind, entered), kind


def test_only_imported_records_are_exported(store: Store, settings: Settings, tmp_path: Path) -> None:
    """The fixture's reference records (FIX-R1, FIX-I1, the provincial library) are not a steward's rows."""
    _import_everything(store, settings, tmp_path)
    exported = export_rows(store)
    assert sorted(r["id"] for r in exported["resources"]) == ["RES-T1", "RES-T2"]
    assert sorted(r["id"] for r in exported["interventions"]) == ["INT-T1"]
    assert sorted(r["id"] for r in exported["libraries"]) == ["LIB-T1", "LIB-T2"]


def test_a_withdrawn_batch_is_not_exported(store: Store, settings: Settings, tmp_path: Path) -> None:
    report = import_files(store, [fill_csv_template("policies", ROWS["policies"], tmp_path / "policies.csv")],
                          user="u", settings=settings)
    assert len(export_rows(store)["policies"]) == 2
    withdraw(store, report.batch_id, user="u", reason="entered twice", settings=settings)
    assert export_rows(store)["policies"] == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_exported_template_imports_into_a_new_graph_and_exports_the_same(
    store: Store, settings: Settings, tmp_path: Path, fmt: str
) -> None:
    _import_everything(store, settings, tmp_path)
    rows = export_rows(store)
    if fmt == "xlsx":
        paths = [write_xlsx_template(tmp_path / "out" / "records.xlsx", records=rows, with_villages=False)]
        wb = openpyxl.load_workbook(paths[0])
        assert wb["needs"].max_row == 1 + len(rows["needs"])  # the header and the records, no example row
    else:
        paths = write_csv_templates(tmp_path / "out", records=rows)
    fresh = load_fixture(Store.memory())
    report = import_files(fresh, paths, user="u", settings=Settings(imports_path=tmp_path / "i2",
                                                                     store_path=tmp_path / "s2"))
    assert report.counts == {k: len(v) for k, v in rows.items() if v}
    assert report.skipped_examples == 0
    assert export_rows(fresh) == rows


def test_importing_the_export_into_the_same_graph_is_refused_as_existing(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    from kg.errors import ValidationFailed

    import_files(store, [fill_csv_template("interviews", ROWS["interviews"], tmp_path / "interviews.csv")],
                 user="u", settings=settings)
    path = write_xlsx_template(tmp_path / "records.xlsx", kinds=["interviews"], records=export_rows(store),
                               with_villages=False)
    with pytest.raises(ValidationFailed) as e:
        import_files(store, [path], user="u", settings=settings)
    assert {i.row for i in e.value.issues} == {2, 3}
    assert all("already exists" in i.message for i in e.value.issues)
