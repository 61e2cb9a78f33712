"""Writes: bearer token, same validation as `dcpa import`, all-or-nothing, visible at once, durable."""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kg.store import Store

from .conftest import TOKEN, load_fixture, make_settings

#: The importer validates with SHACL; a hang there must fail the test, not stall the suite.
pytestmark = pytest.mark.timeout(120)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NEED: dict[str, Any] = {
    "village_code": "210123203202",
    "need_type": "N41",
    "severity": 5,
    "people_affected": 30,
    "source": "survey",
    "source_title": "示例·村级需求调查",
    "identified_on": "2019-04-01",
    "surveyor": "示例·县图书馆",
}


@pytest.fixture()
def writer(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(api_token=TOKEN)


def needs_of(client: TestClient, code: str) -> list[dict[str, Any]]:
    needs: list[dict[str, Any]] = client.get(f"/api/villages/{code}").json()["needs"]
    return needs


def test_writes_are_off_without_a_configured_token(make_client: Callable[..., TestClient]) -> None:
    client = make_client(api_token=None)
    r = client.post("/api/needs", json=NEED, headers=AUTH)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert "DCPA_API_TOKEN" in r.json()["error"]["message"]
    assert needs_of(client, "210123203202") == []


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
def test_missing_or_wrong_token_is_401(writer: TestClient, headers: dict[str, str]) -> None:
    r = writer.post("/api/needs", json=NEED, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.json()["error"]["message"][:2] in ("写入", "令牌")  # Chinese first, as every message
    assert r.headers["www-authenticate"] == "Bearer"
    assert needs_of(writer, "210123203202") == []


def test_a_chinese_token_is_accepted_as_utf_8(make_client: Callable[..., TestClient]) -> None:
    """DCPA_API_TOKEN=令牌… could never be matched: the header's UTF-8 bytes were read as Latin-1 and encoded again
    as UTF-8 before the comparison; the bytes sent are now compared with the token's UTF-8 bytes."""
    token = "图书馆令牌-2026"
    client = make_client(api_token=token)
    r = client.post("/api/needs", params={"dry_run": "true"}, json=NEED,
                    headers={"Authorization": b"Bearer " + token.encode("utf-8")})
    assert r.status_code == 200, r.text
    wrong = client.post("/api/needs", params={"dry_run": "true"}, json=NEED,
                        headers={"Authorization": "Bearer 图书馆令牌-2025".encode()})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"


def test_a_need_is_written_and_visible_at_once(writer: TestClient) -> None:
    r = writer.post("/api/needs", json=NEED, headers={**AUTH, "X-DCPA-User": "%E5%BC%A0%E4%B8%89"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"] == "张三" and body["report"]["counts"]
    [need] = needs_of(writer, "210123203202")
    assert need["need_type"].endswith("N41") and need["severity"] == 5 and need["example"] is False
    # who and when are recorded with the batch
    rows = writer.get(
        "/sparql",
        params={
            "query": "SELECT ?who ?when WHERE { ?b a dcpa:ImportActivity ; dcpa:recordedBy ?who ; "
            "prov:endedAtTime ?when }"
        },
    ).json()["results"]["bindings"]
    assert [b["who"]["value"] for b in rows] == ["张三"]
    assert rows[0]["when"]["value"].startswith("20")


def test_an_invalid_record_is_422_with_issues_and_nothing_is_written(writer: TestClient) -> None:
    before = writer.get("/api/stats").json()["summary"]["triples"]
    good, bad = NEED, {**NEED, "village_code": "210123203201", "severity": 9, "need_type": "N99"}
    r = writer.post("/api/needs", json=[good, bad], headers=AUTH)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_failed"
    columns = {i["column"] for i in err["details"]}
    assert {"severity", "need_type"} <= columns
    assert writer.get("/api/stats").json()["summary"]["triples"] == before
    assert needs_of(writer, "210123203202") == []


def test_intervention_and_evaluation(writer: TestClient) -> None:
    intervention = {
        "id": "INT-API-1",
        "name_zh": "示例·六家子少儿数字阅读",
        "category": "C1",
        "provided_by": "L-210123",
        "target_areas": "210123203201",
        "uses_resources": "R-1",
        "status": "S2",
        "start_date": "2019-03-01",
        "budget": 8000,
        "source": "document",
    }
    r = writer.post("/api/interventions", json=intervention, headers=AUTH)
    assert r.status_code == 201, r.text
    assert writer.get("/api/interventions/INT-API-1").json()["label_zh"] == "示例·六家子少儿数字阅读"
    evaluation = {
        "intervention_id": "INT-API-1",
        "indicator": "I01",
        "area_code": "210123203201",
        "baseline_value": 0,
        "target_value": 50,
        "actual_value": 64,
        "period_start": "2019-01-01",
        "period_end": "2019-12-31",
        "source": "survey",
    }
    r = writer.post("/api/evaluations", json=[evaluation], headers=AUTH)
    assert r.status_code == 201, r.text
    evals = writer.get("/api/villages/210123203201").json()["evaluations"]
    assert [e["actual"] for e in evals] == [64]


def test_dry_run_writes_nothing(writer: TestClient) -> None:
    r = writer.post("/api/needs", params={"dry_run": "true"}, json=NEED, headers=AUTH)
    assert r.status_code == 200 and r.json()["dry_run"] is True
    assert needs_of(writer, "210123203202") == []


def test_import_file_upload(writer: TestClient) -> None:
    header = ",".join(NEED)
    row = ",".join(str(v) for v in NEED.values())
    data = ("\ufeff" + header + "\n" + row + "\n").encode("utf-8")
    r = writer.post("/api/imports", files={"files": ("needs.csv", data, "text/csv")}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert needs_of(writer, "210123203202")[0]["people_affected"] == 30
    bad = data.replace(b"N41", b"N99")
    r = writer.post("/api/imports", files={"files": ("needs-2.csv", bad, "text/csv")}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["file"] == "needs-2.csv"
    assert writer.post("/api/imports", files={"files": ("needs.csv", data, "text/csv")}).status_code == 401


def test_writes_survive_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token=TOKEN)
    store = load_fixture(Store.open(tmp_path / "store"))
    app = create_app(settings, store)
    with TestClient(app) as client:
        assert client.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
    store.close()  # the "restart": nothing of the first app may hold the store any more
    del store, app, client
    gc.collect()
    with TestClient(create_app(settings)) as client:  # opens settings.store_path from disk
        [need] = needs_of(client, "210123203202")
        assert need["need_type"].endswith("N41")


def _need_type_row(client: TestClient, area: str, code: str) -> list[str]:
    lines = client.get("/dashboard/data/need_type.csv", params={"area": area, "lang": "en"}).text.splitlines()
    return next((line.split(",") for line in lines if line.startswith(code + ",")), [])


def test_dashboards_show_a_write_at_once(writer: TestClient) -> None:
    """Dashboard tables are kept between requests, but never past a write."""
    before = _need_type_row(writer, "210123", "N41")
    assert before == _need_type_row(writer, "210123", "N41")  # the kept table
    assert writer.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
    after = _need_type_row(writer, "210123", "N41")
    needs_before = int(before[2]) if before else 0
    assert int(after[2]) == needs_before + 1  # columns: code, label, needs, gaps, …


def test_the_import_history_lists_writes_and_a_batch_is_withdrawn_with_the_token(writer: TestClient) -> None:
    first = writer.post("/api/needs", json=NEED, headers=AUTH).json()["report"]["batch_id"]
    second = writer.post("/api/needs", json={**NEED, "need_type": "N22"}, headers=AUTH).json()["report"]["batch_id"]
    listed = writer.get("/api/imports").json()
    assert [e["batch_id"] for e in listed] == [second, first]  # newest first
    assert listed[0]["state"] == "done" and listed[0]["can_withdraw"] and listed[0]["counts"] == {"needs": 1}
    assert [e["batch_id"] for e in writer.get("/api/imports", params={"limit": 1}).json()] == [second]

    url = f"/api/imports/{second}/withdraw"
    assert writer.post(url, json={"reason": "x"}).status_code == 401
    assert writer.post("/api/imports/no-such-batch/withdraw", headers=AUTH).status_code == 404
    dry = writer.post(url, params={"dry_run": "true"}, headers=AUTH)
    assert dry.status_code == 200 and dry.json()["dry_run"] and len(needs_of(writer, "210123203202")) == 2

    r = writer.post(url, json={"reason": "录错了类型"}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["report"]["counts"] == {"needs": 1}
    assert [n["need_type"].rsplit("/", 1)[1] for n in needs_of(writer, "210123203202")] == ["N41"]  # gone at once
    entry = writer.get("/api/imports").json()[0]
    assert (entry["state"], entry["withdrawal_reason"], entry["can_withdraw"]) == ("withdrawn", "录错了类型", False)
    again = writer.post(url, headers=AUTH)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


def test_a_record_list_and_its_search_see_every_write_at_once(writer: TestClient) -> None:
    """The record index is kept between writes (api.kept), never after one: a new, a renamed and a withdrawn record
    are listed and searched as they are now. A search matches every word, in any case."""
    def found(q: str) -> list[str]:
        return [r["id"] for r in writer.get("/api/interventions", params={"q": q, "limit": 500}).json()["items"]]

    total = writer.get("/api/interventions").json()["total"]
    assert found("六家子 少儿") == [] and found("digital READING") == []  # the index is read, and kept, here
    intervention = {"id": "INT-IDX-1", "name_zh": "示例·六家子少儿数字阅读", "name_en": "Children's Digital Reading",
                    "category": "C1", "provided_by": "L-210123", "target_areas": "210123203201", "status": "S2",
                    "start_date": "2019-03-01", "source": "document"}
    r = writer.post("/api/interventions", json=intervention, headers=AUTH)
    assert r.status_code == 201, r.text
    assert found("六家子 少儿") == ["INT-IDX-1"] and found("digital READING") == ["INT-IDX-1"]
    assert found("六家子 老年") == [] and writer.get("/api/interventions").json()["total"] == total + 1
    renamed = {**intervention, "name_zh": "示例·六家子老年智能手机培训", "name_en": "Smartphones for the elderly"}
    assert writer.put("/api/interventions/INT-IDX-1", json=renamed, headers=AUTH).status_code == 200
    assert found("少儿") == [] and found("六家子 老年") == ["INT-IDX-1"]
    other = {**intervention, "id": "INT-IDX-2", "name_zh": "示例·六家子远程教育", "name_en": "Distance learning"}
    r = writer.post("/api/interventions", json=other, headers=AUTH)
    assert r.status_code == 201 and found("远程教育") == ["INT-IDX-2"]
    withdrawn = writer.post(f"/api/imports/{r.json()['report']['batch_id']}/withdraw", json={"reason": "录重了"},
                            headers=AUTH)
    assert withdrawn.status_code == 200, withdrawn.text
    assert found("远程教育") == [] and writer.get("/api/interventions").json()["total"] == total + 1


def test_the_home_page_says_an_import_was_withdrawn_not_that_nothing_was_imported(writer: TestClient) -> None:
    batch = writer.post("/api/needs", json=NEED, headers=AUTH).json()["report"]["batch_id"]
    assert "1 import(s); the latest ended" in writer.get("/?lang=en").text
    assert writer.post(f"/api/imports/{batch}/withdraw", json={"reason": "x"}, headers=AUTH).status_code == 200
    en = writer.get("/?lang=en").text
    assert "Every import was withdrawn: 1 batch(es) withdrawn" in en and "Nothing imported" not in en
    zh = writer.get("/").text
    assert "导入的数据都已撤回：已撤回 1 批" in zh and "还没有通过 dcpa import 导入的数据" not in zh


def test_a_chinese_token_ending_in_a_character_whose_last_byte_reads_as_latin_1_space_is_accepted(
        make_client: Callable[..., TestClient]) -> None:
    """A token ending in 你, 内, 传, 清… (UTF-8 ending in byte 0xA0 or 0x85) was refused 401, sent right: read as
    Latin-1 the byte is a no-break space or a next-line character, which ``str.strip`` took off the token."""
    for token in ("图书馆令牌你", "令牌传"):
        client = make_client(api_token=token)
        r = client.post("/api/needs", params={"dry_run": "true"}, json=NEED,
                        headers={"Authorization": b"Bearer " + token.encode("utf-8")})
        assert r.status_code == 200, (token, r.text)


def test_every_uploaded_file_is_imported_whatever_their_names(writer: TestClient) -> None:
    """Two files of one name are kept apart by a number, "2-needs.csv" for the third; a first file already named
    so was overwritten by it, and its rows were silently not imported (the third file's were, twice)."""
    def csv(need_type: str, people: int) -> bytes:
        record = {**NEED, "need_type": need_type, "people_affected": people}
        return (",".join(record) + "\n" + ",".join(str(v) for v in record.values()) + "\n").encode("utf-8")

    sent = [("2-needs.csv", "N41", 30), ("needs.csv", "N22", 40), ("needs.csv", "N31", 50)]
    files = [("files", (name, csv(kind, people), "text/csv")) for name, kind, people in sent]
    r = writer.post("/api/imports", files=files, headers=AUTH)
    assert r.status_code == 201, r.text
    found = sorted((n["need_type"].rsplit("/", 1)[-1], n["people_affected"]) for n in needs_of(writer, "210123203202"))
    assert found == [("N22", 40), ("N31", 50), ("N41", 30)]


def test_an_upload_past_the_size_limit_is_refused_as_the_library_refuses_a_file(
        make_client: Callable[..., TestClient], zh_first: Callable[..., None]) -> None:
    """The upload said "needs.csv is larger than 1048576 bytes" in English alone, where the library (dcpa import, a
    file on the server) names the file in the located problem list, Chinese first; both now say it alike."""
    client = make_client(api_token=TOKEN, max_import_bytes=1 << 20)
    r = client.post("/api/imports", files={"files": ("needs.csv", b"x" * (1 << 20) + b"\n", "text/csv")}, headers=AUTH)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_failed" and error["details"][0]["file"] == "needs.csv"
    zh_first(error["details"][0]["message"], "file too large (more than 1.0 MiB), not read")
    zh_first(error["details"][0]["hint"], "raise DCPA_MAX_IMPORT_BYTES")


def test_an_uploaded_file_keeps_its_name_in_the_problems_and_the_history(writer: TestClient) -> None:
    """The data page named a problem of 康平县 需求（2026）.csv, and its batch in the history, 康平县_需求_2026_.csv:
    the name of the temporary copy, which the steward finds nowhere on their disk (dcpa import said the name
    given)."""
    name = "康平县 需求（2026）.csv"
    header = ",".join(NEED)
    row = ",".join(str(v) for v in NEED.values())
    data = (header + "\n" + row + "\n").encode("utf-8")
    r = writer.post("/api/imports", files={"files": (name, data.replace(b"N41", b"N99"), "text/csv")}, headers=AUTH)
    assert r.status_code == 422
    assert [d["file"] for d in r.json()["error"]["details"]] == [name]
    r = writer.post("/api/imports", files={"files": (name, data, "text/csv")}, headers=AUTH)
    assert r.status_code == 201, r.text
    assert writer.get("/api/imports").json()[0]["files"] == [name]
    assert name in writer.get("/data").text
