"""One writer: while `dcpa serve` runs, `dcpa import`, `withdraw`, `build` and `derive` hand their work to it and
print what they print alone; writes wait while it rebuilds; the admin channel is local and guarded."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

import kg.build
from api.app import create_app
from api.testing import ServeProcess
from kg.derived import derive_all
from kg.importer import replay_retained
from kg.namespaces import GRAPH_ONTOLOGY
from kg.resources import ontology_graph
from kg.store import Store

from .conftest import AUTH, FIXTURE, NEED_ROW, Place, load_fixture, whole

pytestmark = pytest.mark.timeout(300)

NEED_JSON: dict[str, Any] = dict(zip(["village_code", "need_type", "severity", "people_affected", "source",
                                      "identified_on", "surveyor"], NEED_ROW, strict=True))


def test_commands_hand_their_work_to_a_running_server_and_print_the_same(built: Place) -> None:
    good = built.csv("needs.csv", [NEED_ROW])
    bad = built.csv("bad.csv", [NEED_ROW[:1] + ["N99"] + NEED_ROW[2:]])
    old = built.current()
    server = ServeProcess(built.env(), cwd=str(built.root))
    try:
        assert stat.S_IMODE(server.registration.stat().st_mode) == 0o600  # the token is the user's only
        second = built.dcpa("serve")
        assert second.returncode == 2 and f"dcpa serve (pid {server.proc.pid}) already serves" in second.stderr

        run = built.dcpa("import", str(good), "--format", "json")  # would fail on the server's lock alone
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["counts"] == {"needs": 1} and report["user"] == "张三" and not report["dry_run"]
        assert f"imported 1 record(s) as batch {report['batch_id']}" in run.stderr
        village = httpx.get(server.url + "/api/villages/210123203200").json()
        assert any(n["identified_on"] == "2019-04-01" for n in village["needs"])  # served at once

        served_bad = built.dcpa("import", str(bad))
        assert served_bad.returncode == 1 and "unknown need type" in served_bad.stderr
        dry = built.dcpa("import", str(bad.with_name("needs.csv")), "--dry-run")
        assert dry.returncode == 1 and "already exists" in dry.stderr  # checked against what the server serves

        run = built.dcpa("derive")
        assert run.returncode == 0 and "derived graph as of " in run.stderr, run.stderr

        run = built.dcpa("build", "-q", DCPA_EXAMPLE_VILLAGES="3")  # the command's settings, not the server's
        assert run.returncode == 0 and "(3 example villages, seed 42" in run.stderr, run.stderr
        run = built.dcpa("build", "--force", "-q")
        assert run.returncode == 0, run.stderr
        assert "built " in run.stderr and "1 retained import(s) replayed" in run.stderr
        assert built.current() != old  # the server switched to the new version…
        village = httpx.get(server.url + "/api/villages/210123203200").json()
        assert any(n["identified_on"] == "2019-04-01" for n in village["needs"])  # …which has the import
    finally:
        server.stop()
    assert not server.registration.exists()

    # After Ctrl+C every command works (no "Corruption: Mismatch in unique ID"), and reports as before.
    alone_bad = built.dcpa("import", str(bad))
    assert alone_bad.returncode == 1 and alone_bad.stderr == served_bad.stderr
    assert built.dcpa("stats").returncode == 0
    run = built.dcpa("build")
    assert run.returncode == 0 and "up to date" in run.stderr, run.stderr
    assert built.versions() == [built.current()]
    batches, recovery = whole(built)
    assert len(batches) == 1 and not recovery


def test_history_and_withdraw_work_alone_and_through_a_running_server(place: Place) -> None:
    run = place.dcpa("import", str(place.csv("needs.csv", [NEED_ROW])))
    assert run.returncode == 0, run.stderr
    [batch] = [e["batch_id"] for e in json.loads(place.dcpa("history", "--format", "json").stdout)]
    server = ServeProcess(place.env(), cwd=str(place.root))
    try:
        need_dates = lambda: [n["identified_on"] for n in  # noqa: E731
                              httpx.get(server.url + "/api/villages/210123203200").json()["needs"]]
        assert "2019-04-01" in need_dates()
        run = place.dcpa("withdraw", batch, "--reason", "重复录入", "--format", "json")
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["counts"] == {"needs": 1} and f"withdrew batch {batch}" in run.stderr
        assert "2019-04-01" not in need_dates()  # served at once
        [entry] = httpx.get(server.url + "/api/imports").json()
        assert (entry["state"], entry["withdrawn_by"], entry["withdrawal_reason"]) == ("withdrawn", "张三", "重复录入")
        again = place.dcpa("withdraw", batch)
        assert again.returncode == 2 and "already withdrawn" in again.stderr
    finally:
        server.stop()
    table = place.dcpa("history")
    assert table.returncode == 0 and batch in table.stdout and "withdrawn" in table.stdout
    batches, recovery = whole(place)
    assert batches == [] and not recovery


class Listener:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def data_changed(self) -> None:
        self.events.append("data_changed")

    def switch_store(self, path: Path) -> None:
        self.events.append(("switch_store", path))


def test_writes_answer_503_while_the_server_rebuilds_and_listeners_hear_of_writes_and_switches(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    def build_into(store: Store, *, imports_path: Path, **_: object) -> tuple[dict[str, int], int]:
        """The fixture instead of the reference data (fast), then the kept imports, as a build does."""
        store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
        store.inner.load(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
        replayed = replay_retained(store, imports_path)
        derive_all(store)
        return {"fixture": store.count()}, replayed

    monkeypatch.setattr(kg.build, "build_into", build_into)
    started, release = threading.Event(), threading.Event()

    def progress(step: str, done: int, total: int) -> None:
        started.set()
        assert release.wait(60)

    with TestClient(create_app(place.settings)) as client:
        served = client.app.state.served  # type: ignore[attr-defined]
        listener = Listener()
        client.app.state.store_listeners.append(listener)  # type: ignore[attr-defined]
        assert client.post("/api/needs", json=NEED_JSON, headers=AUTH).status_code == 201
        assert listener.events == ["data_changed"]

        builder = threading.Thread(target=lambda: served.build(progress=progress, force=True))
        builder.start()
        assert started.wait(60)  # the build is loading the new version
        r = client.post("/api/needs", json={**NEED_JSON, "identified_on": "2019-05-01"}, headers=AUTH)
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_busy"
        assert r.json()["error"]["message"].startswith("存储正在重建")  # the data page shows it: Chinese first
        assert int(r.headers["retry-after"]) >= 1
        assert client.get("/health").status_code == 200  # reads go on
        release.set()
        builder.join(60)

        assert listener.events[1] == ("switch_store", Path(served.store.real_path))
        assert served.store.real_path.name == place.current()
        r = client.post("/api/needs", json={**NEED_JSON, "identified_on": "2019-05-01"}, headers=AUTH)
        assert r.status_code == 201, r.text
    batches, _ = whole(place)
    assert len(batches) == 2  # the one before the rebuild (replayed) and the one after it


def test_the_admin_channel_answers_only_local_requests_with_its_token(place: Place) -> None:
    app = create_app(place.settings)
    token = app.state.served.admin_token
    try:
        local = TestClient(app, client=("127.0.0.1", 50000))
        assert local.get("/admin/ping").status_code == 401
        assert local.get("/admin/ping", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert local.get("/admin/ping", headers=AUTH).status_code == 401  # the API token is not the admin token
        ok = local.get("/admin/ping", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["instance"] == app.state.served.instance
        remote = TestClient(app, client=("10.0.0.7", 50000))
        r = remote.get("/admin/ping", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert "/admin/ping" not in local.get("/openapi.json").json()["paths"]
    finally:
        app.state.served.close()
    given = TestClient(create_app(place.settings, load_fixture(Store.memory())), client=("127.0.0.1", 50000))
    assert given.get("/admin/ping", headers={"Authorization": f"Bearer {token}"}).status_code == 404
    assert FIXTURE.exists()
