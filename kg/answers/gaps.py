"""Gaps: needs nothing addresses, aggregated for drill-down — the one gap report of the project.

``gaps(store, "21", by="area")`` compares the cities of Liaoning; ask again with a city's code to
compare its counties, and so on down to the villages of a township. The CLI, the API and the
dashboard all show this report. Without a period, under the full reach rule and with a derived graph
current for the date asked, the counts come from its need summaries (``kg.derived``: one row per
area, need type, severity and basis); otherwise from the needs of the area (``kg.answers.needs``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, NamedTuple

import pyoxigraph as ox

from .. import derived
from ..codes import normal_notation
from ..contract import StoreAPI
from ..errors import InvalidParameter
from ..facts import Period, code_of, need_type_tree, run_parallel
from ..namespaces import DCPAV, area
from ..rule import REACH_MODES, SEVERITY_MAX, SEVERITY_MIN, NeedState, ancestors_path, parse_reach
from ..settings import Settings, get_settings
from .areas import Area, AreaRef, child_areas, resolve_area
from .basis import Basis, basis
from .labels import Label, labels, local_name
from .needs import SEVERE, NeedRow, left_out_note, need_rows

log = logging.getLogger(__name__)


class GapDimension(StrEnum):
    """How a gap report groups needs."""

    AREA = "area"  # the child areas of the scope
    NEED_TYPE = "need_type"
    CATEGORY = "category"  # every category that could address the need's type (groups overlap)
    SEVERITY = "severity"


GAP_DIMENSIONS: tuple[str, ...] = tuple(d.value for d in GapDimension)
#: code length of an area → code length of its children (a province's cities, …, a township's villages)
CHILD_LENGTH = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}


class Tally(NamedTuple):
    """Needs counted together: of one village (or summarised area), type, severity and basis."""

    code: str
    need_type: str
    severity: int
    example: bool
    needs: int
    gaps: int
    unverified: int
    gap_people: int


@dataclass
class GapGroup:
    """One row of a gap report: the needs of one area, need type, category or severity."""

    key: str
    code: str
    label: Label | None
    needs: int = 0
    addressed: int = 0  # addressed and verified (or not evaluated)
    unverified: int = 0  # addressed, but every addressing intervention was evaluated below target
    unaddressed: int = 0
    severity_total: int = 0
    severity_unaddressed: int = 0
    severe_unaddressed: int = 0
    people_unaddressed: int = 0
    example_needs: int = 0

    @property
    def unaddressed_share(self) -> float:
        return round(self.unaddressed / self.needs, 4) if self.needs else 0.0

    @property
    def example(self) -> bool:
        return self.example_needs > 0

    def add(self, t: Tally) -> None:
        self.needs += t.needs
        self.unverified += t.unverified
        self.unaddressed += t.gaps
        self.addressed += t.needs - t.gaps - t.unverified
        self.severity_total += t.severity * t.needs
        self.severity_unaddressed += t.severity * t.gaps
        self.severe_unaddressed += t.gaps if t.severity >= SEVERE else 0
        self.people_unaddressed += t.gap_people
        self.example_needs += t.needs if t.example else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "code": self.code, "label": self.label.to_dict() if self.label else None,
            "needs": self.needs, "addressed": self.addressed, "unverified": self.unverified,
            "unaddressed": self.unaddressed, "unaddressed_share": self.unaddressed_share,
            "severity_total": self.severity_total, "severity_unaddressed": self.severity_unaddressed,
            "severe_unaddressed": self.severe_unaddressed, "people_unaddressed": self.people_unaddressed,
            "example_needs": self.example_needs, "example": self.example,
        }


@dataclass
class GapReport:
    """Unaddressed needs of an area, grouped one way, with totals, drill-down and data basis."""

    area: Area | None
    by: GapDimension
    reach: list[str]
    as_of: date
    period: Period | None
    real_only: bool
    source: str  # "summaries", "derived" or "live"
    totals: GapGroup
    groups: list[GapGroup]
    children: list[AreaRef]
    basis: Basis
    notes: list[str] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    #: Needs identified after this day were left out (an answer as of a past day); None when none were. Pages say
    #: it in their language alone (``notes`` in both).
    known_by: date | None = None
    #: Why it was worked out live though asked for the graph's own day (``NeedSet.why_live``): one of ``notes``.
    why_live: str | None = None

    def to_dict(self) -> dict[str, Any]:
        t = self.totals.to_dict()
        for k in ("key", "code", "label", "example"):
            t.pop(k)
        t["severity_weighted_unaddressed_share"] = (round(self.totals.severity_unaddressed / self.totals.severity_total,
                                                          4) if self.totals.severity_total else 0.0)
        return {
            "area": self.area.to_dict() if self.area else None,
            "by": self.by.value,
            "reach": self.reach,
            "as_of": self.as_of.isoformat(),
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()}
            if self.period else None,
            "real_only": self.real_only,
            "filters": self.filters,
            "source": self.source,
            "totals": t,
            "groups": [g.to_dict() for g in self.groups],
            "children": [c.to_dict() for c in self.children],
            "basis": self.basis.to_dict(),
            "notes": self.notes,
            "known_by": self.known_by.isoformat() if self.known_by else None,
        }


#: What a query reads of each need summary ``?s`` (of area ``?a``), in the order ``_from_summaries`` takes.
_SUMMARY_COUNTS = ("?s dcpa:summaryNeedType ?t ; dcpa:summarySeverity ?sev ; dcpa:needCount ?n ; dcpa:gapCount ?g ; "
                   "dcpa:unverifiedCount ?u ; dcpa:gapPeople ?p . OPTIONAL { ?s dcpa:isSynthetic ?ex }")
_SUMMARY_VARS = "?a ?t ?sev ?ex ?n ?g ?u ?p"


def _from_summaries(rows: Iterable[tuple[str | None, ...]]) -> list[Tally]:
    """Tallies of need summaries read as ``_SUMMARY_VARS``."""
    return [Tally(code_of(str(a)), str(t), int(sev or 0), ex == "true", int(n or 0), int(g or 0), int(u or 0),
                  int(p or 0)) for a, t, sev, ex, n, g, u, p in rows]


def row_tallies(rows: Iterable[NeedRow]) -> list[Tally]:
    """One tally per need, as the summaries count it."""
    return [Tally(r.village, r.need_type, r.severity, r.example, 1, int(r.state is NeedState.UNADDRESSED),
                  int(r.state is NeedState.UNVERIFIED), (r.people or 0) if r.state is NeedState.UNADDRESSED else 0)
            for r in rows]


def summaries_answer(store: StoreAPI, modes: Iterable[str], period: Period | None, day: date,
                     settings: Settings) -> derived.Marker | None:
    """The derived graph's marker when its need summaries count what is asked: the whole rule (every reach
    mode), no period, on a day the graph answers for (it holds the needs known by then) under the settings'
    validity windows; else None."""
    whole = period is None and set(modes) == set(REACH_MODES)
    return derived.answering(store, day, settings.validity_windows()) if whole else None


def map_tallies(store: StoreAPI, scope: Area, *, reach: str | None = None,
                settings: Settings | None = None) -> list[Tally]:
    """What a map of ``scope`` is coloured by: its needs counted per village, type, severity and basis; for
    a province per county, read from the county need summaries when they answer (at national scale a
    province's 100,496 needs took 5.8 s warm and 12.3 s cold, the map 0.37-0.53 s in all)."""
    settings = settings or get_settings()
    modes = parse_reach(reach, settings.reach)
    day = derived.as_of_today(settings)
    if len(scope.code) == 2 and summaries_answer(store, modes, None, day, settings) is not None:
        # the counties under its cities, and any directly under it (their codes tell them from the cities):
        # two queries, each starting from the province; "every area within it" read the summaries of
        # 140,000 areas of the national example province (2.6 s), most of them villages without any
        places = [f"?c dcpa:parentArea <{scope.iri}> . ?a dcpa:parentArea ?c .", f"?a dcpa:parentArea <{scope.iri}> ."]
        queries: list[tuple[str, dict[str, Any]]] = [
            (f"SELECT {_SUMMARY_VARS} WHERE {{ {place} ?s dcpa:summaryOf ?a . {_SUMMARY_COUNTS} }}", {})
            for place in places]
        return [t for t in _from_summaries(row for part in run_parallel(store, queries) for row in part)
                if len(t.code) == 6]
    return row_tallies(need_rows(store, scope, reach=modes, as_of=day, settings=settings))


def _summary_tallies(store: StoreAPI, scope: Area | None, by: GapDimension) -> list[Tally] | None:
    """Tallies read from the need summaries of the derived graph, or None where there are none.

    Summaries exist for provinces, cities and counties: grouping by area reads the children's
    (so only above county level), the other groupings read the scope's own.
    """
    level = len(scope.code) if scope else 0
    if level not in ((0, 2, 4) if by is GapDimension.AREA else (0, 2, 4, 6)):
        return None
    b: dict[str, Any] = {}
    if scope is None:
        where, after = "?a a dcpa:Province . ?s dcpa:summaryOf ?a .", ""
    elif by is GapDimension.AREA:
        where, after = "?a dcpa:parentArea ?scope . ?s dcpa:summaryOf ?a .", ""
    else:  # the scope's own summaries; a leading BIND(?scope AS ?a) would not see the bound ?scope
        where, after = "?s dcpa:summaryOf ?scope .", "BIND(?scope AS ?a)"
    if scope is not None:
        b["scope"] = ox.NamedNode(scope.iri)
    proj = " ?scope" if b else ""
    q = f"SELECT{proj} {_SUMMARY_VARS} WHERE {{ {where} {_SUMMARY_COUNTS} {after} }}"
    rows = run_parallel(store, [(q, b)])[0]
    skip = 1 if b else 0
    return _from_summaries(r[skip:] for r in rows)


def _category_fits(store: StoreAPI) -> dict[str, set[str]]:
    """category IRI → need types it addresses (as stated, before skos:broader)."""
    out: dict[str, set[str]] = defaultdict(set)
    for c, t in run_parallel(store, [("SELECT ?c ?t WHERE { ?c a dcpa:InterventionCategory ; "
                                      "dcpa:addressesNeedType ?t }", {})])[0]:
        if c and t:
            out[c].add(t)
    return dict(out)


def _keys(tallies: list[Tally], scope: Area | None, by: GapDimension, store: StoreAPI) -> list[tuple[Tally, list[str]]]:
    """The group key(s) of every tally: child-area code, need type, category IRI(s) or severity."""
    if by is GapDimension.NEED_TYPE:
        return [(t, [t.need_type]) for t in tallies]
    if by is GapDimension.SEVERITY:
        return [(t, [str(t.severity)]) for t in tallies]
    if by is GapDimension.CATEGORY:
        cats = _category_fits(store)
        broader, _ = need_type_tree(store)
        ups = {nt: set(ancestors_path(nt, broader)) for nt in {t.need_type for t in tallies}}
        return [(t, sorted(c for c, ts in cats.items() if ts & ups[t.need_type])) for t in tallies]
    child = CHILD_LENGTH[len(scope.code) if scope else 0]
    return [(t, [t.code[:child]]) for t in tallies if len(t.code) >= child]


def gaps(
    store: StoreAPI,
    area_code: str | None = None,
    *,
    by: str | GapDimension = GapDimension.AREA,
    period: Period | tuple[str, str] | tuple[date, date] | None = None,
    reach: str | None = None,
    as_of: date | None = None,
    real_only: bool = False,
    need_type: str | None = None,
    min_severity: int | None = None,
    settings: Settings | None = None,
) -> GapReport:
    """Needs and unaddressed needs of an area (or everywhere), grouped ``by`` one dimension.

    ``by="category"`` counts a need under every category that could address it (a category addressing
    its type or a broader one), so its groups may overlap; the totals count each need once.
    ``period`` keeps the needs identified in it and judges them as of its end. ``need_type`` (a code
    such as ``N1``, or its IRI) keeps the needs of that type and of its narrower types; ``min_severity``
    (1–5) the needs at least that severe.
    """
    settings = settings or get_settings()
    try:
        dim = GapDimension(by)
    except ValueError:
        dims = ", ".join(GAP_DIMENSIONS)
        raise InvalidParameter(f"需求缺口不能按 {by!r} 分组 / cannot group gaps by {by!r}",
                               hint=f"请使用以下之一：{dims} / use one of {dims}") from None
    modes = parse_reach(reach, settings.reach)
    per = as_period(period)
    scope = resolve_area(store, area_code) if area_code else None
    if scope is None and dim is GapDimension.AREA:
        # everything by area, in a graph of one province (Liaoning's), was that province's one row: a planner
        # asking where the gaps are got no place to go. It is the province's report, by its cities, as the
        # dashboard's; the totals are the same needs
        tops = child_areas(store, None)
        if len(tops) == 1:
            scope = resolve_area(store, tops[0].code)
    day = as_of or (per.end if per else derived.as_of_today(settings))
    tallies: list[Tally] | None = None
    source, notes, known_by, why_live = "summaries", [], None, None
    m = summaries_answer(store, modes, per, day, settings)
    if m is not None:
        tallies = _summary_tallies(store, scope, dim)
        if tallies is not None and m.known() is not None:
            notes.append(left_out_note(day))
            known_by = day
    if tallies is None:
        ns = need_rows(store, scope, reach=modes, period=per, as_of=day, settings=settings)
        source, notes, known_by, why_live = ns.source, list(ns.notes), ns.known_by, ns.why_live
        tallies = row_tallies(ns)
    if dim is GapDimension.CATEGORY:
        notes.append("一项需求若有多个类别可以满足，会计入每一个类别：各组相加可能多于总数"
                     "（总数中每项需求只计一次） / a need counts under every category that could address it, so the "
                     "groups may add up to more than the totals, which count each need once")
    if real_only:
        tallies = [t for t in tallies if not t.example]
    filters = _filters(store, need_type, min_severity)
    if filters.types is not None or filters.min_severity:
        tallies = [t for t in tallies if (filters.types is None or t.need_type in filters.types)
                   and t.severity >= filters.min_severity]
    groups: dict[str, GapGroup] = {}
    for t, keys in _keys(tallies, scope, dim, store):
        for k in keys:
            groups.setdefault(k, GapGroup(k, k, None)).add(t)
    children = child_areas(store, scope.code if scope else None) if (scope is None or not scope.is_village) else []
    if dim is GapDimension.AREA:  # every child area, those without a recorded need too (with zeros)
        for c in children:
            groups.setdefault(c.code, GapGroup(c.code, c.code, None))
    totals = GapGroup("total", scope.code if scope else "", scope.label if scope else None)
    for t in tallies:
        totals.add(t)
    _name(store, dim, groups)
    ordered = sorted(groups.values(), key=lambda g: (-g.severity_unaddressed, -g.unaddressed, -g.needs, g.code))
    if dim is GapDimension.SEVERITY:
        ordered.sort(key=lambda g: -int(g.code))
    what = ("项需求", "needs")
    b = basis([True] * totals.example_needs + [False] * (totals.needs - totals.example_needs), real_only=real_only,
              what_zh=what[0], what_en=what[1])
    log.info("gaps %s by %s: %d groups (%s)", area_code or "(all)", dim, len(ordered), source)
    return GapReport(scope, dim, [m.value for m in modes], day, per, real_only, source, totals, ordered, children, b,
                     notes, filters.to_dict(), known_by, why_live)


@dataclass(frozen=True)
class Filters:
    """Which needs a gap report keeps besides its area and period."""

    need_type: str | None = None  # the type asked for (IRI)
    types: frozenset[str] | None = None  # it and its narrower types; None: every type
    min_severity: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"need_type": self.need_type, "min_severity": self.min_severity or None}


def _filters(store: StoreAPI, need_type: str | None, min_severity: int | None) -> Filters:
    if min_severity is not None and not SEVERITY_MIN <= int(min_severity) <= SEVERITY_MAX:
        raise InvalidParameter(f"严重程度下限 {min_severity} 不在 {SEVERITY_MIN} 到 {SEVERITY_MAX} 之间 / min_severity "
                               f"{min_severity} is not between {SEVERITY_MIN} and {SEVERITY_MAX}",
                               hint=f"请填写 {SEVERITY_MIN} 到 {SEVERITY_MAX} 的整数 / give a whole number from "
                                    f"{SEVERITY_MIN} to {SEVERITY_MAX}")
    if not need_type:
        return Filters(min_severity=int(min_severity or 0))
    iri = need_type if need_type.startswith(("http://", "https://")) else str(DCPAV[normal_notation(need_type)])
    if not store.ask(f"ASK {{ <{iri}> a dcpa:NeedType }}"):
        raise InvalidParameter(f"未知的需求类型 / unknown need type {need_type!r}",
                               hint="请填写需求类型方案中的代码，如 N1 或 N22（见 /ontology.html） / "
                               "give a code of the need-type scheme, such as N1 or N22 (see /ontology.html)")
    _, narrower = need_type_tree(store)
    types, todo = {iri}, [iri]
    while todo:
        for child in narrower.get(todo.pop(), []):
            if child not in types:
                types.add(child)
                todo.append(child)
    return Filters(iri, frozenset(types), int(min_severity or 0))


def _name(store: StoreAPI, dim: GapDimension, groups: dict[str, GapGroup]) -> None:
    """Fill in each group's key IRI, code and label."""
    if dim is GapDimension.SEVERITY:
        for g in groups.values():
            g.label = Label(f"严重程度 {g.code}", f"severity {g.code}")
        return
    if dim is GapDimension.AREA:
        iris = {k: area(k) for k in groups}
    else:
        iris = {k: k for k in groups}
    names = labels(store, iris.values())
    for k, g in groups.items():
        g.key = iris[k]
        g.code = k if dim is GapDimension.AREA else local_name(k)
        g.label = names.get(iris[k])


def as_period(period: Period | tuple[str, str] | tuple[date, date] | None) -> Period | None:
    """A period from two ISO dates (or dates); DataError when malformed or reversed."""
    if period is None or isinstance(period, Period):
        return period
    try:
        start, end = (p if isinstance(p, date) else date.fromisoformat(str(p)) for p in period)
    except (TypeError, ValueError) as e:
        raise InvalidParameter(f"时间段不对 / bad period {period!r}",
                               hint="请给出两个日期 YYYY-MM-DD，开始不晚于结束 / "
                               "give two dates YYYY-MM-DD, start ≤ end") from e
    if start > end:
        raise InvalidParameter(f"时间段的开始晚于结束 / the period starts after it ends: {start} > {end}",
                               hint="开始日期不能晚于结束日期 / give start ≤ end")
    return Period(start, end)


__all__ = ["CHILD_LENGTH", "GAP_DIMENSIONS", "GapDimension", "GapGroup", "GapReport", "Tally", "as_period", "gaps"]
