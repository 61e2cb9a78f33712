"""PUT replaces one record: bearer token, same validation as imports, all-or-nothing, visible at once, durable."""

from __future__ import annotations

import gc
import io
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
VILLAGE = "210123203200"
#: The new version of the fixture's synthetic need N-1 (severity 4 → 2).
NEED: dict[str, Any] = {
    "village_code": VILLAGE,
    "need_type": "N22",
    "severity": 2,
    "people_affected": 120,
    "source": "survey",
    "source_title": "示例·复核调查",
    "identified_on": "2018-05-12",
    "surveyor": "示例·县图书馆",
}
INTERVENTION: dict[str, Any] = {
    "name_zh": "示例·北四家子电子阅览（复核）",
    "category": "C2",
    "provided_by": "L-210123",
    "target_areas": VILLAGE,
    "uses_resources": ["R-1"],
    "status": "S3",
    "start_date": "2018-03-01",
    "end_date": "2019-12-31",
    "budget": 52000,
    "source": "document",
}
EVALUATION: dict[str, Any] = {
    "intervention_id": "INT-1",
    "indicator": "I01",
    "area_code": VILLAGE,
    "baseline_value": 10,
    "target_value": 100,
    "actual_value": 130,
    "period_start": "2018-01-01",
    "period_end": "2018-12-31",
    "source": "survey",
}


def dump(store: Store) -> bytes:
    """The whole store as sorted N-Quads: equal bytes, equal store."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    return b"\n".join(sorted(buf.getvalue().splitlines()))


def need(client: TestClient, need_id: str = "N-1") -> dict[str, Any]:
    [found] = [n for n in client.get(f"/api/villages/{VILLAGE}").json()["needs"] if n["id"] == need_id]
    return found


@pytest.fixture()
def store() -> Store:
    return load_fixture(Store.memory())


@pytest.fixture()
def writer(make_client: Callable[..., TestClient], store: Store) -> TestClient:
    return make_client(store, api_token=TOKEN)


def test_writes_off_without_a_token(make_client: Callable[..., TestClient], store: Store) -> None:
    client = make_client(store, api_token=None)
    before = dump(store)
    r = client.put("/api/needs/N-1", json=NEED, headers=AUTH)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert dump(store) == before


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}])
def test_missing_or_wrong_token_is_401(writer: TestClient, store: Store, headers: dict[str, str]) -> None:
    before = dump(store)
    r = writer.put("/api/needs/N-1", json=NEED, headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert dump(store) == before
    assert need(writer)["severity"] == 4


def test_a_need_is_replaced_and_visible_at_once(writer: TestClient) -> None:
    assert need(writer)["severity"] == 4
    r = writer.put("/api/needs/N-1", json=NEED, headers={**AUTH, "X-DCPA-User": "%E5%BC%A0%E4%B8%89"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "N-1" and body["user"] == "张三" and body["report"]["replaced"].endswith("/need/N-1")
    n = need(writer)
    assert n["severity"] == 2 and n["example"] is False
    rows = writer.get(
        "/sparql",
        params={
            "query": "SELECT ?who WHERE { ?a prov:invalidated <https://w3id.org/dcpa/id/need/N-1> ; "
            "dcpa:recordedBy ?who ; prov:endedAtTime ?when }"
        },
    ).json()["results"]["bindings"]
    assert [b["who"]["value"] for b in rows] == ["张三"]


def test_intervention_and_evaluation_are_replaced(writer: TestClient) -> None:
    r = writer.put("/api/interventions/INT-1", json=INTERVENTION, headers=AUTH)
    assert r.status_code == 200, r.text
    got = writer.get("/api/interventions/INT-1").json()
    assert got["label_zh"] == "示例·北四家子电子阅览（复核）"
    assert got["properties"]["interventionStatus"]["iri"].endswith("S3")
    r = writer.put("/api/evaluations/E-1", json=EVALUATION, headers=AUTH)
    assert r.status_code == 200, r.text
    assert writer.get("/api/evaluations/E-1").json()["properties"]["actualValue"] == 130


def test_unknown_id_is_404_in_the_error_shape(writer: TestClient, store: Store) -> None:
    before = dump(store)
    for path in ("/api/needs/N-404", "/api/interventions/INT-404", "/api/evaluations/N-1"):
        r = writer.put(path, json=NEED, headers=AUTH)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found" and r.json()["error"]["message"]
    assert dump(store) == before


def test_invalid_data_is_422_with_issues_and_the_store_unchanged(writer: TestClient, store: Store) -> None:
    before = dump(store)
    r = writer.put("/api/needs/N-1", json={**NEED, "severity": 9, "need_type": "N99"}, headers=AUTH)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "validation_failed"
    assert {"severity", "need_type"} <= {i["column"] for i in err["details"]}
    r = writer.put("/api/interventions/INT-1", json={**INTERVENTION, "id": "INT-2"}, headers=AUTH)
    assert r.status_code == 422 and [i["column"] for i in r.json()["error"]["details"]] == ["id"]
    assert writer.put("/api/needs/N-1", json=[NEED], headers=AUTH).status_code == 422
    assert dump(store) == before
    assert need(writer)["severity"] == 4


def test_dry_run_writes_nothing(writer: TestClient, store: Store) -> None:
    before = dump(store)
    r = writer.put("/api/needs/N-1", params={"dry_run": "true"}, json=NEED, headers=AUTH)
    assert r.status_code == 200 and r.json()["dry_run"] is True
    assert dump(store) == before


def test_a_replacement_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_token=TOKEN)
    store = load_fixture(Store.open(tmp_path / "store"))
    app = create_app(settings, store)
    with TestClient(app) as client:
        assert client.put("/api/needs/N-1", json=NEED, headers=AUTH).status_code == 200
    store.close()  # the "restart": nothing of the first app may hold the store any more
    del store, app, client
    gc.collect()
    with TestClient(create_app(settings)) as client:  # opens settings.store_path from disk
        assert need(client)["severity"] == 2


def test_an_interview_is_added_then_corrected_and_a_need_rests_on_it(writer: TestClient) -> None:
    interview = {"id": "ITV-API-1", "interviewee_role": "村民", "interviewed_on": "2019-04-02",
                 "place_code": VILLAGE, "interviewer": "示例·调研组", "consent": "CO2", "anonymisation": "AN1"}
    r = writer.post("/api/interviews", json=interview, headers=AUTH)
    assert r.status_code == 201, r.text
    r = writer.post("/api/needs", json={**NEED, "need_type": "N41", "source": None, "interview": "ITV-API-1",
                                        "quote": "想让孩子在村里也能借到书。"}, headers=AUTH)
    assert r.status_code == 201, r.text
    r = writer.put("/api/interviews/ITV-API-1", json={**interview, "interviewee_role": "IR5"}, headers=AUTH)
    assert r.status_code == 200, r.text
    rows = writer.get("/sparql", params={"query": """SELECT ?role ?text WHERE {
        ?q dcpa:quoteText ?text ; prov:wasQuotedFrom ?i . ?i dcpa:intervieweeRole ?role }"""}).json()
    assert [(b["role"]["value"].rsplit("/", 1)[-1], b["text"]["value"]) for b in rows["results"]["bindings"]] == [
        ("IR5", "想让孩子在村里也能借到书。")]
    r = writer.post("/api/interviews", json={**interview, "id": "ITV-API-2", "consent": None}, headers=AUTH)
    assert r.status_code == 422 and "consent" in r.text.lower()
