"""Read CSV and XLSX files into tables of raw cells, one table per sheet (or CSV file).

Readers only find the kind of record and the columns and report every problem they meet; turning
cells into typed values is ``kg.importer.mapping``'s job. One reader per format, chosen from
``READERS`` by file extension; what a file really is, is checked on its content
(``kg.importer.container``, ``kg.importer.csvtext``). Every text cell, header and sheet name is
checked by ``kg.safetext`` (no control or bidi characters, at most 32767 characters). Row numbers
are those a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from ..errors import DcpaError, Issue, NotFound, labelled
from ..safetext import cell_text, for_terminal, from_spreadsheet_cell, text_problem, text_problem_parts
from ..settings import Settings
from . import csvtext
from .container import MACRO_HINT, check_xlsx, sniff_text_file
from .specs import EXAMPLE_MARKER, RECORD_KINDS, RecordSpec, kind_for_header, kind_for_name, norm_header

log = logging.getLogger(__name__)

#: Sheets of the template that hold no records.
SKIPPED_SHEETS = {"readme", "说明", "lists", "villages"}

_FILL_TEMPLATE = "请先填写模板 / fill in a template first"
_KINDS = ", ".join(RECORD_KINDS)


class ImportUsageError(DcpaError):
    """The command was used wrongly (unknown file format…): exit code 2."""

    code = "usage_error"
    http_status = 400


@dataclass
class Row:
    number: int  # as a spreadsheet shows it (header = 1)
    cells: dict[str, Any]  # column key -> raw value (only non-empty cells)


@dataclass
class Table:
    """The records of one kind from one sheet or CSV file."""

    file: str
    sheet: str | None  # None for CSV
    kind: str
    headers: dict[str, str]  # column key -> the header as written
    rows: list[Row] = field(default_factory=list)
    skipped_examples: int = 0

    @property
    def sheet_name(self) -> str:
        """What ``dcpa:sourceSheet`` records: the sheet, or the kind for a CSV file."""
        return self.sheet or self.kind


#: Longest file name accepted, in UTF-8 bytes: names are kept on disk (most file systems allow 255
#: bytes) with a short prefix when two files of a batch share a name.
MAX_FILE_NAME_BYTES = 200


def too_large_issue(shown: str, size: int | None, settings: Settings) -> Issue:
    """A file past ``settings.max_import_bytes``: ``size`` None when only that it is larger is known (an upload is
    read no further than the limit)."""
    limit = f"{settings.max_import_bytes / 1048576:.1f} MiB"
    return Issue(
        f"文件过大，未读取 / file too large ({size / 1048576:.1f} MiB > {limit}), not read" if size is not None
        else f"文件过大，未读取 / file too large (more than {limit}), not read",
        file=shown,
        value=str(size) if size is not None else None,
        hint="请拆分成几个较小的文件，或调高 DCPA_MAX_IMPORT_BYTES / "
        "split it into smaller files, or raise DCPA_MAX_IMPORT_BYTES",
    )


def file_name_issue(name: str) -> Issue | None:
    """Why a file may not be imported under ``name`` (too long, control or bidi characters), or None."""
    shown = for_terminal(name if len(name) <= 60 else name[:60] + "…")
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > MAX_FILE_NAME_BYTES:
        return Issue(
            f"文件名过长 / file name too long ({size} bytes in UTF-8; at most {MAX_FILE_NAME_BYTES})",
            file=shown,
            hint="请给文件换一个短一些的名称（最多约 60 个汉字或 200 个字母） / "
            "rename the file to a shorter name (about 60 Chinese characters or 200 letters at most)",
        )
    problem = text_problem_parts(name, None)
    if problem:
        message, zh, en = problem
        return Issue(labelled("文件名", "file name", message), file=shown,
                     hint=f"请重命名文件：{zh.removeprefix('请')} / rename the file: {en}")
    return None


def read_file(
    path: Path, settings: Settings, issues: list[Issue], name: str | None = None, *, strict: bool = True
) -> list[Table]:
    """Read one file; append data problems to ``issues``. Raises for a missing file or unknown format.

    ``name`` is the file name shown in messages and recorded in the graph (default: the path's name).
    ``strict=False`` is for replaying files accepted before a rule was tightened (a rebuild must not
    lose them): macro-enabled workbooks, mixed encodings and unclosed quotes are reported but read
    as earlier versions read them. Unsafe files (DTDs, broken XML, not what they claim) never are.
    """
    if not path.exists() or not path.is_file():
        raise NotFound(
            f"没有这个文件：{path} / no such file: {path}",
            hint="请检查路径，给出一个或多个 .xlsx 或 .csv 文件 / check the path; give one or more .xlsx or .csv files",
        )
    shown = name or path.name
    suffix = path.suffix.lower()
    if suffix in MACRO_SUFFIXES:
        issues.append(
            Issue(
                f"不接受含宏的工作簿 / macro-enabled workbooks ({suffix}) are not accepted",
                file=shown,
                hint=MACRO_HINT,
            )
        )
        if strict:
            return []
    reader = READERS.get(".xlsx" if suffix in MACRO_SUFFIXES else suffix)
    if reader is None:
        hint = (
            "请另存为 .xlsx（Excel 2007 及以上版本）或 .csv / save it as .xlsx (Excel 2007+) or .csv"
            if suffix in (".xls", ".ods", ".numbers")
            # WPS 表格's own format: "use a file made from dcpa template" told its steward nothing they could do
            else "请在 WPS 表格中“另存为”Excel 工作簿（.xlsx） / "
            "in WPS Spreadsheets, 'Save As' an Excel workbook (.xlsx)"
            if suffix in (".et", ".ett")
            else "请使用按 `dcpa template` 模板填写的 .xlsx 或 .csv 文件 / "
            "use an .xlsx or .csv file made from `dcpa template`"
        )
        raise ImportUsageError(f"无法识别的文件格式 {path.suffix or '（无扩展名）'!r}：{shown} / "
                               f"unknown file format {path.suffix or '(none)'!r}: {shown}", hint=hint)
    size = path.stat().st_size
    if size > settings.max_import_bytes:
        issues.append(too_large_issue(shown, size, settings))
        return []
    if size == 0:
        issues.append(Issue("文件为空 / the file is empty", file=shown, hint=_FILL_TEMPLATE))
        return []
    found: list[Issue] = []
    tables = reader(path, settings, found, strict)
    if name:
        for t in tables:
            t.file = name
        for i in found:
            if i.file == path.name:
                i.file = name
    issues.extend(found)
    return tables


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def _unescaped(rows: Iterable[list[Any]]) -> Iterator[list[Any]]:
    """A CSV file's rows with the ``'`` a CSV export puts before formula text taken off (``'=…`` is ``=…``)."""
    for r in rows:
        yield [from_spreadsheet_cell(v) for v in r]


def read_csv(path: Path, settings: Settings, issues: list[Issue], strict: bool = True) -> list[Table]:
    data = path.read_bytes()
    binary = sniff_text_file(data, path.name)
    if binary is not None:
        issues.append(binary)
        return []
    try:
        text, enc = csvtext.decode(data, path.name)
        log.debug("%s decoded as %s", path.name, enc)
    except csvtext.CsvProblem as e:
        issues.append(e.issue)
        lenient = None if strict else csvtext.decode_as_before(data)
        if lenient is None:
            return []
        text = lenient
    try:
        return _table(path.name, None, _unescaped(csvtext.rows(text, path.name)), settings, issues)
    except csvtext.CsvProblem as e:
        issues.append(e.issue)
    if strict:
        return []
    try:  # a replay: read it as earlier versions did (an unclosed quote runs to the end of the file)
        return _table(path.name, None, _unescaped(csvtext.rows(text, path.name, strict=False)), settings, issues)
    except csvtext.CsvProblem:
        return []


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


class _Unreadable(Exception):
    """openpyxl failed on the file's content (broken XML, a bad cell…): the file is damaged."""


class _TooManyCells(Exception):
    pass


#: What openpyxl raises on damaged content (expat errors, bad numbers, missing parts, CRC errors…).
_OPENPYXL_ERRORS: tuple[type[BaseException], ...] = (
    ParseError,
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
)


@dataclass(frozen=True)
class Uncomputed:
    """A cell holding a formula with no computed value stored. Excel and WPS store a formula's value with it;
    a program that does not compute formulas (openpyxl, many scripts and converters) stores none, and a
    reader of values alone sees an empty cell: "required value missing", or a value silently left out.
    ``kg.importer.mapping`` reports it, with the formula, as what it is."""

    formula: str

    def __str__(self) -> str:
        return self.formula


def _formula_parser() -> type:
    """openpyxl's sheet parser, reading values (``data_only``) but keeping a formula without a stored value
    as ``Uncomputed`` instead of an empty cell (openpyxl imported when a workbook is read, not before)."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell = super().parse_cell(element)
            # a computed empty text is stored as <v></v> (type "str"), which openpyxl reads as None too: only a
            # formula without its <v> at all, or with an empty one of no text type, was never computed
            if (cell["value"] is None and element.find(FORMULA_TAG) is not None
                    and not (element.get("t") == "str" and element.find(VALUE_TAG) is not None)):
                formula = self.parse_formula(element)  # "=2+1"; an array formula's object carries its text
                cell["value"] = Uncomputed(formula if isinstance(formula, str) else getattr(formula, "text", "="))
            return cell

    return Parser


def _sheet_values(ws: Any) -> Iterator[list[Any]]:
    """The values of a read-only sheet's rows, as ``ws.iter_rows(values_only=True)`` gives them, but with a
    formula that has no stored value as ``Uncomputed`` (openpyxl offers no way to tell it from an empty cell).

    Every row there is is read: ``iter_rows`` trusts the sheet's <dimension> element, and a stale one (left
    by another program) silently cuts rows and columns off. openpyxl's private parts are read here, before
    the first row, so that an openpyxl without them fails loudly rather than as a damaged file."""
    wb = ws.parent
    parser, source = _formula_parser(), ws._get_source
    options = {"data_only": True, "epoch": wb.epoch, "date_formats": wb._date_formats,
               "timedelta_formats": wb._timedelta_formats}
    strings = ws._shared_strings

    def rows() -> Iterator[list[Any]]:
        down = _merged_down(source)
        held: dict[int, tuple[Any, int]] = {}  # column -> (the value merged down it, the merge's last row)

        def merged(row: list[Any], number: int) -> list[Any]:
            for column, last in down.get(number, ()):  # the top cell of a merge: its value holds down to last
                held[column] = (row[column - 1] if column <= len(row) else None, last)
            for column, (value, last) in list(held.items()):
                if number > last:
                    del held[column]
                    continue
                row.extend([None] * (column - len(row)))
                if row[column - 1] is None:
                    row[column - 1] = value
            return row

        expected = 1  # rows the file leaves out are empty rows; a row out of order is dropped, as openpyxl does
        with source() as src:
            for number, cells in parser(src, strings, **options).parse():
                if number < expected:
                    continue
                yield from (merged([], n) if held or n in down else [] for n in range(expected, number))
                expected = number + 1
                row: list[Any] = [None] * (cells[-1]["column"] if cells else 0)
                for cell in cells:
                    row[cell["column"] - 1] = cell["value"]
                yield merged(row, number) if held or number in down else row

    return rows()


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _merged_down(source: Callable[[], Any]) -> dict[int, list[tuple[int, int]]]:
    """The cells merged down one column over several rows, by their top row: [(column, last row)].

    Survey forms merge a village's code down over the rows of its needs (one cell for three needs): openpyxl reads
    the value in the top row alone, and the rows below were 'required value missing' in a cell the steward saw
    filled. Such a merge holds its value in each of its rows; a merge across columns holds it in its first only. The
    merges follow the rows in the sheet's XML, so they are found first by a scan of its text."""
    from openpyxl.utils.cell import column_index_from_string

    found: set[tuple[bytes, ...]] = set()
    with source() as src:  # in parts, a part's end read again with the next: a sheet may unpack to 256 MB
        tail = b""
        while chunk := src.read(1 << 20):
            text = tail + chunk
            found.update(_MERGE.findall(text))
            tail = text[-200:]
    out: dict[int, list[tuple[int, int]]] = {}
    for first, top, last_column, bottom in found:
        if first == last_column and int(bottom) > int(top):
            out.setdefault(int(top), []).append((column_index_from_string(first.decode()), int(bottom)))
    return out


def _sheet_rows(ws: Any, budget: list[int]) -> Iterator[list[Any]]:
    """The rows of a read-only sheet, counting cells against ``budget[0]`` (the cells still allowed).

    openpyxl's errors are turned into ``_Unreadable`` here, around its iterator only, so that a
    bug in our own code is never mistaken for a damaged file.
    """
    it = _sheet_values(ws)
    while True:
        try:
            row = next(it)
        except StopIteration:
            return
        except _OPENPYXL_ERRORS as e:
            raise _Unreadable(_describe(e)) from e
        budget[0] -= len(row)
        if budget[0] < 0:
            raise _TooManyCells
        yield list(row)


def _describe(e: BaseException) -> str:
    if isinstance(e, ParseError):
        line, column = e.position
        return f"broken XML at line {line}, column {column}"
    return f"{type(e).__name__}: {e}"[:200]


def read_xlsx(path: Path, settings: Settings, issues: list[Issue], strict: bool = True) -> list[Table]:
    import openpyxl

    refused = check_xlsx(path, path.name, settings)
    if refused is not None:
        issues.append(refused)
        if strict or refused.extra.get("reason") != "macros":
            return []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except _OPENPYXL_ERRORS as e:
        issues.append(
            Issue(
                f"不是可读的 XLSX 文件 / not a readable XLSX workbook ({_describe(e)})",
                file=path.name,
                hint="请用 Excel 或 WPS 打开它，再另存为 .xlsx / open it in Excel or WPS and save it again as .xlsx",
            )
        )
        return []
    tables: list[Table] = []
    budget = [settings.xlsx_max_cells]
    try:
        for ws in wb.worksheets:
            problem = text_problem(ws.title, 100)
            if problem:  # refuses the import; a replay still reads the sheet
                issues.append(
                    Issue(
                        labelled("工作表名称", "sheet name", problem[0]),
                        file=path.name,
                        value=for_terminal(ws.title),
                        hint=problem[1],
                    )
                )
            if ws.title.strip().lower() in SKIPPED_SHEETS:
                continue
            try:
                tables += _table(
                    path.name, ws.title, _sheet_rows(ws, budget), settings, issues, sheet_kind=kind_for_name(ws.title),
                    before=sum(len(t.rows) for t in tables),
                )
                if any(i.extra.get("reason") == "rows" for i in issues):  # read no further
                    return []
            except _Unreadable as e:
                issues.append(
                    Issue(
                        f"工作表无法读取 / the sheet cannot be read ({e})",
                        file=path.name,
                        sheet=ws.title,
                        hint="文件已损坏：请用 Excel 或 WPS 打开它，再另存为 .xlsx / "
                        "the file is damaged: open it in Excel or WPS and save it again as .xlsx",
                    )
                )
                return []
            except _TooManyCells:
                issues.append(
                    Issue(
                        f"单元格过多 / too many cells (more than {settings.xlsx_max_cells}, counting blank cells "
                        "inside rows)",
                        file=path.name,
                        sheet=ws.title,
                        hint="请拆分工作簿、删除右侧没有用的列，或调高 DCPA_XLSX_MAX_CELLS / "
                        "split the workbook, delete unused columns far to the right, or raise DCPA_XLSX_MAX_CELLS",
                    )
                )
                return []
    finally:
        wb.close()
    if not any(t.rows for t in tables) and not any(i.file == path.name and i.severity != "warning" for i in issues):
        # the template as downloaded, its example rows alone: said so, as for a CSV file ("no data rows" named no
        # reason a steward who had just filled it in could see)
        examples = sum(t.skipped_examples for t in tables)
        only = (f"（只有 {examples} 行模板示例，导入时跳过）", f" (only the template's {examples} example row(s), "
                "skipped on import)") if examples else ("", "")
        issues.append(
            Issue(
                f"工作簿中没有数据行{only[0]} / no data rows in any sheet of a known kind{only[1]}",
                file=path.name,
                hint=f"请在按模板命名的工作表中，在表头下方填写数据行：{_KINDS} / "
                f"fill in rows below the header of a sheet named as in the template: {_KINDS}",
            )
        )
    return tables


# ---------------------------------------------------------------------------
# Shared: header and rows
# ---------------------------------------------------------------------------


def _is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _table(
    file: str,
    sheet: str | None,
    rows: Iterable[list[Any]],
    settings: Settings,
    issues: list[Issue],
    sheet_kind: str | None = None,
    before: int = 0,
) -> list[Table]:
    """The tables of one sheet or CSV file; ``before``: the data rows of the file's sheets read before this one
    (``max_import_rows`` counts a file's rows, not a sheet's: nine sheets of 100,000 rows each passed)."""
    it = iter(rows)
    header: list[Any] | None = None
    header_row = 0
    for n, r in enumerate(it, start=1):
        if any(not _is_empty(v) for v in r):
            header, header_row = r, n
            break
    if header is None:
        if sheet is None:
            issues.append(Issue("文件没有内容 / the file has no content", file=file, hint=_FILL_TEMPLATE))
        return []
    header_text = _header_cells(header)
    header_row, header_text, it = _title_above_header(header_text, it, header_row)
    header_row, header_text, it = _header_over_two_rows(header_text, it, header_row)
    kind = kind_for_header(header_text) or sheet_kind or (kind_for_name(Path(file).stem) if sheet is None else None)
    if kind is None:
        if sheet is not None:
            log.warning("%s: sheet %r is not a known kind of record; skipped", file, sheet)
            if any(any(not _is_empty(v) for v in r) for r in it):  # its rows were left out, said in the log alone
                issues.append(
                    Issue(
                        "工作表不是已知的记录类型，其中的数据没有导入 / the sheet holds no known kind of record: its "
                        "rows are not imported",
                        file=file,
                        sheet=sheet,
                        row=header_row,
                        hint=f"如要导入，请按模板给工作表命名（{_KINDS}），或使用模板的表头行 / to import them, name "
                        f"the sheet as the template does ({_KINDS}), or use the template's header row",
                        severity="warning",
                    )
                )
            return []
        issues.append(
            Issue(
                "无法识别记录类型 / cannot tell which kind of records this file holds",
                file=file,
                row=header_row,
                value=", ".join(h for h in header_text if h)[:200],
                hint=f"请使用 `dcpa template` 模板文件的表头行，或用记录类型给文件命名：{_KINDS} / "
                f"use the header row of a `dcpa template` file, or name the file after its kind: {_KINDS}",
            )
        )
        return []
    spec = RECORD_KINDS[kind]
    found: list[Issue] = []  # header problems count only if the sheet has rows
    unsafe: list[Issue] = []  # text that may not be stored: always refused, the rows are kept for replays
    examples: list[Issue] = []  # rows marked as the example but changed: always refused (an untouched sheet too)
    columns: dict[int, str] = {}
    headers: dict[str, str] = {}
    unknown: dict[int, str] = {}  # column index -> its header, which names no column of the kind
    for i, h in enumerate(header_text):
        if not h:
            continue
        problem = text_problem(h, 200)
        if problem:
            unsafe.append(_unsafe(file, sheet, header_row, f"column {i + 1}", h, problem))
            continue
        col = next((c for c in spec.columns if c.matches(h)), None)
        if col is None:
            unknown[i] = h
        elif col.key in headers:
            found.append(
                Issue(
                    "重复的列 / duplicate column",
                    file=file,
                    sheet=sheet,
                    row=header_row,
                    column=h,
                    value=h,
                    hint=f"只保留一列“{col.zh}” / keep one column '{col.header}'",
                )
            )
        else:
            columns[i] = col.key
            headers[col.key] = h
    filled: set[int] = set()  # the unknown columns with a value in some row

    def unknown_columns() -> list[Issue]:
        # an unknown column with nothing in it loses nothing (Excel's 列1 of a table, a column added and left
        # empty): it is ignored, with a warning, where it refused the import; with a required column missing, the
        # unknown header may be it, and stays a problem
        missing = any(c.key not in headers for c in spec.required)
        return [_unknown_column(file, sheet, header_row, h, spec, headers, empty=i not in filled and not missing)
                for i, h in unknown.items()]

    for col in spec.required:
        if col.key not in headers:
            found.append(
                Issue(
                    "缺少必填列 / missing required column",
                    file=file,
                    sheet=sheet,
                    row=header_row,
                    column=col.header,
                    hint=f"请添加一列，表头写“{col.zh}”（或 '{col.key}'）：{col.help_zh} / "
                    f"add a column headed '{col.header}' (or '{col.key}'): {col.help_en}",
                )
            )
    table = Table(file, sheet, kind, headers)
    for n, r in enumerate(it, start=header_row + 1):
        for i, v in enumerate(r):
            problem = text_problem(v) if isinstance(v, str) else None
            if problem:
                where = headers[columns[i]] if i in columns else f"column {i + 1}"
                unsafe.append(_unsafe(file, sheet, n, where, v, problem))
        cells = {columns[i]: v for i, v in enumerate(r) if i in columns and not _is_empty(v)}
        filled.update(i for i in unknown if i < len(r) and not _is_empty(r[i]))
        extra = [v for i, v in enumerate(r) if i not in columns and i not in unknown and not _is_empty(v)]
        if not cells and not extra:
            continue
        if any(_marked(v) for v in cells.values()):
            changed = _changed_example(spec, cells)
            if changed is None:
                table.skipped_examples += 1
                continue
            # the template says to delete or overwrite the example row: overwritten but for its note, it was
            # skipped as the example, and the steward's record was lost with one line of the report to say so
            marked = next(k for k, v in cells.items() if _marked(v))
            examples.append(
                Issue(
                    "这一行仍带有模板示例的标记 / this row still carries the mark of the template's example",
                    file=file,
                    sheet=sheet,
                    row=n,
                    column=headers.get(marked, marked),
                    value=str(cells[marked])[:100],
                    hint=f"示例行导入时跳过，但这一行已改过（“{spec.column(changed).zh}”）：要导入它，请清除以"
                    f"“{EXAMPLE_MARKER}”开头的单元格；不要它，请删除整行 / the example row is skipped on import, but "
                    f"this one was changed ('{spec.column(changed).en}'): to import it, clear the cell that starts "
                    f"with '{EXAMPLE_MARKER}'; else delete the row",
                )
            )
            continue
        if extra and not found:
            found.append(
                Issue(
                    "数据超出表头范围 / a value in a column without header",
                    file=file,
                    sheet=sheet,
                    row=n,
                    value=str(extra[0])[:100],
                    hint="请给每个填了内容的列写上表头，或删除这个值 / "
                    "give every filled column a header, or delete the value",
                )
            )
        table.rows.append(Row(n, cells))
        if before + len(table.rows) > settings.max_import_rows:
            issues.extend(unknown_columns() + found + unsafe)
            issues.append(
                Issue(
                    f"行数过多 / too many rows (more than {settings.max_import_rows} in the file)",
                    file=file,
                    sheet=sheet,
                    row=n,
                    hint=f"一个文件最多 {settings.max_import_rows} 行数据（各工作表合计）：请拆分文件，或调高 "
                    f"DCPA_MAX_IMPORT_ROWS / a file holds at most {settings.max_import_rows} data rows (its sheets "
                    "together): split the file, or raise DCPA_MAX_IMPORT_ROWS",
                    extra={"reason": "rows"},
                )
            )
            return []
    issues.extend(examples)
    found[:0] = unknown_columns()
    if not table.rows:
        issues.extend(unsafe)
        if examples:
            return []
        if sheet is not None:  # an untouched sheet of the template
            return [table] if table.skipped_examples else []  # kept only to count the skipped example
        issues.extend(found)
        issues.append(
            Issue(
                "没有数据行 / no data rows" + (" (only the template's example row)" if table.skipped_examples else ""),
                file=file,
                sheet=sheet,
                row=header_row + 1,
                hint="请在表头下方至少填写一行 / fill in at least one row below the header",
            )
        )
        return []
    issues.extend(found + unsafe)
    return [table]


def _unknown_column(
    file: str, sheet: str | None, row: int, header: str, spec: RecordSpec, headers: dict[str, str], empty: bool = False
) -> Issue:
    """A header naming no column of the kind: the hint names, in each language, the columns as a steward's template
    writes them, and the column not yet in the sheet it is closest to (村代码: 村级代码), or says to delete a column
    of one's own (联系电话). It listed the keys alone (village_code, need_type…), in the Chinese half too."""
    free = [c for c in spec.columns if c.key not in headers]
    names = {norm_header(n): c for c in free for n in (c.zh, c.en, c.key)}
    close = difflib.get_close_matches(norm_header(header), list(names), n=1, cutoff=0.6)
    col = names[close[0]] if close else None
    zh = f"是不是“{col.zh}”？请这样写表头；" if col else "自己加的列请删除；"
    en = f"did you mean '{col.en}'? Head the column so; " if col else "delete a column of your own; "
    return Issue(
        "未知的列，整列为空，已忽略 / unknown column, empty: ignored" if empty else "未知的列 / unknown column",
        file=file,
        sheet=sheet,
        row=row,
        column=header,
        value=header,
        hint=f"{zh}'{spec.kind}' 的列有：{'、'.join(c.zh for c in spec.columns)} / "
        f"{en}the columns of '{spec.kind}' are: {', '.join(spec.keys)}",
        severity="warning" if empty else "error",
    )


def _marked(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith(EXAMPLE_MARKER)


def _changed_example(spec: RecordSpec, cells: dict[str, Any]) -> str | None:
    """The first column identifying a record (``spec.identity``) in which a row marked as the template's example
    differs from the example, or None: the example as the template writes it, or as Excel or WPS save it again (a
    code as a number or in scientific notation, a date as 2018/5/12, a coded value as its code alone)."""
    for key in spec.identity:
        value = cells.get(key)
        text = "" if value is None else cell_text(value.date() if isinstance(value, dt.datetime) else value)
        if not _like_example(text, spec.column(key).example):
            return key
    return None


def _like_example(text: str, example: str) -> bool:
    def parts(t: str) -> list[str]:  # each of a list's values by its first word, its code
        return [" ".join(p.split()).lower().split(" ", 1)[0] for p in t.replace("；", ";").split(";")]

    if parts(text) == parts(example):
        return True
    numbers = re.findall(r"\d+", example)
    if numbers and [int(n) for n in re.findall(r"\d+", text)] == [int(n) for n in numbers]:
        return not re.sub(r"[\d\s/.\-年月日]", "", text)  # a date written otherwise: 2018/5/12, 2018年5月12日
    try:  # a long code Excel shows in scientific notation (2.10123E+11)
        return "e" in text.lower() and example.isdigit() and abs(float(text) - int(example)) < 1e-5 * int(example)
    except ValueError:
        return False


def _header_cells(row: list[Any]) -> list[str]:
    """A row read as a header: each cell's text, stripped ("" for an empty cell)."""
    return ["" if _is_empty(h) else str(h).strip() for h in row]


def _title_above_header(
    first: list[str], rest: Iterator[list[Any]], row: int
) -> tuple[int, list[str], Iterator[list[Any]]]:
    """(row, text, the rows after it) of the header: ``first`` (at ``row``), or the row below it when it is a title.

    A sheet often opens with its title in one cell, merged across the table (康平县图书馆 2018 年需求调查表): read
    as the header, it was an "unknown column" and every column "missing". A title is one cell naming no column, and
    the next row with anything in it must be a header of a known kind; else every row read ahead is given back."""
    filled = [h for h in first if h]
    if len(filled) != 1 or _names_a_column(filled[0]):
        return row, first, rest
    ahead: list[list[Any]] = []
    for r in rest:
        ahead.append(r)
        if any(not _is_empty(v) for v in r):
            break
    below = _header_cells(ahead[-1]) if ahead else []
    if not below or kind_for_header(below) is None:
        return row, first, itertools.chain(ahead, rest)
    log.info("row %d holds a title above the header (%r): skipped", row, filled[0])
    return row + len(ahead), below, rest


def _names_a_column(text: str) -> bool:
    return any(c.matches(text) for spec in RECORD_KINDS.values() for c in spec.columns)


def _header_over_two_rows(
    upper: list[str], rest: Iterator[list[Any]], row: int
) -> tuple[int, list[str], Iterator[list[Any]]]:
    """(row, text, the rows after it) of the header: ``upper`` (at ``row``), or, when the next row names columns too,
    both rows as one, each column named by its lower cell, else by its upper one.

    Forms often group columns under a cell merged above them (需求 / Need over 需求类型, 严重程度, 受影响人数), or merge
    a header down over both rows: the lower row was read as data ("required value missing"), and the grouped
    columns as missing. The next row is a header's only when every cell of it with anything in it names a
    column, and at least two do; else it is given back."""
    ahead = next(rest, None)
    if ahead is None:
        return row, upper, rest
    lower = _header_cells(ahead)
    named = [h for h in lower if h]
    if len(named) < 2 or not all(_names_a_column(h) for h in named):
        return row, upper, itertools.chain([ahead], rest)
    width = max(len(upper), len(lower))
    upper, lower = upper + [""] * (width - len(upper)), lower + [""] * (width - len(lower))
    log.info("rows %d and %d hold the header together: read as one", row, row + 1)
    return row + 1, [lo or up for up, lo in zip(upper, lower, strict=True)], rest


def _unsafe(file: str, sheet: str | None, row: int, column: str, value: str, problem: tuple[str, str]) -> Issue:
    """A cell or header whose text may not be stored; the value is shown with its hidden characters escaped."""
    shown = value if len(value) <= 100 else value[:100] + "…"
    return Issue(problem[0], file=file, sheet=sheet, row=row, column=column, value=for_terminal(shown), hint=problem[1])


READERS: dict[str, Callable[[Path, Settings, list[Issue], bool], list[Table]]] = {
    ".csv": read_csv,
    ".txt": read_csv,
    ".tsv": read_csv,
    ".xlsx": read_xlsx,
}
#: Extensions of workbooks that carry code: refused as data problems, not unknown formats.
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam", ".xlsb")
