"""Statistics: each graph's triples counted, the project's graphs only."""

from __future__ import annotations

from kg.build import build_into
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
