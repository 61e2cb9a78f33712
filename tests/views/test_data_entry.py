"""The data entry page (/data): the template, the upload form, the import history with withdrawal, escaped."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from fastapi.testclient import TestClient

from kg.importer import RECORD_KINDS
from kg.settings import Settings

from .conftest import AS_OF, MALICIOUS, fixture_store
from .test_render import EXTERNAL

TOKEN = "data-page-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEED: dict[str, Any] = {
    "village_code": "211322101200",
    "need_type": "N22",
    "severity": 4,
    "people_affected": 60,
    "source": "survey",
    "identified_on": "2019-05-12",
    "surveyor": "示例·县图书馆",
}


@pytest.fixture()
def writer(tmp_path: Path) -> Iterator[TestClient]:
    from api.app import create_app

    settings = Settings(api_token=TOKEN, as_of=AS_OF, imports_path=tmp_path / "imports",
                        store_path=tmp_path / "store")
    with TestClient(create_app(settings, fixture_store())) as c:
        yield c


def test_the_page_offers_the_template_and_the_upload_form_in_both_languages(writer: TestClient) -> None:
    zh = writer.get("/data").text
    assert 'id="dcpa-upload"' in zh and 'href="/data/dcpa-template.xlsx"' in zh
    assert "还没有导入过数据" in zh and "dcpa-writes-off" not in zh
    assert '<script src="/static/js/data-entry.js?v=' in zh and not EXTERNAL.search(zh)
    assert all(spec.zh in zh for spec in RECORD_KINDS.values())
    en = writer.get("/data?lang=en").text
    assert "Nothing imported yet" in en and "Check (writes nothing)" in en
    assert all(spec.en in en for spec in RECORD_KINDS.values())
    assert writer.get("/static/js/data-entry.js").status_code == 200


def test_the_file_picker_offers_every_kind_of_file_the_import_reads(writer: TestClient) -> None:
    # the picker took .xlsx and .csv alone: Excel's "Unicode text" (UTF-16, tab-separated), which dcpa import reads,
    # is saved as .txt and was hidden from the steward, as a .tsv was
    for lang in ("zh", "en"):
        html = writer.get("/data", params={"lang": lang}).text
        accept = html.split('id="dcpa-files" accept="', 1)[1].split('"', 1)[0]
        assert set(accept.split(",")) == {".xlsx", ".csv", ".txt", ".tsv"}
    assert "Unicode 文本" in writer.get("/data").text


def test_with_writes_off_the_page_says_so_and_offers_no_upload(client: TestClient) -> None:
    html = client.get("/data").text
    assert 'id="dcpa-writes-off"' in html and "DCPA_API_TOKEN" in html
    assert 'id="dcpa-files" accept=".csv,.tsv,.txt,.xlsx" multiple required disabled' in html


def test_the_template_is_the_workbook_of_dcpa_template(writer: TestClient) -> None:
    r = writer.get("/data/dcpa-template.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    names = " ".join(book.sheetnames)
    assert all(kind in names for kind in RECORD_KINDS)


def test_the_history_shows_imports_and_withdrawals_and_escapes_them(writer: TestClient) -> None:
    r = writer.post("/api/needs", json=NEED, headers={**AUTH, "X-DCPA-User": quote(MALICIOUS)})
    assert r.status_code == 201, r.text
    batch = r.json()["report"]["batch_id"]
    html = writer.get("/data").text
    assert f'<tr data-batch="{batch}" data-state="done">' in html
    assert f'<form class="dcpa-withdraw" data-batch="{batch}">' in html
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html

    r = writer.post(f"/api/imports/{batch}/withdraw", json={"reason": MALICIOUS}, headers=AUTH)
    assert r.status_code == 200, r.text
    html = writer.get("/data?lang=en").text
    assert f'<tr data-batch="{batch}" data-state="withdrawn">' in html and "withdrawn" in html
    assert f'<form class="dcpa-withdraw" data-batch="{batch}">' not in html
    assert "<img src=x" not in html and html.count("&lt;img src=x onerror=alert(2)&gt;") == 2  # who, and why


def test_the_imported_records_download_as_the_template_and_leave_example_data_out(writer: TestClient) -> None:
    assert 'href="/data/dcpa-records.xlsx"' in writer.get("/data").text
    empty = openpyxl.load_workbook(io.BytesIO(writer.get("/data/dcpa-records.xlsx").content), read_only=True)
    assert all(empty[kind].max_row == 1 for kind in RECORD_KINDS)  # the fixture is example data: no rows at all
    r = writer.post("/api/needs", json=NEED, headers=AUTH)
    assert r.status_code == 201, r.text
    r = writer.get("/data/dcpa-records.xlsx")
    assert r.status_code == 200 and f'filename="dcpa-records-{date.today()}.xlsx"' in r.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.content), read_only=True)
    rows = list(book["needs"].iter_rows(values_only=True))
    keys = [c.key for c in RECORD_KINDS["needs"].columns]
    assert len(rows) == 2 and dict(zip(keys, rows[1], strict=True))["village_code"] == NEED["village_code"]
    assert dict(zip(keys, rows[1], strict=True))["surveyor"] == NEED["surveyor"]
    # the day a need was identified is a date cell, which a spreadsheet sorts and filters (it was text)
    cell = openpyxl.load_workbook(io.BytesIO(r.content))["needs"].cell(2, keys.index("identified_on") + 1)
    assert cell.is_date and cell.number_format == "yyyy-mm-dd"
    assert cell.value.date().isoformat() == NEED["identified_on"]
    # its severity and people affected are numbers a spreadsheet sums (they were text: "number stored as text")
    row = dict(zip(keys, rows[1], strict=True))
    assert (row["severity"], row["people_affected"]) == (NEED["severity"], NEED["people_affected"])
