"""Every answer computed for a request runs in a query worker, where its deadline can stop it: the
same answers as in-process, counted by the pool, a slow one stopped with 503 and its worker killed,
and no answer predating a write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from api.app import create_app
from api.deps import Answers
from api.testing import LiveServer, run_async
from kg.errors import QueryTimeout
from kg.procs import alive
from kg.store import Store
from kg.workers import ThreadRunner, WorkerPool

from .conftest import TOKEN, load_fixture, make_settings
from .test_sparql_workers import HOSTILE_COUNT, VILLAGE, at_rest
from .test_writes import AUTH, NEED

pytestmark = pytest.mark.timeout(300)

COUNTY = VILLAGE[:6]
#: (method, path, JSON body): every route that computes an answer from the store.
ANSWERS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/gaps?area=21", None),
    ("GET", f"/api/gaps?area={COUNTY}&by=need_type", None),
    ("GET", "/api/villages?q=2101", None),
    ("GET", f"/api/villages/{VILLAGE}", None),
    ("GET", f"/api/villages/{VILLAGE}?format=jsonld", None),
    ("GET", f"/api/villages/{VILLAGE}/recommendations", None),
    ("GET", f"/api/areas/{COUNTY}/recommendations", None),
    ("GET", f"/api/villages/{VILLAGE}/similar", None),
    ("POST", "/api/plans", {"budget": 10000, "area": COUNTY}),
    ("GET", f"/api/queries/needs_of_village?village={VILLAGE}", None),
    ("GET", "/api/stats", None),
    ("GET", "/api/policies", None),
    ("GET", "/api/policies?format=jsonld", None),
    ("GET", "/api/policies/P02", None),
    ("GET", "/dashboard?area=21", None),
    ("GET", f"/dashboard/data/need_type.csv?area={COUNTY}", None),
    ("GET", f"/dashboard/village/{VILLAGE}", None),
    ("GET", f"/views/village/{VILLAGE}", None),
    ("GET", f"/views/area/{COUNTY}", None),
    ("GET", "/views/policy/P02", None),
    ("GET", f"/views/node.json?iri=https://w3id.org/dcpa/id/area/{VILLAGE}", None),
    ("GET", "/api/villages/999999999999", None),  # an error is answered by the worker too
]


@contextmanager
def pooled(tmp_path: Path, **overrides: Any) -> Iterator[tuple[httpx.Client, WorkerPool, TestClient]]:
    """A live server over an on-disk fixture store, whose answers run in worker processes; and a
    client of the same app over the same store that answers in its own threads (the control)."""
    store = load_fixture(Store.open(tmp_path / "store"))
    settings = make_settings(tmp_path, api_token=TOKEN, **overrides)
    app = create_app(settings, store)
    pool = app.state.query_runner
    assert isinstance(pool, WorkerPool)
    pool.start(wait=60)
    control = create_app(settings, store)
    control.state.query_runner = ThreadRunner(lambda: store, 2)
    live = LiveServer(app)
    try:
        with httpx.Client(base_url=live.url, timeout=120) as client:
            yield client, pool, TestClient(control)
    finally:
        live.stop()
        control.state.query_runner.close()
        store.close()


def send(client: httpx.Client | TestClient, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    return client.request(method, path, json=body)


def rdf(r: httpx.Response) -> rdflib.Graph:
    return rdflib.Graph().parse(data=r.text, format="json-ld")


def test_every_answer_runs_in_a_worker_and_is_the_same_as_in_process(tmp_path: Path) -> None:
    with pooled(tmp_path) as (client, pool, control):
        for method, path, body in ANSWERS:
            answered = pool.state().answered
            got, expected = send(client, method, path, body), send(control, method, path, body)
            assert (got.status_code, got.headers["content-type"]) == (
                expected.status_code,
                expected.headers["content-type"],
            ), path
            if "ld+json" in got.headers["content-type"]:
                assert isomorphic(rdf(got), rdf(expected)), path
            elif "json" in got.headers["content-type"]:
                assert got.json() == expected.json(), path
            else:
                assert got.text == expected.text, path
            assert pool.state().answered > answered, f"{path} was not answered by a worker"


def test_searches_are_answered_by_the_server_from_one_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The search index (1.9 s to load, 260 MB at national scale) is the server's: in the workers every
    search loaded it again, since a worker is replaced after a task past a second (the load itself)."""
    import kg.search

    made: list[int] = []
    make = kg.search.Index.__init__

    def counted(self: kg.search.Index, entries: Any) -> None:
        made.append(len(entries))
        make(self, entries)

    monkeypatch.setattr(kg.search.Index, "__init__", counted)
    with pooled(tmp_path) as (client, pool, _):
        first = client.get("/api/areas", params={"q": "北四家子"}).json()
        assert VILLAGE in [i["code"] for i in first["items"]]
        loaded, answered = len(made), pool.state().answered
        assert loaded >= 1
        for q in ("北四家子", "beisijiazi", "bsjz", "210123"):
            assert client.get("/api/areas", params={"q": q}).json()["total"] >= 1, q
            assert "210123203200" in client.get("/dashboard/search", params={"q": q}).text, q
        assert pool.state().answered == answered  # no worker searched
        found = client.get("/api/villages", params={"q": "bsjz", "poor": "true"}).json()
        assert [i["code"] for i in found["items"]] == ["210123203200"]  # a registered poor village (example)
        assert found["items"][0]["poverty"]["example_registration"] is True
        assert pool.state().answered == answered + 2  # the registrations and the villages' poverty: workers
        assert len(made) == loaded  # and the index was not made again


def test_an_answer_past_its_deadline_is_stopped_and_its_worker_killed(tmp_path: Path) -> None:
    """The deadline of an answer ends its work, not only the wait: the worker doing it is killed,
    and the routes go on answering from the others."""
    with pooled(tmp_path) as (client, pool, _):
        before = at_rest(pool)
        answers = Answers(pool, timeout=1.0)
        with pytest.raises(QueryTimeout, match="1 s") as stopped:
            run_async(answers(Store.select, HOSTILE_COUNT))  # a library call that would run for hours
        assert stopped.value.hint is not None and "DCPA_ANSWER_TIMEOUT" in stopped.value.hint
        after = at_rest(pool)
        gone = [pid for pid in before.pids if pid not in after.pids]
        assert gone and not any(alive(pid) for pid in gone)
        assert client.get("/api/gaps?area=21").status_code == 200


def test_the_statistics_are_kept_until_a_write(tmp_path: Path) -> None:
    """/api/stats reads every graph and class (6.6 s at national scale): computed once per version of the
    data, and again after a write."""
    with pooled(tmp_path) as (client, pool, _):
        first = client.get("/api/stats").json()
        answered = pool.state().answered
        assert client.get("/api/stats").json() == first
        assert pool.state().answered == answered  # kept by the server: no worker asked again
        assert client.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
        after = client.get("/api/stats").json()
        assert sum(after["counts"]["needs"].values()) == sum(first["counts"]["needs"].values()) + 1
        assert after["summary"]["triples"] > first["summary"]["triples"]


def test_answers_follow_writes_and_the_dashboard_is_kept_until_one(tmp_path: Path) -> None:
    with pooled(tmp_path) as (client, pool, _):
        needs = client.get(f"/api/villages/{NEED['village_code']}").json()["needs"]
        page = client.get("/dashboard?area=21")
        answered = pool.state().answered
        assert client.get("/dashboard?area=21").text == page.text
        assert pool.state().answered == answered  # kept by the server: no worker asked again
        assert client.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
        after = client.get(f"/api/villages/{NEED['village_code']}").json()["needs"]
        assert len(after) == len(needs) + 1  # the worker reopened the store before answering
        assert client.get("/dashboard?area=21").text != page.text


def test_what_a_worker_reads_while_a_write_hands_over_is_not_kept_as_the_new_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write counts in the store before the workers are told to reopen it: a record list (and the statistics)
    read in between come from the data before the write, and must not be kept as the data after it."""
    armed, entered, release = threading.Event(), threading.Event(), threading.Event()
    hand_over = WorkerPool.data_changed

    def held_hand_over(self: WorkerPool) -> None:
        if armed.is_set():
            entered.set()
            release.wait(60)
        hand_over(self)

    monkeypatch.setattr(WorkerPool, "data_changed", held_hand_over)
    intervention = {"id": "INT-KEPT-1", "name_zh": "示例·交接中的项目", "category": "C1", "provided_by": "L-210123",
                    "target_areas": VILLAGE, "status": "S2", "start_date": "2019-03-01", "source": "document"}
    # as many workers as the pool may have, all started before the write: a spare started while the hand-over is
    # held would open the store as it is then, after the write (correct data, but not what this test holds to)
    with pooled(tmp_path, query_workers=2, query_workers_max=2) as (client, _, _control), \
            httpx.Client(base_url=client.base_url, timeout=120) as writer:
        total = client.get("/api/interventions").json()["total"]
        needs = client.get("/api/stats").json()["counts"]["interventions"]
        armed.set()
        with ThreadPoolExecutor(1) as ex:
            writing = ex.submit(writer.post, "/api/interventions", json=intervention, headers=AUTH)
            assert entered.wait(60)  # written and counted; the workers not told yet
            during = client.get("/api/interventions").json()["total"]
            stats_during = client.get("/api/stats").json()["counts"]["interventions"]
            armed.clear()
            release.set()
            assert writing.result(60).status_code == 201
        assert (during, stats_during) == (total, needs)  # the workers' data: before the write
        assert client.get("/api/interventions").json()["total"] == total + 1
        after = client.get("/api/stats").json()["counts"]["interventions"]
        assert sum(after.values()) == sum(needs.values()) + 1
        found = client.get("/api/interventions", params={"q": "交接中"}).json()["items"]
        assert [r["id"] for r in found] == ["INT-KEPT-1"]
