"""``kg.batchgraph``: a batch graph answers every pattern as rdflib's own memory graph does."""

from __future__ import annotations

import itertools
import random

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from kg.batchgraph import BatchMemory, batch_graph

EX = "https://example.org/"


def _terms(rnd: random.Random) -> tuple[list, list, list]:
    subjects = [URIRef(f"{EX}s{i}") for i in range(6)] + [BNode(f"b{i}") for i in range(2)]
    predicates = [URIRef(f"{EX}p{i}") for i in range(4)]
    objects = subjects + [Literal("三"), Literal("3", datatype=XSD.integer), Literal("three", lang="en"),
                          Literal("3")]
    return subjects, predicates, objects


def _twins(seed: int) -> tuple[rdflib.Graph, rdflib.Graph, list]:
    """The same adds and removes, in a batch graph and in rdflib's default graph."""
    rnd = random.Random(seed)
    subjects, predicates, objects = _terms(rnd)
    ours, theirs = batch_graph(), rdflib.Graph()
    for _ in range(120):
        t = (rnd.choice(subjects), rnd.choice(predicates), rnd.choice(objects))
        if rnd.random() < 0.2:
            pattern = tuple(x if rnd.random() < 0.5 else None for x in t)
            ours.remove(pattern)  # type: ignore[arg-type]
            theirs.remove(pattern)  # type: ignore[arg-type]
        else:
            ours.add(t)
            theirs.add(t)
        if rnd.random() < 0.1:  # a read between writes: the lazy indexes must follow later writes
            assert set(ours.triples((None, t[1], None))) == set(theirs.triples((None, t[1], None)))
    return ours, theirs, [subjects, predicates, objects]


def test_every_pattern_matches_what_rdflib_finds() -> None:
    for seed in range(20):
        ours, theirs, (subjects, predicates, objects) = _twins(seed)
        assert len(ours) == len(theirs)
        for s, p, o in itertools.product([None, *subjects], [None, *predicates], [None, *objects]):
            assert set(ours.triples((s, p, o))) == set(theirs.triples((s, p, o))), (seed, s, p, o)
        assert isomorphic(ours, theirs)


def test_serialised_and_queried_as_any_rdflib_graph() -> None:
    ours, theirs, _ = _twins(7)
    back = rdflib.Graph().parse(data=ours.serialize(format="nt"), format="nt")
    assert isomorphic(back, theirs)
    q = "SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s"
    assert sorted(map(tuple, ours.query(q))) == sorted(map(tuple, theirs.query(q)))


def test_adding_a_triple_twice_keeps_one() -> None:
    g = batch_graph()
    t = (URIRef(f"{EX}a"), URIRef(f"{EX}p"), Literal("x"))
    g.add(t)
    g.add(t)
    assert len(g) == 1 and list(g) == [t]


def test_prefixes_bind_as_in_rdflib() -> None:
    g = batch_graph()
    g.bind("ex", EX)
    g.bind("ex2", EX)  # rebinding a namespace (override) moves its prefix
    assert isinstance(g.store, BatchMemory)
    assert dict(g.namespaces())["ex2"] == URIRef(EX)
    assert "ex" not in dict(g.namespaces())
    g.add((URIRef(f"{EX}a"), URIRef(f"{EX}p"), Literal("x")))
    assert "ex2:a" in g.serialize(format="turtle")
