"""Needs and their state under the rule: the one home of "need rows" for every answer.

Without a period, and when the derived graph answers for the date asked (``kg.derived``), the state
and reasons of each need are read from it; otherwise the rule (``kg.rule``) is applied here, live,
over the inputs ``kg.facts`` reads. Both paths give the same rows (tests compare them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyoxigraph as ox

from .. import derived, facts
from ..contract import StoreAPI
from ..facts import Period, area_values, code_of, iri_chunks, iri_in, run_parallel
from ..namespaces import DCPAV, ID
from ..rule import (
    MODE_BY_CONCEPT,
    REACH_MODES,
    STATE_BY_CONCEPT,
    Fit,
    NeedState,
    ReachMode,
    Reason,
    outcome_of,
    parse_reach,
)
from ..settings import Settings, get_settings
from .areas import Area

log = logging.getLogger(__name__)

#: Severity from which a need counts as severe (1 slight … 5 most severe).
SEVERE = 4


@dataclass(frozen=True)
class NeedRow:
    """One need, its state under the rule and every reason behind it."""

    iri: str
    village: str  # 12-digit code
    need_type: str
    severity: int
    people: int | None
    example: bool
    state: NeedState
    reasons: tuple[Reason, ...] = ()

    @property
    def addressed(self) -> bool:
        """Addressed, verified or not (a need that is not a gap)."""
        return self.state is not NeedState.UNADDRESSED

    @property
    def severe(self) -> bool:
        return self.severity >= SEVERE

    @property
    def interventions(self) -> frozenset[str]:
        return frozenset(r.intervention for r in self.reasons)


@dataclass
class NeedSet:
    """Need rows and how they were worked out (for the answer's explanation)."""

    rows: list[NeedRow]
    as_of: date
    reach: tuple[ReachMode, ...]
    source: str  # "derived" (read from the derived graph) or "live" (rule applied now)
    period: Period | None = None
    notes: list[str] = field(default_factory=list)
    #: Needs identified after this day were left out (an answer as of a past day), None when none could be.
    known_by: date | None = None
    #: Why the rule was applied live though no period or other day was asked (a write under way, a derived graph
    #: for another day or made with other validity windows): one of ``notes``; None otherwise.
    why_live: str | None = None

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def _scope_head(scope: Area | None) -> tuple[str, dict[str, Any]]:
    """The pattern binding ?v to the villages of the scope, and its bindings."""
    if scope is None:
        return "", {}
    if scope.is_village:
        return f"VALUES ?v {{ {area_values([scope.code])} }}", {}
    return "?v dcpa:withinArea ?scope .", {"scope": ox.NamedNode(scope.iri)}


#: A province's or a city's needs are read in this many parts, each on its own thread, split by the areas
#: one level down: a province's 64,702 gaps at national scale in 2.7 s instead of 4.6 s (4 parts: 2.6 s, on
#: 2 cores).
SCAN_PARTS = 2


def _split_heads(store: StoreAPI, scope: Area) -> list[str]:
    """Patterns binding ?v to the villages of ``scope`` (an area above a village), in ``SCAN_PARTS`` parts
    when it is a province or a city, split by the areas it directly contains (every village within the
    scope is within one of them: ``dcpa:withinArea`` holds every ancestor)."""
    children = facts.parts_of(store, scope.code)
    if children == [scope.code]:
        return [f"{ox.NamedNode(scope.iri)} ^dcpa:withinArea ?v ."]
    groups = [children[i::SCAN_PARTS] for i in range(SCAN_PARTS)]
    return [f"VALUES ?c {{ {area_values(g)} }} ?c ^dcpa:withinArea ?v ." for g in groups if g]


def _via_kind(via: str) -> str:
    if via.startswith(str(DCPAV) + "C"):
        return "category"
    if via.startswith(str(ID) + "resource/"):
        return "resource"
    return "resource_type"


def _derived_rows(store: StoreAPI, scope: Area | None, with_reasons: bool,
                  states: tuple[NeedState, ...] | None = None,
                  modes: tuple[ReachMode, ...] | None = None) -> list[NeedRow]:
    """The needs of ``scope`` read from the derived graph: with their reasons, or without; ``modes``: their
    states under those reach modes only, from their reasons' modes and evaluations (rows without reasons).

    Why ``modes``: a gap report under one reach mode needs the states alone, and reading every reason whole
    (intervention, target, fit, dates, category) took 26 s for a province at national scale."""
    head, b = _scope_head(scope)
    # one state asked for is written in, and so is the area: the engine then reads only the area's needs
    # in that state (a province's 64,899 gaps in 4.3 s at national scale, against 6.8 s for all its
    # 100,476 needs; with the area passed as a binding instead, it started from the state: 16 s)
    one = f"<{states[0].concept}>" if states is not None and len(states) == 1 else None
    heads = [head]
    if (one or modes is not None) and b and scope is not None:
        heads, b = _split_heads(store, scope), {}
    proj = " ?scope" if b else ""
    state_term, state_out = (one, f"({one} AS ?st)") if one else ("?st", "?st")
    jobs: list[tuple[str, dict[str, Any]]] = [(
        f"SELECT{proj} ?need ?v ?t ?sev ?people ?ex {state_out} WHERE {{ {h} ?need dcpa:needOf ?v ; "
        f"dcpa:needType ?t ; dcpa:severity ?sev ; dcpa:needState {state_term} . "
        "OPTIONAL { ?need dcpa:peopleAffected ?people } OPTIONAL { ?need dcpa:isSynthetic ?ex } }", b) for h in heads]
    if with_reasons:
        jobs += [(
            f"SELECT{proj} ?need ?i ?m ?ta ?ft ?via ?fp ?vu ?bt ?c ?iex WHERE {{ {h} ?need dcpa:needOf ?v ; "
            "dcpa:addressedBy ?r . ?r dcpa:byIntervention ?i ; dcpa:reachMode ?m ; dcpa:reachTarget ?ta ; "
            "dcpa:fitType ?ft ; dcpa:fitVia ?via ; dcpa:fitPath ?fp . OPTIONAL { ?r dcpa:validUntil ?vu } "
            "OPTIONAL { ?r dcpa:belowTarget ?bt } OPTIONAL { ?i dcpa:category ?c } "
            "OPTIONAL { ?i dcpa:isSynthetic ?iex } }", b) for h in heads]
    if modes is not None:  # the modes each need is addressed through (a province's 100,496 needs: 1.4 s)
        jobs += [(f"SELECT{proj} ?need ?m WHERE {{ {h} ?need dcpa:needOf ?v ; dcpa:addressedThrough ?m }}", b)
                 for h in heads]
    done = run_parallel(store, jobs)
    results = [[row for part in done[:len(heads)] for row in part], [row for part in done[len(heads):] for row in part]]
    skip = 1 if b else 0
    through: dict[str, set[str]] = {}  # need -> the modes of its reasons
    restricted: dict[str, bool] = {}  # need addressed through other modes too -> every reason in ``modes`` below
    if modes is not None:
        for row in results[1]:
            need, m = row[skip:]
            if need and m:
                through.setdefault(need, set()).add(m)
        wanted = {m.concept for m in modes}
        # a need addressed through the modes asked for only keeps its state; one addressed through others as
        # well is judged on its reasons in those modes, read for it alone (every reason of a province: 4.2 s)
        mixed = [n for n, ms in through.items() if ms & wanted and ms - wanted]
        for part in run_parallel(store, [(
                f"SELECT ?need ?bt WHERE {{ VALUES ?need {{ {chunk} }} ?need dcpa:addressedBy ?r . "
                f"?r dcpa:reachMode ?m . FILTER(?m IN ({iri_in(wanted)})) OPTIONAL {{ ?r dcpa:belowTarget ?bt }} }}",
                {}) for chunk in iri_chunks(mixed)]):
            for need, bt in part:
                if need:
                    restricted[need] = restricted.get(need, True) and bt == "true"
    reasons: dict[str, list[Reason]] = {}
    if with_reasons:
        for row in results[1]:
            need, i, m, ta, ft, via, fp, vu, bt, c, iex = row[skip:]
            if not (need and i and m and ta and ft and via):
                continue
            path = tuple(str(DCPAV) + p.strip() for p in (fp or "").split("→") if p.strip())
            reasons.setdefault(need, []).append(Reason(
                intervention=i, mode=MODE_BY_CONCEPT.get(m, ReachMode.DIRECT), target=code_of(ta),
                fit=Fit(ft, via, _via_kind(via)), fit_path=path or (ft,),
                valid_until=date.fromisoformat(vu) if vu else None, below_target=bt == "true",
                example=iex == "true", category=c))
    out = []
    for row in results[0]:
        need, v, t, sev, people, ex, st = row[skip:]
        if not (need and v and t and st):
            continue
        state = STATE_BY_CONCEPT.get(st, NeedState.UNADDRESSED)
        if modes is not None:
            ms = through.get(need, set())
            if not ms & wanted:
                state = NeedState.UNADDRESSED
            elif need in restricted:
                state = NeedState.UNVERIFIED if restricted[need] else NeedState.ADDRESSED
        out.append(NeedRow(need, code_of(v), t, int(sev or 0), int(people) if people else None, ex == "true",
                           state, tuple(sorted(reasons.get(need, ()), key=lambda r: r.intervention))))
    return out


def need_rows(
    store: StoreAPI,
    scope: Area | None,
    *,
    reach: str | tuple[ReachMode, ...] | None = None,
    period: Period | None = None,
    as_of: date | None = None,
    with_reasons: bool = False,
    real_only: bool = False,
    states: tuple[NeedState, ...] | None = None,
    settings: Settings | None = None,
) -> NeedSet:
    """Every need of the villages in ``scope`` (None: everywhere) with its state and reasons.

    ``reach`` narrows the rule to some reach modes (default ``settings.reach``); ``period`` keeps the
    needs identified in it and judges them as of its end; ``real_only`` leaves out example needs
    (whose states never decide a real need's anyway); ``states`` keeps only needs in those states
    (read as such from the derived graph, when it answers).
    """
    settings = settings or get_settings()
    modes = reach if isinstance(reach, tuple) else parse_reach(reach, settings.reach)
    day = as_of or (period.end if period else derived.as_of_today(settings))
    full = set(modes) == set(REACH_MODES)
    notes: list[str] = []
    why_live: str | None = None
    # the derived graph, when it answers for the day, holds the needs known then (and knows whether some are later)
    m = derived.answering(store, day, settings.validity_windows()) if period is None else None
    cut = m.known(day) if m is not None else facts.known_by(store, day, period)
    if cut is not None:
        notes.append(left_out_note(day))
    if m is not None:
        if full or with_reasons:
            rows = _derived_rows(store, scope, with_reasons or not full, states if full else None)
            if not full:
                rows = [_restricted(r, modes) for r in rows]
        else:
            rows = _derived_rows(store, scope, False, None, modes)
        source = "derived"
    else:
        if period is None:
            m = derived.marker(store)
            if m is not None and m.other_windows(settings.validity_windows()):
                why_live = _other_windows_note(m, settings)
            elif m is not None and m.covers(day) and derived.in_flux(store):
                why_live = ("有写入正在进行（或中断后等待恢复：任何一次写入或 `dcpa serve` 都会完成它），"
                            "派生图可能只更新了一半，因此已按规则实时计算 / a write is under way (or was cut short "
                            "and awaits recovery: any write or `dcpa serve` finishes it), so the derived graph may be "
                            "half refreshed; the rule was applied live")
            else:
                why_live = _not_derived_note(m, day, derived.as_of_today(settings))
            notes.append(why_live)
        codes = None if scope is None else [scope.code]
        # every need known on the day shares the capacities, in the period or not: a need identified before it
        # keeps its share, so each need of the period gets the state it has on the day
        known = facts.known_by(store, day) if period is not None else cut
        inputs = facts.read_inputs(store, codes, day, settings.validity_windows(), known)
        result = inputs.outcomes(modes)
        left_out = set() if period is None else facts.outside_period(store, codes, cut or period)
        rows = [NeedRow(n.iri, n.village, n.need_type, n.severity, n.people, n.example, result[n.iri].state,
                        result[n.iri].reasons) for n in inputs.needs if n.iri not in left_out]
        source = "live"
    if real_only:
        rows = [r for r in rows if not r.example]
    if states is not None:
        rows = [r for r in rows if r.state in states]
    rows.sort(key=lambda r: (r.village, -r.severity, r.iri))
    log.debug("need rows for %s: %d (%s)", scope.code if scope else "all", len(rows), source)
    return NeedSet(rows, day, modes, source, period, notes, cut.end if cut is not None else None, why_live)


def left_out_note(day: date) -> str:
    """What an answer as of ``day`` says when the store holds needs identified after it."""
    return (f"{day} 之后识别的需求未计入：截至某日的回答只计入当日已知的需求 / "
            f"needs identified after {day} are left out: an answer as of a day counts the needs known by then")


def _other_windows_note(m: derived.Marker, settings: Settings) -> str:
    """Why an answer applied the rule live: the derived graph was made with other validity windows."""
    zh, en = derived.other_windows_words(m, settings.validity_windows())
    return (f"{zh}，已按规则实时计算（运行 `dcpa derive` 可按当前设置重新生成） / {en}; the rule was applied live "
            "(run `dcpa derive` to make it again with the current ones)")


def _not_derived_note(m: derived.Marker | None, day: date, today: date) -> str:
    """Why an answer applied the rule live: the derived graph does not answer for ``day``. `dcpa derive` is
    suggested for today's day (``settings.as_of``, else today) only: it makes the graph for that day, and an
    answer for another day (a future one, a past one) is live whatever the graph."""
    if m is None:
        have_zh, have = "还没有派生图", "there is none"
    else:
        have_zh = f"它适用于 {m.as_of}，" + (f"有效至 {m.stable_until} 之前" if m.stable_until else "未知何时变化")
        have = f"it is for {m.as_of}, " + (f"stable until {m.stable_until}" if m.stable_until else
                                            "with no change known ahead")
    zh = f"派生图不适用于 {day}（{have_zh}），已按规则实时计算 {day} 的结果"
    en = f"the derived graph does not answer for {day} ({have}); the rule was applied live for {day}"
    if day == today:
        zh, en = zh + "（运行 `dcpa derive` 可使其更新）", en + " (run `dcpa derive` to make it current)"
    return f"{zh} / {en}"


def no_needs_note(vil: Area, *, real_only: bool, then_zh: str, then_en: str, as_of: date | None = None) -> str:
    """Why an answer for a village is empty when none of its needs is recorded (``then_zh``/``then_en``: what
    the answer cannot give then), and how to record them: a village with nothing recorded yet is no error,
    and a bare empty answer does not tell it from one whose needs are all met."""
    real_zh, real_en = ("真实", "real ") if real_only else ("", "")
    when_zh, when_en = (f"截至 {as_of} ", f"as of {as_of}") if as_of else ("", "yet")
    return (f"{vil.code}（{vil.label.get('zh')}）{when_zh}还没有{real_zh}需求记录，{then_zh}；请用 `dcpa template` 取得"
            f"模板、填写需求后用 `dcpa import` 导入 / village {vil.code} ({vil.label.get('en')}) has no {real_en}needs "
            f"recorded {when_en}, {then_en}; record them with `dcpa template` and `dcpa import`")


def _restricted(row: NeedRow, modes: tuple[ReachMode, ...]) -> NeedRow:
    o = outcome_of(tuple(r for r in row.reasons if r.mode in modes))
    return NeedRow(row.iri, row.village, row.need_type, row.severity, row.people, row.example, o.state, o.reasons)


__all__ = ["SEVERE", "NeedRow", "NeedSet", "left_out_note", "need_rows", "no_needs_note"]
