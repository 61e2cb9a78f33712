"""Villages: search by code or name, and everything a planner needs about one village.

``village_detail`` is the one home of "a village": its poverty status (example statuses marked and
never shown as a registration), its needs with their state and reasons under the rule, the
interventions that target it (and whether and why they count), its evaluations and the data basis.
The API's village JSON, the village page and the village view all show this.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from .. import facts
from ..codes import VILLAGE_CLASSES
from ..contract import StoreAPI
from ..errors import NotFound
from ..facts import iri_values
from ..namespaces import area
from ..rule import ReachMode, Rule, ended_by, validity
from ..search import AreaLevel, Found, search
from ..settings import Settings, get_settings
from .areas import Area, resolve_area
from .basis import Basis, basis
from .evidence import Evidence, need_evidence
from .jsonable import to_jsonable
from .labels import Label, labels, local_name
from .needs import NeedRow, need_rows
from .poverty import poverty_of, registered_poor_villages


@dataclass
class VillageHit:
    code: str
    iri: str
    label: Label  # zh: the official name; en: its pinyin
    kind: str
    township: dict[str, Any] | None
    poverty: dict[str, Any]  # registered_poor_village (real only), example_registration, priority, causes
    example: bool  # its poverty status shown rests on example data
    within: list[dict[str, Any]]  # the areas containing it, largest first (to tell namesakes apart)
    match: str  # how the query matched: exact, prefix, contains (all: no query)


@dataclass
class VillageSearch:
    total: int
    items: list[VillageHit]
    basis: Basis
    #: The query in simplified characters, searched when the query as typed found nothing (``kg.search``).
    read_as: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


def search_villages(store: StoreAPI, q: str | None, *, poor: bool | None = None, limit: int = 50, offset: int = 0,
                    real_only: bool = False) -> VillageSearch:
    """Village-level units by name, part of it, pinyin or code prefix, ranked (``kg.search``); all of
    them in code order when there is no query.

    ``poor`` keeps the villages with (True) or without (False) a registration as a poor village; an
    example registration counts only when ``real_only`` is off, and is marked.
    """
    registered = registered_poor_villages(store, real_only) if poor is not None else None
    found = search(store, q or "", **village_search_options(registered, poor, limit=limit, offset=offset))
    return village_hits(store, found, real_only=real_only)


def village_search_options(registered: frozenset[str] | None, poor: bool | None, *, limit: int,
                           offset: int) -> dict[str, Any]:
    """The options of ``kg.search.search`` that find a page of villages, with (``poor``) or without (``poor``
    False) a registration among ``registered`` (``registered_poor_villages``)."""
    return {"levels": [AreaLevel.village], "limit": limit, "offset": offset,
            "only": registered if poor else None, "excluding": registered if poor is False else None}


def village_hits(store: StoreAPI, found: Found, *, real_only: bool = False) -> VillageSearch:
    """The villages ``kg.search.search`` found, with their poverty situation and the answer's basis. Apart
    from the search itself, which a server runs where it keeps the index (``api.deps.Search``)."""
    situations = poverty_of(store, [h.place.code for h in found.hits])
    items = []
    for h in found.hits:
        pov = situations[h.place.code].to_dict(real_only)
        town = h.within[-1] if h.within and h.within[-1].level == AreaLevel.township else None
        items.append(VillageHit(
            h.place.code, h.iri, Label(h.place.name, h.place.pinyin), h.place.kind,
            {"code": town.code, "label": Label(town.name, town.pinyin).to_dict()} if town else None, pov,
            bool(pov["example_registration"]),
            [{"code": w.code, "level": w.level.value, "label": Label(w.name, w.pinyin).to_dict()} for w in h.within],
            h.match))
    return VillageSearch(found.total, items, basis([i.example for i in items], real_only=real_only,
                                                   what_zh="个村", what_en="villages"), found.read_as)


# -- one village ---------------------------------------------------------------------


@dataclass
class VillageDetail:
    village: Area
    as_of: date
    reach: list[str]
    real_only: bool
    source: str
    poverty: dict[str, Any]
    statuses: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    basis: Basis
    notes: list[str]
    #: Needs identified after this day were left out (an answer as of a past day); None when none were.
    known_by: date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: to_jsonable(getattr(self, f.name)) for f in fields(self)}


def village_detail(store: StoreAPI, code: str, *, reach: str | None = None, as_of: date | None = None,
                   real_only: bool = False, settings: Settings | None = None) -> VillageDetail:
    """A village: poverty status, needs (state and reasons), interventions targeting it, evaluations."""
    settings = settings or get_settings()
    vil = resolve_area(store, code)
    if not vil.is_village:
        raise NotFound(f"{code} 不是村级单位 / {code} is not a village-level unit",
                       hint="村的代码是 12 位 / villages have 12-digit codes")
    ns = need_rows(store, vil, reach=reach, as_of=as_of, with_reasons=True, real_only=real_only, settings=settings)
    situation = poverty_of(store, [vil.code])[vil.code]
    evidence = need_evidence(store, [n.iri for n in ns.rows])
    interventions = _interventions(store, vil, ns.rows, ns.as_of, ns.reach, settings, real_only)
    evaluations = _evaluations(store, vil.iri, real_only, ns.as_of)
    iris = ({n.need_type for n in ns.rows} | {r.intervention for n in ns.rows for r in n.reasons}
            | {t for n in ns.rows for r in n.reasons for t in r.fit_path}
            | {area(r.target) for n in ns.rows for r in n.reasons} | {c for s in situation.statuses for c in s.causes}
            | {s.status_type for s in situation.statuses if s.status_type}
            | {area(s.area) for s in situation.statuses}
            | {e.quote.role for e in evidence.values() if e.quote and e.quote.role}
            | {e.iri for e in evidence.values()}
            | {e["indicator"] for e in evaluations if e.get("indicator")})
    names = labels(store, iris)

    def lab(i: str | None) -> dict[str, str] | None:
        return names[i].to_dict() if i and i in names else None

    needs = [_need_dict(n, lab, evidence.get(n.iri)) for n in ns.rows]
    statuses = [{"iri": s.iri, "area": s.area, "area_label": lab(area(s.area)), "status_type": s.status_type,
                 "status_type_label": lab(s.status_type),
                 "registered_year": s.registered_year, "exit_year": s.exit_year,
                 "causes": [{"iri": c, "label": lab(c)} for c in s.causes], "example": s.example,
                 "of_village": s.area == vil.code}
                for s in situation.statuses if not (real_only and s.example)]
    for e in evaluations:
        e["indicator_label"] = lab(e.get("indicator"))
    flags = [n.example for n in ns.rows] + [s["example"] for s in statuses] + [i["example"] for i in interventions]
    b = basis(flags, real_only=real_only, what_zh="项（需求、贫困状态与项目）",
              what_en="items (needs, poverty statuses and interventions)")
    return VillageDetail(vil, ns.as_of, [m.value for m in ns.reach], real_only, ns.source,
                         situation.to_dict(real_only), statuses, needs, interventions, evaluations, b, ns.notes,
                         ns.known_by)


def _need_dict(n: NeedRow, lab: Any, ev: Evidence | None) -> dict[str, Any]:
    quote = ev.quote if ev else None
    return {
        "iri": n.iri, "id": n.iri.rsplit("/", 1)[-1], "need_type": n.need_type, "need_type_label": lab(n.need_type),
        "severity": n.severity, "people_affected": n.people, "state": n.state.value, "example": n.example,
        "identified_on": ev.identified_on if ev else None, "surveyor": ev.surveyor if ev else None,
        "evidence": None if ev is None else {"iri": ev.iri, "kind": ev.kind,
                                             "type": local_name(ev.type) if ev.type else None,
                                             # named in both languages (its label as read is either)
                                             "label": lab(ev.iri) or ev.label, "example": ev.example},
        "quote": None if quote is None else {**quote.to_dict(), "role_label": lab(quote.role)},
        "reasons": [{
            "intervention": r.intervention, "intervention_label": lab(r.intervention), "reach": r.mode.value,
            "target": r.target, "target_label": lab(area(r.target)), "fit_type": r.fit.need_type,
            "fit_via": r.fit.via, "fit_via_kind": r.fit.via_kind,
            "fit_path": [{"iri": t, "notation": local_name(t), "label": lab(t)} for t in r.fit_path],
            "valid_until": r.valid_until.isoformat() if r.valid_until else None, "below_target": r.below_target,
            "example": r.example,
        } for r in n.reasons],
    }


def _interventions(store: StoreAPI, vil: Area, rows: list[NeedRow], as_of: date, reach: tuple[ReachMode, ...],
                   settings: Settings, real_only: bool) -> list[dict[str, Any]]:
    """Every intervention targeting the village or an area containing it, and whether (and why) it counts."""
    found = facts.read_interventions(store, [vil.code])
    windows = settings.validity_windows()
    rule = Rule(found, [], {}, as_of, windows)
    addressing: dict[str, list[str]] = {}
    for n in rows:
        for r in n.reasons:
            addressing.setdefault(r.intervention, []).append(n.iri)
    here = {vil.code[:k] for k in (2, 4, 6, 9, 12)}
    labelled = labels(store, list(found) + [i.category for i in found.values() if i.category]
                      + [i.status for i in found.values() if i.status])
    out = []
    for iri, i in sorted(found.items()):
        named = vil.code in i.villages
        via = sorted(a for a in i.areas if a in here)
        if not named and not via:
            continue
        if real_only and i.example:
            continue
        start, until, why = validity(i, windows)
        area_wide = bool(i.area_fits)
        if named:
            reaches, how = ReachMode.DIRECT in reach, "direct"
        elif area_wide:
            reaches, how = ReachMode.AREA in reach, "area"
        else:
            reaches, how = False, "area, on site: reaches only the villages it names"
        out.append({
            "iri": iri, "id": iri.rsplit("/", 1)[-1], "label": labelled[iri].to_dict(),
            "category": i.category, "category_label": labelled[i.category].to_dict() if i.category else None,
            "status": i.status, "status_label": labelled[i.status].to_dict() if i.status else None,
            "targets": ([vil.code] if named else []) + via, "reach": how, "reaches_village": reaches,
            "in_force": rule.in_force(iri), "validity": why,
            "valid_until": until.isoformat() if until else None,
            "people_reached": i.people_reached, "village_capacity": i.village_capacity,
            "addresses": sorted(addressing.get(iri, [])), "example": i.example,
        })
    return out


def _evaluations(store: StoreAPI, village: str, real_only: bool, day: date) -> list[dict[str, Any]]:
    """The village's evaluations, each saying whether it had ended by ``day``: only those the rule reads (a value
    recorded before the end is not yet a result, and one replaying a past day may be from after it)."""
    rows = store.select(
        f"""SELECT ?e ?ind ?i ?base ?target ?actual ?start ?end ?syn WHERE {{
              VALUES ?v {{ {iri_values([village])} }} ?e dcpa:evaluatedArea ?v . OPTIONAL {{ ?e dcpa:evaluates ?i }}
              OPTIONAL {{ ?e dcpa:indicator ?ind }} OPTIONAL {{ ?e dcpa:baselineValue ?base }}
              OPTIONAL {{ ?e dcpa:targetValue ?target }} OPTIONAL {{ ?e dcpa:actualValue ?actual }}
              OPTIONAL {{ ?e dcpa:periodStart ?start }} OPTIONAL {{ ?e dcpa:periodEnd ?end }}
              OPTIONAL {{ ?e dcpa:isSynthetic ?syn }} }} ORDER BY ?e"""
    )
    out = []
    for r in rows:
        if real_only and r.get("syn"):
            continue
        t, a = r.get("target"), r.get("actual")
        out.append({"iri": r["e"], "id": r["e"].rsplit("/", 1)[-1], "intervention": r.get("i"),
                    "indicator": r.get("ind"), "baseline": r.get("base"), "target": t, "actual": a,
                    "met_target": None if t is None or a is None else a >= t,
                    "period_start": r.get("start"), "period_end": r.get("end"),
                    "ended": ended_by(facts.parse_date(r.get("end")), day), "example": bool(r.get("syn"))})
    return out


__all__ = ["VILLAGE_CLASSES", "VillageDetail", "VillageHit", "VillageSearch", "search_villages", "village_detail",
           "village_hits", "village_search_options"]
