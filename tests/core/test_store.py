"""The embedded store: atomic writes, union default graph, Chinese round-trip."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.errors import QueryError, StoreError
from kg.namespaces import DCPA, GRAPH_REFERENCE, area
from kg.store import BULK_FROM, Store

EX = rdflib.Namespace("https://example.org/")


def _graph(*labels: str) -> rdflib.Graph:
    g = rdflib.Graph()
    for i, label in enumerate(labels):
        s = rdflib.URIRef(area(f"21010200100{i}"))
        g.add((s, rdflib.RDFS.label, rdflib.Literal(label, lang="zh")))
        g.add((s, DCPA.areaCode, rdflib.Literal(f"21010200100{i}")))
    return g


def test_named_graphs_are_queried_as_one_union() -> None:
    store = Store.memory()
    store.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区"))
    store.add_graph("https://w3id.org/dcpa/graph/import/b1", _graph("砂阳南社区", "南京南社区"))
    rows = store.select("SELECT ?l WHERE { ?s rdfs:label ?l } ORDER BY ?l")
    assert [r["l"] for r in rows] == sorted(["水源地社区", "砂阳南社区", "南京南社区"])
    assert store.graphs() == ["https://w3id.org/dcpa/graph/import/b1", str(GRAPH_REFERENCE)]


def test_typed_bindings_are_substituted_not_pasted() -> None:
    store = Store.memory()
    store.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区"))
    q = "SELECT ?s ?code WHERE { ?s dcpa:areaCode ?code }"
    rows = store.select(q, bindings={"code": "210102001000"})
    assert rows == [{"s": area("210102001000"), "code": "210102001000"}]
    # A value that would break a pasted query is just a literal that matches nothing.
    assert store.select(q, bindings={"code": '" } ; DROP ALL'}) == []


def test_binding_an_unprojected_variable_says_how_to_fix_it() -> None:
    with pytest.raises(QueryError) as e:
        Store.memory().select("SELECT ?s WHERE { ?s dcpa:areaCode ?code }", bindings={"code": "21"})
    assert "projection" in (e.value.hint or "")


def test_replace_graph_is_all_or_nothing() -> None:
    store = Store.memory()
    g = str(GRAPH_REFERENCE)
    store.add_graph(g, _graph("水源地社区"))
    before = store.to_rdflib(g)
    with pytest.raises(StoreError):
        store.replace_graph(g, b"<not an iri> <x> .\n")
    assert isomorphic(store.to_rdflib(g), before)
    store.replace_graph(g, _graph("河北社区"))
    assert [r["l"] for r in store.select("SELECT ?l WHERE { ?s rdfs:label ?l }")] == ["河北社区"]


def test_failed_add_writes_nothing() -> None:
    store = Store.memory()
    store.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区"))
    n = store.count()
    bad = _graph("砂阳南社区").serialize(format="nt", encoding="utf-8") + b"broken line without dot\n"
    with pytest.raises(StoreError):
        store.add_graph("https://w3id.org/dcpa/graph/import/b2", bad)
    assert store.count() == n


def test_a_graph_counts_its_own_quads() -> None:
    store = Store.memory()
    store.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区", "砂阳南社区"))
    store.add_graph("https://w3id.org/dcpa/graph/import/b1", _graph("河北社区"))
    assert store.count(str(GRAPH_REFERENCE)) == len(list(store.quads(graph=str(GRAPH_REFERENCE)))) > 0
    assert store.count("https://w3id.org/dcpa/graph/import/b1") == len(_graph("河北社区"))
    assert store.count("https://w3id.org/dcpa/graph/import/none") == 0
    assert store.count() == store.count(str(GRAPH_REFERENCE)) + store.count("https://w3id.org/dcpa/graph/import/b1")


def test_syntax_error_is_a_query_error_with_the_parser_message() -> None:
    with pytest.raises(QueryError, match="syntax"):
        Store.memory().select("SELEC ?x WHERE { ?x ?y ?z }")


def test_on_disk_store_persists(tmp_path) -> None:
    path = tmp_path / "store"
    s = Store.open(path)
    s.add_graph(str(GRAPH_REFERENCE), _graph("南京南社区"))
    s.close()
    again = Store.open(path, create=False)
    assert again.select("SELECT ?l WHERE { ?s rdfs:label ?l }") == [{"l": "南京南社区"}]


def test_missing_store_says_how_to_make_one(tmp_path) -> None:
    with pytest.raises(StoreError) as e:
        Store.open(tmp_path / "nowhere", create=False)
    assert "dcpa build" in (e.value.hint or "")


def test_dump_round_trips_chinese(tmp_path) -> None:
    store = Store.memory()
    store.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区", "河北社区"))
    out = tmp_path / "dump.ttl"
    store.dump(out, "ttl")
    back = rdflib.Graph().parse(out, format="turtle")
    assert isomorphic(back, _graph("水源地社区", "河北社区"))


def test_read_only_store_reads_and_closes(tmp_path) -> None:
    path = tmp_path / "store"
    s = Store.open(path)
    s.add_graph(str(GRAPH_REFERENCE), _graph("河北社区"))
    s.close()
    ro = Store.open(path, read_only=True, create=False)
    assert ro.select("SELECT ?l WHERE { ?s rdfs:label ?l }") == [{"l": "河北社区"}]
    ro.close()


def _many(n: int, graph_label: str = "社区") -> bytes:
    """``n`` N-Triples lines: enough of them take the bulk path of ``add_graph``."""
    return "".join(f'<https://example.org/s{i}> <{rdflib.RDFS.label}> "{graph_label} {i}"@zh .\n'
                   for i in range(n)).encode("utf-8")


def test_a_large_graph_lands_whole_through_the_bulk_loader(tmp_path) -> None:
    s = Store.open(tmp_path / "store")
    g = "https://w3id.org/dcpa/graph/import/big"
    assert s.add_graph(g, _many(BULK_FROM + 5)) == BULK_FROM + 5
    assert s.count(g) == BULK_FROM + 5
    assert s.select(f"SELECT ?l WHERE {{ GRAPH <{g}> {{ <https://example.org/s7> rdfs:label ?l }} }}") == [
        {"l": "社区 7"}]
    s.close()
    again = Store.open(tmp_path / "store", create=False)
    assert again.count(g) == BULK_FROM + 5


def test_a_large_graph_that_fails_writes_nothing_and_leaves_no_files(tmp_path) -> None:
    s = Store.open(tmp_path / "store")
    s.add_graph(str(GRAPH_REFERENCE), _graph("水源地社区"))
    n = s.count()
    with pytest.raises(StoreError, match="nothing was written"):
        s.add_graph("https://w3id.org/dcpa/graph/import/big", _many(BULK_FROM + 5) + b"broken line without dot\n")
    assert s.count() == n
    assert list((tmp_path / "store").glob("bulk-*")) == []


_BULK_WRITER = """
import sys
from kg.store import Store
s = Store.open(sys.argv[1])
payload = sys.stdin.buffer.read()
print("loading", flush=True)
s.add_graph("https://w3id.org/dcpa/graph/import/big", payload)
print("done", flush=True)
"""


def test_a_bulk_load_killed_midway_is_wholly_out_and_its_files_go(tmp_path) -> None:
    """SIGKILL while the bulk loader writes its table files (a state awaited, not a time): the graph is
    empty or whole, and the next open for writing removes the files the kill left beside the store."""
    path = tmp_path / "store"
    Store.open(path).close()
    n = 300_000
    payload = _many(n)
    proc = subprocess.Popen([sys.executable, "-c", _BULK_WRITER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(payload)
    proc.stdin.close()
    assert proc.stdout.readline() == b"loading\n"
    deadline = time.monotonic() + 60
    while not list(path.resolve().glob("bulk-*.sst")) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)  # polling for the state "table files being written"
    seen = list(path.resolve().glob("bulk-*.sst"))
    proc.kill()
    proc.wait()
    assert seen, "the bulk loader's table files were never seen: the load did not take the bulk path"
    s = Store.open(path)  # for writing: removes what the kill left
    try:
        assert list(path.resolve().glob("bulk-*")) == []
        assert s.count("https://w3id.org/dcpa/graph/import/big") in (0, n)
        s.update("DROP SILENT GRAPH <https://w3id.org/dcpa/graph/import/big>")
        s.add_graph("https://w3id.org/dcpa/graph/import/big", payload)  # and the write can be run again
        assert s.count("https://w3id.org/dcpa/graph/import/big") == n
    finally:
        s.close()
