"""Hostile import files, made by code: bombs, stale dimensions, DTDs, macros, broken CSV.

Each maker writes one file and returns its path. The valid baseline is a "needs" sheet (or CSV)
of rows that import cleanly into the API fixture; each hostile variant changes one thing.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
VILLAGE = "210123203202"  # a village of tests/data/api/fixture.trig
HEADER = [
    "village_code",
    "need_type",
    "severity",
    "people_affected",
    "source",
    "identified_on",
    "surveyor",
    "note",
]


def need_row(n: int, **changes: str) -> list[str]:
    """A valid need; ``n`` varies the date so rows are distinct."""
    values = {
        "village_code": VILLAGE,
        "need_type": "N22",
        "severity": "4",
        "people_affected": "120",
        "source": "survey",
        "identified_on": f"2018-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}",
        "surveyor": "张晓梅",
        "note": "",
    }
    values.update(changes)
    return [values[k] for k in HEADER]


# ---------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def unclosed_quote_csv(path: Path) -> Path:
    """Line 3's note opens a quote that never closes: lenient readers swallow lines 3-5 into one cell."""
    lines = [
        ",".join(HEADER),
        ",".join(need_row(1)),
        ",".join(need_row(2)[:-1]) + ',"备注没有结束',
        ",".join(need_row(3)),
        ",".join(need_row(4)),
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def mixed_encoding_csv(path: Path) -> Path:
    """Lines 1-2 in UTF-8, line 3 in GB18030 (two files pasted together).

    The UTF-8 bytes of 王芳 happen to be valid GB18030 (鐜嬭姵), so the whole file decodes as
    GB18030 without an error: a reader that decides per file stores mojibake.
    """
    assert "王芳".encode().decode("gb18030") == "鐜嬭姵"
    head = csv_bytes([need_row(1, surveyor="王芳")])
    tail = (",".join(need_row(2, surveyor="李国强")) + "\r\n").encode("gb18030")
    path.write_bytes(head + tail)
    return path


def long_field_csv(path: Path, chars: int) -> Path:
    """Row 3 has a note of ``chars`` characters."""
    path.write_bytes(csv_bytes([need_row(1), need_row(2, note="长" * chars)]))
    return path


def xlsx_named_csv(path: Path) -> Path:
    """A real workbook with a .csv name."""
    tmp = path.with_suffix(".tmp.xlsx")
    needs_xlsx(tmp, [need_row(1)])
    path.write_bytes(tmp.read_bytes())
    tmp.unlink()
    return path


# ---------------------------------------------------------------------------
# XLSX
# ---------------------------------------------------------------------------


def needs_xlsx(path: Path, rows: list[list[str]], *, extra_sheets: int = 0, title: str = "needs") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    for i in range(extra_sheets):
        wb.create_sheet(f"notes-{i}")
    wb.save(path)
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_members(path: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


def _with_base(path: Path, rows: list[list[str]] | None = None) -> dict[str, bytes]:
    base = needs_xlsx(path.with_suffix(".base.xlsx"), rows or [need_row(1), need_row(2)])
    parts = members(base)
    base.unlink()
    return parts


def stale_dimension_xlsx(path: Path, rows: int = 5) -> Path:
    """Five data rows, but ``<dimension>`` claims the sheet ends at row 2."""
    parts = _with_base(path, [need_row(i) for i in range(rows)])
    sheet = parts[SHEET]
    old = f'<dimension ref="A1:H{rows + 1}" />'.encode()
    assert old in sheet, sheet[:300]
    parts[SHEET] = sheet.replace(old, b'<dimension ref="A1:H2" />')
    return write_members(path, parts)


def _doctype(xml: bytes, doctype: bytes) -> bytes:
    if not xml.startswith(b"<?xml"):
        return doctype + xml
    decl, _, rest = xml.partition(b"?>")
    return decl + b"?>" + doctype + rest


def xxe_xlsx(path: Path) -> Path:
    """The sheet declares an external entity (a local file) and uses it in a cell."""
    parts = _with_base(path)
    dtd = b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    sheet = _doctype(parts[SHEET], dtd)
    parts[SHEET] = sheet.replace("张晓梅".encode(), b"&xxe;", 1)
    return write_members(path, parts)


def billion_laughs_xlsx(path: Path) -> Path:
    """Ten levels of ten entities each: 10^9 "lol"s from a few hundred bytes."""
    parts = _with_base(path)
    ents = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)
    ]
    dtd = b"<!DOCTYPE worksheet [" + b"".join(ents) + b"]>"
    sheet = _doctype(parts[SHEET], dtd)
    parts[SHEET] = sheet.replace("张晓梅".encode(), b"&lol9;", 1)
    return write_members(path, parts)


def broken_sheet_xlsx(path: Path) -> Path:
    """The sheet's XML is cut off in the middle of the rows."""
    parts = _with_base(path, [need_row(i) for i in range(20)])
    sheet = parts[SHEET]
    parts[SHEET] = sheet[: len(sheet) * 2 // 3]
    return write_members(path, parts)


def macro_xlsx(path: Path) -> Path:
    """A macro-enabled workbook (content type and VBA project), under whatever name ``path`` has."""
    parts = _with_base(path)
    ct = parts["[Content_Types].xml"]
    main = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    assert main in ct
    ct = ct.replace(main, b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    ct = ct.replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>'
    )
    parts["[Content_Types].xml"] = ct
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(range(256)) * 8
    return write_members(path, parts)


def many_sheets_xlsx(path: Path, sheets: int) -> Path:
    return needs_xlsx(path, [need_row(1)], extra_sheets=sheets - 1)


def wide_rows_xlsx(path: Path, rows: int) -> Path:
    """Valid needs, each row also holding an empty text cell in the last column (XFD): 16,384 cells a row."""
    parts = _with_base(path, [need_row(i) for i in range(rows)])
    sheet = parts[SHEET]
    for r in range(2, rows + 2):
        end = b"</row>"
        at = sheet.index(b'<row r="%d"' % r)
        close = sheet.index(end, at)
        sheet = sheet[:close] + b'<c r="XFD%d" t="inlineStr"><is><t></t></is></c>' % r + sheet[close:]
    parts[SHEET] = sheet.replace(b'<dimension ref="A1:H', b'<dimension ref="A1:XFD')
    return write_members(path, parts)


def bomb_xlsx(path: Path, mebibytes: int) -> Path:
    """A workbook whose sheet holds one cell of ``mebibytes`` MiB of "A": about 1 KB per MiB on disk.

    The deflate stream is one compressed MiB block repeated (each ends with a full flush, so the
    blocks are independent): no need to compress a gigabyte to make one. The sizes and the CRC
    are true, so any ZIP reader inflates it completely.
    """
    parts = _with_base(path)
    sheet = parts[SHEET]
    cut = sheet.index(b"</sheetData>")
    n = sheet.count(b"<row ") + 1
    prefix = sheet[:cut] + b'<row r="%d"><c r="H%d" t="inlineStr"><is><t>' % (n, n)
    suffix = b"</t></is></c></row>" + sheet[cut:]
    chunk = b"A" * (1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = co.compress(prefix) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(suffix) + co.flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(mebibytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + mebibytes * len(chunk) + len(suffix)
    raw = [(name, zlib.compress(data, 9)[2:-4], zlib.crc32(data), len(data)) for name, data in parts.items()]
    raw = [r if r[0] != SHEET else (r[0], b"", crc, size) for r in raw]
    bomb = (head, block, mebibytes, tail)
    with path.open("wb") as out:
        _write_zip(out, raw, SHEET, bomb)
    return path


def _write_zip(
    out: io.BufferedWriter,
    parts: list[tuple[str, bytes, int, int]],
    bomb_name: str,
    bomb: tuple[bytes, bytes, int, bytes],
) -> None:
    """A minimal ZIP writer (deflate, no ZIP64) that can stream the bomb's repeated blocks."""
    central = b""
    for name, data, crc, size in parts:
        offset = out.tell()
        encoded = name.encode()
        if name == bomb_name:
            head, block, count, tail = bomb
            csize = len(head) + len(block) * count + len(tail)
        else:
            csize = len(data)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, csize, size, len(encoded), 0))
        out.write(encoded)
        if name == bomb_name:
            out.write(head)
            for _ in range(count):
                out.write(block)
            out.write(tail)
        else:
            out.write(data)
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                csize,
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + encoded
        )
    start = out.tell()
    out.write(central)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(parts), len(parts), len(central), start, 0))
