"""The embedded store: atomic writes, union default graph, Chinese round-trip."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.errors import QueryError, StoreError
from kg.namespaces import DCPA, GRAPH_REFERENCE, area
from kg.store import Store

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
