"""Text that is safe to store, print and hand to a spreadsheet.

Three jobs, one place, so every entry and exit path applies the same rules:

- ``text_problem``: entered text (import cells, API records, user and file names) must not carry
  control characters (NUL, ESC…), bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE… which make
  text read differently from what it is: "Trojan Source"), lone surrogates or noncharacters (which
  cannot be written as UTF-8 or XML). They are refused at entry with the position and a hint.
- ``for_terminal``: text the CLI prints (stored data, messages quoting user input) shows such
  characters as visible escapes (``\\u202e``) instead of letting them act on the terminal.
- ``spreadsheet_cell``: CSV exports neutralise formula injection (OWASP): a text cell starting with
  ``= + - @``, TAB or CR gets a leading ``'`` so spreadsheet programs show it as text; numbers stay
  numbers. An import drops that ``'`` again (``from_spreadsheet_cell``), so an export imported back is
  the data exported. Workbooks need no ``'``: ``append_row`` keeps every text a text cell.

And ``download_name``: what a downloaded file is called, from what it holds, safe for every system's file names.

And ``typed``: a code, number or date as a person types or pastes it (a Chinese IME's full-width digits, the
ideographic space, a zero-width space copied from a web page or a chat) read as what it means.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

#: Longest text one cell may hold: Excel's own limit, so no spreadsheet can have made a longer one.
MAX_CELL_CHARS = 32767

#: The Unicode Bidi_Control characters (ALM, LRM, RLM, LRE, RLE, PDF, LRO, RLO, LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

#: First characters that make a spreadsheet program read a cell as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


#: Every character entered text may not hold: the Cc category minus tab and line breaks (allowed in
#: multi-line notes), the Bidi_Control characters, the surrogates (Cs) and the noncharacters of the
#: BMP (U+FFFE and U+FFFF are not allowed in XML either). One character class, searched in C: checking
#: the 900,000 cells of a 100,000-row import takes about 0.3 s (a loop over the characters took 1.8 s).
_REFUSED = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"  # C0 (but tab, LF, CR), DEL, C1
    + "".join(sorted(BIDI_CONTROLS))
    + "\\ud800-\\udfff"  # surrogates
    + "\\ufdd0-\\ufdef\\ufffe\\uffff]"  # noncharacters
)


#: Characters nobody sees that copying from a web page, a chat or a word processor leaves in a value: ZERO WIDTH
#: SPACE, ZERO WIDTH NON-JOINER and JOINER, WORD JOINER, ZERO WIDTH NO-BREAK SPACE (a byte order mark inside a
#: text) and SOFT HYPHEN. NFKC keeps them, and a code or a number holding one looks right and matches nothing.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = str.maketrans("", "", ZERO_WIDTH)


def typed(text: str) -> str:
    """``text`` as a value typed with a Chinese IME or pasted means it: NFKC (full-width digits and letters as
    ASCII, the ideographic space U+3000 as a space), zero-width characters dropped, spaces around it trimmed.

    For codes, numbers, dates and search words only: free text keeps what was written."""
    return unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).strip()


def char_name(ch: str) -> str:
    """``U+202E RIGHT-TO-LEFT OVERRIDE``: how messages name a character nobody can see."""
    name = unicodedata.name(ch, "")
    if not name:
        name = {"\x00": "NULL", "\x1b": "ESCAPE", "\x7f": "DELETE"}.get(ch, "control character")
    return f"U+{ord(ch):04X} {name}"


def first_refused(text: str) -> tuple[int, str] | None:
    """(0-based position, character) of the first character entered text may not hold, if any."""
    m = _REFUSED.search(text)
    return (m.start(), m.group()) if m else None


def text_problem(text: str, max_chars: int | None = MAX_CELL_CHARS) -> tuple[str, str] | None:
    """``(message, hint)`` when ``text`` may not be stored, else None. Messages say what and where; both are
    ``中文 / English``."""
    found = text_problem_parts(text, max_chars)
    return None if found is None else (found[0], f"{found[1]} / {found[2]}")


def text_problem_parts(text: str, max_chars: int | None = MAX_CELL_CHARS) -> tuple[str, str, str] | None:
    """``(message, hint in Chinese, hint in English)`` when ``text`` may not be stored, else None: for a caller
    that puts words of its own before each half of the hint (``text_problem`` joins them)."""
    if max_chars is not None and len(text) > max_chars:
        return (
            f"内容过长 / value too long ({len(text)} characters; at most {max_chars})",
            f"请缩短：一个单元格最多 {max_chars} 个字符（Excel 的上限）；长文档请另行存放，这里只写出处",
            "shorten it: a cell holds at most "
            f"{max_chars} characters (Excel's limit); put long documents elsewhere and refer to them",
        )
    found = first_refused(text)
    if found is None:
        return None
    pos, ch = found
    if ch in BIDI_CONTROLS:
        return (
            f"不允许的双向文本控制字符 / bidirectional control character not allowed: {char_name(ch)} "
            f"at character {pos + 1}",
            "请删除该字符后重新输入：它看不见，却会让文字显示的顺序与存储的顺序不同，可能掩盖内容的真实意思",
            "delete it and type the value again: it is invisible and makes the text display in another "
            "order than it is stored, which can hide what the value really says",
        )
    if unicodedata.category(ch) == "Cs":
        return (
            f"无效的字符 / invalid character: unpaired surrogate {char_name(ch)} at character {pos + 1}",
            "请以有效的 UTF-8 发送文本（JSON 中的 \\ud800-\\udfff 转义必须成对出现）",
            "send text as valid UTF-8 (JSON: a \\ud800-\\udfff escape must be one of a pair)",
        )
    if unicodedata.category(ch) != "Cc":
        return (
            f"无效的字符 / invalid character: noncharacter {char_name(ch)} at character {pos + 1}",
            "请删除它：它不是文字（通常是编码转换出了错）",
            "delete it: it is not text (often a broken conversion)",
        )
    return (
        f"不允许的控制字符 / control character not allowed: {char_name(ch)} at character {pos + 1}",
        "请删除该字符后重新输入：控制字符看不见，却会影响显示这些数据的终端和程序（只允许制表符和换行）",
        "delete it and type the value again: control characters are invisible and can act on "
        "terminals and programs that show the data (only tab and line breaks are allowed)",
    )


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal or a monospaced font: Chinese (East Asian wide and full-width)
    characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def for_terminal(text: str, *, keep_newlines: bool = True) -> str:
    """``text`` with every refused character (and, unless kept, tab and line breaks) as a visible escape."""
    text = _REFUSED.sub(_escape, text)
    if not keep_newlines:
        text = text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_for_terminal(obj: Any, **kwargs: Any) -> str:
    """``json.dumps(obj, ensure_ascii=False, …)`` with refused characters as ``\\uXXXX`` escapes.

    Lossless: the escapes are JSON's own, so a program reading the output gets the same strings.
    Refused characters can only occur inside JSON strings (the syntax is ASCII), so replacing
    them in the text is replacing them in the strings.
    """
    return _REFUSED.sub(_json_escape, json.dumps(obj, ensure_ascii=False, **kwargs))


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def _plain_number(text: str) -> bool:
    """Whether ``text`` is an ordinary number a spreadsheet reads as one (``-3``, ``+1.5``, ``2e3``)."""
    if not text.isascii() or "_" in text or text != text.strip():
        return False
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def _escaped(text: str) -> bool:
    """Whether ``spreadsheet_cell`` puts a ``'`` before ``text``: a formula character first (not a plain number), or
    a ``'`` before text it would escape, so that reading the escape back is exact (``'=x`` is written ``''=x``)."""
    if text.startswith(FORMULA_PREFIXES):
        return not _plain_number(text)
    return text.startswith("'") and _escaped(text[1:])


def spreadsheet_cell(value: Any) -> Any:
    """``value`` safe to write into a CSV cell that a spreadsheet program will open.

    Numbers (and text that is exactly a number, such as ``-3``) are returned unchanged; text that
    starts with a formula character gets a leading ``'``, which spreadsheets show as text and
    do not evaluate (OWASP "CSV injection"); so does text that starts with ``'`` before such a character.
    """
    if isinstance(value, str) and _escaped(value):
        return "'" + value
    return value


def cell_text(raw: Any) -> str:
    """A cell of a filled-in template as text, as the template shows it: a whole number without ``.0``, a date (a
    date-time at midnight too) as ISO 8601, the rest as it reads, stripped."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, datetime):
        raw = raw.date() if raw.time() == time() else raw
    if isinstance(raw, date):
        return raw.isoformat()
    return str(raw).strip()


def from_spreadsheet_cell(value: Any) -> Any:
    """The text ``spreadsheet_cell`` escaped, as it was: what an import reads from a CSV file.

    Exactly the escape is undone, so an exported file imported back stores what was exported: ``'=x`` reads
    ``=x``, ``''=x`` reads ``'=x``, and ``'hello`` or ``'-3`` stay as they are. CSV only: a workbook's cells are
    never escaped (``append_row``), and a ``'`` typed in one is the cell's text.
    """
    if isinstance(value, str) and value.startswith("'") and _escaped(value[1:]):
        return value[1:]
    return value


#: How a workbook shows a date cell: as the pages and the CSV files write a date (ISO 8601).
DATE_FORMAT = "yyyy-mm-dd"


def append_row(sheet: Any, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet, every text kept as text.

    openpyxl stores a text starting with ``=`` as a formula, which the spreadsheet program runs when the
    workbook is opened (``=HYPERLINK(…)`` typed into a survey). A text cell shows it as it was typed, without
    the ``'`` a CSV file needs.
    """
    from openpyxl.cell.cell import Cell  # on use: only workbook exports need it

    def text_cell(value: Any) -> Any:
        if not (isinstance(value, str) and value.startswith("=")):
            return value
        cell = Cell(sheet, row=1, column=1, value=value)  # append() gives it its place
        cell.data_type = "s"
        return cell

    # the row's cells made here, not looked up after: ``sheet[sheet.max_row]`` scans every cell of the sheet, and
    # made the template's 16,727-row village sheet take 57 s instead of 1.6 s
    sheet.append([text_cell(v) for v in values])


def whole(value: Any) -> Any:
    """A float that is a whole number as an int (``1500.0`` as ``1500``), anything else as it is: how a CSV file and a
    table write an amount, a weight or a share (1500.5 and 0.6667 stay exact). Python writes 1500.0, which a CSV
    opened in a text editor, a script or WPS shows as it is; the page and the workbook say 1,500."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def csv_text(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]], *, lineterminator: str = "\r\n") -> str:
    """CSV text with every cell (header too) passed through ``spreadsheet_cell``, whole numbers without their ``.0``
    (``whole``): the one CSV writer."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=lineterminator)
    if header is not None:
        w.writerow([spreadsheet_cell(h) for h in header])
    for r in rows:
        w.writerow([spreadsheet_cell(whole(v)) for v in r])
    return buf.getvalue()


def spreadsheet_file(header: Sequence[Any] | None, rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file for a spreadsheet program: ``csv_text`` (CRLF) with a UTF-8 BOM, without which Excel and WPS on a
    Chinese system read UTF-8 as GBK. The one writer of the API's, the dashboard's, the templates' and the CLI's
    (``-o``) CSV files."""
    return csv_text(header, rows).encode("utf-8-sig")


def spreadsheet_csv(data: bytes, *, note: str | None = None) -> bytes:
    """A CSV file (UTF-8) made ready for a spreadsheet program: every cell through ``spreadsheet_cell`` and a BOM,
    without which Excel on a Chinese system reads UTF-8 as GBK; ``note``, when given, a last row of its own (what a
    reader of the sheet must know, such as that it was cut short: a header no spreadsheet shows)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    body = rows[1:] + ([[note]] if note else [])
    return spreadsheet_file(rows[0] if rows else None, body)


#: What a file name may not hold: the characters Windows refuses (``\\ / : * ? " < > |``), control characters and
#: whitespace (a name with spaces or tabs is awkward in a command line and an e-mail), each run made one ``_``.
_NOT_IN_FILE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
#: Names Windows keeps for devices, with any extension: a file called ``CON.csv`` cannot be saved.
_DEVICE_NAMES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                           *(f"LPT{i}" for i in range(1, 10))})
#: The longest one part of a file name is made (in characters): a long name still fits Windows' 255.
FILE_NAME_PART_MAX = 40


class DownloadName(NamedTuple):
    """A download's file name (``name``, Chinese kept) and the same name in ASCII alone (``ascii``), for a client
    that reads only an HTTP header's plain ``filename=`` (RFC 6266)."""

    name: str
    ascii: str


def _file_name_part(part: Any) -> str:
    text = part.isoformat() if isinstance(part, date) else str(part)
    text = _NOT_IN_FILE_NAME.sub("_", unicodedata.normalize("NFC", _REFUSED.sub("", text)))
    return text[:FILE_NAME_PART_MAX].strip("._- ")


def download_name(kind: str, ext: str, *, code: str | None = None, name: str | None = None,
                  details: Iterable[Any] = (), day: date | str | None = None) -> DownloadName:
    """What a downloaded table or workbook is called: its kind, the area's code and name, what it was filtered by
    (``details``: a grouping, a need type, a budget…) and the day its figures are for, joined by ``-``
    (``gaps-2101-沈阳市-by-area-2020-06-30.csv``). Every download of a gap report was ``gaps-2101.csv``, whatever its
    day or filter, so a planner's folder filled with ``gaps-2101 (1).csv``. Parts left empty are left out; none
    holds a character Windows refuses in a file name. The ASCII name leaves out the parts in Chinese."""
    parts = [p for p in (_file_name_part(x) for x in (kind, code, name, *details, day) if x not in (None, "")) if p]
    stem = "-".join(parts) or "download"
    ascii_stem = "-".join(p for p in parts if p.isascii()) or "download"
    if stem.upper() in _DEVICE_NAMES:
        stem, ascii_stem = f"{stem}_", f"{ascii_stem}_"
    return DownloadName(f"{stem}.{ext}", f"{ascii_stem}.{ext}")
