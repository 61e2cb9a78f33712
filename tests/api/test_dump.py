"""``/api/dump``: a researcher without a shell on the server downloads the whole store, as ``dcpa export`` writes it.

Before it, the server offered no dump at all: a CONSTRUCT at ``/sparql`` stops at the row and size limits."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.routes import dump
from kg.errors import StoreBusy
from kg.export import END_LINE, export
from kg.importer.journal import Marker
from kg.store import Store

from .conftest import load_fixture

Client = Callable[..., TestClient]


def _canonical(quads: Any) -> set[Any]:
    d = ox.Dataset(quads)
    d.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(d)


def _named(store: Store) -> set[Any]:
    return _canonical(q for q in store._s if not isinstance(q.graph_name, ox.DefaultGraph))


@pytest.mark.parametrize(("fmt", "media", "rdf_format"), [
    ("nq", "application/n-quads", ox.RdfFormat.N_QUADS),
    ("trig", "application/trig", ox.RdfFormat.TRIG),
])
def test_a_dump_holds_every_quad_with_its_graph_and_says_it_is_whole(
        make_client: Client, fmt: str, media: str, rdf_format: Any) -> None:
    store = load_fixture(Store.memory())
    client = make_client(store)
    r = client.get("/api/dump", params={"format": fmt})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media)
    name = f"dcpa-dump-{date.today().isoformat()}.{fmt}"
    assert r.headers["content-disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    assert r.content.startswith("# DCPA knowledge graph dump / 公共图书馆数字文化扶贫知识图谱数据转储".encode())
    assert r.content.endswith(END_LINE)
    assert _canonical(ox.parse(r.content, rdf_format)) == _named(store)  # isomorphic, graph by graph


def test_the_turtle_dump_is_the_union_and_the_json_ld_dump_keeps_the_graphs(make_client: Client) -> None:
    store = load_fixture(Store.memory())
    client = make_client(store)
    r = client.get("/api/dump", params={"format": "ttl"})
    assert r.status_code == 200
    union = {ox.Quad(q.subject, q.predicate, q.object) for q in _named(store)}
    assert _canonical(ox.Quad(t.subject, t.predicate, t.object) for t in ox.parse(r.content, ox.RdfFormat.TURTLE)) \
        == _canonical(union)
    r = client.get("/api/dump", params={"format": "jsonld"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    graphs = {q.graph_name for q in ox.parse(r.content, ox.RdfFormat.JSON_LD)}
    assert graphs == {q.graph_name for q in _named(store)}


def test_an_unknown_format_is_refused_with_the_formats(make_client: Client) -> None:
    r = make_client().get("/api/dump", params={"format": "rdfxml"})
    assert r.status_code == 422
    body = r.json()
    assert body["error"]["code"] and "nq" in r.text and "trig" in r.text


def test_a_second_dump_at_once_is_told_to_come_back(make_client: Client) -> None:
    """One dump is written at a time: a second gets 503 with Retry-After, in the one error shape, and a dump can
    be had again once the first is done."""
    client = make_client()
    slots = dump._slots(client.app.state)  # type: ignore[attr-defined]
    assert slots.acquire(blocking=False)  # a dump under way
    r = client.get("/api/dump")
    assert r.status_code == 503
    assert r.headers["retry-after"] == "60"
    assert r.json()["error"]["message"].startswith("服务器正在生成另一份转储")
    slots.release()
    assert client.get("/api/dump").status_code == 200
    assert slots.acquire(blocking=False), "the finished dump gave its slot back"
    slots.release()


def test_a_reader_that_goes_away_stops_the_writing_and_frees_the_slot() -> None:
    """A client that leaves after the first chunk of a large dump: the writing stops there, not at the end of the
    store, and the next dump can start."""
    store = Store.memory()
    g = ox.NamedNode("https://example.org/g")
    store._s.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
                            ox.Literal("x" * 100), g) for i in range(20_000))  # about 2.6 MB: ten chunks and more
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    pipe = dump.Pipe()
    writer = threading.Thread(target=dump.write_dump, args=(store, "nq", pipe, slots))
    writer.start()
    assert pipe.read_chunk()  # the first chunk, then the reader goes
    pipe.gone.set()
    writer.join(timeout=30)
    assert not writer.is_alive()
    assert slots.acquire(blocking=False)


def test_a_reader_that_stops_reading_is_given_up_after_the_idle_time() -> None:
    store = Store.memory()
    g = ox.NamedNode("https://example.org/g")
    store._s.extend(ox.Quad(ox.NamedNode(f"https://example.org/s{i}"), ox.NamedNode("https://example.org/p"),
                            ox.Literal("x" * 100), g) for i in range(20_000))
    slots = threading.BoundedSemaphore(1)
    slots.acquire()
    pipe = dump.Pipe(idle_seconds=0.2)  # the reader never takes a chunk
    writer = threading.Thread(target=dump.write_dump, args=(store, "nq", pipe, slots))
    writer.start()
    writer.join(timeout=30)
    assert not writer.is_alive() and pipe.gone.is_set()
    assert slots.acquire(blocking=False)


def test_the_home_and_query_pages_link_to_the_dumps(make_client: Client) -> None:
    client = make_client()
    for page in ("/?lang=en", "/sparql?lang=zh"):
        html = client.get(page, headers={"Accept": "text/html"}).text
        hrefs = [h.replace("&amp;", "&") for h in re.findall(r'href="(/api/dump[^"]*)"', html)]
        assert hrefs, page
        for href in hrefs:
            r = client.get(href)
            assert r.status_code == 200 and "DCPA knowledge graph dump" in r.text[:300_000], href


def test_a_head_request_writes_no_dump(make_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link checker's HEAD got its headers after a whole dump was written and thrown away."""
    written: list[str] = []
    monkeypatch.setattr(dump, "export", lambda store, fmt, out: written.append(fmt))
    client = make_client()
    r = client.head("/api/dump", params={"format": "trig"})
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"].startswith("application/trig")
    assert r.headers["content-disposition"].endswith('.trig')
    assert written == []
    assert client.get("/api/dump", params={"format": "trig"}).status_code == 200
    assert written == ["trig"]  # what a GET does
    assert dump._slots(client.app.state).acquire(blocking=False)  # type: ignore[attr-defined]


def test_no_dump_while_a_write_refreshes_the_derived_graph(make_client: Client, tmp_path: Path) -> None:
    """A dump taken while a write refreshed the derived graph held its states and counts half refreshed, with
    nothing to say so; now the API answers 503 ``store_busy`` (try again) and ``dcpa export`` refuses the same."""
    client = make_client()
    store = client.app.state.store  # type: ignore[attr-defined]
    marker = Marker("20201231T000000Z-000000", {"210123"})
    store.add_graph(marker.graph, marker.ntriples())
    r = client.get("/api/dump")
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_busy"
    assert r.json()["error"]["message"].startswith("转储包含派生图")
    with pytest.raises(StoreBusy):
        export(store, "nq", io.BytesIO())
    store.update(marker.delete())
    assert client.get("/api/dump").content.endswith(END_LINE)
