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
    assert str(issues[1]).endswith(" / needs.csv, row 4, column date: bad date (value: '2018-13-01') — use YYYY-MM-DD")
    assert str(issues[1]).startswith("needs.csv，第 4 行，“date”列：")


def test_an_unexpected_crash_still_answers_in_the_error_shape() -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from kg.store import Store

    app = create_app(store=Store.memory())

    @app.get("/boom")
    def boom() -> None:
        raise ZeroDivisionError("internal detail")

    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["message"] == "服务器出现意外错误 / an unexpected error occurred"  # Chinese first, as all
    assert "internal detail" not in response.text
    page = client.get("/boom", headers={"Accept": "text/html"})  # a browser: a page, just as silent
    assert page.status_code == 500 and "<h1>服务器出错</h1>" in page.text and "internal detail" not in page.text
