"""plan() on the fixture (answers in README.md) and on random instances (hypothesis)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import DataError
from kg.planning import PlanNeed, PlanResource, build_options, optimise, plan
from kg.store import Store

from .conftest import V1, V2, V3, V5


def _alloc(p) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    return [(a.village, a.resource.rsplit("/", 1)[-1], sorted(n["need"].rsplit("/", 1)[-1] for n in a.needs_covered))
            for a in p.allocations]


def test_enough_budget_covers_all_that_can_be_covered(store: Store) -> None:
    p = plan(store, 100_000)
    assert _alloc(p) == [(V1, "point", ["b", "c"]), (V2, "app", ["e"]), (V3, "skills", ["g"]), (V5, "room", ["j"])]
    assert (p.spent, p.covered_severity, p.unaddressed_severity) == (33_100, 21, 25)
    assert [u["need"].rsplit("/", 1)[-1] for u in p.uncovered] == ["i"]
    assert p.method == "exact" and p.optimality_gap == 0.0


def test_budget_too_small_for_everything(store: Store) -> None:
    p = plan(store, 5_000, "2190")
    assert _alloc(p) == [(V1, "local", ["c"]), (V2, "app", ["e"]), (V3, "skills", ["g"])]
    assert p.spent == 4_100 <= p.budget and p.covered_severity == 11
    g = plan(store, 5_000, "2190", method="greedy")
    assert g.covered_severity == 11 and g.upper_bound >= 11 and 0 <= g.optimality_gap < 1
    assert plan(store, 0).allocations == []
    with pytest.raises(DataError):
        plan(store, -1)
    with pytest.raises(DataError):
        plan(store, 10, method="magic")


def test_ties_go_to_the_lower_village_code() -> None:
    # two villages with the same need, one unit of stock: the lower code gets it, every time
    needs = [PlanNeed("n2", "219001001002", "T", 3), PlanNeed("n1", "219001001001", "T", 3)]
    res = [PlanResource("r", "lib", ("21",), frozenset({"T"}), 1, 10.0)]
    for method in ("exact", "greedy"):
        chosen, _, _ = optimise(needs, res, {}, 100.0, method)
        assert [(o.village, g) for o, g in chosen] == [("219001001001", ("n1",))]


TYPES = ["A", "A1", "A2", "B"]
BROADER = {"A1": ["A"], "A2": ["A"]}


@st.composite
def instances(draw):  # type: ignore[no-untyped-def]
    villages = [f"2190010010{i:02d}" for i in range(draw(st.integers(1, 5)))]
    needs = [PlanNeed(f"n{k}", draw(st.sampled_from(villages)), draw(st.sampled_from(TYPES)), draw(st.integers(1, 5)))
             for k in range(draw(st.integers(0, 10)))]
    resources = [PlanResource(f"r{k}", "lib", (draw(st.sampled_from(["21", "219001", villages[0]])),),
                              frozenset(draw(st.sets(st.sampled_from(TYPES), min_size=1))),
                              draw(st.integers(0, 3)), float(draw(st.integers(0, 50))))
                 for k in range(draw(st.integers(0, 4)))]
    return needs, resources, float(draw(st.integers(0, 120))), draw(st.sampled_from(["exact", "greedy", "auto"]))


@settings(max_examples=50, deadline=None)
@given(instances())
def test_plan_never_breaks_budget_capacity_or_double_covers(inst) -> None:  # type: ignore[no-untyped-def]
    needs, resources, budget, method = inst
    chosen, used, ub = optimise(needs, resources, BROADER, budget, method)
    spent = sum(o.cost for o, _ in chosen)
    assert spent <= budget + 1e-9
    per_resource = Counter(o.resource for o, _ in chosen)
    cap = {r.iri: r.capacity for r in resources}
    assert all(per_resource[r] <= cap[r] for r in per_resource)
    covered = [n for _, g in chosen for n in g]
    assert len(covered) == len(set(covered))
    assert len({(o.resource, o.village) for o, _ in chosen}) == len(chosen)
    options = {(o.resource, o.village): set(o.needs) for o in build_options(needs, resources, BROADER)}
    for o, g in chosen:
        assert set(g) <= options[(o.resource, o.village)]  # only needs that resource fits, in that village
    value = sum(n.severity for n in needs if n.iri in set(covered))
    assert value <= ub + 1e-9
