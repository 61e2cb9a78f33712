"""Gaps: needs that nothing addresses, aggregated for drill-down.

``gaps(store, "21", by="area")`` compares the cities of Liaoning; ask again with a
city's code to compare its counties, and so on down to the villages of a township.
Without a period and under the full reach rule, the counts come from the need summaries of the
derived graph (``kg.derived``: one row per area, need type and severity); otherwise from the needs
of the area (``kg.answers._common.need_rows``). Grouping and counting happen here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from .. import derived
from ..errors import DataError
from ..namespaces import area
from ..store import Store
from ._common import (
    AreaInfo,
    ancestors_path,
    code_of,
    labels,
    need_rows,
    need_type_tree,
    parse_reach,
    period_bindings,
    resolve_area,
    run_parallel,
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


#: Needs counted together: (village or area code, need type, severity, needs, unaddressed needs).
Tally = tuple[str, str, int, int, int]


def _group_keys(rows: list[Tally], scope: AreaInfo | None, by: str, store: Store) -> list[tuple[Tally, list[str]]]:
    """The group key(s) of every tally: child-area code, need type, category IRI(s) or severity."""
    if by == "need_type":
        return [(r, [r[1]]) for r in rows]
    if by == "severity":
        return [(r, [str(r[2])]) for r in rows]
    if by == "category":
        cats: dict[str, set[str]] = {}
        for c in store.select("SELECT ?c ?t WHERE { ?c a dcpa:InterventionCategory ; dcpa:addressesNeedType ?t }"):
            cats.setdefault(c["c"], set()).add(c["t"])
        broader, _ = need_type_tree(store)
        ups = {t: set(ancestors_path(t, broader)) for t in {r[1] for r in rows}}
        return [(r, sorted(c for c, ts in cats.items() if ts & ups[r[1]]) or [""]) for r in rows]
    # by area: the children of the scope, named by code prefix (the NBS codes nest)
    level = len(scope.code) if scope else 0
    child = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12, 12: 12}[level]
    return [(r, [r[0][:child]]) for r in rows]


def _summary_tallies(store: Store, scope: AreaInfo | None, by: str) -> list[Tally] | None:
    """Tallies read from the need summaries of the derived graph, or None where there are none.

    Summaries exist for provinces, cities and counties: grouping by area reads the children's
    (so only above county level), the other groupings read the scope's own.
    """
    level = len(scope.code) if scope else 0
    if level not in ((0, 2, 4) if by == "area" else (0, 2, 4, 6)):
        return None
    bindings: dict[str, Any] = {}
    if scope is None:
        where, after = "?a a dcpa:Province . ?s dcpa:summaryOf ?a .", ""
    elif by == "area":
        where, after = "?a dcpa:parentArea ?scope . ?s dcpa:summaryOf ?a .", ""
    else:  # the scope's own summaries; a leading BIND(?scope AS ?a) would not see the bound ?scope
        where, after = "?s dcpa:summaryOf ?scope .", "BIND(?scope AS ?a)"
    if scope is not None:
        bindings["scope"] = ox.NamedNode(scope.iri)
    proj = " ?scope" if bindings else ""
    q = (f"SELECT{proj} ?a ?t ?sev ?n ?g WHERE {{ {where} ?s dcpa:summaryNeedType ?t ; dcpa:summarySeverity ?sev ; "
         f"dcpa:needCount ?n ; dcpa:gapCount ?g . {after} }}")
    rows = run_parallel(store, [(q, bindings)])[0]
    return [(code_of(a), t, int(sev), int(n), int(g)) for *_, a, t, sev, n, g in rows]


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
    rows: list[Tally] | None = None
    if period is None and derived.covered_modes(modes) == set(derived.MODE_CONCEPT) and derived.is_current(store):
        rows = _summary_tallies(store, scope, by)  # the summaries count gaps under the full reach rule
    if rows is None:
        rows = [(r.village, r.need_type, r.severity, 1, 0 if r.addressed else 1)
                for r in need_rows(store, scope, modes, period, with_iri=False)]
    all_g: dict[str, list[int]] = {}
    for (_, _, sev, n, un), keys in _group_keys(rows, scope, by, store):
        for k in keys:
            g = all_g.setdefault(k, [0, 0, 0, 0])
            g[0] += n
            g[1] += sev * n
            g[2] += un
            g[3] += sev * un
    tot = (sum(r[3] for r in rows), sum(r[2] * r[3] for r in rows))
    tun = (sum(r[4] for r in rows), sum(r[2] * r[4] for r in rows))

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
