"""Read CSV and XLSX files into tables of raw cells, one table per sheet (or CSV file).

Readers only find the kind of record and the columns and report every problem they meet; turning
cells into typed values is ``kg.importer.mapping``'s job. One reader per format, chosen from
``READERS`` by file extension. Row numbers are those a spreadsheet shows: the header is row 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DcpaError, Issue, NotFound
from ..settings import Settings
from .specs import EXAMPLE_MARKER, RECORD_KINDS, kind_for_header, kind_for_name

log = logging.getLogger(__name__)

#: Sheets of the template that hold no records.
SKIPPED_SHEETS = {"readme", "说明", "lists", "villages"}


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


def read_file(path: Path, settings: Settings, issues: list[Issue], name: str | None = None) -> list[Table]:
    """Read one file; append data problems to ``issues``. Raises for a missing file or unknown format.

    ``name`` is the file name shown in messages and recorded in the graph (default: the path's name).
    """
    if not path.exists() or not path.is_file():
        raise NotFound(f"no such file: {path}", hint="check the path; give one or more .xlsx or .csv files")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        hint = (
            "save it as .xlsx (Excel 2007+) or .csv"
            if path.suffix.lower() in (".xls", ".ods", ".numbers")
            else ("use an .xlsx or .csv file made from `dcpa template`")
        )
        raise ImportUsageError(f"unknown file format {path.suffix or '(none)'!r}: {path.name}", hint=hint)
    size = path.stat().st_size
    if size > settings.max_import_bytes:
        issues.append(
            Issue(
                f"文件过大，未读取 / file too large ({size / 1048576:.1f} MiB > "
                f"{settings.max_import_bytes / 1048576:.1f} MiB), not read",
                file=path.name,
                value=str(size),
                hint="split it into smaller files, or raise DCPA_MAX_IMPORT_BYTES",
            )
        )
        return []
    if size == 0:
        issues.append(Issue("文件为空 / the file is empty", file=path.name, hint="fill in a template first"))
        return []
    tables = reader(path, settings, issues)
    if name:
        for t in tables:
            t.file = name
        for i in issues:
            if i.file == path.name:
                i.file = name
    return tables


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str] | None:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030. None if none fits."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8-sig", data)]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    elif b"\x00" in data:
        return None  # binary, or UTF-16/32 without a BOM
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for enc, raw in candidates:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if _plausible(text):
            return text, enc
    return None


def _plausible(text: str) -> bool:
    """Reject text with control, private-use or unassigned characters (a wrong guess or a binary file)."""
    for ch in text:
        if ch in "\t\r\n" or ch < "\x80" and ch >= " ":
            continue
        if unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"):
            return False
    return True


def read_csv(path: Path, settings: Settings, issues: list[Issue]) -> list[Table]:
    data = path.read_bytes()
    decoded = decode_text(data)
    if decoded is None:
        issues.append(
            Issue(
                "无法识别的文件编码或不是文本文件 / unknown text encoding, or not a text file",
                file=path.name,
                hint="save the CSV as UTF-8 (Excel: 'CSV UTF-8') or GB18030, or import the .xlsx instead",
            )
        )
        return []
    text, enc = decoded
    log.debug("%s decoded as %s", path.name, enc)
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _table(path.name, None, rows, settings, issues)


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def read_xlsx(path: Path, settings: Settings, issues: list[Issue]) -> list[Table]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as e:
        issues.append(
            Issue(
                f"不是可读的 XLSX 文件 / not a readable XLSX workbook ({type(e).__name__})",
                file=path.name,
                hint="open it in Excel or WPS and save it again as .xlsx",
            )
        )
        return []
    tables: list[Table] = []
    try:
        for ws in wb.worksheets:
            if ws.title.strip().lower() in SKIPPED_SHEETS:
                continue
            rows = (list(r) for r in ws.iter_rows(values_only=True))
            tables += _table(path.name, ws.title, rows, settings, issues, sheet_kind=kind_for_name(ws.title))
    finally:
        wb.close()
    if not any(t.rows for t in tables) and not any(i.file == path.name for i in issues):
        issues.append(
            Issue(
                "工作簿中没有数据行 / no data rows in any sheet of a known kind",
                file=path.name,
                hint="fill in rows below the header of a sheet named as in the template: " + ", ".join(RECORD_KINDS),
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
) -> list[Table]:
    it = iter(rows)
    header: list[Any] | None = None
    header_row = 0
    for n, r in enumerate(it, start=1):
        if any(not _is_empty(v) for v in r):
            header, header_row = r, n
            break
    if header is None:
        if sheet is None:
            issues.append(Issue("文件没有内容 / the file has no content", file=file, hint="fill in a template first"))
        return []
    header_text = ["" if _is_empty(h) else str(h).strip() for h in header]
    kind = kind_for_header(header_text) or sheet_kind or (kind_for_name(Path(file).stem) if sheet is None else None)
    if kind is None:
        if sheet is not None:
            log.warning("%s: sheet %r is not a known kind of record; skipped", file, sheet)
            return []
        issues.append(
            Issue(
                "无法识别记录类型 / cannot tell which kind of records this file holds",
                file=file,
                row=header_row,
                value=", ".join(h for h in header_text if h)[:200],
                hint="use the header row of a `dcpa template` file, or name the file after its kind: "
                + ", ".join(RECORD_KINDS),
            )
        )
        return []
    spec = RECORD_KINDS[kind]
    found: list[Issue] = []  # header problems count only if the sheet has rows
    columns: dict[int, str] = {}
    headers: dict[str, str] = {}
    for i, h in enumerate(header_text):
        if not h:
            continue
        col = next((c for c in spec.columns if c.matches(h)), None)
        if col is None:
            found.append(
                Issue(
                    "未知的列 / unknown column",
                    file=file,
                    sheet=sheet,
                    row=header_row,
                    column=h,
                    value=h,
                    hint=f"the columns of '{kind}' are: " + ", ".join(c.key for c in spec.columns),
                )
            )
        elif col.key in headers:
            found.append(
                Issue(
                    "重复的列 / duplicate column",
                    file=file,
                    sheet=sheet,
                    row=header_row,
                    column=h,
                    value=h,
                    hint=f"keep one column '{col.header}'",
                )
            )
        else:
            columns[i] = col.key
            headers[col.key] = h
    for col in spec.required:
        if col.key not in headers:
            found.append(
                Issue(
                    "缺少必填列 / missing required column",
                    file=file,
                    sheet=sheet,
                    row=header_row,
                    column=col.header,
                    hint=f"add a column headed '{col.header}' (or '{col.key}'): {col.help_en}",
                )
            )
    table = Table(file, sheet, kind, headers)
    for n, r in enumerate(it, start=header_row + 1):
        cells = {columns[i]: v for i, v in enumerate(r) if i in columns and not _is_empty(v)}
        extra = [v for i, v in enumerate(r) if i not in columns and not _is_empty(v)]
        if not cells and not extra:
            continue
        if any(isinstance(v, str) and v.strip().startswith(EXAMPLE_MARKER) for v in cells.values()):
            table.skipped_examples += 1
            continue
        if extra and not found:
            found.append(
                Issue(
                    "数据超出表头范围 / a value in a column without header",
                    file=file,
                    sheet=sheet,
                    row=n,
                    value=str(extra[0])[:100],
                    hint="give every filled column a header, or delete the value",
                )
            )
        table.rows.append(Row(n, cells))
        if len(table.rows) > settings.max_import_rows:
            issues.extend(found)
            issues.append(
                Issue(
                    f"行数过多 / too many rows (more than {settings.max_import_rows})",
                    file=file,
                    sheet=sheet,
                    row=n,
                    hint="split the file, or raise DCPA_MAX_IMPORT_ROWS",
                )
            )
            return []
    if not table.rows:
        if sheet is not None:  # an untouched sheet of the template
            return [table] if table.skipped_examples else []  # kept only to count the skipped example
        issues.extend(found)
        issues.append(
            Issue(
                "没有数据行 / no data rows" + (" (only the template's example row)" if table.skipped_examples else ""),
                file=file,
                sheet=sheet,
                row=header_row + 1,
                hint="fill in at least one row below the header",
            )
        )
        return []
    issues.extend(found)
    return [table]


READERS: dict[str, Callable[[Path, Settings, list[Issue]], list[Table]]] = {
    ".csv": read_csv,
    ".txt": read_csv,
    ".tsv": read_csv,
    ".xlsx": read_xlsx,
    ".xlsm": read_xlsx,
}
