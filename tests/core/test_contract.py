"""The store contract (kg.contract), kept the same way by the embedded store (on disk and in memory) and by
the remote store over an independent engine (Oxigraph server, another process, the HTTP protocols only)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.connect import open_store
from kg.contract import StoreAPI
from kg.errors import QueryError, StoreBusy, StoreError
from kg.namespaces import (
    DCPA,
    GRAPH_DERIVED,
    GRAPH_JOURNAL,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    GRAPH_SYNTHETIC,
    JOURNAL,
    import_graph,
    withdrawal_graph,
)
from kg.remote import RemoteStore
from kg.settings import Settings
from kg.store import Store

#: Two of the project's graphs (a store that lists graphs only by reading every quad is asked for the project's
#: graphs by kind: ``kg.remote._GRAPHS_BY_KIND``).
G1, G2 = str(GRAPH_REFERENCE), str(GRAPH_SYNTHETIC)
EX = "https://w3id.org/dcpa/id/test/"
TTL = f"""
@prefix dcpa: <https://w3id.org/dcpa/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{EX}v1> a dcpa:Village ; rdfs:label "六家子村"@zh, "Liujiazi"@en ; dcpa:areaCode "210123203201" ;
    dcpa:population 1234 ; dcpa:share 0.25 ; dcpa:isSynthetic true .
<{EX}v2> a dcpa:Village ; rdfs:label "示例村"@zh ; dcpa:areaCode "219001001001" ;
    dcpa:note [ rdfs:label "一个空白节点" ; dcpa:order (1 2 3) ] .
"""


def _graph() -> rdflib.Graph:
    return rdflib.Graph().parse(data=TTL, format="turtle")


@pytest.fixture(params=["embedded", "memory", "oxigraph", "oxigraph+gsp", "virtuoso", "virtuoso+gsp"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreAPI]:
    """Each store; ``+gsp``: whole graphs through the engine's Graph Store Protocol service."""
    if request.param == "embedded":
        s: StoreAPI = Store.open(tmp_path / "store")
    elif request.param == "memory":
        s = Store.memory()
    else:
        engine, _, gsp = request.param.partition("+")
        server = request.getfixturevalue(engine)
        s = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=30, batch_bytes=400,
                        gsp_batch_triples=4, graph_store=server.graph_store_url if gsp else None)
        for g in s.graphs():  # the project's: Virtuoso keeps its own configuration in graphs too
            s.remove_graph(g)
    yield s
    s.close()


def test_written_graphs_read_back_the_same(store: StoreAPI) -> None:
    n = store.add_graph(G1, _graph())
    assert n == len(_graph())
    assert store.graphs() == [G1]
    assert store.count(G1) == store.count() == len(_graph())
    assert isomorphic(store.to_rdflib(G1), _graph())
    rows = store.select("SELECT ?code ?pop ?share ?syn ?zh WHERE { ?v dcpa:areaCode ?code "
                        "OPTIONAL { ?v dcpa:population ?pop } OPTIONAL { ?v dcpa:share ?share } "
                        "OPTIONAL { ?v dcpa:isSynthetic ?syn } "
                        "OPTIONAL { ?v rdfs:label ?zh FILTER(LANG(?zh) = 'zh') } } ORDER BY ?code")
    assert rows == [
        {"code": "210123203201", "pop": 1234, "share": 0.25, "syn": True, "zh": "六家子村"},
        {"code": "219001001001", "zh": "示例村"},
    ]
    assert store.ask("ASK { ?v rdfs:label '示例村'@zh }") is True
    assert store.ask("ASK { ?v rdfs:label '没有'@zh }") is False
    q = "CONSTRUCT { ?v rdfs:label ?l } WHERE { ?v rdfs:label ?l }"
    labels = rdflib.Graph()
    for t in _graph().triples((None, rdflib.RDFS.label, None)):
        labels.add(t)
    assert isomorphic(store.construct(q), labels)


def test_every_kind_of_the_projects_graphs_is_listed(store: StoreAPI) -> None:
    """Whatever way the store lists them (Virtuoso's own way reads every quad), each kind of graph dcpa writes
    is there when it holds a triple, and gone when it is dropped."""
    a = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    kinds = {
        str(GRAPH_ONTOLOGY): f"<{EX}o> {a} <http://www.w3.org/2002/07/owl#Ontology> .",
        str(GRAPH_DERIVED): f"<{GRAPH_DERIVED}> <{DCPA.derivedAsOf}> \"2020-06-30\" .",
        import_graph("b1"): f"<{EX}b1> {a} <{DCPA.ImportActivity}> .",
        withdrawal_graph("b1"): f"<{EX}w1> {a} <{DCPA.Withdrawal}> .",
        GRAPH_JOURNAL + "b2": f"<{GRAPH_JOURNAL}b2> <{JOURNAL.batch}> \"b2\" .",
    }
    store.add_graphs([(g, f"{t}\n".encode()) for g, t in kinds.items()])
    store.add_graph(G1, _graph())
    assert store.graphs() == sorted([*kinds, G1])
    store.remove_graph(import_graph("b1"))
    store.update(f"DROP SILENT GRAPH <{GRAPH_JOURNAL}b2>")
    assert store.graphs() == sorted(set(kinds) - {import_graph("b1"), GRAPH_JOURNAL + "b2"} | {G1})


def test_quads_match_a_pattern(store: StoreAPI) -> None:
    store.add_graphs([(G1, _graph()), (G2, b'<https://w3id.org/dcpa/id/test/v1> <http://x/p> "x" .\n')])
    v1 = EX + "v1"
    got = {(q.predicate.value, str(q.object), q.graph_name.value) for q in store.quads(v1)}  # type: ignore[union-attr]
    assert ("http://x/p", '"x"', G2) in got and len(got) == 8
    assert {str(q.object) for q in store.quads(v1, "http://www.w3.org/2000/01/rdf-schema#label", G1)} == {
        '"六家子村"@zh', '"Liujiazi"@en'}
    assert sum(1 for _ in store.quads(graph=G2)) == 1
    assert list(store.quads(EX + "nobody")) == []


def test_bindings_bind_projected_variables(store: StoreAPI) -> None:
    store.add_graph(G1, _graph())
    q = "SELECT ?v ?code WHERE { ?v dcpa:areaCode ?code }"
    assert store.select(q, bindings={"code": "219001001001"}) == [{"v": EX + "v2", "code": "219001001001"}]
    assert store.select(q, bindings={"v": rdflib.URIRef(EX + "v1")}) == [{"v": EX + "v1", "code": "210123203201"}]


def test_a_failed_write_writes_nothing(store: StoreAPI) -> None:
    store.add_graph(G1, _graph())
    before = store.count()
    with pytest.raises(StoreError, match="nothing was written"):
        store.add_graphs([(G2, _graph()), (G1, b"<not an iri> <http://x/p> 1 .\n")])
    with pytest.raises(StoreError):
        store.update(f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}x> <{EX}p> 1 }} }} ; INSERT DATA {{ oops")
    assert store.count() == before and store.graphs() == [G1]


def test_an_update_whose_second_operation_fails_writes_nothing(store: StoreAPI, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params["store"].startswith("virtuoso"):
        pytest.skip("Virtuoso commits each operation of an update request on its own (docs/DEPLOYMENT.md)")
    store.add_graph(G1, _graph())
    before = store.count()
    with pytest.raises(StoreError):  # the second operation fails when it runs (the graph exists)
        store.update(f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}x> <{EX}p> 1 }} }} ; CREATE GRAPH <{G1}>")
    assert store.count() == before and store.graphs() == [G1]


def test_replace_and_remove_a_graph(store: StoreAPI) -> None:
    store.add_graphs([(G1, _graph()), (G2, _graph())])
    store.replace_graph(G1, '<https://w3id.org/dcpa/id/test/v9> <http://x/p> "新" .\n'.encode())
    assert store.count(G1) == 1 and store.count(G2) == len(_graph())
    store.remove_graph(G2)
    assert store.graphs() == [G1]
    generation = store.generation
    store.remove_graph(G1)
    assert store.graphs() == [] and store.generation > generation  # a cached answer is not kept past a write


def test_bulk_load_and_dump_round_trip(store: StoreAPI, tmp_path: Path) -> None:
    nt = _graph().serialize(format="nt", encoding="utf-8")
    seen: list[int] = []
    store.bulk_load(nt, "nt", G1, progress=lambda done, total: seen.append(done))
    store.bulk_load(io.BytesIO(nt), "nt", G2)
    if isinstance(store, RemoteStore):  # sent in batches of about 400 bytes, the blank nodes together last
        assert len(seen) > 2 and seen == sorted(seen) and seen[-1] == len(_graph())
    assert isomorphic(store.to_rdflib(G1), _graph()) and isomorphic(store.to_rdflib(G2), _graph())
    out = io.BytesIO()
    store.dump(out, "nq")
    back = Store.memory()
    back.bulk_load(out.getvalue(), "nq")
    assert back.graphs() == [G1, G2]
    assert isomorphic(back.to_rdflib(G1), _graph())
    path = tmp_path / "g1.ttl"
    store.dump(path, "ttl", G1)
    assert isomorphic(rdflib.Graph().parse(path, format="turtle"), _graph())


def test_query_errors(store: StoreAPI) -> None:
    with pytest.raises(QueryError):
        store.select("SELECT ?x WHERE { ?x }")


def test_a_remote_store_without_an_update_endpoint_refuses_writes(oxigraph: Any) -> None:
    s = RemoteStore(oxigraph.query_url)
    assert s.read_only
    with pytest.raises(StoreError, match="read-only") as e:
        s.add_graph(G1, _graph())
    assert "DCPA_SPARQL_UPDATE_ENDPOINT" in (e.value.hint or "")


def test_an_unreachable_store_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot reach"):
        RemoteStore("http://127.0.0.1:9/sparql", timeout=2).select("SELECT * { ?s ?p ?o } LIMIT 1")


def test_an_update_virtuoso_retried_after_a_deadlock_is_a_success() -> None:
    """Virtuoso sends ``X-SQL-State: 00000`` and "SR172: Transaction deadlocked" with an update it retried and
    committed (seen with six writers taking the lease at once)."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"x-sql-state": "00000", "x-sql-message": "SR172: Transaction deadlocked",
                                            "content-type": "text/plain"}, content=b"Commit -- done")

    s = RemoteStore("http://store.invalid/sparql", update_endpoint="http://store.invalid/sparql",
                    client=httpx.Client(transport=httpx.MockTransport(handler)))
    s.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}x> <{EX}p> 1 }} }}")


def test_an_update_virtuoso_gave_up_in_a_deadlock_is_busy_and_says_to_try_again() -> None:
    """Virtuoso answers 500 "Virtuoso 40001 Error SR172: Transaction deadlocked" to an update it rolled back
    for another (four writers waiting for the lease at once): nothing was written, and trying again may work."""
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, headers={"content-type": "text/plain"},
                              content=b"Virtuoso 40001 Error SR172: Transaction deadlocked\n\nSPARQL query:\n...")

    s = RemoteStore("http://store.invalid/sparql", update_endpoint="http://store.invalid/sparql",
                    client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(StoreBusy) as e:
        s.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <{EX}x> <{EX}p> 1 }} }}")
    assert "nothing was written" in e.value.message and (e.value.hint or "").endswith(" / try again")


@pytest.mark.parametrize("header", [("X-SPARQL-MaxRows", "10000"), ("X-SQL-State", "S1TAT")])
def test_an_answer_the_store_cut_short_is_refused(header: tuple[str, str]) -> None:
    """Virtuoso announces its row cap and its partial ("anytime") answers in headers, with a 200."""
    body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/sparql-results+json", header[0]: header[1]},
                              content=body)

    s = RemoteStore("http://store.invalid/sparql", client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(StoreError, match="only part of the answer"):
        s.select("SELECT ?s WHERE { ?s ?p ?o }")


def test_the_settings_choose_the_store(oxigraph: Any, tmp_path: Path) -> None:
    remote = open_store(Settings(sparql_endpoint=oxigraph.query_url, store_path=tmp_path / "none"))
    assert isinstance(remote, RemoteStore) and remote.read_only
    with pytest.raises(StoreError, match="no store"):
        open_store(Settings(store_path=tmp_path / "none"))


def test_a_large_write_goes_whole_through_the_graph_store_protocol(virtuoso: Any) -> None:
    """Virtuoso's update parser refuses an INSERT DATA of 10,000 triples (nothing is written); one Graph Store
    Protocol request takes them whole (an import of about a thousand rows is this size)."""
    big = b"".join(f'<{EX}n{i}> <{EX}p> "第{i}行" .\n'.encode() for i in range(10_000))
    plain = RemoteStore(virtuoso.query_url, update_endpoint=virtuoso.update_url, timeout=60)
    gsp = RemoteStore(virtuoso.query_url, update_endpoint=virtuoso.update_url, timeout=60,
                      graph_store=virtuoso.graph_store_url)
    try:
        for g in plain.graphs():
            plain.remove_graph(g)
        with pytest.raises(StoreError, match="nothing was written"):
            plain.add_graph(G1, big)
        assert plain.graphs() == []
        assert gsp.add_graph(G1, big) == 10_000
        assert gsp.count(G1) == 10_000
        assert gsp.select(f"SELECT ?o WHERE {{ <{EX}n9999> ?p ?o }}") == [{"o": "第9999行"}]
        gsp.remove_graph(G1)
    finally:
        plain.close()
        gsp.close()
