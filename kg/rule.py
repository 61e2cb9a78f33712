"""The rule of "addressed": one implementation, beneath everything that uses it.

A need of type T in village V is **addressed** as of a date D when an intervention I
*reaches* V, *fits* T and is *in force* on D (``docs/DATA_MODEL.md#the-rule-of-addressed``):

* **reach**: I names V as a target (``direct``); or I targets an area containing V and its
  delivery can reach every village there (``area``): an online resource (the resource type's
  ``dcpa:deliveryMode`` is online) or a declared whole-area reach scope (``dcpa:reachScope
  dcpav:RS2``). Training, events, terminals, service points and networks reach only the villages
  they name, within the ``dcpa:villageCapacity`` (villages) and ``dcpa:peopleReached`` (people) they
  declare. A library's service area never makes a need addressed: it only says which interventions
  *could* reach V (candidates in recommendations).
* **fit**: I's category, a resource it uses or that resource's type ``dcpa:addressesNeedType`` T or
  a broader type of T (``skos:broader+``). Across an area, only the online resources fit (all of I's
  fits when it declares the whole-area scope).
* **in force**: I is active (S2) or completed (S3), started by D, and D is not after its end plus the
  validity window of its category (``settings.validity_months``), or after its declared
  ``dcpa:inServiceUntil``. An active intervention without an end date stays in force; a completed
  one without any date cannot be shown to be in force and does not count.
* **verified**: when every intervention addressing the need was evaluated, in V or an area
  containing it, below target in its latest evaluation up to D, the need is *addressed but not
  verified* — a third state that gap reports count apart.
* **honesty**: example data never decides anything about real data: an example intervention,
  evaluation or need does not address, verify or use the capacity meant for a real need.

Every addressed need carries its :class:`Reason` (intervention, reach, type-fit path, valid until).
This module is pure (no store): ``kg.facts`` reads its inputs, ``kg.derived`` materialises its
outcome, and the answers read either.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple

from .errors import DataError, InvalidParameter
from .namespaces import DCPAV

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------


class NeedState(StrEnum):
    """The three states of a need under the rule (SKOS scheme ``dcpav:NeedStates``)."""

    ADDRESSED = "addressed"
    UNVERIFIED = "addressed_unverified"
    UNADDRESSED = "unaddressed"

    @property
    def concept(self) -> str:
        return STATE_CONCEPT[self]


STATE_CONCEPT: dict[NeedState, str] = {
    NeedState.ADDRESSED: str(DCPAV.NS1),
    NeedState.UNVERIFIED: str(DCPAV.NS2),
    NeedState.UNADDRESSED: str(DCPAV.NS3),
}
STATE_BY_CONCEPT = {v: k for k, v in STATE_CONCEPT.items()}


class ReachMode(StrEnum):
    """How an intervention reaches a village (SKOS scheme ``dcpav:ReachModes``)."""

    DIRECT = "direct"  # it names the village
    AREA = "area"  # it targets an area containing the village, with a delivery that reaches all of it

    @property
    def concept(self) -> str:
        return MODE_CONCEPT[self]


MODE_CONCEPT: dict[ReachMode, str] = {ReachMode.DIRECT: str(DCPAV.RM1), ReachMode.AREA: str(DCPAV.RM2)}
MODE_BY_CONCEPT = {v: k for k, v in MODE_CONCEPT.items()}
#: The concept of a library's service area: it makes an intervention a *candidate*, never "addressed".
CANDIDATE_REACH = str(DCPAV.RM3)
#: Every reach mode, in order; the default rule counts all of them.
REACH_MODES: tuple[ReachMode, ...] = tuple(ReachMode)

ACTIVE, COMPLETED = str(DCPAV.S2), str(DCPAV.S3)
PLANNED, CANCELLED = str(DCPAV.S1), str(DCPAV.S4)
#: Declared reach scope: every village of the target areas (default: the named villages only).
WHOLE_AREA = str(DCPAV.RS2)
#: Delivery mode of a resource type that reaches every village of a targeted area.
ONLINE = str(DCPAV.DM1)

#: Length of a village-level code; shorter codes are areas above villages.
VILLAGE_CODE_LENGTH = 12
CODE_LENGTHS = (2, 4, 6, 9, 12)


def parse_reach(reach: str | Iterable[str] | None, default: str = "direct,area") -> tuple[ReachMode, ...]:
    """A reach rule (comma list or modes) as a tuple of modes in canonical order."""
    if reach is None:
        reach = default
    parts = [m.strip() for m in (reach.split(",") if isinstance(reach, str) else reach) if str(m).strip()]
    if "library" in parts:
        raise InvalidParameter(
            "到达方式 'library' 已不再使用：图书馆的服务区域不会使一项需求算作已满足 / "
            "reach mode 'library' no longer exists: a library's service area never makes a need addressed",
            hint="请使用 direct 和/或 area（如 direct,area）；图书馆的服务区域用于推荐中候选项目的排序 / "
            "use direct and/or area (e.g. direct,area); libraries' service areas rank candidates in "
            "recommendations",
        )
    bad = [m for m in parts if m not in {r.value for r in ReachMode}]
    if bad or not parts:
        modes = ", ".join(m.value for m in ReachMode)
        raise InvalidParameter(
            f"未知的到达方式 {', '.join(bad) or '（无）'} / unknown reach mode(s) {', '.join(bad) or '(none)'}",
            hint=f"reach 是以逗号分隔的 {modes}（如 direct,area） / reach is a comma list of {modes} "
            "(e.g. direct,area)",
        )
    return tuple(m for m in ReachMode if m.value in parts)


def prefixes(code: str) -> list[str]:
    """The codes of an area and of every area containing it (the NBS codes nest by prefix)."""
    return [code[:n] for n in CODE_LENGTHS if n <= len(code)]


# ---------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------

#: Months a completed intervention stays in force after its end, by category notation
#: (the project's judgement, documented in docs/DATA_MODEL.md; a setting overrides it).
DEFAULT_VALIDITY_MONTHS: dict[str, int] = {"C1": 24, "C2": 60, "C3": 36, "C4": 60}


def parse_validity(text: str | Mapping[str, int]) -> dict[str, int]:
    """``"C1=24,C2=60"`` → ``{"C1": 24, "C2": 60}`` (unknown categories fall back to the defaults)."""
    if isinstance(text, Mapping):
        items = dict(text)
    else:
        items = {}
        for part in (p.strip() for p in text.split(",") if p.strip()):
            key, sep, value = part.partition("=")
            if not sep or not value.strip().isdigit():
                raise DataError(
                    f"有效期写法不对 {part!r} / bad validity window {part!r}",
                    hint="请写成 类别=月数，如 C1=24,C2=60,C3=36,C4=60 / "
                    "write CATEGORY=MONTHS pairs, e.g. C1=24,C2=60,C3=36,C4=60",
                )
            items[key.strip()] = int(value)
    unknown = sorted(set(items) - set(DEFAULT_VALIDITY_MONTHS))
    if unknown:
        raise DataError(f"有效期中有未知的类别 {', '.join(unknown)} / unknown category in validity windows: "
                        f"{', '.join(unknown)}", hint="类别是 C1–C4 / categories are C1–C4")
    return {**DEFAULT_VALIDITY_MONTHS, **items}


def add_months(d: date, months: int) -> date:
    """``d`` plus ``months`` calendar months (the last day of a shorter month when needed)."""
    m = d.month - 1 + months
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


class Fit(NamedTuple):
    """One need type an intervention addresses, and through what (category, resource or its type)."""

    need_type: str
    via: str  # IRI of the category, the resource or the resource type
    via_kind: str  # "category", "resource" or "resource_type"


class NeedFacts(NamedTuple):
    """A need as the rule sees it (a named tuple: a national graph has 10^6 of them)."""

    iri: str
    village: str  # 12-digit code
    need_type: str
    severity: int
    people: int | None
    example: bool


@dataclass(frozen=True)
class InterventionFacts:
    """An intervention as the rule sees it."""

    iri: str
    example: bool
    status: str | None
    category: str | None
    category_code: str | None  # notation, e.g. "C1" (for the validity window)
    start: date | None = None
    end: date | None = None
    in_service_until: date | None = None
    villages: tuple[str, ...] = ()  # village codes it names
    areas: tuple[str, ...] = ()  # codes of the areas above village level it targets
    whole_area: bool = False  # declared reach scope RS2
    named_fits: tuple[Fit, ...] = ()  # what it addresses in the villages it names (category and every resource)
    area_fits: tuple[Fit, ...] = ()  # what it addresses across its target areas (online resources, or all)
    people_reached: int | None = None
    village_capacity: int | None = None

    @property
    def capacity_limited(self) -> bool:
        return self.people_reached is not None or self.village_capacity is not None


#: A need's severity scale, 1 (slight) to 5 (most severe): what the shapes, the import templates and every parameter
#: that filters by severity accept.
SEVERITY_MIN, SEVERITY_MAX = 1, 5


class EvaluationFacts(NamedTuple):
    iri: str
    intervention: str
    area: str  # code of the evaluated area
    target: float | None
    actual: float | None
    period_end: date | None
    example: bool


def ended_by(period_end: date | None, day: date) -> bool:
    """Whether an evaluation had ended by ``day`` (or is undated): a value recorded before its period's end is not
    yet a result, so the rule reads it from its last day on (``kg.facts.ended_by`` is the same in SPARQL)."""
    return period_end is None or period_end <= day


# ---------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------


class Reason(NamedTuple):
    """Why an intervention addresses a need: the path in the graph that justifies it."""

    intervention: str
    mode: ReachMode
    target: str  # code of the area it targets that reaches the village (the village itself for direct)
    fit: Fit
    fit_path: tuple[str, ...]  # need type, then broader types, ending at fit.need_type
    valid_until: date | None  # None: open-ended (active without an end date)
    below_target: bool  # its latest evaluation covering the village was below target
    example: bool  # the intervention is example data
    category: str | None


@dataclass(frozen=True)
class Outcome:
    """The state of one need and every reason behind it."""

    state: NeedState
    reasons: tuple[Reason, ...] = ()

    @property
    def interventions(self) -> frozenset[str]:
        return frozenset(r.intervention for r in self.reasons)

    @property
    def modes(self) -> frozenset[ReachMode]:
        return frozenset(r.mode for r in self.reasons)

    @property
    def categories(self) -> frozenset[str]:
        return frozenset(r.category for r in self.reasons if r.category)

    @property
    def valid_until(self) -> date | None:
        """Until when the need stays addressed without a new fact (None: open-ended or a gap)."""
        if not self.reasons or any(r.valid_until is None for r in self.reasons):
            return None
        return max(r.valid_until for r in self.reasons if r.valid_until is not None)

    def restricted(self, modes: Iterable[ReachMode]) -> Outcome:
        """The outcome under a narrower reach rule (e.g. only interventions naming the village)."""
        keep = set(modes)
        return outcome_of(tuple(r for r in self.reasons if r.mode in keep))


def outcome_of(reasons: tuple[Reason, ...]) -> Outcome:
    """The state that a set of reasons gives."""
    if not reasons:
        return Outcome(NeedState.UNADDRESSED)
    if all(r.below_target for r in reasons):
        return Outcome(NeedState.UNVERIFIED, reasons)
    return Outcome(NeedState.ADDRESSED, reasons)


# ---------------------------------------------------------------------------
# The rule
# ---------------------------------------------------------------------------


def ancestors_path(t: str, broader: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Every type reachable from ``t`` by ``skos:broader*``, each with one shortest path from ``t``."""
    paths: dict[str, tuple[str, ...]] = {t: (t,)}
    frontier = [t]
    while frontier:
        nxt = []
        for x in frontier:
            for b in sorted(broader.get(x, ())):
                if b not in paths:
                    paths[b] = (*paths[x], b)
                    nxt.append(b)
        frontier = nxt
    return paths


def validity(i: InterventionFacts, windows: Mapping[str, int]) -> tuple[date | None, date | None, str]:
    """(in force from, in force until, why): the dates between which ``i`` counts.

    ``until`` None means open-ended; ``from`` None with a reason means it never counts.
    """
    if i.status not in (ACTIVE, COMPLETED):
        return None, None, "not active or completed"
    start = i.start
    if i.in_service_until is not None:
        return start or date.min, i.in_service_until, "in service until the declared date"
    window = windows.get(i.category_code or "", max(windows.values()))
    if i.end is not None:
        return start or date.min, add_months(i.end, window), f"ended, plus {window} months"
    if i.status == ACTIVE:
        return start or date.min, None, "active, no end date"
    if start is not None:  # completed, end unknown: count the window from its start (conservative)
        return start, add_months(start, window), f"completed without an end date: start plus {window} months"
    return None, None, "completed without any date"


@dataclass
class Rule:
    """The rule applied to a set of interventions and evaluations, as of one date.

    Build it once (``kg.facts.read_inputs``) and ask :meth:`outcomes` for any needs. Needs of the
    villages named by a capacity-limited intervention compete for its capacity, so
    :meth:`outcomes` must see all of them (``kg.facts`` reads them as context).
    """

    interventions: Mapping[str, InterventionFacts]
    evaluations: Iterable[EvaluationFacts]
    broader: Mapping[str, Iterable[str]]
    as_of: date
    windows: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_VALIDITY_MONTHS))
    _valid: dict[str, date | None] = field(default_factory=dict, init=False, repr=False)
    _direct: dict[str, list[str]] = field(default_factory=dict, init=False, repr=False)
    _area: dict[str, list[tuple[str, str]]] = field(default_factory=dict, init=False, repr=False)
    _evals: dict[str, list[EvaluationFacts]] = field(default_factory=dict, init=False, repr=False)
    _ups: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict, init=False, repr=False)
    _eval_ends: list[date] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        direct: dict[str, list[str]] = defaultdict(list)
        area: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for iri, i in sorted(self.interventions.items()):
            start, until, _ = validity(i, self.windows)
            if start is None or start > self.as_of or (until is not None and until < self.as_of):
                continue
            self._valid[iri] = until
            if i.named_fits:
                for v in i.villages:
                    direct[v].append(iri)
            if i.area_fits:
                for a in i.areas:
                    area[a].append((iri, a))
        self._direct, self._area = dict(direct), dict(area)
        evals: dict[str, list[EvaluationFacts]] = defaultdict(list)
        for e in self.evaluations:
            if e.period_end is not None and not ended_by(e.period_end, self.as_of):  # read from its day on
                self._eval_ends.append(e.period_end)
            elif e.intervention in self._valid:
                evals[e.intervention].append(e)
        self._evals = dict(evals)

    # -- pieces -------------------------------------------------------------
    def in_force(self, iri: str) -> bool:
        return iri in self._valid

    def ups(self, need_type: str) -> dict[str, tuple[str, ...]]:
        up = self._ups.get(need_type)
        if up is None:
            up = self._ups[need_type] = ancestors_path(need_type, self.broader)
        return up

    def best_fit(self, need_type: str, fits: Iterable[Fit]) -> tuple[Fit, tuple[str, ...]] | None:
        """The closest of ``fits`` to ``need_type`` (the type itself, else the nearest broader type)."""
        up = self.ups(need_type)
        best: tuple[tuple[int, str, str], Fit] | None = None
        for f in fits:
            path = up.get(f.need_type)
            if path is not None:
                key = (len(path), f.via_kind, f.via)
                if best is None or key < best[0]:
                    best = (key, f)
        if best is None:
            return None
        return best[1], up[best[1].need_type]

    def below_target(self, intervention: str, village: str, real_need: bool) -> bool:
        """Whether the latest evaluation of ``intervention`` covering ``village`` missed its target.

        Only evaluations with a result count (a target and an actual value): a row entered before its value is
        known says nothing yet, and must not hide the result before it (as recommendations and ``similar`` read
        evidence of effect)."""
        here = set(prefixes(village))
        results = [(e.period_end or date.min, e.actual < e.target) for e in self._evals.get(intervention, ())
                   if e.area in here and not (real_need and e.example) and e.target is not None
                   and e.actual is not None]
        if not results:
            return False
        latest = max(end for end, _ in results)
        return any(short for end, short in results if end == latest)

    def reaching(self, village: str) -> list[tuple[str, ReachMode, str]]:
        """(intervention, mode, targeted area code) of every in-force intervention reaching a village."""
        out = [(i, ReachMode.DIRECT, village) for i in self._direct.get(village, ())]
        for a in prefixes(village)[:-1]:
            out += [(i, ReachMode.AREA, target) for i, target in self._area.get(a, ())]
        return out

    # -- capacity -------------------------------------------------------------
    def competes(self, need: NeedFacts, i: InterventionFacts) -> bool:
        """Whether ``need`` (in a village ``i`` names) claims a share of ``i``'s capacity: ``i`` fits it, and
        example data does not serve a real need."""
        return self.best_fit(need.need_type, i.named_fits) is not None and not (need.example is False and i.example)

    def _allocations(self, needs: list[NeedFacts]) -> dict[str, set[str]]:
        """Villages each capacity-limited intervention covers, within what it declares.

        Villages are served in order: real needs before example ones (example data must never take
        capacity meant for real needs), then the most severe fitting need, then the village code.
        A village consumes one unit of ``villageCapacity`` and the largest ``peopleAffected`` of its
        fitting needs (people overlap across the needs of one village) of ``peopleReached``. A village
        with real fitting needs is ranked and charged by those alone, so that a real need's state is the
        same with or without the example data.
        """
        by_village: dict[str, list[NeedFacts]] = defaultdict(list)
        for n in needs:
            by_village[n.village].append(n)
        out: dict[str, set[str]] = {}
        for iri in self._valid:
            i = self.interventions[iri]
            if not i.capacity_limited:
                continue
            demand = []
            for v in i.villages:
                fitting = [n for n in by_village.get(v, ()) if self.competes(n, i)]
                # a village with real needs is ranked and charged by them alone: its example needs (more
                # severe, more people) would otherwise push a real need of another village out
                fitting = [n for n in fitting if not n.example] or fitting
                if fitting:
                    real = not fitting[0].example
                    demand.append((not real, -max(n.severity for n in fitting), v,
                                   max((n.people or 0) for n in fitting)))
            covered: set[str] = set()
            people_left = i.people_reached
            villages_left = i.village_capacity
            for _, _, v, people in sorted(demand):
                if villages_left is not None and villages_left <= 0:
                    break
                if people_left is not None and people > people_left:
                    continue
                covered.add(v)
                if villages_left is not None:
                    villages_left -= 1
                if people_left is not None:
                    people_left -= people
            out[iri] = covered
        return out

    # -- outcomes -------------------------------------------------------------
    def outcomes(
        self, needs: Iterable[NeedFacts], modes: Iterable[ReachMode] = REACH_MODES
    ) -> dict[str, Outcome]:
        """The outcome of every need, by need IRI.

        The needs of one village share its reaching interventions, so that work is done once per
        village; capacity is allocated over all the needs given.
        """
        needs = list(needs)
        wanted = set(modes)
        allocated = self._allocations(needs)
        reach_cache: dict[str, list[tuple[str, ReachMode, str]]] = {}
        out: dict[str, Outcome] = {}
        for n in needs:
            reach = reach_cache.get(n.village)
            if reach is None:
                reach = reach_cache[n.village] = self.reaching(n.village)
            reasons = []
            for iri, mode, target in reach:
                if mode not in wanted:
                    continue
                i = self.interventions[iri]
                if i.example and not n.example:
                    continue  # example data never addresses a real need
                if mode is ReachMode.DIRECT and iri in allocated and n.village not in allocated[iri]:
                    continue  # beyond the capacity it declares
                found = self.best_fit(n.need_type, i.named_fits if mode is ReachMode.DIRECT else i.area_fits)
                if found is None:
                    continue
                fit, path = found
                reasons.append(Reason(
                    intervention=iri, mode=mode, target=target, fit=fit, fit_path=path,
                    valid_until=self._valid[iri], below_target=self.below_target(iri, n.village, not n.example),
                    example=i.example, category=i.category,
                ))
            # one reason per intervention: the direct one when it both names and covers the village
            best: dict[str, Reason] = {}
            for r in sorted(reasons, key=lambda r: (r.mode != ReachMode.DIRECT, len(r.fit_path), r.target)):
                best.setdefault(r.intervention, r)
            out[n.iri] = outcome_of(tuple(sorted(best.values(), key=lambda r: r.intervention)))
        return out

    def next_change(self) -> date | None:
        """The first date after ``as_of`` on which an outcome may change without a new fact.

        That is when an in-force intervention's validity ends, a started-later one begins, or an
        evaluation period closes; the derived graph stays current until then.
        """
        dates: list[date] = []
        for i in self.interventions.values():
            start, until, _ = validity(i, self.windows)
            if start is None:
                continue
            if start > self.as_of:
                dates.append(start)
            if until is not None and until >= self.as_of:
                dates.append(add_days(until, 1))
        dates += self._eval_ends
        later = [d for d in dates if d > self.as_of]
        return min(later) if later else None


def add_days(d: date, days: int) -> date:
    return date.fromordinal(d.toordinal() + days)
