"""Text that may not be stored is refused on the JSON and CLI entry paths, located, with nothing written.

NUL, escape sequences, C1 controls, bidi overrides, lone surrogates and over-long values in API
records (POST and PUT), in field names and in author names (`--user`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from kg.cli import app as cli
from kg.store import Store

from . import hostile as h
from .conftest import AUTH, disk_nquads, kept_files, load_fixture, make_settings, nquads

pytestmark = pytest.mark.timeout(120)

NEED: dict[str, Any] = {
    "village_code": h.VILLAGE,
    "need_type": "N41",
    "severity": 5,
    "people_affected": 30,
    "source": "survey",
    "identified_on": "2019-04-01",
    "surveyor": "示例·县图书馆",
}


@pytest.fixture
def client(tmp_path: Path) -> tuple[TestClient, Store, Path]:
    store = load_fixture(Store.memory())
    return TestClient(create_app(make_settings(tmp_path), store)), store, tmp_path / "imports"


@pytest.mark.parametrize(
    ("field", "value", "says", "shown"),
    [
        ("surveyor", "县\u202e馆", "U+202E RIGHT-TO-LEFT OVERRIDE at character 2", "县\\u202e馆"),
        ("surveyor", "a\x00b", "U+0000 NULL at character 2", "a\\x00b"),
        ("surveyor", "\x1b]0;owned\x07县馆", "U+001B ESCAPE at character 1", "\\x1b]0;owned\\x07县馆"),
        ("surveyor", "县\x9b31m馆", "U+009B", "县\\x9b31m馆"),
        ("surveyor", "县\u2067馆", "U+2067 RIGHT-TO-LEFT ISOLATE", "县\\u2067馆"),
        ("surveyor", "县\ufffe馆", "noncharacter U+FFFE", "县\\ufffe馆"),
        ("note", "长" * 40_000, "value too long (40000 characters; at most 32767)", "长" * 100 + "…"),
    ],
    ids=["bidi-override", "nul", "escape", "c1-csi", "bidi-isolate", "noncharacter", "too-long"],
)
def test_a_hostile_value_in_a_posted_record_is_422_located(client, field: str, value: str, says: str, shown: str):
    c, store, imports = client
    before = nquads(store)
    r = c.post("/api/needs", json=[NEED, {**NEED, "identified_on": "2019-04-02", field: value}], headers=AUTH)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "validation_failed"
    [issue] = error["details"]
    assert says in issue["message"]
    assert (issue["sheet"], issue["row"], issue["column"], issue["value"]) == ("needs", 2, field, shown)
    assert issue["hint"]
    assert nquads(store) == before and kept_files(imports) == []


def test_a_lone_surrogate_is_422_not_a_crash(client):
    c, store, imports = client
    before = nquads(store)
    body = (
        json.dumps(NEED, ensure_ascii=False).replace("示例·县图书馆", "\\ud800").encode()
    )  # valid JSON, not encodable text
    r = c.post("/api/needs", content=body, headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    [issue] = r.json()["error"]["details"]
    assert "unpaired surrogate U+D800" in issue["message"] and issue["column"] == "surveyor"
    assert nquads(store) == before and kept_files(imports) == []


def test_a_hostile_field_name_is_422(client):
    c, store, _ = client
    before = nquads(store)
    r = c.post("/api/needs", json={**NEED, "note\u202e": "x"}, headers=AUTH)
    assert r.status_code == 422
    messages = [i["message"] for i in r.json()["error"]["details"]]
    assert any("field name" in m and "U+202E" in m for m in messages), messages
    assert all("\u202e" not in (i["column"] or "") for i in r.json()["error"]["details"])
    assert nquads(store) == before


def test_a_hostile_replacement_is_422_and_the_record_unchanged(client):
    c, store, imports = client
    before = nquads(store)
    record = {
        "village_code": "210123203200",
        "need_type": "N22",
        "severity": 2,
        "people_affected": 120,
        "source": "survey",
        "identified_on": "2018-05-12",
        "surveyor": "示例\u202e·县图书馆",
    }
    r = c.put("/api/needs/N-1", json=record, headers=AUTH)
    assert r.status_code == 422, r.text
    [issue] = r.json()["error"]["details"]
    assert "U+202E" in issue["message"] and issue["column"] == "surveyor"
    assert nquads(store) == before and kept_files(imports) == []


runner = CliRunner()


@pytest.mark.parametrize("user", ["张\u202e三", "张三\x1b[8m"], ids=["bidi", "escape"])
def test_cli_refuses_a_hostile_user_name(disk_env: Path, tmp_path: Path, user: str):
    before = disk_nquads(disk_env)
    path = tmp_path / "needs.csv"
    path.write_bytes(h.csv_bytes([h.need_row(1)]))
    res = runner.invoke(cli, ["import", str(path), "--user", user])
    assert res.exit_code == 1, res.output
    assert "user name" in res.stderr and "column user" in res.stderr
    assert "\u202e" not in res.stderr and "\x1b" not in res.stderr
    assert disk_nquads(disk_env) == before
    assert kept_files(disk_env / "imports") == []
