"""Gaps: needs that nothing addresses, aggregated for drill-down.

``gaps(store, "21", by="area")`` compares the cities of Liaoning; ask again with a
city's code to compare its counties, and so on down to the villages of a township.
The needs of the area and the reach index come from a few scoped queries
(see ``kg.answers._common.need_rows``); grouping and counting happen here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataError
from ..namespaces import area
from ..store import Store
from ._common import (
    AreaInfo,
    NeedRow,
    ancestors_path,
    code_of,
    labels,
    need_rows,
    need_type_tree,
    parse_reach,
    period_bindings,
    resolve_area,
    to_jsonable,
)

log = logging.getLogger(__name__)

GAP_DIMENSIONS = ("area", "need_type", "category", "severity")


@dataclass
class GapGroup:
    """One row of a gap report: the needs of one area, type, category or severity."""

    key: str
    label: str | None
    code: str | None
    needs: int
    addressed: int
    unaddressed: int
    unaddressed_share: float
    severity_total: int
    severity_unaddressed: int


@dataclass
class GapReport:
    """Unaddressed needs of an area, grouped one way, with totals."""

    area: AreaInfo | None
    by: str
    reach: list[str]
    period: list[str] | None
    totals: dict[str, Any]
    groups: list[GapGroup] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


def _group_keys(rows: list[NeedRow], scope: AreaInfo | None, by: str,
                store: Store) -> list[tuple[NeedRow, list[str]]]:
    """The group key(s) of every need: child-area code, need type, category IRI(s) or severity."""
    if by == "need_type":
        return [(r, [r.need_type]) for r in rows]
    if by == "severity":
        return [(r, [str(r.severity)]) for r in rows]
    if by == "category":
        cats: dict[str, set[str]] = {}
        for c in store.select("SELECT ?c ?t WHERE { ?c a dcpa:InterventionCategory ; dcpa:addressesNeedType ?t }"):
            cats.setdefault(c["c"], set()).add(c["t"])
        broader, _ = need_type_tree(store)
        ups = {t: set(ancestors_path(t, broader)) for t in {r.need_type for r in rows}}
        return [(r, sorted(c for c, ts in cats.items() if ts & ups[r.need_type]) or [""]) for r in rows]
    # by area: the children of the scope, named by code prefix (the NBS codes nest)
    level = len(scope.code) if scope else 0
    child = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}[level]
    return [(r, [r.village[:child]]) for r in rows]


def _totals(needs: int, sev: int, un: int, un_sev: int) -> dict[str, Any]:
    return {
        "needs": needs,
        "addressed": needs - un,
        "unaddressed": un,
        "unaddressed_share": round(un / needs, 4) if needs else 0.0,
        "severity_total": sev,
        "severity_unaddressed": un_sev,
        "severity_weighted_unaddressed_share": round(un_sev / sev, 4) if sev else 0.0,
    }


def gaps(
    store: Store,
    area_code: str | None = None,
    *,
    by: str = "area",
    period: tuple[str, str] | None = None,
    reach: str | None = None,
    lang: str = "zh",
) -> GapReport:
    """Needs and unaddressed needs of an area (or the whole graph), grouped ``by`` one dimension.

    ``by="category"`` counts a need under every category that would address it (a
    category addressing its type or a broader one), so its groups may overlap; the
    totals always count each need once. ``period=(start, end)`` keeps needs identified
    in the period and interventions started by its end.
    """
    if by not in GAP_DIMENSIONS:
        raise DataError(f"cannot group gaps by {by!r}", hint=f"use one of {', '.join(GAP_DIMENSIONS)}")
    modes = parse_reach(reach)
    scope = resolve_area(store, area_code, lang=lang) if area_code else None
    period_bindings(period)  # validates the dates before any query runs
    rows = need_rows(store, scope, modes, period, with_iri=False)
    all_g: dict[str, list[int]] = {}
    for r, keys in _group_keys(rows, scope, by, store):
        for k in keys:
            g = all_g.setdefault(k, [0, 0, 0, 0])
            g[0] += 1
            g[1] += r.severity
            if not r.addressed:
                g[2] += 1
                g[3] += r.severity
    tot = (len(rows), sum(r.severity for r in rows))
    tun = (sum(1 for r in rows if not r.addressed), sum(r.severity for r in rows if not r.addressed))

    if by == "area":
        key_iri = {k: area(k) for k in all_g}
    elif by == "severity":
        key_iri = {k: "" for k in all_g}
    else:
        key_iri = {k: k for k in all_g}
    names = labels(store, [i for i in key_iri.values() if i], lang)
    groups = []
    for k, (n, s, un, us) in all_g.items():
        iri = key_iri[k]
        label = names.get(iri) if iri else None
        if by == "category" and not k:
            label = "无对应类别" if lang == "zh" else "no category"
        groups.append(
            GapGroup(
                key=iri or k or "(none)",
                label=label,
                code=k if by in ("area", "severity") else (code_of(k) if k else None),
                needs=n,
                addressed=n - un,
                unaddressed=un,
                unaddressed_share=round(un / n, 4) if n else 0.0,
                severity_total=s,
                severity_unaddressed=us,
            )
        )
    # Deterministic order: most unaddressed severity first, then key.
    groups.sort(key=lambda g: (-g.severity_unaddressed, -g.unaddressed, g.code or g.key))
    if by == "severity":
        groups.sort(key=lambda g: -int(g.key))
    log.info("gaps %s by %s: %d groups", area_code or "(all)", by, len(groups))
    return GapReport(
        area=scope,
        by=by,
        reach=list(modes),
        period=list(period) if period else None,
        totals=_totals(tot[0], tot[1], tun[0], tun[1]),
        groups=groups,
    )
