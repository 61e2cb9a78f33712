"""Look inside an import file before a parser does: what it really is, how far it expands, macros, DTDs.

openpyxl trusts its input: a 400 KB XLSX whose sheet inflates to 1 GB is read into memory, a DTD's
entities are expanded (billion laughs) and macro-enabled workbooks are read like any other. So an
XLSX is checked here first, from the ZIP directory and the parts' parsed forms, and refused with one
clear ``Issue`` when it

- is not a ZIP at all (an old .xls, a CSV renamed to .xlsx…), is encrypted or has absurdly many parts;
- declares more uncompressed bytes than ``settings.xlsx_max_uncompressed_bytes``, or a part that
  expands more than ``settings.xlsx_max_ratio`` times (a decompression bomb). The declared sizes are
  upper bounds: Python's ``zipfile`` stops reading a part at its declared size (and then fails its CRC);
- is not a plain spreadsheet by its ``[Content_Types].xml`` (a Word file, a macro-enabled workbook,
  VBA, Excel 4 macro sheets, ActiveX), or has more sheets than ``settings.xlsx_max_sheets``;
- has a part with a document type declaration: Office Open XML never uses one, and it is the only
  way to declare entities (XXE, billion laughs).

``sniff_text_file`` does the reverse check for CSV: a workbook or other binary file named ``.csv``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath
from xml.parsers import expat

from ..errors import Issue
from ..settings import Settings

#: Most parts an XLSX may have. Excel writes a few dozen; the ZIP directory is read whole.
MAX_PARTS = 10_000
#: Parts smaller than this are not ratio-checked: tiny parts (a 10 KB run of spaces) compress
#: far beyond any bomb ratio and are harmless.
RATIO_FLOOR = 1024 * 1024

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
#: Content types of code: macro-enabled workbooks, VBA projects, Excel 4 macro sheets, ActiveX.
MACRO_TYPES = frozenset(
    {
        "application/vnd.ms-excel.sheet.macroenabled.main+xml",
        "application/vnd.ms-excel.template.macroenabled.main+xml",
        "application/vnd.ms-excel.addin.macroenabled.main+xml",
        "application/vnd.ms-excel.sheet.binary.macroenabled.main",
        "application/vnd.ms-office.vbaproject",
        "application/vnd.ms-office.vbaprojectsignature",
        "application/vnd.ms-excel.macrosheet+xml",
        "application/vnd.ms-excel.intlmacrosheet+xml",
        "application/vnd.ms-office.activex+xml",
        "application/vnd.ms-office.activex",
    }
)
#: Content types of the parts that are sheets (counted against ``xlsx_max_sheets``).
SHEET_TYPES = frozenset(
    {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.dialogsheet+xml",
    }
)
_OTHER_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "a Word document",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "a PowerPoint file",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "an Excel template (.xltx)",
}
#: The signature of OLE2 compound files: .xls, .doc and other pre-2007 Office files (may hold macros).
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_SAVE_AS_XLSX = (
    "请用 Excel 或 WPS 打开它，另存为“Excel 工作簿 (*.xlsx)” / "
    "open it in Excel or WPS and save it as 'Excel Workbook (*.xlsx)'"
)
MACRO_HINT = (
    "请另存为“Excel 工作簿 (*.xlsx)”（不含宏）：含代码的文件不予接受，因为文件会被保存下来，可能被其他人打开 / "
    "save it as 'Excel Workbook (*.xlsx)' (without macros): files with code are not accepted, "
    "because they are kept and could be opened by others"
)


def _issue(name: str, message: str, hint: str, **extra: object) -> Issue:
    return Issue(message, file=name, hint=hint, extra=dict(extra))


def _mib(n: float) -> str:
    return f"{n / 1048576:.1f} MiB"


def check_xlsx(path: Path, name: str, settings: Settings) -> Issue | None:
    """The reason ``path`` (shown as ``name``) may not be opened as a workbook, or None if it may."""
    if not zipfile.is_zipfile(path):
        return _not_a_zip(path, name)
    try:
        with zipfile.ZipFile(path) as zf:
            return _check_zip(zf, name, settings)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError, ValueError) as e:
        return _issue(name, f"不是可读的 XLSX 文件 / not a readable XLSX workbook (damaged ZIP: {e})", _SAVE_AS_XLSX)


def _not_a_zip(path: Path, name: str) -> Issue:
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(OLE2_MAGIC):
        return _issue(
            name,
            "这是旧版 Excel（.xls）或其他 Office 二进制文件，不是 XLSX / an old Excel 97-2003 (.xls) or other "
            "Office binary file, not an XLSX workbook",
            _SAVE_AS_XLSX,
        )
    if head.startswith(b"PK"):
        return _issue(name, "不是可读的 XLSX 文件 / not a readable XLSX workbook (damaged ZIP archive)", _SAVE_AS_XLSX)
    if b"\x00" not in head:
        return _issue(
            name,
            "这是文本文件（CSV？），不是 XLSX / a text file (CSV?) named like an XLSX workbook",
            "如果它是 CSV 文件，请把扩展名改为 .csv；否则请用 Excel 另存为 .xlsx / "
            "if it is a CSV file, give it the extension .csv; else save it from Excel as .xlsx",
        )
    return _issue(name, "不是 XLSX 文件 / not an XLSX workbook (not a ZIP archive)", _SAVE_AS_XLSX)


def _check_zip(zf: zipfile.ZipFile, name: str, settings: Settings) -> Issue | None:
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        return _issue(name, f"XLSX 部件过多 / too many parts in the XLSX ({len(infos)} > {MAX_PARTS})", _SAVE_AS_XLSX)
    if any(i.flag_bits & 0x1 for i in infos):
        return _issue(
            name,
            "文件已加密 / the workbook is password-protected (encrypted)",
            "请取消密码（文件 > 信息 > 保护工作簿）后重新保存 / "
            "remove the password (File > Info > Protect Workbook) and save it again",
        )
    total = sum(i.file_size for i in infos)
    limit = settings.xlsx_max_uncompressed_bytes
    if total > limit:
        return _issue(
            name,
            f"解压后过大 / the workbook expands to {_mib(total)} when unpacked (at most {_mib(limit)}); not read",
            "请拆分成几个较小的工作簿，或调高 DCPA_XLSX_MAX_UNCOMPRESSED_BYTES / "
            "split it into smaller workbooks, or raise DCPA_XLSX_MAX_UNCOMPRESSED_BYTES",
            uncompressed_bytes=total,
        )
    for i in infos:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > RATIO_FLOOR and ratio > settings.xlsx_max_ratio:
            return _issue(
                name,
                f"压缩比异常（压缩炸弹？）/ part {i.filename!r} expands {ratio:.0f} times "
                f"({_mib(i.compress_size)} → {_mib(i.file_size)}; at most {settings.xlsx_max_ratio:g} times): "
                "a decompression bomb?",
                "Excel 或 WPS 保存的工作簿解压后约为原来的 5 到 20 倍：请用电子表格软件重新保存数据，"
                "或调高 DCPA_XLSX_MAX_RATIO / "
                "workbooks saved by Excel or WPS expand about 5 to 20 times; save the data again from a "
                "spreadsheet program, or raise DCPA_XLSX_MAX_RATIO",
                part=i.filename,
                ratio=round(ratio),
            )
    for i in infos:  # before any part is parsed as XML, by us or by openpyxl
        if _has_doctype(zf, i):
            return _issue(
                name,
                f"XLSX 部件含 DTD 声明 / part {i.filename!r} has a document type declaration (<!DOCTYPE>), "
                "which Excel never writes and which can define entities (XXE, billion laughs)",
                "请用 Excel 或 WPS 把数据重新保存为 .xlsx / save the data again from Excel or WPS as .xlsx",
                part=i.filename,
            )
    return _check_content_types(zf, name, settings)


def _check_content_types(zf: zipfile.ZipFile, name: str, settings: Settings) -> Issue | None:
    try:
        types = _content_types(zf.read("[Content_Types].xml"))
    except KeyError:
        return _issue(name, "不是 XLSX 文件 / not an Office Open XML file (no [Content_Types].xml)", _SAVE_AS_XLSX)
    except expat.ExpatError as e:
        return _issue(
            name, f"不是可读的 XLSX 文件 / not a readable XLSX workbook ([Content_Types].xml: {e})", _SAVE_AS_XLSX
        )
    parts = {PurePosixPath(i.filename).name.lower() for i in zf.infolist()}
    code = sorted({t for t in types if t in MACRO_TYPES})
    if code or "vbaproject.bin" in parts:
        return _issue(
            name,
            "含宏或代码的工作簿 / a workbook with macros or other code ("
            + (", ".join(code) if code else "a VBA project")
            + ") is not accepted",
            MACRO_HINT,
            reason="macros",
        )
    if XLSX_MAIN not in types:
        what = next((v for k, v in _OTHER_MAIN.items() if k in types), "an Office file that is not a workbook")
        return _issue(name, f"不是 Excel 工作簿 / not an Excel workbook: {what}", _SAVE_AS_XLSX)
    sheets = sum(n for t, n in types.items() if t in SHEET_TYPES)
    if sheets > settings.xlsx_max_sheets:
        return _issue(
            name,
            f"工作表过多 / too many sheets ({sheets}; at most {settings.xlsx_max_sheets})",
            "每类记录只用一个工作表（与模板相同），或调高 DCPA_XLSX_MAX_SHEETS / "
            "keep one sheet per kind of record (as in the template), or raise DCPA_XLSX_MAX_SHEETS",
        )
    return None


def _content_types(xml: bytes) -> dict[str, int]:
    """Content types declared by ``[Content_Types].xml`` (lower case), with how many parts have each."""
    found: dict[str, int] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = tag.rsplit("}", 1)[-1]
        if local in ("Default", "Override") and "ContentType" in attrs:
            t = attrs["ContentType"].strip().lower()
            found[t] = found.get(t, 0) + (1 if local == "Override" else 0)

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    parser.Parse(xml, True)
    return found


class _Doctype(Exception):
    pass


class _RootReached(Exception):
    pass


def _has_doctype(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part, read as XML, declares a document type before its root element.

    Only the prolog is read (up to the first element): a DTD can only come before it. A part that is
    not XML (an image) stops the parse at once and is left to the reader.
    """
    parser = expat.ParserCreate()

    def doctype(*_: object) -> None:
        raise _Doctype

    def root(*_: object) -> None:
        raise _RootReached

    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = root
    with zf.open(info) as fh:
        try:
            while chunk := fh.read(16384):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Doctype:
            return True
        except (_RootReached, expat.ExpatError):
            return False
    return False


def sniff_text_file(data: bytes, name: str) -> Issue | None:
    """The reason ``data`` (a file named like CSV) is not a text file, judged by its signature."""
    if data.startswith(b"PK\x03\x04"):
        return _issue(
            name,
            "这是 XLSX 工作簿（ZIP），不是 CSV / an XLSX workbook (ZIP archive) named like a CSV file",
            "请把扩展名改为 .xlsx，或用 Excel 另存为“CSV UTF-8” / "
            "give it the extension .xlsx, or save it from Excel as 'CSV UTF-8'",
        )
    if data.startswith(OLE2_MAGIC):
        return _issue(
            name,
            "这是旧版 Excel（.xls）或其他 Office 二进制文件，不是 CSV / an old Excel (.xls) or other Office "
            "binary file named like a CSV file",
            "请用 Excel 另存为“CSV UTF-8”或 .xlsx / save it from Excel as 'CSV UTF-8' or as .xlsx",
        )
    return None
