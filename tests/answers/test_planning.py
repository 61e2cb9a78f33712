"""plan() on the fixture (answers in README.md) and on random instances (hypothesis)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import DataError, InvalidParameter
from kg.planning import PlanNeed, PlanResource, build_options, optimise, plan, read_budget
from kg.settings import Settings
from kg.store import Store

from .conftest import V1, V2, V4


def _alloc(p) -> list[tuple[str, str, list[str]]]:  # type: ignore[no-untyped-def]
    return [(a.village, a.resource.rsplit("/", 1)[-1], sorted(n["need"].rsplit("/", 1)[-1] for n in a.needs_covered))
            for a in p.allocations]


def test_enough_budget_covers_all_that_can_be_covered(store: Store, settings: Settings) -> None:
    p = plan(store, 100_000, settings=settings)
    assert _alloc(p) == [(V1, "point", ["b", "c"]), (V2, "reader", ["d"]), (V4, "room", ["l"])]
    assert (p.spent, p.covered_severity, p.unaddressed_severity) == (31_500, 12, 16)
    assert [u["need"].rsplit("/", 1)[-1] for u in p.uncovered] == ["i"]
    assert p.method == "exact" and p.optimality_gap == 0.0
    assert p.basis.example_share == 1.0 and all(a.example for a in p.allocations)


def test_budget_too_small_for_everything(store: Store, settings: Settings) -> None:
    p = plan(store, 5_000, "2190", settings=settings)
    assert _alloc(p) == [(V1, "local", ["c"]), (V2, "reader", ["d"])]
    assert p.spent == 2_500 <= p.budget and p.covered_severity == 5
    g = plan(store, 5_000, "2190", method="greedy", settings=settings)
    assert g.covered_severity == 5 and g.upper_bound >= 5 and 0 <= g.optimality_gap < 1
    for budget in (0, -1, float("nan"), 2e12):  # one rule, the API's bounds too (a budget of 0 made an empty plan)
        with pytest.raises(InvalidParameter) as e:
            plan(store, budget, settings=settings)
        assert "the budget must be more than 0" in e.value.message and "预算须大于 0 元" in e.value.message
    with pytest.raises(DataError):
        plan(store, 10, method="magic")


def test_a_budget_in_wan_is_read_to_the_yuan() -> None:
    """1.1万 is 11,000 yuan, not 11000.000000000002 (read in decimals); 1.5千万 is 15 million."""
    assert [read_budget(t) for t in ("1.1万", "1.5千万", "0.01", "3亿元", "1,234.5")] == \
        [11_000, 15_000_000, 0.01, 300_000_000, 1234.5]
    with pytest.raises(InvalidParameter) as e:
        read_budget("1,5")
    assert e.value.message.startswith("预算“1,5”") and "1.5万" in (e.value.hint or "")


def test_a_budget_spent_to_the_fen_leaves_nothing_not_minus_nothing(settings: Settings) -> None:
    """Costs of 0.1 and 0.2 yuan in a budget of 0.3: the plan spent 0.30000000000000004, more than the budget,
    and left -5.6e-17 (the page: 剩余 -0)."""
    from .conftest import fixture_store

    store = fixture_store()
    store.update("""DELETE { GRAPH ?g { ?r dcpa:unitCost ?c } } INSERT { GRAPH ?g { ?r dcpa:unitCost ?n } }
      WHERE { GRAPH ?g { ?r dcpa:unitCost ?c }
              VALUES (?r ?n) { (<https://w3id.org/dcpa/id/resource/reader> 0.1)
                               (<https://w3id.org/dcpa/id/resource/local> 0.2) } }""")
    p = plan(store, 0.3, "2190", settings=settings)
    assert sorted(a.cost for a in p.allocations) == [0.1, 0.2]
    assert p.spent == 0.3 <= p.budget and p.totals["budget_left"] == 0.0


def test_poverty_targeting_weighs_poor_villages_and_cause_linked_needs(store: Store, settings: Settings) -> None:
    """V1 (example registered poor, causes PC01, PC07) and V4 (PC04 disaster → N32) weigh ×2; V2 is not poor."""
    p = plan(store, 11_500, "2190", poor_first=True, settings=settings)
    covered = {n["need"].rsplit("/", 1)[-1]: n for a in p.allocations for n in a.needs_covered}
    assert covered["b"]["weight"] == 10.0 and "registered poor village (example data)" in covered["b"]["targeting"]
    # with 11 500 yuan: point at V1 (b + c weigh 14) and the e-readers for V2 (d weighs 3)
    assert _alloc(p) == [(V1, "point", ["b", "c"]), (V2, "reader", ["d"])]
    assert covered["d"]["weight"] == 3.0 and covered["d"]["targeting"] == []
    assert p.covered_weight == 17.0 and p.poor_first
    # without targeting the same budget spends the same way here, but the weights are plain severities
    assert plan(store, 11_500, "2190", settings=settings).covered_weight == 10.0
    # 1 500 yuan buy either the e-readers for V2's d (severity 3) or the local collection for V1's c (2):
    # plain severity picks d; targeting the registered poor village V1 (c weighs 4) picks c
    assert _alloc(plan(store, 1_500, "2190", settings=settings)) == [(V2, "reader", ["d"])]
    assert _alloc(plan(store, 1_500, "2190", poor_first=True, settings=settings)) == [(V1, "local", ["c"])]


def test_real_only_plans_from_real_needs_and_resources(mixed: Store, settings: Settings) -> None:
    p = plan(mixed, 100_000, real_only=True, settings=settings)
    assert p.allocations == []  # the real need n (V5) has no real resource within reach
    assert [u["need"].rsplit("/", 1)[-1] for u in p.uncovered] == ["n"]
    assert p.basis.real_only and p.basis.example_items == 0


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


def _best_by_enumeration(needs, resources, budget):  # type: ignore[no-untyped-def]
    """The best covered weight over every subset of options, and the least a plan of that weight costs (small
    instances only)."""
    options = build_options(needs, resources, BROADER)
    weight = {n.iri: n.value for n in needs}
    cap = {r.iri: r.capacity for r in resources}
    best, cost = 0.0, 0.0
    for mask in range(1 << len(options)):
        picked = [o for j, o in enumerate(options) if mask >> j & 1]
        spent = sum(o.cost for o in picked)
        if spent > budget + 1e-9:
            continue
        if any(Counter(o.resource for o in picked)[r] > cap[r] for r in cap):
            continue
        value = sum(weight[n] for n in {n for o in picked for n in o.needs})
        if value > best + 1e-9 or (abs(value - best) < 1e-9 and spent < cost):
            best, cost = value, spent
    return best, cost


@settings(max_examples=60, deadline=None)
@given(instances())
def test_exact_plans_are_the_best_possible_and_auto_is_within_its_bound(inst) -> None:  # type: ignore[no-untyped-def]
    needs, resources, budget, _ = inst
    if len(build_options(needs, resources, BROADER)) > 12:
        return
    best, cost = _best_by_enumeration(needs, resources, budget)
    chosen, used, ub = optimise(needs, resources, BROADER, budget, "exact")
    weight = {n.iri: n.value for n in needs}
    assert used == "exact"
    assert abs(sum(weight[n] for _, g in chosen for n in g) - best) < 1e-6 and abs(ub - best) < 1e-6
    assert abs(sum(o.cost for o, _ in chosen) - cost) < 1e-6  # at equal value, the cheaper plan
    auto, _, ub_auto = optimise(needs, resources, BROADER, budget, "auto")
    value = sum(weight[n] for _, g in auto for n in g)
    assert abs(value - best) < 1e-6 and abs(ub_auto - best) < 1e-6
    assert abs(sum(o.cost for o, _ in auto) - cost) < 1e-6


def test_a_plan_never_pays_more_for_what_a_cheaper_plan_meets_as_well() -> None:
    """Two needs of one village, three resources that each meet both (9, 16 and 4 yuan): with budget to spare the
    plan paid 9 yuan (the solver's tie-break by order outweighed the one by cost), now 4."""
    needs = [PlanNeed("n0", "219001001000", "A2", 2), PlanNeed("n1", "219001001000", "A1", 1)]
    res = [PlanResource("r0", "lib", ("219001001000",), frozenset({"B", "A2", "A1"}), 3, 9.0),
           PlanResource("r1", "lib", ("21",), frozenset({"A", "B", "A2"}), 2, 16.0),
           PlanResource("r2", "lib", ("21",), frozenset({"A", "A2"}), 2, 4.0)]
    for method in ("exact", "auto", "greedy"):
        chosen, used, _ = optimise(needs, res, BROADER, 136.0, method)
        assert [(o.resource, o.cost, g) for o, g in chosen] == [("r2", 4.0, ("n0", "n1"))], method


@pytest.mark.parametrize("large", [False, True])
def test_a_large_plan_pays_no_more_for_a_villages_needs_than_its_cheapest_options(
    large: bool, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A province's plan (more than AUTO_EXACT_OPTIONS options) skips the second solve, whose presolve alone took
    5.2 s at national scale: each village's needs are still met by its cheapest options (a 9-yuan and a 16-yuan
    unit meeting what one 4-yuan unit meets at V1; V2's own need keeps its only option)."""
    from kg.answers import plan as plan_module

    v1, v2 = "219001001000", "219001001001"
    needs = [PlanNeed("n0", v1, "A2", 2), PlanNeed("n1", v1, "B", 1), PlanNeed("n2", v2, "B", 1)]
    res = [PlanResource("r0", "lib", (v1,), frozenset({"A2"}), 3, 9.0),
           PlanResource("r1", "lib", ("21",), frozenset({"B"}), 2, 16.0),
           PlanResource("r2", "lib", (v1,), frozenset({"A", "B"}), 2, 4.0)]
    for method in ("exact", "auto", "greedy"):
        if large and method != "exact":  # `exact` has the request's whole deadline for the second solve
            monkeypatch.setattr(plan_module, "AUTO_EXACT_OPTIONS", 0)
            monkeypatch.setattr(plan_module, "solve_cheapest", lambda *a, **k: pytest.fail("a second solve"))
        chosen, _, _ = optimise(needs, res, BROADER, 136.0, method)
        assert sorted((o.village, o.resource, g) for o, g in chosen) == [
            (v1, "r2", ("n0", "n1")), (v2, "r1", ("n2",))], method


@settings(max_examples=80, deadline=None)
@given(instances())
def test_no_village_of_a_plan_can_be_served_for_less(inst) -> None:  # type: ignore[no-untyped-def]
    """Every village's options in the plan cost no more than any set of its options that meets the same needs
    with the stock the other villages leave (every subset tried), and the pass never loses value."""
    from itertools import combinations

    from kg.answers.plan import cheaper_by_village, solve_greedy

    needs, resources, budget, _ = inst
    options = build_options(needs, resources, BROADER)
    weight = {n.iri: n.value for n in needs}
    cap = {r.iri: r.capacity for r in resources}
    before = solve_greedy(options, weight, cap, budget)
    after = cheaper_by_village(options, weight, cap, before)
    value = sum(weight[n] for _, g in after for n in g)
    assert value >= sum(weight[n] for _, g in before for n in g) - 1e-9
    assert sum(o.cost for o, _ in after) <= sum(o.cost for o, _ in before) + 1e-9
    used = Counter(o.resource for o, _ in after)
    assert all(used[r] <= cap[r] for r in used)
    for v in {o.village for o, _ in after}:
        mine = [o for o, _ in after if o.village == v]
        met = {n for o in mine for n in o.needs}
        own = Counter(o.resource for o in mine)
        free = [o for o in options if o.village == v and used[o.resource] - own[o.resource] < cap[o.resource]]
        least = min((sum(o.cost for o in c) for k in range(len(free) + 1) for c in combinations(free, k)
                     if met <= {n for o in c for n in o.needs}), default=None)
        assert least is not None and sum(o.cost for o in mine) <= least + 1e-9


def test_a_plan_greedy_gets_wrong_is_solved_to_the_optimum() -> None:
    # greedy takes the best ratio first (V1: 52 for 51 yuan), then cannot afford either of the two that give 100
    needs = [PlanNeed("a", "219001001001", "A", 5, 52.0), PlanNeed("b", "219001001002", "A", 5, 50.0),
             PlanNeed("c", "219001001003", "A", 5, 50.0)]
    res = [PlanResource("r1", "lib", ("219001001001",), frozenset({"A"}), 1, 51.0),
           PlanResource("r2", "lib", ("219001001002", "219001001003"), frozenset({"A"}), 2, 50.0)]
    greedy, _, _ = optimise(needs, res, BROADER, 100.0, "greedy")
    assert [o.village for o, _ in greedy] == ["219001001001"]
    for method in ("exact", "auto"):
        chosen, used, ub = optimise(needs, res, BROADER, 100.0, method)
        assert sorted(o.village for o, _ in chosen) == ["219001001002", "219001001003"]
        assert used == "exact" and ub == 100.0


def test_a_solver_stopped_before_its_first_bound_answers_with_the_relaxations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At national scale HiGHS stopped at a short time limit with greedy's plan and no bound of its own
    (an infinite dual bound), and the plan failed with OverflowError; now the relaxation bounds it."""
    from kg.answers import plan as plan_module

    made = plan_module._new_highs

    class Stopped:
        def __init__(self) -> None:
            self._h = made()

        def __getattr__(self, name: str) -> object:
            return getattr(self._h, name)

        def getInfo(self) -> object:  # noqa: N802 - HiGHS's name
            info = self._h.getInfo()
            info.mip_dual_bound = float("inf")
            return info

    monkeypatch.setattr(plan_module, "_new_highs", Stopped)
    needs = [PlanNeed("a", "219001001001", "A", 5, 52.0), PlanNeed("b", "219001001002", "A", 5, 50.0),
             PlanNeed("c", "219001001003", "A", 5, 50.0)]
    res = [PlanResource("r1", "lib", ("219001001001",), frozenset({"A"}), 1, 51.0),
           PlanResource("r2", "lib", ("219001001002", "219001001003"), frozenset({"A"}), 2, 50.0)]
    chosen, _, ub = optimise(needs, res, BROADER, 100.0, "auto")
    assert sorted(o.village for o, _ in chosen) == ["219001001002", "219001001003"] and ub >= 100.0


def test_auto_stops_within_its_time_limit_in_all(monkeypatch: pytest.MonkeyPatch) -> None:
    """``auto`` is said to take at most PLAN_TIME_LIMIT seconds, but the relaxation and then branch and bound each had
    the whole of it: the solver's time limit is what is left after the relaxation."""
    import time

    from kg.answers import plan as plan_module

    relax = plan_module.solve_lp_rounding

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(0.5)
        return relax(*args, **kwargs)  # type: ignore[arg-type]

    limits: list[float] = []
    milp = plan_module.solve_milp

    def timed(*args: object, **kwargs: object) -> object:
        limits.append(float(kwargs["time_limit"]))  # type: ignore[arg-type]
        return milp(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_module, "solve_lp_rounding", slow)
    monkeypatch.setattr(plan_module, "solve_milp", timed)
    needs, resources = _province_like(1)
    optimise(needs, resources, BROADER, 3000.0, "auto")
    assert limits and limits[0] <= plan_module.PLAN_TIME_LIMIT - 0.5


def _province_like(seed: int) -> tuple[list[PlanNeed], list[PlanResource]]:
    """Many villages, overlapping resources and capacities: an LP relaxation that is not a plan."""
    import random

    rnd = random.Random(seed)
    villages = [f"21900{t}00{v:04d}" for t in range(1, 4) for v in range(60)]
    needs = [PlanNeed(f"n{k}", rnd.choice(villages), rnd.choice(TYPES), rnd.randint(1, 5)) for k in range(400)]
    resources = [PlanResource(f"r{k}", "lib", (rnd.choice(["21", "219001", "219002", "219003"]),),
                              frozenset(rnd.sample(TYPES, rnd.randint(1, 2))), rnd.randint(1, 30),
                              float(rnd.randint(50, 400))) for k in range(25)]
    return needs, resources


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_large_auto_plan_takes_the_relaxations_plan_when_it_is_proven_within_one_percent(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """A province's plan: the LP relaxation's plan, proven within 1% by the relaxation's bound, without branch
    and bound; branch and bound (from that plan) only when the relaxation's plan is further off."""
    from kg.answers import plan as plan_module

    needs, resources = _province_like(seed)
    weight = {n.iri: n.value for n in needs}
    options = build_options(needs, resources, BROADER)
    cap = {r.iri: r.capacity for r in resources}
    exact, used, best = optimise(needs, resources, BROADER, 3000.0, "exact")
    assert used == "exact"
    rounded = plan_module.solve_lp_rounding(options, weight, cap, 3000.0)
    assert rounded is not None
    lp_plan, lp_bound, _ = rounded
    assert lp_bound >= best - 1e-6  # the relaxation's bound holds the optimum
    close = sum(weight[n] for _, g in lp_plan for n in g) >= 0.99 * lp_bound

    calls: list[object] = []
    real = plan_module.solve_milp

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("start"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plan_module, "AUTO_EXACT_OPTIONS", 0)
    monkeypatch.setattr(plan_module, "solve_milp", counted)
    chosen, used, ub = optimise(needs, resources, BROADER, 3000.0, "auto")
    value = sum(weight[n] for _, g in chosen for n in g)
    assert (len(calls) == 0) == close
    # taken from the relaxation, it says so (it said "auto", which reads as stopped at the time limit)
    assert used in ("exact", plan_module.AUTO_WITHIN) if close else used == "exact"
    assert best - 1e-6 <= ub and value >= 0.99 * ub if used != "exact" else abs(value - best) < 1e-6
    assert sum(o.cost for o, _ in chosen) <= 3000.0 + 1e-9
    per_resource = Counter(o.resource for o, _ in chosen)
    assert all(per_resource[r.iri] <= r.capacity for r in resources)
    covered = [n for _, g in chosen for n in g]
    assert len(covered) == len(set(covered))


def test_an_example_county_status_never_weighs_a_real_need() -> None:
    """Example data never decides anything about real data: the real need n in Community 5 keeps its severity as
    its weight though an example status makes its county a poverty county, and the village's poverty summary does
    not show that status as a real one."""
    from kg.answers.poverty import poverty_of
    from kg.namespaces import GRAPH_SYNTHETIC

    from .conftest import V5, fixture_store, settings_for

    store = fixture_store(real=True)
    store.update(f"""INSERT DATA {{ GRAPH <{GRAPH_SYNTHETIC}> {{
      <https://w3id.org/dcpa/id/area/219002> dcpa:povertyStatus <https://w3id.org/dcpa/id/status/S-C2> .
      <https://w3id.org/dcpa/id/status/S-C2> a dcpa:PovertyStatus ; dcpa:statusType dcpav:PS3 ;
          dcpa:isSynthetic true . }} }}""")
    p = plan(store, 100_000, poor_first=True, settings=settings_for())
    [n] = [n for a in p.allocations for n in a.needs_covered if n["need"].endswith("/n")]
    assert (n["weight"], n["targeting"]) == (4.0, [])  # severity 4; not x1.5 for the example county
    summary = poverty_of(store, [V5])[V5]
    assert summary.to_dict() | {"causes": []} == {"priority": 1, "registered_poor_village": False,
                                                  "example_registration": False, "in_poor_county": False,
                                                  "example_county_status": True, "causes": []}
    assert summary.county_words() == "in a key, national or former poverty county (example data)"
