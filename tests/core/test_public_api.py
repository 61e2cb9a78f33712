"""The deliberate public API: ``__all__`` names exactly what exists."""

from __future__ import annotations

import kg
from kg.errors import DcpaError, Issue, NotFound, ValidationFailed


def test_all_names_exist() -> None:
    for name in kg.__all__:
        assert hasattr(kg, name), name


def test_public_names_are_listed() -> None:
    public = {n for n in vars(kg) if not n.startswith("_") and n[0].isupper()}
    assert public <= set(kg.__all__)


def test_one_error_shape() -> None:
    e = NotFound("no village 210000000000", hint="check the code")
    assert e.to_dict() == {
        "error": {"code": "not_found", "message": "no village 210000000000", "hint": "check the code", "details": None}
    }
    assert e.exit_code == 2 and isinstance(e, DcpaError)


def test_validation_failed_lists_every_issue_with_its_place() -> None:
    issues = [
        Issue("unknown village code", file="needs.csv", row=3, column="village_code", value="999"),
        Issue("bad date", file="needs.csv", row=4, column="date", value="2018-13-01", hint="use YYYY-MM-DD"),
    ]
    e = ValidationFailed(issues)
    assert e.exit_code == 1
    assert [d["row"] for d in e.to_dict()["error"]["details"]] == [3, 4]
    assert str(issues[1]) == "needs.csv, row 4, column date: bad date (value: '2018-13-01') — use YYYY-MM-DD"
