"""CSV bytes → rows of cells, refusing silent damage with the line where it starts.

Python's ``csv`` module, left lenient, reads an unclosed quote to the end of the file into one
cell, and decoding a file that mixes UTF-8 and GB18030 lines as GB18030 stores mojibake. Here the
encoding is decided line by line (a mix is refused, naming a line of each), rows are read strictly,
and every structural problem becomes a ``CsvProblem`` carrying an ``Issue`` with the line.
Line numbers are the file's physical lines (1-based), as a text editor shows them.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator

from ..errors import Issue

_RESAVE_ZH = (
    "请把整个 CSV 文件一次另存为 UTF-8 编码（Excel：选“CSV UTF-8”；文本编辑器：选 UTF-8 编码），或改为导入 .xlsx"
)
_RESAVE_EN = "save the CSV as UTF-8 in one go (Excel: 'CSV UTF-8'; a text editor: encoding UTF-8), or import the .xlsx"
_RESAVE = f"{_RESAVE_ZH} / {_RESAVE_EN}"


class CsvProblem(Exception):
    """A CSV file that cannot be read without damaging its data."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def _problem(name: str, message: str, hint: str, line: int | None = None, row: int | None = None) -> CsvProblem:
    return CsvProblem(Issue(message, file=name, row=row, hint=hint, extra={"line": line} if line else {}))


def decode(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding) of CSV bytes: UTF-8 (BOM or not), UTF-16 with BOM, or GB18030 — never a mix."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _plausible(data.decode("utf-16"), name), "utf-16"
        except UnicodeDecodeError as e:
            raise _problem(name, f"不是有效的 UTF-16 文本 / not valid UTF-16 text ({e.reason})", _RESAVE) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise _problem(
            name,
            f"第 {line} 行含 NUL 字节 / unknown text encoding, or not a text file: a NUL byte on line {line} "
            "(a binary file, or UTF-16 without a byte order mark)",
            _RESAVE,
            line,
        )
    bom = data.startswith(codecs.BOM_UTF8)
    body = data[len(codecs.BOM_UTF8) :] if bom else data
    try:
        return _plausible(body.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    utf8, gb, bad = _line_encodings(data)
    if bad:
        raise _problem(
            name,
            f"第 {bad[0]} 行的编码无法识别 / unknown text encoding on line {bad[0]} (neither UTF-8 nor GB18030)",
            _RESAVE,
            bad[0],
        )
    if bom or utf8:
        first_utf8 = 1 if bom else utf8[0]
        raise _problem(
            name,
            f"文件混用了两种编码 / the file mixes two text encodings: line {first_utf8} is UTF-8"
            f"{' (byte order mark)' if bom and not utf8 else ''} but line {gb[0]} is GB18030 "
            f"({len(gb)} GB18030 line(s), {max(len(utf8), 1)} UTF-8 line(s)); reading it as either one "
            "would store garbled text",
            f"这个文件是由两个来源拼接成的：{_RESAVE_ZH} / the file was pasted together from two sources: {_RESAVE_EN}",
            gb[0],
        )
    return _plausible(body.decode("gb18030"), name), "gb18030"


def _line_encodings(data: bytes) -> tuple[list[int], list[int], list[int]]:
    """Lines (1-based) that are non-ASCII UTF-8, GB18030 but not UTF-8, and neither."""
    utf8: list[int] = []
    gb: list[int] = []
    bad: list[int] = []
    for n, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8.append(n)
        except UnicodeDecodeError:
            try:
                line.decode("gb18030")
                gb.append(n)
            except UnicodeDecodeError:
                bad.append(n)
    return utf8, gb, bad


def _plausible(text: str, name: str) -> str:
    """Refuse private-use, unassigned or surrogate characters: a wrong encoding or a binary file.

    (Control characters are left to the cell checks, which can say which row and column hold them.)
    """
    for i, ch in enumerate(text):
        if ch < "\x80":
            continue
        if unicodedata.category(ch) in ("Co", "Cn", "Cs"):
            line = text.count("\n", 0, i) + 1
            raise _problem(
                name,
                f"第 {line} 行有无法识别的字符 / line {line} holds characters no text encoding explains "
                f"(U+{ord(ch):04X}): unknown encoding, or not a text file",
                _RESAVE,
                line,
            )
    return text


def decode_as_before(data: bytes) -> str | None:
    """The text earlier versions read from ``data`` (UTF-8, else GB18030), for replaying files they accepted."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def rows(text: str, name: str, *, strict: bool = True) -> Iterator[list[str]]:
    """The records of CSV text (delimiter from the first line: comma, tab or semicolon), read strictly.

    ``strict=False`` reads as earlier versions did (for replays): an unclosed quote runs to the end.
    """
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    record = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise _structure_problem(text, name, delimiter, str(e), start, reader.line_num, record + 1) from None
        record += 1
        yield row


def _structure_problem(
    text: str, name: str, delimiter: str, error: str, start: int, line: int, record: int
) -> CsvProblem:
    # The csv module says what went wrong only in its message; it decides the hint, not the refusal.
    if error.startswith("unexpected end of data"):
        opened = _unclosed_quote_line(text, start, delimiter) or start
        return _problem(
            name,
            f"第 {opened} 行的引号没有闭合 / unclosed quote: the quoted field that starts on line {opened} "
            "never ends, so the rest of the file would be read into that one cell",
            '请补上闭合的引号；带引号的值里面的引号要写两次（""） / '
            'close the quote; a quote inside a quoted value is written twice ("")',
            opened,
            record,
        )
    if error.startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        return _problem(
            name,
            f"第 {start} 行起的记录中有字段过长 / a field in the record starting on line {start} is longer "
            f"than {limit} characters",
            "请缩短它（一个单元格最多 32767 个字符），或检查它前面是否有没闭合的引号 / "
            "shorten it (a cell holds at most 32767 characters), or check for an unclosed quote before it",
            start,
            record,
        )
    return _problem(
        name,
        f"第 {line} 行的 CSV 格式错误 / malformed CSV on line {line}: {error}",
        '带引号的值在结束引号后必须立即结束；值里面的引号要写两次（""） / '
        'a quoted value must end right after its closing quote; write a quote inside it twice ("")',
        line,
        record,
    )


def _unclosed_quote_line(text: str, start: int, delimiter: str) -> int | None:
    """The line on which the quoted field left open at the end of the file starts (reading from line ``start``)."""
    offset = 0
    for _ in range(start - 1):
        nl = text.find("\n", offset)
        if nl < 0:
            return None
        offset = nl + 1
    line, opened, in_quotes, field_start = start, None, False, True
    i, n = offset, len(text)
    while i < n:
        ch = text[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < n and text[i + 1] == '"':
                    i += 1
                else:
                    in_quotes = False
            elif ch == "\n":
                line += 1
        elif ch == '"' and field_start:
            in_quotes, opened = True, line
        elif ch in (delimiter, "\n"):
            if ch == "\n":
                line += 1
            field_start = True
            i += 1
            continue
        field_start = False
        i += 1
    return opened if in_quotes else None
