"""The tables behind the gap dashboard: the library's gap report (``kg.answers.gaps``) as chart tables.

Each chart of ``/dashboard`` and each CSV download is one ``GapTable``: the rows of one
``GapReport`` (by child area, by need type, by category), with bilingual column names. Nothing
is counted here; this module only lays the report out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..answers.areas import Area, resolve_area, valid_code
from ..answers.basis import Basis
from ..answers.gaps import GapDimension, GapReport, gaps
from ..answers.labels import Label, labels
from ..answers.recommend import CANDIDATES_PER_NEED, WEIGHTS, Candidate, explanation_labels, explanation_name, recommend
from ..answers.villages import village_detail
from ..codes import normal_code
from ..contract import StoreAPI
from ..errors import NotFound, QueryError
from ..facts import need_type_tree
from ..settings import Settings

#: chart name → (zh title, en title)
CHARTS: dict[str, tuple[str, str]] = {
    "area": ("按区域的需求缺口", "Gaps by area"),
    "need_type": ("按需求类型的需求缺口", "Gaps by need type"),
    "category": ("各帮扶类别可满足的需求", "Needs each intervention category could address"),
}


@dataclass
class GapTable:
    """One chart's data: column names (zh/en) and rows of plain values, with the report's basis."""

    chart: str
    area: dict[str, Any]
    breadcrumb: list[dict[str, Any]]
    columns: list[tuple[str, str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)
    basis: Basis | None = None
    as_of: str = ""
    source: str = ""
    known_by: str = ""  # needs identified after this day were left out ("" when none were)
    why_live: str = ""  # why the rule was applied live for the graph's own day ("" when it was not: GapReport)
    totals: dict[str, Any] = field(default_factory=dict)  # the area's own counts, each need once (GapReport.totals)

    def csv_rows(self, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
        """The header and one row per group; a share left empty where no need is recorded, as the page leaves it
        (a gap share of 0 read as "every need met" for the many areas nobody has surveyed)."""
        header = [zh if lang == "zh" else en for _, zh, en in self.columns]
        body = [[_share_cell(r, k, lang) for k, _, _ in self.columns] for r in self.rows]
        return header, body

    def total_row(self, lang: str = "zh") -> list[Any]:
        """The CSV's last row: the area's own counts, each need counted once. A need that several categories could
        address is in each of their rows: a column's sum is no count of needs, and a planner summing the category
        sheet read more needs than the area has."""
        label = self.area["labels"].get(lang)
        said = {"code": self.area["code"],
                "label": f"合计：{label}（每条需求只计一次）" if lang == "zh" else f"total: {label} (each need once)"}
        return [said[k] if k in said else _share_cell(self.totals, k, lang) for k, _, _ in self.columns]


#: The columns holding a share of the needs recorded: none where no need is.
SHARES = frozenset({"unaddressed_share"})


def _share_cell(row: dict[str, Any], key: str, lang: str) -> Any:
    return "" if key in SHARES and not row.get("needs") else _cell(row.get(key), lang)


def _cell(value: Any, lang: str) -> Any:
    if isinstance(value, Label):
        return value.get(lang)
    if isinstance(value, dict):
        return value.get(lang) or value.get("zh") or ""
    if isinstance(value, bool):
        return ("是" if value else "") if lang == "zh" else ("yes" if value else "")
    return "" if value is None else value


def _area_dict(a: Area) -> dict[str, Any]:
    return {"iri": a.iri, "code": a.code, "level": a.level, "labels": a.label}


def resolve(store: StoreAPI, code: str | None) -> Area:
    """The area of a dashboard (the province when ``code`` is empty); a malformed code is a QueryError."""
    code = normal_code(code or "21")
    if not valid_code(code):
        raise QueryError(f"不是地区代码：{code!r} / not an area code: {code!r}",
                         hint="请使用 2、4、6、9 或 12 位统计用区划代码 / "
                              "use a 2-, 4-, 6-, 9- or 12-digit statistical code")
    return resolve_area(store, code)


def breadcrumb(a: Area) -> list[dict[str, Any]]:
    """Province → city → county (→ township) → village links for an area."""
    return [{"code": r.code, "labels": r.label} for r in a.breadcrumb()]


_COUNTS = [
    ("needs", "需求数", "needs"),
    ("unaddressed", "未满足需求", "unaddressed needs"),
    ("unverified", "已满足但未经验证", "addressed, not verified"),
    ("severe_unaddressed", "未满足的严重需求", "unaddressed severe needs"),
    ("people_unaddressed", "未满足需求涉及人数", "people with unaddressed needs"),
    ("unaddressed_share", "缺口占比", "gap share"),
    ("example_needs", "其中示例数据", "of which example data"),
]
_COLUMNS = {
    "area": [("code", "区划代码", "code"), ("label", "区域", "area"), *_COUNTS],
    "need_type": [("code", "代码", "code"), ("label", "需求类型", "need type"), *_COUNTS],
    "category": [("code", "代码", "code"), ("label", "帮扶类别", "category"),
                 ("needs", "此类可满足的需求", "needs of types it addresses"),
                 ("addressed", "其中已满足", "of which addressed"),
                 ("unverified", "其中未经验证", "of which not verified"),
                 ("unaddressed", "其中缺口", "of which gaps"),
                 ("severe_unaddressed", "其中严重缺口", "of which severe gaps"),
                 ("example_needs", "其中示例数据", "of which example data")],
}


def table(report: GapReport, chart: str) -> GapTable:
    """One chart's table from a gap report."""
    a = report.area
    assert a is not None
    rows = []
    for g in report.groups:
        row = g.to_dict()
        row["label"] = g.label
        if chart == "area":
            row["level"] = "village" if len(g.code) == 12 else "area"
        rows.append(row)
    return GapTable(chart, _area_dict(a), breadcrumb(a), _COLUMNS[chart], rows, report.basis,
                    report.as_of.isoformat(), report.source,
                    report.known_by.isoformat() if report.known_by else "", report.why_live or "",
                    report.totals.to_dict())


def gap_table(store: StoreAPI, area_code: str | None, by: str, *, reach: str | None = None,
              real_only: bool = False, as_of: date | None = None) -> GapTable:
    """One chart's table: unaddressed needs in an area by ``area`` (children), ``need_type`` or ``category``."""
    return gap_tables(store, area_code, [by], reach=reach, real_only=real_only, as_of=as_of)[by]


def gap_tables(store: StoreAPI, area_code: str | None, charts: Iterable[str] = CHARTS, *, reach: str | None = None,
               real_only: bool = False, as_of: date | None = None, period: tuple[date, date] | None = None,
               need_type: str | None = None, min_severity: int | None = None,
               settings: Settings | None = None) -> dict[str, GapTable]:
    """The charts of one area (what a dashboard page shows), for the needs the filters keep."""
    charts = list(charts)
    for by in charts:
        if by not in CHARTS:
            known = ", ".join(CHARTS)
            raise QueryError(f"未知的图表 {by!r} / unknown chart {by!r}",
                             hint=f"请使用以下之一：{known} / use one of: {known}")
    a = resolve(store, area_code)
    return {by: table(gaps(store, a.code, by=GapDimension(by), reach=reach, real_only=real_only, as_of=as_of,
                           period=period, need_type=need_type, min_severity=min_severity, settings=settings), by)
            for by in charts}


def dashboard_data(store: StoreAPI, area_code: str | None, *, reach: str | None = None, real_only: bool = False,
                   period: tuple[date, date] | None = None, need_type: str | None = None,
                   min_severity: int | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """What a dashboard page shows: every chart's table (``tables``) and the need types its filter offers
    (``need_types``), in one call so that a page is one computation."""
    return {"tables": gap_tables(store, area_code, CHARTS, reach=reach, real_only=real_only, period=period,
                                 need_type=need_type, min_severity=min_severity, settings=settings),
            "need_types": need_type_choices(store)}


def need_type_choices(store: StoreAPI) -> list[dict[str, Any]]:
    """The need types as a filter offers them: each broader type followed by its narrower ones, with
    their code, names and depth (0 for the top of the scheme)."""
    rows = store.select("SELECT ?t WHERE { ?t a dcpa:NeedType }")
    broader, narrower = need_type_tree(store)
    types = {str(r["t"]) for r in rows}
    names = labels(store, types)
    out: list[dict[str, Any]] = []

    def walk(t: str, depth: int) -> None:
        out.append({"code": t.rsplit("/", 1)[-1], "labels": names[t], "depth": depth})
        for child in sorted(narrower.get(t, []), key=_code_order):
            walk(child, depth + 1)

    for top in sorted((t for t in types if t not in broader), key=_code_order):
        walk(top, 0)
    return out


def _code_order(iri: str) -> tuple[int, str]:
    code = iri.rsplit("/", 1)[-1]
    return (len(code), code)


def village_summary(store: StoreAPI, code: str, *, reach: str | None = None, limit: int = CANDIDATES_PER_NEED,
                    real_only: bool = False, lang: str = "zh", settings: Settings | None = None) -> dict[str, Any]:
    """A village's poverty status, needs (state and reasons) and, per open need, its ``limit`` best
    candidates laid out for comparison (score and its weighted parts, cost, library and how near it
    is, fit, what is left, the explanation with named predicates), for its page."""
    a = resolve(store, code)
    if not a.is_village:
        raise NotFound(f"{code!r} 不是村级单位的代码 / {code!r} is not a village-level code",
                       hint="请使用 12 位代码 / use a 12-digit code")
    detail = village_detail(store, a.code, reach=reach, real_only=real_only, settings=settings)
    rec = recommend(store, a.code, limit=limit, reach=reach, real_only=real_only, lang=lang, settings=settings)
    predicates = explanation_labels(store, [rec])
    recommendations = [{
        "need": n.need, "need_type": n.need_type_label, "severity": n.severity, "state": n.state,
        "people": n.people_affected, "cause_linked": n.cause_linked,
        "candidates": [_candidate_row(c, predicates, lang) for c in n.candidates],
    } for n in rec.needs]
    return {
        "area": _area_dict(a),
        "breadcrumb": breadcrumb(a),
        "detail": detail.to_dict(),
        "recommendations": recommendations,
        "weights": dict(WEIGHTS),
        "basis": detail.basis,
        "synthetic": detail.basis.example_items > 0,
    }


def _candidate_row(c: Candidate, predicates: dict[str, Label], lang: str) -> dict[str, Any]:
    """One candidate as a row of the comparison table: plain values, parts weighted as they count."""
    def short(iri: str) -> str:
        return iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]

    return {
        "label": c.label or short(c.iri), "kind": c.kind, "use": c.use, "example": c.example,
        "library": c.library_label or short(c.library), "served": c.served_label or short(c.served),
        "served_code": short(c.served), "fit": c.fit, "score": c.score,
        "fit_type": explanation_name(c.fit_type, predicates, lang),
        "parts": {k: round(WEIGHTS[k] * v, 3) for k, v in c.components.items()},
        "cost": c.unit_cost, "left": c.capacity,
        "steps": [{"subject": s.subject_label or short(s.subject),
                   "predicate": explanation_name(s.predicate, predicates, lang),
                   "object": s.object_label or short(s.object)} for s in c.explanation],
    }


__all__ = ["CHARTS", "GapTable", "breadcrumb", "dashboard_data", "gap_table", "gap_tables", "need_type_choices",
           "resolve", "table", "village_summary"]
