"""Fill-in templates (XLSX and CSV) generated from the record specs and the ontology.

Headers, help texts and drop-down lists all come from ``kg.importer.RECORD_KINDS`` and the coded
lists in the ontology graph, so a template always matches what ``dcpa import`` accepts. The XLSX
template has a bilingual ``readme`` sheet, one sheet per kind with one example row (marked
``示例 Example``, skipped on import), drop-downs fed by a hidden ``lists`` sheet, and a ``villages``
sheet listing the real village-level codes from the reference data.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import rdflib

from .importer.specs import EXAMPLE_MARKER, RECORD_KINDS, Column, RecordSpec
from .importer.vocab import CodeList, code_lists
from .resources import DATA_DIR
from .safetext import DATE_FORMAT, append_row, spreadsheet_file

REFERENCE_DIR = DATA_DIR / "reference"
#: Filled rows per kind, keyed by column key (``kg.importer.unmap.export_rows``).
Records = dict[str, list[dict[str, str]]]
TYPE_HELP = {
    "text": ("文本", "text"),
    "label_zh": ("中文文本", "Chinese text"),
    "label_en": ("英文文本", "English text"),
    "id": ("编号", "identifier"),
    "int": ("整数", "whole number"),
    "count": ("非负整数", "whole number ≥ 0"),
    "decimal": ("非负数", "number ≥ 0"),
    "number": ("数字", "number"),
    "date": ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
    "year": ("年份 YYYY", "year YYYY"),
    "date_or_year": ("日期或年份", "date or year"),
    "village": ("12 位村级代码", "12-digit village code"),
    "area": ("区划代码", "area code"),
    "areas": ("区划代码，多个用 ; 分隔", "area codes, separated by ;"),
    "code": ("从下拉列表选择", "pick from the list"),
    "codes": ("代码，多个用 ; 分隔", "codes, separated by ;"),
    "role_counts": ("角色:人数，多个用 ; 分隔", "role:count pairs, separated by ;"),
    "ref": ("其他表中的编号", "ID from another sheet"),
    "refs": ("编号，多个用 ; 分隔", "IDs, separated by ;"),
}


def _kinds(kinds: Iterable[str] | None) -> list[RecordSpec]:
    if not kinds:
        return list(RECORD_KINDS.values())
    out = []
    for k in kinds:
        if k not in RECORD_KINDS:
            raise KeyError(k)
        out.append(RECORD_KINDS[k])
    return out


def example_row(spec: RecordSpec, lists: dict[str, CodeList]) -> list[str]:
    """The example row, with coded values written as the drop-downs write them."""
    row = []
    for col in spec.columns:
        value = col.example
        if col.codes and value:
            cl = lists[col.codes]
            parts = [cl.resolve(v) for v in value.split(";")]
            value = ";".join(p.display if p else v for p, v in zip(parts, value.split(";"), strict=True))
        row.append(value)
    return row


def _note(col: Column) -> tuple[str, str]:
    req = ("必填", "required") if col.required else ("可选", "optional")
    t = TYPE_HELP[col.type]
    return (f"{req[0]}；{t[0]}。{col.help_zh}", f"{req[1]}; {t[1]}. {col.help_en}")


def csv_template(spec: RecordSpec, lists: dict[str, CodeList], records: Records | None = None) -> bytes:
    """One kind as CSV: UTF-8 with BOM (so Excel shows Chinese), header and the example row, or the
    kind's rows of ``records``."""
    return spreadsheet_file([c.header for c in spec.columns], _body(spec, lists, records))


def _body(spec: RecordSpec, lists: dict[str, CodeList], records: Records | None) -> list[list[str]]:
    if records is None:
        return [example_row(spec, lists)]
    return [[row.get(c.key, "") for c in spec.columns] for row in records.get(spec.kind, [])]


def write_csv_templates(
    directory: Path, kinds: Iterable[str] | None = None, graph: rdflib.Graph | None = None,
    records: Records | None = None,
) -> list[Path]:
    """Write ``<kind>.csv`` for each kind into ``directory`` (filled with ``records`` when given); returns the
    paths."""
    lists = code_lists(graph)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for spec in _kinds(kinds):
        p = directory / f"{spec.kind}.csv"
        p.write_bytes(csv_template(spec, lists, records))
        out.append(p)
    return out


def villages() -> list[tuple[str, str, str, str, str]]:
    """(code, name, township, county, city) of every village-level unit in the reference data."""

    def names(file: str) -> dict[str, str]:
        with open(REFERENCE_DIR / file, encoding="utf-8") as fh:
            return {r["code"]: r["name"] for r in csv.DictReader(fh)}

    towns, counties, cities = names("liaoning_streets.csv"), names("liaoning_areas.csv"), names("liaoning_cities.csv")
    with open(REFERENCE_DIR / "liaoning_villages.csv", encoding="utf-8") as fh:
        return [
            (
                r["code"],
                r["name"],
                towns.get(r["streetCode"], ""),
                counties.get(r["areaCode"], ""),
                cities.get(r["cityCode"], ""),
            )
            for r in csv.DictReader(fh)
        ]


#: The column types whose values a workbook holds as numbers (``kg.importer.specs``).
_NUMBER_TYPES = frozenset({"int", "count", "decimal", "number"})
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def _cell(column_type: str, value: str) -> Any:
    """A value of a column of ``column_type`` as a workbook's cell: a date written YYYY-MM-DD as a date cell, a
    number as a number (the people affected, a unit cost: as text, "number stored as text", no sum counted them);
    anything else as written."""
    if column_type == "date" and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if column_type in _NUMBER_TYPES and _NUMBER.match(value):
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number
    return value


def write_xlsx_template(
    path: Path, kinds: Iterable[str] | None = None, graph: rdflib.Graph | None = None, with_villages: bool = True,
    records: Records | None = None,
) -> Path:
    """Write the XLSX template to ``path``: with one example row per sheet, or filled with ``records``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = code_lists(graph)
    specs = _kinds(kinds)
    wb = Workbook()
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    example_font = Font(italic=True, color="808080")

    # readme -------------------------------------------------------------
    readme = wb.active
    assert readme is not None
    readme.title = "readme"
    readme.append(["数字文化扶贫知识图谱 · 数据导入模板", "DCPA knowledge graph · data import template"])
    readme["A1"].font = readme["B1"].font = Font(bold=True, size=14)
    for zh, en in (
        (
            "每个工作表是一类记录；第 1 行是表头（中文 / English），从第 2 行起每行一条记录。",
            "Each sheet holds one kind of record; row 1 is the header (Chinese / English), one record per row below.",
        ),
        (
            f"灰色斜体的示例行（备注以“{EXAMPLE_MARKER}”开头）导入时会被跳过，可删除或覆盖。",
            f"The grey example row (note starting with '{EXAMPLE_MARKER}') is skipped on import; "
            "delete or overwrite it.",
        ),
        (
            "代码列可填代码（如 N22）或中文/英文名称；下拉列表的写法也可以。多个值用 ; 分隔。",
            "Coded columns take the code (e.g. N22) or the Chinese/English label, as the drop-down writes it. "
            "Separate several values with ;.",
        ),
        (
            "村级代码见 villages 表（12 位统计用区划代码）。日期写作 YYYY-MM-DD。",
            "Village codes are on the 'villages' sheet (12-digit statistical codes). Write dates as YYYY-MM-DD.",
        ),
        (
            "导入：dcpa import 本文件.xlsx --dry-run 先检查，无误后去掉 --dry-run。有任何错误时不写入任何数据。",
            "Import: dcpa import this.xlsx --dry-run to check, then without --dry-run. "
            "On any error nothing is written.",
        ),
    ):
        readme.append([zh, en])
    if records is not None:
        readme.append([
            "本工作簿是图谱中已导入记录的导出（示例数据和参考数据不在其中）。导入到已有这些记录的图谱会被拒绝（记录已存在）："
            "可导入新的图谱，或修改后逐条替换。",
            "This workbook is an export of the records imported into the graph (example and reference data are not "
            "in it). Importing it into a graph that holds them is refused (the records already exist): import it "
            "into a new graph, or edit it and replace records one by one.",
        ])
    for spec in specs:
        readme.append([])
        readme.append([f"{spec.zh}（工作表 {spec.kind}）", f"{spec.en} (sheet '{spec.kind}')"])
        readme.cell(readme.max_row, 1).font = readme.cell(readme.max_row, 2).font = bold
        readme.append([spec.help_zh, spec.help_en])
        readme.append(["列（表头）", "column (header)", "key", "说明", "help"])
        for c in range(1, 6):
            readme.cell(readme.max_row, c).fill = head_fill
        for col in spec.columns:
            zh, en = _note(col)
            if col.codes:
                zh += f" 取值见列表 {col.codes}。"
                en += f" Values: list '{col.codes}'."
            readme.append([col.zh, col.en, col.key, zh, en])
    for letter, width in zip("ABCDE", (34, 34, 22, 60, 60), strict=True):
        readme.column_dimensions[letter].width = width
    for row in readme.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    # lists (hidden) -----------------------------------------------------
    lists_ws = wb.create_sheet("lists")
    ranges: dict[str, str] = {}
    for i, (name, cl) in enumerate(lists.items(), start=1):
        letter = get_column_letter(i)
        lists_ws.cell(1, i, name)
        for j, code in enumerate(cl.codes, start=2):
            lists_ws.cell(j, i, code.display)
        ranges[name] = f"lists!${letter}$2:${letter}${len(cl.codes) + 1}"
    lists_ws.sheet_state = "hidden"

    # one sheet per kind -------------------------------------------------
    for pos, spec in enumerate(specs, start=1):
        ws = wb.create_sheet(spec.kind, pos)
        append_row(ws, [c.header for c in spec.columns])
        body = _body(spec, lists, records)
        dates = [i for i, c in enumerate(spec.columns) if c.type == "date"]
        types = [c.type for c in spec.columns]
        for r, cells in enumerate(body, start=2):
            # a record's text stays text: '=…' typed in a survey is not run; a date is a date cell and a number a
            # number, which a spreadsheet sorts, filters and sums (the import reads them as the text they were)
            append_row(ws, [_cell(t, v) for t, v in zip(types, cells, strict=True)])
            for i in dates:  # the row by its number: ws.max_row reads every cell of the sheet
                if isinstance(ws.cell(r, i + 1).value, date):
                    ws.cell(r, i + 1).number_format = DATE_FORMAT
        for i, col in enumerate(spec.columns, start=1):
            letter = get_column_letter(i)
            head = ws.cell(1, i)
            head.font = Font(bold=True, color="C00000" if col.required else "000000")
            head.fill = head_fill
            head.alignment = Alignment(wrap_text=True, vertical="top")
            if records is None:
                ws.cell(2, i).font = example_font
            ws.column_dimensions[letter].width = max(14, min(40, len(col.header) + 6))
            if col.type in ("village", "area", "areas", "id", "ref", "refs"):
                # Text format for the whole column keeps 12-digit codes intact (never 2.10123E+11),
                # without creating thousands of empty styled cells the importer would have to read.
                ws.column_dimensions[letter].number_format = "@"
                for r in range(2, len(body) + 2):
                    ws.cell(r, i).number_format = "@"
            if col.codes:
                dv = DataValidation(
                    type="list",
                    formula1=f"={ranges[col.codes]}",
                    allow_blank=True,
                    showErrorMessage=not col.multi,
                    errorStyle="warning",
                    errorTitle="不在列表中 / not in the list",
                    error="可以填写代码或中文/英文名称 / a code or a Chinese/English label is also accepted",
                    promptTitle=col.zh[:32],
                    prompt=(col.help_zh + " " + col.help_en)[:250],
                    showInputMessage=True,
                )
                dv.add(f"{letter}2:{letter}{max(1001, len(body) + 1000)}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"

    # villages (reference) ----------------------------------------------
    if with_villages:
        vs = wb.create_sheet("villages")
        vs.append(["村级代码 / Village code", "名称 / Name", "乡镇 / Township", "县区 / County", "市 / City"])
        for c in range(1, 6):
            vs.cell(1, c).font = bold
        for village in villages():
            append_row(vs, village)
        vs.column_dimensions["A"].width = 18
        for letter in "BCDE":
            vs.column_dimensions[letter].width = 20
        vs.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
