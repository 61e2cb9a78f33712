"""RemoteStore: the read methods of Store over a real SPARQL 1.1 endpoint (our own, on loopback)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from api.app import create_app
from kg.connect import open_store
from kg.derived import derive_all, marker
from kg.errors import QueryError, StoreError
from kg.namespaces import GRAPH_DERIVED
from kg.remote import RemoteStore
from kg.store import Store

from .conftest import TOKEN, make_settings

Q = "SELECT ?code WHERE { ?v a dcpa:Village ; dcpa:areaCode ?code } ORDER BY ?code"


@pytest.fixture()
def remote(sparql_url: str) -> RemoteStore:
    return RemoteStore(sparql_url, timeout=10)


def test_select_ask_construct_match_the_embedded_store(remote: RemoteStore, store: Store) -> None:
    assert remote.select(Q) == store.select(Q)
    assert remote.ask("ASK { ?n dcpa:severity 5 }") is True
    q = "CONSTRUCT { ?n dcpa:severity ?s } WHERE { ?n dcpa:severity ?s }"
    assert isomorphic(remote.construct(q), store.construct(q))


def test_bindings_graphs_and_count(remote: RemoteStore, store: Store) -> None:
    q = "SELECT ?n ?v WHERE { ?n dcpa:needOf ?v } ORDER BY ?n"
    v = {"v": __import__("rdflib").URIRef("https://w3id.org/dcpa/id/area/210123203201")}
    assert remote.select(q, bindings=v) == store.select(q, bindings=v)
    assert remote.graphs() == store.graphs()
    g = "https://w3id.org/dcpa/graph/synthetic"
    assert remote.count(g) == store.count(g)


def test_errors(remote: RemoteStore, tmp_path: Path) -> None:
    with pytest.raises(QueryError):
        remote.select("SELECT ?x WHERE { ?x }")
    with pytest.raises(StoreError):
        RemoteStore("http://127.0.0.1:9/sparql", timeout=2).select("SELECT * { ?s ?p ?o } LIMIT 1")
    with pytest.raises(StoreError):  # no update endpoint: writes refused
        remote.remove_graph("https://w3id.org/dcpa/graph/synthetic")


def test_the_app_serves_a_remote_store(sparql_url: str, tmp_path: Path, make_client: Callable[..., TestClient]) -> None:
    settings = make_settings(tmp_path, sparql_endpoint=sparql_url)
    s = open_store(settings)
    assert isinstance(s, RemoteStore)
    with TestClient(create_app(settings)) as client:
        r = client.get("/api/villages", params={"q": "六家子"})
        assert r.status_code == 200
        assert [v["code"] for v in r.json()["items"]] == ["210123203201"]
        r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?n a dcpa:Need }"})
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "3"
    assert httpx.get(sparql_url, params={"query": "ASK {?s ?p ?o}"}).status_code == 200


NEED = {"village_code": "210123203202", "need_type": "N41", "severity": 5, "people_affected": 30, "source": "survey",
        "source_title": "示例·村级需求调查", "identified_on": "2019-04-01", "surveyor": "示例·县图书馆"}


def test_two_services_over_one_remote_store_see_each_others_writes(
    start_oxigraph: Callable[[], Any], store: Store, tmp_path: Path
) -> None:
    """Two `dcpa serve` over one Oxigraph server: a write through one is seen at once by the other, in its
    pages, its JSON answers and its SPARQL endpoint (nothing kept per process goes stale)."""
    server = start_oxigraph()
    loaded = RemoteStore(server.query_url, update_endpoint=server.update_url)
    buf = io.BytesIO()
    store.dump(buf, "nq")
    loaded.bulk_load(buf.getvalue(), "nq")
    apps = [create_app(make_settings(tmp_path / name, sparql_endpoint=server.query_url, api_token=TOKEN,
                                     sparql_update_endpoint=server.update_url))
            for name in ("a", "b")]
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?n a dcpa:Need }"
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        assert b.get("/api/villages/210123203202").json()["needs"] == []
        gaps = b.get("/api/gaps", params={"area": "210123"}).json()["totals"]
        before = b.get("/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"]
        assert b.get("/sparql", params={"query": count}).headers.get("X-DCPA-Result-Cache") != "hit"
        r = a.post("/api/needs", json=NEED, headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 201, r.text
        [need] = b.get("/api/villages/210123203202").json()["needs"]
        assert need["need_type"].endswith("N41") and need["state"]  # the derived graph was refreshed too
        after = b.get("/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"]
        assert int(after) == int(before) + 1
        now = b.get("/api/gaps", params={"area": "210123"}).json()["totals"]
        assert (now["needs"], now["unaddressed"]) == (gaps["needs"] + 1, gaps["unaddressed"] + 1)
        page = b.get("/views/village/210123203202")
        assert page.status_code == 200 and need["need_type_label"]["zh"] in page.text
        # and the other way: a replacement (PUT) through the second, seen by the first
        [n1] = [n for n in a.get("/api/villages/210123203200").json()["needs"] if n["id"] == "N-1"]
        r = b.put("/api/needs/N-1", json={**NEED, "village_code": "210123203200", "need_type": "N22", "severity": 2},
                  headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        [n2] = [n for n in a.get("/api/villages/210123203200").json()["needs"] if n["id"] == "N-1"]
        assert (n1["severity"], n2["severity"]) == (4, 2)


def test_a_service_over_a_remote_store_moves_the_derived_graph_when_the_day_passes(
    start_oxigraph: Callable[[], Any], store: Store, tmp_path: Path
) -> None:
    """A service keeps the derived graph of the remote store it writes answering for today, as the owner of
    an embedded store does (its SPARQL endpoint would otherwise serve need states whose window had closed);
    another service whose day is earlier does not move it back."""
    server = start_oxigraph()
    remote = RemoteStore(server.query_url, update_endpoint=server.update_url)
    buf = io.BytesIO()
    store.dump(buf, "nq")
    remote.bulk_load(buf.getvalue(), "nq")
    day = date(2025, 1, 1)  # INT-1's C2 window has closed
    fresh = Store.memory()
    fresh.bulk_load(buf.getvalue(), "nq")
    derive_all(fresh, as_of=day)
    assert not isomorphic(remote.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED)))
    make = partial(make_settings, sparql_endpoint=server.query_url, sparql_update_endpoint=server.update_url)
    with TestClient(create_app(make(tmp_path / "a", as_of=day))):
        deadline = time.monotonic() + 30
        while (m := marker(remote)) is None or m.as_of != day:  # the keeper's first check runs at start
            assert time.monotonic() < deadline, f"the derived graph was not moved: {m}"
            time.sleep(0.05)
    assert isomorphic(remote.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED)))
    behind = create_app(make(tmp_path / "b", derived_check_seconds=3600))  # its day: the fixture's (earlier)
    with TestClient(behind):
        assert behind.state.served.keep_current() is False
    assert marker(remote) == marker(fresh)
