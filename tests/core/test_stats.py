"""Statistics: each graph's triples counted, the project's graphs only."""

from __future__ import annotations

from kg.build import build_into
from kg.codes import LEVEL_OF_CLASS
from kg.lease import LOCK_GRAPH
from kg.stats import graph_counts, stats
from kg.store import Store


def test_each_graph_of_the_project_is_counted_and_no_other() -> None:
    store = Store.memory()
    build_into(store, example_villages=3, seed=1)
    store.add_graph(LOCK_GRAPH, b"<https://w3id.org/dcpa/lock> <https://w3id.org/dcpa/lock#holder> \"x\" .\n")
    counts = graph_counts(store)
    assert counts == {g: len(list(store.quads(graph=g))) for g in store.graphs() if g != LOCK_GRAPH}
    assert LOCK_GRAPH not in counts and all(n > 0 for n in counts.values())
    summary = stats(store).summary()
    assert summary["triples"] == sum(counts.values()) == store.count() - 1


DCPA = "https://w3id.org/dcpa/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SYNTHETIC = "https://w3id.org/dcpa/graph/synthetic"
DERIVED = "https://w3id.org/dcpa/graph/derived"
ONTOLOGY = "https://w3id.org/dcpa/graph/ontology"
IMPORTED = "https://w3id.org/dcpa/graph/import/20201231T000000Z-000000"
TRUE, FALSE = (f'"{v}"^^<http://www.w3.org/2001/XMLSchema#boolean>' for v in ("true", "false"))


def _example(store: Store, graph: str, node: str) -> bool:
    """Example data: in the example graph, or flagged there where it is."""
    return graph == SYNTHETIC or any(
        q.object.value == "true" for q in store.quads(node, DCPA + "isSynthetic", graph))


def test_headline_counts_count_each_node_once_and_example_nodes_by_graph_or_flag() -> None:
    """What the counts mean, worked out here from the quads: a node typed with several classes of one headline
    (a village is a village and its kind of village) counts once; example nodes are the example graph's and
    those flagged ``dcpa:isSynthetic`` in another graph; the rest are real; the derived graph's nodes are neither."""
    store = Store.memory()
    build_into(store, example_villages=3, seed=1)
    n = "https://w3id.org/dcpa/id/need/"
    store.add_graph(IMPORTED, (
        f"<{n}flagged> <{RDF_TYPE}> <{DCPA}Need> .\n<{n}flagged> <{DCPA}isSynthetic> {TRUE} .\n"
        f"<{n}real> <{RDF_TYPE}> <{DCPA}Need> .\n<{n}real> <{DCPA}isSynthetic> {FALSE} .\n"
        f"<{n}twice> <{RDF_TYPE}> <{DCPA}Need> .\n<{n}twice> <{RDF_TYPE}> <{DCPA}Evaluation> .\n").encode())
    found = stats(store)
    village_classes = {DCPA + c for c, level in LEVEL_OF_CLASS.items() if level == "village"}
    for name, classes in (("villages", village_classes), ("needs", {DCPA + "Need"})):
        nodes: dict[str, bool] = {}
        for q in store.quads(predicate=RDF_TYPE):
            if q.object.value in classes and q.graph_name.value not in (ONTOLOGY, DERIVED):
                nodes[q.subject.value] = nodes.get(q.subject.value, False) or _example(
                    store, q.graph_name.value, q.subject.value)
        example = sum(nodes.values())
        assert found.counts[name] == {"real": len(nodes) - example, "example": example}, name
    assert found.counts["needs"]["real"] == 2 and found.counts["villages"]["real"] > 0
    assert found.counts["villages"]["real"] + found.counts["villages"]["example"] < sum(
        1 for q in store.quads(predicate=RDF_TYPE) if q.object.value in village_classes)  # typed twice, counted once
    rows = {r["class"]: r for r in found.classes}
    for cls in ("dcpa:Need", "dcpa:Village", "dcpa:AddressingReason"):
        expected = {"total": 0, "real": 0, "synthetic": 0, "derived": 0}
        for q in store.quads(predicate=RDF_TYPE):
            if q.object.value == DCPA + cls.removeprefix("dcpa:") and q.graph_name.value != ONTOLOGY:
                expected["total"] += 1
                kind = ("derived" if q.graph_name.value == DERIVED else
                        "synthetic" if _example(store, q.graph_name.value, q.subject.value) else "real")
                expected[kind] += 1
        assert {k: rows[cls][k] for k in expected} == expected, cls
