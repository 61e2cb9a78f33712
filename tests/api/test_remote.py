"""RemoteStore: the read methods of Store over a real SPARQL 1.1 endpoint (our own, on loopback)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from api.app import create_app
from kg.connect import open_store
from kg.errors import QueryError, StoreError
from kg.remote import RemoteStore
from kg.store import Store

from .conftest import make_settings

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
