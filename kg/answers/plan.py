"""Plans: with this budget and this stock, which villages get what?

The problem. Giving one unit of resource *r* (``dcpa:unitCost`` yuan) to village *v*
covers every unaddressed need of *v* whose type *r* fits (the type itself or a broader
type, as in "addressed"); *r* can go to at most ``dcpa:capacity`` villages, only to
villages its library serves (the village or an area containing it — by official code
prefix, which is how the NBS codes nest), and each need counts once. Maximise the
covered severity without exceeding the budget.

This is budgeted maximum coverage (NP-hard). It is solved as a mixed-integer programme by HiGHS
(``highspy``, a maintained solver): one binary per (resource, village) option, one coverage variable
per need, a budget row, a capacity row per resource and a coverage row per need.

* ``exact`` — solved to proven optimality (within the answer's deadline);
* ``auto`` — the same, for at most ``PLAN_TIME_LIMIT`` seconds: then the best plan found, with how
  far from the best possible it can be. A large plan (more than ``AUTO_EXACT_OPTIONS`` options: a
  province's) first solves the LP relaxation alone: the options it takes, filled greedily, make a plan,
  and the relaxation's value bounds every plan; when that plan is within ``AUTO_GAP`` (1%) of the bound
  it is the answer, with its proven distance, and the branch and bound is not run;
* ``greedy`` — repeatedly take the option with the best covered-severity per yuan (lazy
  re-evaluation), then compare with the best single option (the classic fix that gives the
  (1−1/e)/2 guarantee for budgeted coverage). Fast; also the solver's starting plan.

Every plan states an upper bound on what any plan could cover (the solver's proven bound; for
greedy, the fractional knapsack relaxation capped by all coverable severity) and the relative
distance ``(bound − value) / bound``. Why HiGHS: the hand-written branch and bound it replaces
handled 24 options and fell back to greedy above, which left a county plan 31.9% below its bound.
At equal value the cheaper plan wins (a second solve: the cheapest plan of at least the value found; on a plan
of more than ``AUTO_EXACT_OPTIONS`` options in ``auto``, and for ``greedy``, each village's needs met by its
cheapest options instead, ``cheaper_by_village``), then lower village codes (a penalty too small to change the
value), and the solver runs on one thread with a fixed seed, so plans are reproducible.
Resources with no unit cost are left out (their cost could break the budget).

The needs are the gaps under the rule of "addressed" (``kg.answers.needs``). With ``poor_first``
(poverty targeting) a need weighs its severity times ``POOR_VILLAGE_WEIGHT`` in a village that comes
first (registered poor, lifted out, or monitored against a return to poverty: ``kg.answers.poverty``;
``POOR_COUNTY_WEIGHT`` in a key, national or former poverty county) and times ``CAUSE_WEIGHT`` when
its type is linked to the village's poverty causes; each allocation says so in its explanation.
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any

import pyoxigraph as ox

from ..contract import StoreAPI
from ..errors import InvalidParameter
from ..facts import AREA_PREFIX, need_type_tree
from ..namespaces import DCPA, DCPAV
from ..namespaces import area as area_iri
from ..rule import NeedState, ancestors_path, parse_reach, prefixes
from ..safetext import typed
from ..settings import Settings, get_settings
from ..workers import current_deadline
from .areas import Area, resolve_area
from .basis import Basis, basis
from .jsonable import to_jsonable
from .labels import labels
from .needs import need_rows
from .poverty import cause_links, linked_types, poverty_of

log = logging.getLogger(__name__)



class PlanMethod(StrEnum):
    """How a plan is optimised."""

    AUTO = "auto"  # the solver, to proven optimality or for PLAN_TIME_LIMIT seconds
    EXACT = "exact"  # the solver, to proven optimality
    GREEDY = "greedy"  # best covered weight per yuan, compared with the best single option


METHODS: tuple[str, ...] = tuple(m.value for m in PlanMethod)
#: A plan's budget, in yuan, is more than ``BUDGET_ABOVE`` (a plan of nothing answers no question) and at most
#: ``BUDGET_MAX`` (a province's programme is far below; beyond, it is a slip of the keyboard). ``plan``
#: refuses any other, and the API's parameters take their bounds from here: the CLI and the API agree.
BUDGET_ABOVE = 0
BUDGET_MAX = 1e12
#: ``auto`` stops after this many seconds with the best plan found and its proven distance.
PLAN_TIME_LIMIT = 8.0
#: ``auto`` on a plan of more options than this takes the LP relaxation's plan once it is proven within
#: ``AUTO_GAP`` of the optimum (a province's); smaller plans (a county's: a few hundred options, 0.1 s) are
#: always solved to proven optimality.
AUTO_EXACT_OPTIONS = 5_000
AUTO_GAP = 0.01
#: The method a plan says it was made by when ``auto`` took the relaxation's plan, proven within ``AUTO_GAP``
#: (not stopped by the time limit: "auto" alone).
AUTO_WITHIN = "auto (proven within 1%)"
#: The second solve (the cheapest plan of the value found) takes at most this share of ``PLAN_TIME_LIMIT``.
CHEAPEST_SHARE = 0.25
#: The tie-breaking penalties sum to less than this; values are multiples of 1e-4 (weights are rounded
#: to 4 decimals), so the penalties choose among plans of equal value and never change the value.
_TIE_PENALTY = 5e-5
POOR_VILLAGE_WEIGHT = 2.0
POOR_COUNTY_WEIGHT = 1.5
CAUSE_WEIGHT = 1.5


@dataclass(frozen=True)
class PlanNeed:
    """An unaddressed need as the planner sees it."""

    iri: str
    village: str  # village code
    need_type: str
    severity: int
    weight: float = 0.0  # what covering it is worth (its severity, times the targeting weights); 0: severity
    example: bool = False
    why: tuple[str, ...] = ()  # the targeting reasons behind its weight

    @property
    def value(self) -> float:
        return self.weight or float(self.severity)


@dataclass(frozen=True)
class PlanResource:
    iri: str
    library: str
    served_codes: tuple[str, ...]
    fits: frozenset[str]
    capacity: int
    unit_cost: float
    example: bool = False


@dataclass(frozen=True)
class Option:
    """One unit of ``resource`` given to ``village``, covering ``needs``."""

    resource: str
    village: str
    cost: float
    needs: tuple[str, ...]


@dataclass
class Allocation:
    village: str
    village_label: str | None
    resource: str
    resource_label: str | None
    library: str
    library_label: str | None
    cost: float
    needs_covered: list[dict[str, Any]]
    covered_severity: int
    covered_weight: float = 0.0
    example: bool = False
    explanation: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Plan:
    area: Area | None
    budget: float
    method: str
    reach: list[str]
    as_of: str
    poor_first: bool
    real_only: bool
    spent: float
    covered_severity: int
    unaddressed_severity: int
    covered_weight: float
    upper_bound: float
    optimality_gap: float
    allocations: list[Allocation]
    uncovered: list[dict[str, Any]]
    totals: dict[str, Any]
    basis: Basis
    #: The poverty causes the targeting reasons name (``PC11``), with their labels: {"zh": …, "en": …}.
    cause_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Needs identified after this day were left out (a plan as of a past day meets the needs known then);
    #: None when none were.
    known_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


# ---------------------------------------------------------------------------
# the optimisation (pure functions: tested on random instances)
# ---------------------------------------------------------------------------


def build_options(needs: list[PlanNeed], resources: list[PlanResource],
                  broader: dict[str, list[str]]) -> list[Option]:
    """Every (resource, village) pair that would cover at least one need."""
    by_village: dict[str, list[PlanNeed]] = defaultdict(list)
    for n in needs:
        by_village[n.village].append(n)
    up = {t: set(ancestors_path(t, broader)) for t in {n.need_type for n in needs}}
    # villages by every prefix of their code, so a resource only looks at the villages it can reach
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for v in by_village:
        for length in (2, 4, 6, 9, 12):
            if length <= len(v):
                by_prefix[v[:length]].append(v)
    options = []
    for r in resources:
        if r.capacity <= 0:
            continue
        reachable = sorted({v for s in r.served_codes for v in by_prefix.get(s, ())})
        for v in reachable:
            covered = tuple(sorted(n.iri for n in by_village[v] if up[n.need_type] & r.fits))
            if covered:
                options.append(Option(r.iri, v, r.unit_cost, covered))
    options.sort(key=lambda o: (o.village, o.resource))
    return options


def upper_bound(options: list[Option], weight: dict[str, float], budget: float) -> float:
    """Fractional knapsack over options (overlaps and capacities relaxed), capped by all coverable weight.

    Options costing more than the whole budget are in no plan and left out (with them, a greedy plan of a budget
    below every option was bounded above 0 and said to reach "at least 0%" of the best plan, not that the budget
    buys nothing)."""
    options = [o for o in options if o.cost <= budget + 1e-9]
    coverable = sum(weight[n] for n in {n for o in options for n in o.needs})
    items = sorted(((sum(weight[n] for n in o.needs), o.cost) for o in options),
                   key=lambda x: -(x[0] / x[1]) if x[1] > 0 else -float("inf"))
    left, total = budget, 0.0
    for w, c in items:
        if c <= 0:
            total += w
        elif c <= left:
            total += w
            left -= c
        else:
            total += w * left / c
            break
    return float(min(total, coverable))


def _feasible(o: Option, spent: float, budget: float, used: dict[str, int], cap: dict[str, int],
              taken: set[tuple[str, str]]) -> bool:
    return (spent + o.cost <= budget + 1e-9 and used[o.resource] < cap[o.resource]
            and (o.resource, o.village) not in taken)


def solve_greedy(options: list[Option], weight: dict[str, float], cap: dict[str, int],
                 budget: float, prefer: Sequence[Option] = ()) -> list[tuple[Option, tuple[str, ...]]]:
    """Lazy greedy by marginal covered weight per yuan, then compared with the best single option.

    ``prefer`` (options in order, e.g. those the LP relaxation takes) are taken first where they fit and
    add something; the greedy then fills what budget and capacity are left."""
    covered: set[str] = set()
    used: dict[str, int] = defaultdict(int)
    taken: set[tuple[str, str]] = set()
    spent = 0.0
    chosen: list[tuple[Option, tuple[str, ...]]] = []

    def take(o: Option, gain: tuple[str, ...]) -> None:
        nonlocal spent
        chosen.append((o, gain))
        covered.update(gain)
        used[o.resource] += 1
        taken.add((o.resource, o.village))
        spent += o.cost

    for o in prefer:
        gain = tuple(n for n in o.needs if n not in covered)
        if gain and _feasible(o, spent, budget, used, cap, taken):
            take(o, gain)

    def ratio(w: float, c: float) -> float:
        return float("inf") if c <= 0 else w / c

    heap = [(-ratio(sum(weight[n] for n in o.needs), o.cost), k, o) for k, o in enumerate(options)]
    heapq.heapify(heap)
    while heap:
        neg, k, o = heapq.heappop(heap)
        if not _feasible(o, spent, budget, used, cap, taken):
            continue
        gain = tuple(n for n in o.needs if n not in covered)
        w = sum(weight[n] for n in gain)
        if w == 0:
            continue
        r = ratio(w, o.cost)
        if heap and r < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-r, k, o))  # stale: re-queue with its current value
            continue
        take(o, gain)
    value = sum(weight[n] for _, g in chosen for n in g)
    singles = [o for o in options if o.cost <= budget + 1e-9 and cap[o.resource] > 0]
    if singles:
        best = max(singles, key=lambda o: (sum(weight[n] for n in o.needs), -o.cost, o.village, o.resource))
        if sum(weight[n] for n in best.needs) > value:
            return [(best, best.needs)]
    return chosen


_banner = threading.Lock()
_banner_shown = False


def _new_highs() -> Any:
    """A HiGHS instance; the first one of a process prints a banner on the C level: sent to /dev/null,
    so that ``dcpa plan --format json`` prints JSON only."""
    global _banner_shown
    import highspy

    with _banner:
        if _banner_shown:
            return highspy.Highs()
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
            h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _banner_shown = True
        return h


def solve_milp(options: list[Option], weight: dict[str, float], cap: dict[str, int], budget: float, *,
               rel_gap: float = 0.0, time_limit: float | None = None,
               start: list[tuple[Option, tuple[str, ...]]] | None = None,
               ) -> tuple[list[tuple[Option, tuple[str, ...]]], bool, float]:
    """The plan as a mixed-integer programme solved by HiGHS; returns (chosen, proved optimal, upper bound).

    ``start`` (a feasible plan, e.g. greedy's) is given to the solver as its first incumbent.
    """
    import highspy  # imported on use: loading the solver costs ~0.1 s that other answers need not pay

    if not options:
        return [], True, 0.0
    m = len(options)
    lp, step = _model(options, weight, cap, budget)
    h = _new_highs()
    for name, v in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_rel_gap", rel_gap),
                    ("mip_abs_gap", 0.9 * step - _TIE_PENALTY), ("mip_feasibility_tolerance", 1e-9)):
        h.setOptionValue(name, v)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.1, float(time_limit)))
    h.passModel(lp)
    if start:
        needs = sorted({n for o in options for n in o.needs})
        sol = highspy.HighsSolution()
        picked = {(o.resource, o.village) for o, _ in start}
        reached = {n for _, g in start for n in g}
        sol.col_value = [1.0 if (o.resource, o.village) in picked else 0.0 for o in options] + \
                        [1.0 if n in reached else 0.0 for n in needs]
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus()
    x = list(h.getSolution().col_value)[:m] if h.getInfo().primal_solution_status else []
    if not x:  # no plan found in time (not even the start): greedy's is the answer, bound by the relaxation
        return start or [], False, upper_bound(options, weight, budget)
    chosen = _picked(options, weight, x)
    value = float(sum(weight[n] for _, g in chosen for n in g))
    # the bound on the penalised objective, plus what the penalties can take away, bounds the value;
    # values come in steps, so the bound rounds down to one
    dual = float(h.getInfo().mip_dual_bound) + _TIE_PENALTY
    relaxed = upper_bound(options, weight, budget)
    # stopped before it had a bound of its own (infinite), the relaxation's bound stands
    bound = min(math.floor(dual / step + 1e-6) * step, relaxed) if math.isfinite(dual) else relaxed
    proved = bound <= value + 1e-9 or (status == highspy.HighsModelStatus.kOptimal and rel_gap == 0.0)
    return chosen, proved, value if proved else max(value, bound)


def _picked(options: list[Option], weight: dict[str, float],
            x: Sequence[float]) -> list[tuple[Option, tuple[str, ...]]]:
    """The options a solution takes, each with the needs it is first to cover (heaviest options first)."""
    covered: set[str] = set()
    chosen: list[tuple[Option, tuple[str, ...]]] = []
    for j in sorted(range(len(options)), key=lambda j: (-sum(weight[n] for n in options[j].needs), j)):
        if x[j] > 0.5:
            gain = tuple(n for n in options[j].needs if n not in covered)
            covered.update(gain)
            chosen.append((options[j], gain))
    return [(o, g) for o, g in chosen if g]  # an option whose needs others cover adds nothing


def solve_lp_rounding(
    options: list[Option], weight: dict[str, float], cap: dict[str, int], budget: float, *,
    time_limit: float | None = None,
) -> tuple[list[tuple[Option, tuple[str, ...]]], float, bool] | None:
    """The plan the LP relaxation points at, the relaxation's bound on any plan, and whether the relaxation's
    optimum is itself a plan (every option taken whole or not at all); None if it fails.

    Why: on a province HiGHS took 5–8 s of branch and bound before it had a bound of its own, while the
    relaxation alone (dual simplex) took 1.7 s and its bound was within one severity point of the optimum
    (31,796 against 31,795 at province scale, 68,424 options). Taking the options the relaxation takes
    (in the order of their values), then filling greedily, gave a plan within 0.1% of that bound.
    """
    import highspy

    if not options:
        return [], 0.0, True
    lp, step = _model(options, weight, cap, budget)
    lp.integrality_ = []  # the relaxation
    h = _new_highs()
    for name, v in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("solver", "simplex")):
        h.setOptionValue(name, v)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.1, float(time_limit)))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # stopped at its time limit, or failed
        return None
    x = list(h.getSolution().col_value)[:len(options)]
    bound = math.floor((float(h.getInfo().objective_function_value) + _TIE_PENALTY) / step + 1e-6) * step
    if all(v < 1e-6 or v > 1 - 1e-6 for v in x):
        return _picked(options, weight, x), bound, True
    prefer = [options[j] for j in sorted((j for j in range(len(options)) if x[j] > 1e-6), key=lambda j: (-x[j], j))]
    return solve_greedy(options, weight, cap, budget, prefer=prefer), bound, False


def solve_cheapest(
    options: list[Option], weight: dict[str, float], cap: dict[str, int], budget: float,
    plan: list[tuple[Option, tuple[str, ...]]], *, time_limit: float | None = None,
) -> list[tuple[Option, tuple[str, ...]]]:
    """The cheapest plan that covers at least what ``plan`` covers (then options earlier in (village, resource)
    order); ``plan`` itself when none is cheaper, or none is found in time."""
    import highspy
    import numpy as np

    spent = sum(o.cost for o, _ in plan)
    if len(plan) == 0 or spent <= 0:
        return plan
    value = float(sum(weight[n] for _, g in plan for n in g))
    lp, step = _model(options, weight, cap, budget)
    m, needs = len(options), sorted({n for o in options for n in o.needs})
    # cost in yuan, and a tie-break by order worth less than a fen (0.01 yuan) in all
    lp.col_cost_ = np.array([o.cost + 0.001 * (j + 1) / (m * m) for j, o in enumerate(options)] + [0.0] * len(needs))
    lp.sense_ = highspy.ObjSense.kMinimize
    h = _new_highs()
    for name, v in (("output_flag", False), ("threads", 1), ("random_seed", 0), ("mip_rel_gap", 0.0),
                    ("mip_abs_gap", 0.005), ("mip_feasibility_tolerance", 1e-9)):
        h.setOptionValue(name, v)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(0.1, float(time_limit)))
    h.passModel(lp)
    # covered weight at least the plan's (values come in steps: half a step below it is the plan's value)
    h.addRow(value - step / 2, highspy.kHighsInf, len(needs), np.arange(m, m + len(needs), dtype=np.int32),
             np.array([weight[n] for n in needs], dtype=float))
    picked = {(o.resource, o.village) for o, _ in plan}
    reached = {n for _, g in plan for n in g}
    sol = highspy.HighsSolution()
    sol.col_value = [1.0 if (o.resource, o.village) in picked else 0.0 for o in options] + \
                    [1.0 if n in reached else 0.0 for n in needs]
    sol.value_valid = True
    h.setSolution(sol)
    h.run()
    if not h.getInfo().primal_solution_status:
        return plan
    other = _picked(options, weight, list(h.getSolution().col_value)[:m])
    cheaper = sum(o.cost for o, _ in other) < spent - 1e-9
    return other if cheaper and sum(weight[n] for _, g in other for n in g) >= value - 1e-9 else plan


#: ``cheaper_by_village`` re-covers a village's met needs only when they are at most this many (2^16 subsets).
VILLAGE_RECOVER_MAX = 16


def cheaper_by_village(options: list[Option], weight: dict[str, float], cap: dict[str, int],
                       plan: list[tuple[Option, tuple[str, ...]]]) -> list[tuple[Option, tuple[str, ...]]]:
    """``plan`` with each village's needs met by the cheapest set of that village's options that meets them all,
    given the stock the other villages take; ``plan`` itself where no village can be served for less.

    Why: the second solve (``solve_cheapest``) took 5.2 s of HiGHS's presolve on a province (65,841 options, its
    time limit unread there) and found nothing cheaper; a plan's needs are each one village's, so a village's
    options are exchanged for cheaper ones meeting the same needs without touching any other village's (a
    dynamic programme over the subsets of its met needs: 4,144 villages in 0.1 s)."""
    if not plan:
        return plan
    by_village: dict[str, list[Option]] = defaultdict(list)
    for o in options:
        by_village[o.village].append(o)
    mine: dict[str, list[Option]] = defaultdict(list)
    for o, _ in plan:
        mine[o.village].append(o)
    used: dict[str, int] = defaultdict(int)
    for o, _ in plan:
        used[o.resource] += 1
    changed = False
    for v in sorted(mine):
        met = sorted({n for o in mine[v] for n in o.needs})
        if len(met) > VILLAGE_RECOVER_MAX:
            continue
        bit = {n: 1 << i for i, n in enumerate(met)}
        own = {o.resource for o in mine[v]}
        # a unit of the resource is free once this village's own unit is given back
        free = [o for o in by_village[v] if used[o.resource] - (o.resource in own) < cap[o.resource]]
        best: dict[int, tuple[float, tuple[Option, ...]]] = {0: (0.0, ())}
        for o in sorted(free, key=lambda o: (o.cost, o.resource)):
            mask = sum(bit.get(n, 0) for n in o.needs)
            if not mask:
                continue
            for have, (c, sel) in list(best.items()):
                to = have | mask
                if to not in best or c + o.cost < best[to][0] - 1e-9:
                    best[to] = (c + o.cost, (*sel, o))
        cost, sel = best.get((1 << len(met)) - 1, (math.inf, ()))
        if cost < math.fsum(o.cost for o in mine[v]) - 1e-6:
            for o in mine[v]:
                used[o.resource] -= 1
            for o in sel:
                used[o.resource] += 1
            mine[v], changed = list(sel), True
    if not changed:
        return plan
    picked = {(o.resource, o.village) for os in mine.values() for o in os}
    return _picked(options, weight, [1.0 if (o.resource, o.village) in picked else 0.0 for o in options])


def _model(options: list[Option], weight: dict[str, float], cap: dict[str, int], budget: float) -> tuple[Any, float]:
    """The plan as a HiGHS model (binary options, continuous coverage), and the step its values come in."""
    import highspy
    import numpy as np

    needs = sorted({n for o in options for n in o.needs})
    col_of_need = {n: len(options) + j for j, n in enumerate(needs)}
    m, k = len(options), len(needs)
    total_cost = sum(o.cost for o in options) or 1.0
    # equal value: the cheaper plan, then options earlier in (village, resource) order
    penalty = [_TIE_PENALTY * (0.5 * o.cost / total_cost + 0.4 * (j + 1) / (m * m)) for j, o in enumerate(options)]
    starts, index, coef, upper = [0], [], [], []
    index += list(range(m))
    coef += [o.cost for o in options]
    upper.append(budget)
    starts.append(len(index))
    by_resource: dict[str, list[int]] = defaultdict(list)
    for j, o in enumerate(options):
        by_resource[o.resource].append(j)
    for r, cols in sorted(by_resource.items()):
        if len(cols) > cap[r]:
            index += cols
            coef += [1.0] * len(cols)
            upper.append(float(cap[r]))
            starts.append(len(index))
    covers: dict[str, list[int]] = defaultdict(list)
    for j, o in enumerate(options):
        for n in o.needs:
            covers[n].append(j)
    for n in needs:  # y_n − Σ x_o ≤ 0: a need counts only when an option covering it is chosen
        index += [*covers[n], col_of_need[n]]
        coef += [-1.0] * len(covers[n]) + [1.0]
        upper.append(0.0)
        starts.append(len(index))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + k, len(upper)
    lp.col_cost_ = np.array([-p for p in penalty] + [weight[n] for n in needs], dtype=float)
    lp.col_lower_ = np.zeros(m + k)
    lp.col_upper_ = np.ones(m + k)
    lp.row_lower_ = np.full(len(upper), -highspy.kHighsInf)
    lp.row_upper_ = np.array(upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.array(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.array(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.array(coef, dtype=float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * k
    lp.sense_ = highspy.ObjSense.kMaximize
    # Values come in steps of ``step`` (whole severities, or weights rounded to 4 decimals): once the
    # solver's bound is less than a step above its plan, no plan can be better, whatever the penalties.
    step = 1.0 if all(float(w).is_integer() for w in weight.values()) else 1e-4
    return lp, step


def optimise(needs: list[PlanNeed], resources: list[PlanResource], broader: dict[str, list[str]],
             budget: float, method: str = "auto", *, options: list[Option] | None = None,
             ) -> tuple[list[tuple[Option, tuple[str, ...]]], str, float]:
    """Choose options (``build_options`` of the needs and resources, unless given); returns (chosen with the
    needs each covers, method used, upper bound)."""
    if method not in METHODS:
        methods = ", ".join(METHODS)
        raise InvalidParameter(f"未知的规划方法 {method!r} / unknown plan method {method!r}",
                               hint=f"请使用以下之一：{methods} / use one of {methods}")
    if budget < 0:
        raise InvalidParameter(f"预算不能为负数：{budget} / negative budget {budget}",
                               hint="请给出不小于 0 的预算（元） / give a budget ≥ 0 in yuan")
    if options is None:
        options = build_options(needs, resources, broader)
    weight = {n.iri: n.value for n in needs}
    cap = {r.iri: r.capacity for r in resources}
    if method == "greedy":
        return (cheaper_by_village(options, weight, cap, solve_greedy(options, weight, cap, budget)), "greedy",
                upper_bound(options, weight, budget))

    def value(plan: list[tuple[Option, tuple[str, ...]]]) -> float:
        return float(sum(weight[n] for _, g in plan for n in g))

    deadline = current_deadline()
    started = time.monotonic()

    def time_limit() -> float | None:
        """What the solver may take now: to the deadline (``exact``), what is left of ``PLAN_TIME_LIMIT`` since the
        first solve began (``auto``: each solve had the whole of it, so the relaxation, branch and bound and the
        cheaper plan could take 8 s each)."""
        left = None if deadline is None else max(0.1, deadline.remaining() - 1.0)  # leave time to write the answer
        if method == "exact":
            return left
        return max(0.1, min(PLAN_TIME_LIMIT - (time.monotonic() - started), left or PLAN_TIME_LIMIT))

    def cheapest(plan: list[tuple[Option, tuple[str, ...]]]) -> list[tuple[Option, tuple[str, ...]]]:
        # the penalties of the first solve are below its tolerances: at a county with budget to spare it paid
        # 608,850 yuan for what 602,450 buy, a province 7.9 million for what 6.4 million buy
        plan = cheaper_by_village(options, weight, cap, plan)
        if method == "auto" and len(options) > AUTO_EXACT_OPTIONS:
            return plan  # the second solve's presolve alone took 5.2 s on a province (see cheaper_by_village)
        left = time_limit()
        limit = left if method == "exact" else min(left or PLAN_TIME_LIMIT, CHEAPEST_SHARE * PLAN_TIME_LIMIT)
        return solve_cheapest(options, weight, cap, budget, plan, time_limit=limit)

    lp_plan: list[tuple[Option, tuple[str, ...]]] = []
    lp_bound = math.inf
    rounded = solve_lp_rounding(options, weight, cap, budget, time_limit=time_limit())
    if rounded is not None:
        lp_plan, lp_bound, integral = rounded
        if integral:  # the relaxation's optimum is a plan: the optimum, ties broken as the solver's would be
            return cheapest(lp_plan), "exact", lp_bound
        if method == "auto" and len(options) > AUTO_EXACT_OPTIONS and value(lp_plan) >= (1 - AUTO_GAP) * lp_bound:
            return (cheapest(lp_plan), "exact" if value(lp_plan) >= lp_bound - 1e-9 else AUTO_WITHIN,
                    max(lp_bound, value(lp_plan)))
    greedy = solve_greedy(options, weight, cap, budget)  # the solver's start: the better of the two plans
    best = lp_plan if rounded is not None and value(lp_plan) > value(greedy) else greedy
    chosen, proved, ub = solve_milp(options, weight, cap, budget, time_limit=time_limit(), start=best)
    if value(best) > value(chosen):  # stopped before it did better than its start
        chosen = best
    ub = min(ub, max(lp_bound, value(chosen)))
    chosen = cheapest(chosen)
    if proved:
        return chosen, "exact", ub
    return chosen, "exact (time limit reached)" if method == "exact" else "auto", ub


# ---------------------------------------------------------------------------
# reading the graph
# ---------------------------------------------------------------------------


def _resources(store: StoreAPI, scope: Area | None, real_only: bool) -> list[PlanResource]:
    """The resources with stock and a unit cost held by libraries serving the scope, an area holding it, or an
    area within it."""
    b = {"scope": ox.NamedNode(scope.iri)} if scope else {}
    proj = "?scope" if scope else ""
    if scope is None:
        lib_parts = ["?lib dcpa:serves ?served ."]
    else:
        # libraries serving the scope's ancestors (codes nest) and those serving areas within it
        values = " ".join(str(ox.NamedNode(area_iri(c))) for c in prefixes(scope.code))
        lib_parts = [f"VALUES ?served {{ {values} }} ?lib dcpa:serves ?served ."]
        if not scope.is_village:
            lib_parts.append("?served dcpa:withinArea ?scope . ?lib dcpa:serves ?served .")
    rows: list[dict[str, Any]] = []
    for part in lib_parts:
        rq = f"""SELECT {proj} ?res ?lib ?sc ?fit ?cap ?cost ?rex ?lex WHERE {{
    {part}
    ?served dcpa:areaCode ?sc .
    ?res dcpa:heldBy ?lib ; dcpa:capacity ?cap ; dcpa:unitCost ?cost .
    FILTER(?cap > 0)
    ?res dcpa:addressesNeedType|dcpa:resourceType/dcpa:addressesNeedType ?fit .
    OPTIONAL {{ ?res dcpa:isSynthetic ?rex }} OPTIONAL {{ ?lib dcpa:isSynthetic ?lex }}
  }}"""
        rows += store.select(rq, bindings=b if "?scope" in part else None)
    acc: dict[str, dict[str, Any]] = {}
    for row in rows:
        example = bool(row.get("rex") or row.get("lex"))
        if real_only and example:
            continue
        a = acc.setdefault(row["res"], {"lib": row["lib"], "sc": set(), "fits": set(),
                                        "cap": int(row["cap"]), "cost": float(row["cost"]), "ex": example})
        a["sc"].add(row["sc"])
        a["fits"].add(row["fit"])
    resources = [PlanResource(k, a["lib"], tuple(sorted(a["sc"])), frozenset(a["fits"]), a["cap"], a["cost"], a["ex"])
                 for k, a in sorted(acc.items())]
    return resources


#: How a targeting reason names a poverty cause (its code follows; ``Plan.cause_labels`` labels it).
CAUSE_REASON = "need linked to poverty cause "


def _load(store: StoreAPI, scope: Area | None, modes: Any, *, poor_first: bool, real_only: bool,
          settings: Settings) -> tuple[list[PlanNeed], list[PlanResource], str, str | None]:
    # the resources are read on a thread of their own while the needs are read (1.5 s of a province's plan
    # at national scale; Oxigraph lets go of the interpreter while it evaluates)
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(_resources, store, scope, real_only)
        ns = need_rows(store, scope, reach=modes, real_only=real_only, states=(NeedState.UNADDRESSED,),
                       settings=settings)
        resources = reading.result()
    gaps = ns.rows
    weights: dict[str, tuple[float, tuple[str, ...]]] = {}
    if poor_first:
        broader, _ = need_type_tree(store)
        links = cause_links(store)
        situations = poverty_of(store, {r.village for r in gaps})
        for r in gaps:
            p = situations[r.village]
            w, why = float(r.severity), []
            strict = real_only or not r.example  # example data never weighs a real need (an example status)
            prio = p.priority(strict)
            if prio == 2:
                w *= POOR_VILLAGE_WEIGHT
                why.append(p.status_words(strict))
            elif prio == 1:
                w *= POOR_COUNTY_WEIGHT
                why.append(p.county_words(strict))
            linked = linked_types(p, links, strict)
            cause = next((linked[u] for u in ancestors_path(r.need_type, broader) if u in linked), None)
            if cause:
                w *= CAUSE_WEIGHT
                why.append(f"{CAUSE_REASON}{cause.rsplit('/', 1)[-1]}")
            weights[r.iri] = (round(w, 4), tuple(why))
    needs = sorted((PlanNeed(r.iri, r.village, r.need_type, r.severity, weights.get(r.iri, (0.0, ()))[0],
                             r.example, weights.get(r.iri, (0.0, ()))[1])
                    for r in gaps), key=lambda n: (n.village, n.iri))
    return needs, resources, ns.as_of.isoformat(), ns.known_by.isoformat() if ns.known_by else None


def check_budget(budget: float, as_typed: str | None = None) -> None:
    """InvalidParameter unless ``BUDGET_ABOVE < budget <= BUDGET_MAX`` (and a number: ``nan`` is none); the
    budget given is said as typed, else in digits (``{:g}`` said 2e+12)."""
    if not (math.isfinite(budget) and BUDGET_ABOVE < budget <= BUDGET_MAX):
        given = as_typed if as_typed is not None else (f"{budget:,.0f}" if float(budget).is_integer() else f"{budget}")
        raise InvalidParameter(
            f"预算须大于 {BUDGET_ABOVE} 元、不超过 {BUDGET_MAX:,.0f} 元（填的是 {given}） / the budget must be more "
            f"than {BUDGET_ABOVE} and at most {BUDGET_MAX:,.0f} yuan (given: {given})",
            hint=BUDGET_HINT)


#: How a budget may be written, said with every budget refused.
BUDGET_HINT = ("请写以元计的金额，如 200000、200,000、20万、20万元 或 1.5万 / write an amount in yuan, e.g. 200000, "
               "200,000, 20万, 20万元 or 1.5万")
#: The longest budget text read (the form's box, the API's and the CLI's parameter): an amount in yuan up to
#: BUDGET_MAX, written with grouped thousands, fen and a unit, is far shorter.
BUDGET_TEXT_MAX = 40
#: A budget as planners write it (after ``kg.safetext.typed``: full-width digits, the ideographic space and the
#: full-width comma are ASCII): an optional ¥, digits (thousands grouped by commas, or not at all), an optional
#: decimal part, then 万 or 亿 (or 千万, 百万, 十万; 千, 百), then 元. A thousand-separating space (1 000 000),
#: k or w, Chinese numerals or an exponent are not read: each has a reading a planner may not have meant.
_BUDGET = re.compile(r"¥?\s*(?P<n>-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?|\.\d+)\s*"
                     r"(?P<x>[十百千]?[万亿]|[百千])?\s*(?:元)?")
_TIMES = {"十": 10, "百": 100, "千": 1_000, "万": 10_000, "亿": 100_000_000}


def read_budget(raw: str | float) -> float:
    """A budget in yuan as a planner types it, for the plan page, ``POST /api/plans`` and ``dcpa plan --budget``
    alike: ``200000``, ``200,000``, ``２０００００``, ``20万``, ``20 万元``, ``1.5万``, ``200000元``, ``¥200,000``,
    spaces around it. What could mean two things is refused with what was typed and how to write it, never
    guessed: ``1,5`` (a decimal comma in much of Europe, or a slip; 15 or 1.5?), ``1.000.000``; so is a budget
    outside ``(BUDGET_ABOVE, BUDGET_MAX]``. A number (JSON's) is only checked."""
    if isinstance(raw, bool):  # JSON's true is a number to Python (1 yuan): a client sending it meant something else
        raise InvalidParameter(f"预算不是金额（{raw}） / the budget is not an amount ({raw})", hint=BUDGET_HINT)
    if isinstance(raw, int | float):
        check_budget(float(raw))
        return float(raw)
    text = typed(raw)
    shown = text[:BUDGET_TEXT_MAX]
    if not text:
        raise InvalidParameter("规划需要预算 / a plan needs a budget", hint=BUDGET_HINT)
    m = _BUDGET.fullmatch(text) if len(text) <= BUDGET_TEXT_MAX else None
    if m is None:
        if re.fullmatch(r"¥?\s*\d+(?:,\d+)+(?:\.\d+)?\s*\S*", text):  # 1,5 or 12,34,567: commas that group no thousands
            raise InvalidParameter(
                f"预算“{shown}”中的逗号不是每三位一组的千位分隔，读不出是多少 / the commas in the budget {shown!r} do "
                f"not group thousands: it could mean two amounts",
                hint="逗号只能每三位分隔千位（如 1,500,000），也可以不写；小数点请用“.”（如 1.5万） / a comma may only "
                     "group thousands (1,500,000), or leave it out; write a decimal point as '.' (1.5万)")
        raise InvalidParameter(f"读不出预算“{shown}” / cannot read the budget {shown!r}", hint=BUDGET_HINT)
    amount = Decimal(m["n"].replace(",", "")) * math.prod(_TIMES[c] for c in m["x"] or "")
    check_budget(float(amount), shown)
    return float(amount)


def plan(
    store: StoreAPI,
    budget: float,
    area_code: str | None = None,
    *,
    method: str | PlanMethod = PlanMethod.AUTO,
    reach: str | None = None,
    poor_first: bool = False,
    real_only: bool = False,
    lang: str = "zh",
    settings: Settings | None = None,
) -> Plan:
    """Allocate resources to villages within ``budget`` to cover the most (weighted) unaddressed need."""
    check_budget(budget)
    settings = settings or get_settings()
    modes = parse_reach(reach, settings.reach)
    scope = resolve_area(store, area_code) if area_code else None
    needs, resources, as_of, known_by = _load(store, scope, modes, poor_first=poor_first, real_only=real_only,
                                    settings=settings)
    # with no need left open: none recorded (nobody surveyed here) is not every need met (said apart)
    recorded = bool(needs) or bool(need_rows(store, scope, reach=modes, real_only=real_only, settings=settings).rows)
    broader, _ = need_type_tree(store)
    options = build_options(needs, resources, broader)
    chosen, used, ub = optimise(needs, resources, broader, float(budget), str(method), options=options)
    # nothing within reach: no resource fits, or the budget is below the cheapest that does (said apart)
    example_resources = {r.iri for r in resources if r.example}
    # (its cost, whether that is an example resource's: a real one first at equal cost)
    least = min(((o.cost, o.resource in example_resources) for o in options), default=None) if ub <= 0 else None
    cheapest = least[0] if least else None
    unmet_why = _unmet_reasons(options, chosen, {r.iri: r.capacity for r in resources}, example_resources)
    by_iri = {n.iri: n for n in needs}
    res_by = {r.iri: r for r in resources}
    covered = {n for _, g in chosen for n in g}
    iris = {n.need_type for n in needs} | {o.resource for o, _ in chosen}
    iris |= {res_by[o.resource].library for o, _ in chosen}
    # the villages left with unmet needs are named too (a village code is digits: no IRI escaping to do,
    # which took 0.5 s for a province's 64,702 gaps)
    village_iri = {n.village: AREA_PREFIX + n.village for n in needs}
    iris |= set(village_iri.values())
    iris |= {area_iri(s) for o, _ in chosen for s in res_by[o.resource].served_codes if o.village.startswith(s)}
    names = labels(store, iris)

    def name(i: str | None) -> str | None:
        lab = names.get(i or "")
        return lab.get(lang) if lab else None

    allocations = []
    for o, gain in sorted(chosen, key=lambda x: (x[0].village, x[0].resource)):
        r = res_by[o.resource]
        v_iri = area_iri(o.village)
        served = next(s for s in r.served_codes if o.village.startswith(s))
        steps: list[dict[str, Any]] = [
            {"subject": o.resource, "predicate": str(DCPA.heldBy), "object": r.library},
            {"subject": r.library, "predicate": str(DCPA.serves), "object": area_iri(served)},
        ]
        if served != o.village:
            steps.append({"subject": v_iri, "predicate": str(DCPA.withinArea), "object": area_iri(served)})
        for n in gain:
            steps.append({"subject": n, "predicate": str(DCPA.needOf), "object": v_iri})
            steps.append({"subject": n, "predicate": str(DCPA.needType), "object": by_iri[n].need_type})
        for s in steps:
            s["subject_label"], s["object_label"] = name(s["subject"]), name(s["object"])
        allocations.append(Allocation(
            village=o.village, village_label=name(v_iri), resource=o.resource,
            resource_label=name(o.resource), library=r.library, library_label=name(r.library),
            cost=o.cost,
            needs_covered=[{"need": n, "need_type": by_iri[n].need_type,
                            "need_type_label": name(by_iri[n].need_type), "severity": by_iri[n].severity,
                            "weight": by_iri[n].value, "targeting": list(by_iri[n].why),
                            "example": by_iri[n].example}
                           for n in gain],
            covered_severity=sum(by_iri[n].severity for n in gain),
            covered_weight=round(sum(by_iri[n].value for n in gain), 4),
            example=r.example or any(by_iri[n].example for n in gain), explanation=steps,
        ))
    uncovered = [{"need": n.iri, "village": n.village, "village_label": name(village_iri[n.village]),
                  "need_type": n.need_type,
                  "need_type_label": name(n.need_type), "severity": n.severity, "weight": n.value,
                  "targeting": list(n.why), "example": n.example,
                  "unmet_reason": unmet_why.get(n.iri, (UNMET_NO_RESOURCE, None, False))[0],
                  "cheapest_cost": unmet_why.get(n.iri, (UNMET_NO_RESOURCE, None, False))[1],
                  "cheapest_example": unmet_why.get(n.iri, (UNMET_NO_RESOURCE, None, False))[2]}
                 for n in needs if n.iri not in covered]
    value = sum(a.covered_severity for a in allocations)
    weighted = round(sum(a.covered_weight for a in allocations), 4)
    # summed exactly and rounded below a fen: 0.1 + 0.2 yuan spent 0.30000000000000004 of 0.3, and -0 was left
    spent = round(math.fsum(a.cost for a in allocations), 6)
    total_sev = sum(n.severity for n in needs)
    # rounded up: a province's plan 0.003% from its bound read 0.0 and "at least 100% of the best plan"
    gap = 0.0 if ub <= 0 else math.ceil(round(max(0.0, (ub - weighted) / ub) * 1e4, 6)) / 1e4
    b = basis([a.example for a in allocations] + [bool(u["example"]) for u in uncovered], real_only=real_only,
              what_zh="项（分配与未覆盖需求）", what_en="items (allocations and uncovered needs)")
    log.info("plan %s budget %s: %s, %d allocations, gap %.4f", area_code, budget, used, len(allocations), gap)
    return Plan(
        area=scope, budget=float(budget), method=used, reach=[m.value for m in modes], as_of=as_of,
        poor_first=poor_first, real_only=real_only, spent=spent, covered_severity=value,
        unaddressed_severity=total_sev, covered_weight=weighted, upper_bound=round(ub, 4), optimality_gap=gap,
        allocations=allocations, uncovered=uncovered,
        totals={"unaddressed_needs": len(needs), "covered_needs": len(covered),
                "uncovered_needs": len(needs) - len(covered), "villages_served": len({a.village for a in allocations}),
                "budget_left": round(float(budget) - spent, 6), "resources_considered": len(resources),
                "cheapest_allocation": cheapest, "cheapest_example": bool(least and least[1]),
                "needs_recorded": recorded},
        basis=b,
        cause_labels=_cause_labels(store, needs),
        known_by=known_by,
    )


#: Why a need stays unmet (``unmet_reason`` of ``Plan.uncovered``): no resource within reach fits it; every one
#: that does has given all its stock to other villages; or one with stock left fits it, and ``cheapest_cost`` says
#: what the cheapest of those costs (the budget went to needs that weigh more per yuan), and ``cheapest_example``
#: whether that cost is an example resource's (a real need's row quoted it as a real cost).
UNMET_NO_RESOURCE, UNMET_STOCK, UNMET_BUDGET = "no_resource", "stock", "budget"


def _unmet_reasons(options: list[Option], chosen: list[tuple[Option, tuple[str, ...]]], cap: dict[str, int],
                   example: AbstractSet[str] = frozenset()) -> dict[str, tuple[str, float | None, bool]]:
    """Per need some option could cover: why the plan leaves it unmet, the cheapest option left for it and whether
    its resource is example data (``example``: those resources; a real one first at equal cost). Needs no option
    covers are absent: no resource fits them."""
    used: dict[str, int] = defaultdict(int)
    for o, _ in chosen:
        used[o.resource] += 1
    why: dict[str, tuple[str, float | None, bool]] = {}
    for o in options:
        stocked = used[o.resource] < cap[o.resource]
        ex = o.resource in example
        for n in o.needs:
            was = why.get(n)
            if stocked and (was is None or was[1] is None or (o.cost, ex) < (was[1], was[2])):
                why[n] = (UNMET_BUDGET, o.cost, ex)
            elif was is None:
                why[n] = (UNMET_STOCK, None, False)
    return why


def _cause_labels(store: StoreAPI, needs: list[PlanNeed]) -> dict[str, dict[str, str]]:
    """The labels of the poverty causes the needs' targeting reasons name."""
    codes = {why[len(CAUSE_REASON):] for n in needs for why in n.why if why.startswith(CAUSE_REASON)}
    found = labels(store, [f"{DCPAV}{c}" for c in codes])
    return {c: {"zh": found[f"{DCPAV}{c}"].zh, "en": found[f"{DCPAV}{c}"].en} for c in sorted(codes)
            if f"{DCPAV}{c}" in found}


__all__ = ["CAUSE_WEIGHT", "METHODS", "POOR_COUNTY_WEIGHT", "POOR_VILLAGE_WEIGHT", "UNMET_BUDGET", "UNMET_NO_RESOURCE",
           "UNMET_STOCK", "Allocation", "Option", "Plan", "PlanMethod", "PlanNeed", "PlanResource", "build_options",
           "cheaper_by_village", "optimise", "plan", "solve_cheapest", "solve_greedy", "solve_milp", "upper_bound"]
