"""The one reader of q-values (api.qvalues), for Accept and Accept-Encoding alike."""

from __future__ import annotations

import pytest

from api.qvalues import weighted


@pytest.mark.parametrize("header,expected", [
    ("text/csv;q=0.5, */*", [("text/csv", 0.5), ("*/*", 1.0)]),
    ("gzip ; q = 0 , br", [("gzip", 0.0), ("br", 1.0)]),  # spaces around ";" (the grammar's) and "=" (not)
    ("Text/CSV;Q=0.25", [("text/csv", 0.25)]),  # names and the parameter's name in any case
    ("a/b;q=0.0001, c/d;q=.5", [("a/b", 0.0001), ("c/d", 0.5)]),  # numbers out of the grammar: their value
    ("a/b;q=2, c/d;q=-1, e/f;q=nan, g/h;q=high, i/j;q=", [("a/b", 1.0), ("c/d", 0.0), ("e/f", 0.0), ("g/h", 0.0),
                                                         ("i/j", 0.0)]),
    ('text/html;title="a, b; q=0";q=0.3, x/y', [("text/html", 0.3), ("x/y", 1.0)]),  # a quoted string splits nothing
    ("text/html;level=1;q=0.2;q=0.9", [("text/html", 0.2)]),  # the name alone; the first weight, what follows is ext
    (" , ,gzip", [("gzip", 1.0)]),
    ("", []),
])
def test_weighted(header: str, expected: list[tuple[str, float]]) -> None:
    assert weighted(header) == expected
