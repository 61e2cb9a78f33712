"""kg.safetext: what entered text may hold, how the CLI shows it, how CSV cells are neutralised."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal

import pytest

from kg.safetext import (
    DownloadName,
    csv_text,
    download_name,
    first_refused,
    for_terminal,
    from_spreadsheet_cell,
    json_for_terminal,
    spreadsheet_cell,
    text_problem,
)


@pytest.mark.parametrize(
    "text",
    ["张晓梅", "line one\nline two", "a\tb\r\n", "Ünïcödé ça", "emoji 👍🏽 and ZWJ 👨\u200d👩", "٣ arabic digits"],
)
def test_ordinary_text_is_accepted(text: str) -> None:
    assert first_refused(text) is None and text_problem(text) is None


@pytest.mark.parametrize(
    ("text", "position", "char"),
    [
        ("ab\x00", 2, "\x00"),
        ("\x1b[31m", 0, "\x1b"),
        ("x\x7f", 1, "\x7f"),
        ("x\x9b", 1, "\x9b"),  # C1 CSI: a terminal escape in one character
        ("abc\u202edef", 3, "\u202e"),
        ("\u2066x", 0, "\u2066"),
        ("x\u200f", 1, "\u200f"),
        ("\ud800", 0, "\ud800"),
        ("x\uffff", 1, "\uffff"),
        ("x\ufdd0", 1, "\ufdd0"),
    ],
)
def test_controls_bidi_surrogates_and_noncharacters_are_found(text: str, position: int, char: str) -> None:
    assert first_refused(text) == (position, char)
    problem = text_problem(text)
    assert problem is not None
    message, hint = problem
    assert f"U+{ord(char):04X}" in message and f"at character {position + 1}" in message and hint


def test_too_long_is_refused_with_the_length() -> None:
    problem = text_problem("x" * 32768)
    assert problem is not None and "32768 characters; at most 32767" in problem[0]
    assert text_problem("x" * 32767) is None
    assert text_problem("x" * 50_000, None) is None


def test_terminal_escapes_are_visible_and_readable() -> None:
    assert for_terminal("a\u202eb\x1b[0m\x00") == "a\\u202eb\\x1b[0m\\x00"
    assert for_terminal("a\nb\tc") == "a\nb\tc"
    assert for_terminal("a\nb\tc", keep_newlines=False) == "a\\nb\\tc"


def test_json_for_terminal_is_lossless() -> None:
    data = {"label": "示例\u202e\x1b[2J", "n": 3, "list": ["\u2066", "ok"]}
    text = json_for_terminal(data, indent=2)
    assert first_refused(text.replace("\n", "")) is None
    assert json.loads(text) == data
    assert "示例" in text  # Chinese stays readable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-", "'-"),
        ("-3", "-3"),  # text that is a plain number reads as that number, not a formula
        ("+1.5", "+1.5"),
        ("-2e3", "-2e3"),
        ("-1_000", "'-1_000"),
        ("-inf", "'-inf"),
        ("张=1", "张=1"),
        ("'=1", "''=1"),  # a ' typed before a formula: escaped too, so that reading it back is exact
        ("''+a", "'" + "''+a"),
        ("''+1", "''+1"),  # a number after the quotes: nothing to escape
        ("'-3", "'-3"),
        (" =1", " =1"),
        (-5, -5),
        (Decimal("-1.25"), Decimal("-1.25")),
        (None, None),
    ],
)
def test_spreadsheet_cell(value: object, expected: object) -> None:
    assert spreadsheet_cell(value) == expected
    assert from_spreadsheet_cell(expected) == value  # an import reads back what was exported


@pytest.mark.parametrize("typed", ["'hello", "'3", "'-3", "it's", "''", "'"])
def test_a_quote_that_is_not_the_escape_is_kept(typed: str) -> None:
    assert from_spreadsheet_cell(typed) == typed


def test_a_download_name_is_safe_for_windows_with_an_ascii_twin() -> None:
    got = download_name("plan", "xlsx", code="2101", name='沈阳/市:*?"<>|\t a', details=[None, "", "5000"],
                        day=date(2020, 6, 30))
    assert got == DownloadName("plan-2101-沈阳_市_a-5000-2020-06-30.xlsx", "plan-2101-5000-2020-06-30.xlsx")
    assert download_name("con", "csv").name == "con_.csv"  # a name Windows keeps for a device cannot be saved


def test_csv_text_escapes_header_and_cells_and_stays_csv() -> None:
    text = csv_text(["=a", "b"], [['=HYPERLINK("x","y")', -1], ['ok,"quoted"', "@x"]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["'=a", "b"], ['\'=HYPERLINK("x","y")', "-1"], ['ok,"quoted"', "'@x"]]
