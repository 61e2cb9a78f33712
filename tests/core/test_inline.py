"""kg.inline: a query with its parameters written in answers as the same query given bindings does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from kg.catalogue import bind_params, default_values, load_catalogue
from kg.derived import derive_all
from kg.inline import inline
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.store import Store, binding_term

ANSWERS = Path(__file__).resolve().parent.parent / "data" / "answers"
CATALOGUE = load_catalogue()
#: Where the defaults name places the fixture does not have.
PARAMS = {"means_by_area": {"area": "2190"}, "need_quotes": {"area": "2190"}, "needs_by_evidence": {"area": "2190"},
          "needs_of_village": {"village": "219001001001"}, "poor_households_by_cause": {"area": "219001"},
          "village_interventions": {"village": "219001001002"}, "model_stages": {"area": "219001"},
          "intervention_inputs": {"area": "21"}, "libraries_served": {"area": "21"}}


def _rows(res: Any) -> list[str]:
    names = [v.value for v in res.variables]
    return sorted(json.dumps({n: str(s[n]) for n in names if s[n] is not None}, ensure_ascii=False) for s in res)


@pytest.fixture(scope="module")
def store() -> Store:
    """The answers' fixture, with its real part and its derived graph."""
    s = Store.memory()
    s.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    s.add_graph(str(GRAPH_SYNTHETIC), rdflib.Graph().parse(ANSWERS / "fixture.ttl"))
    s.add_graph(str(GRAPH_REFERENCE), rdflib.Graph().parse(ANSWERS / "fixture_real.ttl"))
    derive_all(s, as_of=date(2020, 6, 30))
    return s


def test_strings_iris_and_comments_are_left_alone() -> None:
    text = 'SELECT ?x WHERE { ?x <http://e/?v> "?v" ; <http://e/q> """?v\n""" . # ?v\n ?x <http://e/r> ?v }'
    assert inline(text, {"v": '"k"'}) == (
        'SELECT ?x WHERE { ?x <http://e/?v> "?v" ; <http://e/q> """?v\n""" . # ?v\n ?x <http://e/r> "k" }')


def test_projections_and_groups() -> None:
    text = ("SELECT ?v ?n WHERE { { SELECT ?v (COUNT(*) AS ?n) WHERE { ?x <http://e/p> ?v FILTER(?v != 1) } "
            "GROUP BY ?v } } ORDER BY ?v DESC(?n)")
    assert inline(text, {"v": "<http://e/v>"}) == (
        "SELECT (<http://e/v> AS ?v) ?n WHERE { { SELECT  (COUNT(*) AS ?n) WHERE { ?x <http://e/p> <http://e/v> "
        "FILTER(<http://e/v> != 1) } GROUP BY (<http://e/v>) } } ORDER BY  DESC(?n)")
    # a parameter beside other keys goes; an ORDER BY of parameters only goes whole
    assert inline("SELECT ?x WHERE { ?x ?p ?v } GROUP BY ?v ?x ORDER BY ?v", {"v": "1"}).split() == (
        "SELECT ?x WHERE { ?x ?p 1 } GROUP BY ?x".split())


def test_a_group_by_a_parameter_has_no_group_when_nothing_matches() -> None:
    text = "SELECT ?v (COUNT(?x) AS ?n) WHERE { ?x <http://e/p> ?v } GROUP BY ?v"
    empty = ox.Store()
    assert list(empty.query(inline(text, {"v": "<http://e/v>"}))) == []
    assert list(empty.query(text, substitutions={ox.Variable("v"): ox.NamedNode("http://e/v")})) == []


@pytest.mark.parametrize("real_only", [False, True])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_query_answers_as_with_bindings(store: Store, name: str, real_only: bool) -> None:
    q = CATALOGUE[name]
    bindings = bind_params(q, PARAMS.get(name, {}), real_only=real_only)
    written = inline(q.text, {k: str(binding_term(v)) for k, v in bindings.items()})
    rows = _rows(store.query(q.text, bindings=bindings))
    assert _rows(store.query(written)) == rows
    assert rows or real_only, f"{name} answers nothing on the fixture: the comparison shows nothing"


def test_the_sparql_pages_examples_are_the_catalogue_with_its_defaults(store: Store) -> None:
    q = CATALOGUE["coverage_by_category"]
    page = inline(q.text, default_values(q))
    assert _rows(store.query(page)) == _rows(store.query(q.text, bindings=bind_params(q, {})))
