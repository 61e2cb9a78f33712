"""The tables behind the gap dashboard: gaps by area (with drill-down), need type and category.

Each chart of ``/dashboard`` and each CSV download is one ``gap_table``; the numbers come
from the per-need rows of ``_data.needs`` (the DATA_MODEL.md rule of "addressed").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound, QueryError
from ..namespaces import node
from ..settings import get_settings
from ..store import Store
from . import _data

#: chart name → (zh title, en title)
CHARTS: dict[str, tuple[str, str]] = {
    "area": ("按区域的需求缺口", "Gaps by area"),
    "need_type": ("按需求类型的需求缺口", "Gaps by need type"),
    "category": ("按帮扶类别的覆盖与缺口", "Coverage and gaps by intervention category"),
}

#: code length → the code length of the next level down (county drills straight to villages)
CHILD_LEVEL = {2: 4, 4: 6, 6: 12, 9: 12}


@dataclass
class GapTable:
    """One chart's data: column names (zh/en) and rows of plain values."""

    chart: str
    area: dict[str, Any]
    breadcrumb: list[dict[str, Any]]
    columns: list[tuple[str, str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def csv_rows(self, lang: str = "zh") -> tuple[list[str], list[list[Any]]]:
        header = [zh if lang == "zh" else en for _, zh, en in self.columns]
        body = [[_cell(r.get(k), lang) for k, _, _ in self.columns] for r in self.rows]
        return header, body


def _cell(value: Any, lang: str) -> Any:
    if isinstance(value, dict):
        return value.get(lang) or value.get("zh") or ""
    return "" if value is None else value


def resolve_area(store: Store, code: str | None) -> dict[str, Any]:
    """The area of a dashboard: its IRI, code and labels (the province when ``code`` is empty)."""
    code = (code or "21").strip()
    if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
        raise QueryError(
            f"not an area code: {code!r}", hint="use a 2-, 4-, 6-, 9- or 12-digit statistical code"
        )
    info = _data.area_info(store, code)
    if info is None:
        raise NotFound(f"no area with code {code!r}")
    out: dict[str, Any] = dict(info)
    out["labels"] = _data.labels(store, [info["iri"]])[info["iri"]]
    return out


def breadcrumb(store: Store, code: str) -> list[dict[str, Any]]:
    """Province → city → county (→ township) → village links for ``code``."""
    codes = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    iris = [node("area", c) for c in codes]
    labs = _data.labels(store, iris)
    return [{"code": c, "labels": labs[i]} for c, i in zip(codes, iris, strict=True)]


def gap_table(store: Store, area_code: str | None, by: str, *, reach: str | None = None) -> GapTable:
    """Unaddressed needs in an area, aggregated ``by`` ``area`` (children), ``need_type`` or ``category``."""
    return gap_tables(store, area_code, [by], reach=reach)[by]


def gap_tables(
    store: Store, area_code: str | None, charts: Iterable[str] = CHARTS, *, reach: str | None = None
) -> dict[str, GapTable]:
    """Several charts of one area from one pass over its needs (what a dashboard page shows)."""
    charts = list(charts)
    for by in charts:
        if by not in CHARTS:
            raise QueryError(f"unknown chart {by!r}", hint="use one of: " + ", ".join(CHARTS))
    area = resolve_area(store, area_code)
    rows = _data.needs(store, area_iri=area["iri"], reach=reach or get_settings().reach)
    crumbs = breadcrumb(store, area["code"])
    builders = {"area": _by_area, "need_type": _by_need_type, "category": _by_category}
    out = {}
    for by in charts:
        columns, table_rows = builders[by](store, area["code"], rows)
        out[by] = GapTable(by, area, crumbs, columns, table_rows)
    return out


_COUNTS = [
    ("needs", "需求数", "needs"),
    ("gaps", "未满足需求", "unaddressed needs"),
    ("severe_gaps", "未满足的严重需求", "unaddressed severe needs"),
    ("people_unaddressed", "未满足需求涉及人数", "people with unaddressed needs"),
]


def _count(group: list[_data.NeedRow]) -> dict[str, Any]:
    gaps = [r for r in group if not r.addressed]
    return {
        "needs": len(group),
        "gaps": len(gaps),
        "severe_gaps": sum(1 for r in gaps if r.severe),
        "people_unaddressed": sum(r.people for r in gaps),
        "share": round(len(gaps) / len(group), 3) if group else 0.0,
    }


def _by_area(store: Store, code: str, rows: list[_data.NeedRow]) -> tuple[list[Any], list[dict[str, Any]]]:
    child_len = CHILD_LEVEL.get(len(code), 12)
    groups: dict[str, list[_data.NeedRow]] = defaultdict(list)
    for r in rows:
        if len(r.village_code) >= child_len:
            groups[r.village_code[:child_len]].append(r)
    iris = {c: node("area", c) for c in groups}
    labs = _data.labels(store, iris.values())
    out = []
    for c in sorted(groups, key=lambda c: (-_count(groups[c])["gaps"], c)):
        row = {"code": c, "label": labs[iris[c]], "level": "village" if child_len == 12 else "area"}
        row.update(_count(groups[c]))
        out.append(row)
    return [
        ("code", "区划代码", "code"),
        ("label", "区域", "area"),
        *_COUNTS,
        ("share", "缺口占比", "gap share"),
    ], out


def _by_need_type(
    store: Store, code: str, rows: list[_data.NeedRow]
) -> tuple[list[Any], list[dict[str, Any]]]:
    groups: dict[str, list[_data.NeedRow]] = defaultdict(list)
    for r in rows:
        groups[r.need_type].append(r)
    labs = _data.labels(store, groups)
    out = []
    for t in sorted(groups, key=lambda t: (-_count(groups[t])["gaps"], t)):
        row = {"code": _data.local_name(t), "label": labs[t], "iri": t}
        row.update(_count(groups[t]))
        out.append(row)
    return [
        ("code", "代码", "code"),
        ("label", "需求类型", "need type"),
        *_COUNTS,
        ("share", "缺口占比", "gap share"),
    ], out


def _by_category(
    store: Store, code: str, rows: list[_data.NeedRow]
) -> tuple[list[Any], list[dict[str, Any]]]:
    fits = _data.categories_fitting(store)
    cats = _data.all_categories(store)
    of = _data.categories_of(store, {i for r in rows for i in r.addressed_by})
    labs = _data.labels(store, cats)
    out = []
    for c in cats:
        interventions = {i for r in rows for i in r.addressed_by if of.get(i) == c}
        addressed = [r for r in rows if any(of.get(i) == c for i in r.addressed_by)]
        could = [r for r in rows if not r.addressed and c in fits.get(r.need_type, set())]
        out.append(
            {
                "code": _data.local_name(c),
                "label": labs[c],
                "iri": c,
                "interventions": len(interventions),
                "addressed": len(addressed),
                "gaps_fitting": len(could),
                "severe_gaps_fitting": sum(1 for r in could if r.severe),
            }
        )
    columns = [
        ("code", "代码", "code"),
        ("label", "帮扶类别", "category"),
        ("interventions", "满足需求的项目数", "interventions meeting needs"),
        ("addressed", "已满足需求", "needs addressed"),
        ("gaps_fitting", "此类可满足的缺口", "gaps this category could meet"),
        ("severe_gaps_fitting", "此类可满足的严重缺口", "severe gaps this category could meet"),
    ]
    return columns, out


def village_summary(store: Store, code: str, *, reach: str | None = None, limit: int = 10) -> dict[str, Any]:
    """Status, needs (addressed or not, by what) and recommendations of one village, for its page."""
    area = resolve_area(store, code)
    if len(area["code"]) != 12:
        raise NotFound(f"{code!r} is not a village-level code", hint="use a 12-digit code")
    v = area["iri"]
    status = _data.select(
        store,
        """SELECT ?type ?reg ?exit ?hh ?pop ?synthetic WHERE { ?v dcpa:povertyStatus ?s .
            OPTIONAL { ?s dcpa:statusType ?type } OPTIONAL { ?s dcpa:registeredYear ?reg }
            OPTIONAL { ?s dcpa:exitYear ?exit } OPTIONAL { ?s dcpa:poorHouseholds ?hh }
            OPTIONAL { ?s dcpa:poorPopulation ?pop } OPTIONAL { ?s dcpa:isSynthetic ?synthetic } }""",
        v=v,
    )
    rows = _data.needs(store, village_iris=[v], reach=reach or get_settings().reach)
    labs = _data.labels(
        store,
        [r.need_type for r in rows]
        + [i for r in rows for i in r.addressed_by]
        + [s["type"] for s in status if "type" in s],
    )
    synth = _data.synthetic(store, [v] + [r.need for r in rows])
    needs_out = [
        {
            "iri": r.need,
            "type": labs[r.need_type],
            "severity": r.severity,
            "people": r.people,
            "addressed": r.addressed,
            "synthetic": r.need in synth,
            "addressed_by": [{"iri": i, "label": labs[i]} for i in sorted(r.addressed_by)],
        }
        for r in rows
    ]
    return {
        "area": area,
        "breadcrumb": breadcrumb(store, area["code"]),
        "synthetic": bool(synth),
        "status": [{**s, "type": labs.get(s.get("type", ""), {"zh": "", "en": ""})} for s in status],
        "needs": needs_out,
        "recommendations": _recommendations(store, code, rows, limit),
    }


def _recommendations(store: Store, code: str, rows: list[_data.NeedRow], limit: int) -> list[dict[str, Any]]:
    """Candidates for the unaddressed needs: from ``kg.matching.recommend`` when it exists."""
    from ._build import _fitting_resources, _recommended

    gaps = [r for r in rows if not r.addressed]
    if not gaps:
        return []
    found = _recommended(store, code, limit)
    source = "kg.matching.recommend"
    if found is None:
        found = _fitting_resources(store, gaps, 3)[:limit]
        source = "fitting resources"
    iris = {c for _, c, _ in found} | {n for n, _, _ in found if n}
    iris |= {x for _, _, path in found for step in path for x in (step[0], step[2])}
    labs = _data.labels(store, iris)
    return [
        {
            "need": {"iri": n, "label": labs.get(n or "")} if n else None,
            "candidate": {"iri": c, "label": labs[c]},
            "explanation": [{"iri": x, "label": labs[x]} for x in _path_nodes(path)],
            "source": source,
        }
        for n, c, path in found[:limit]
    ]


def _path_nodes(path: list[Any]) -> list[str]:
    """The nodes of an explanation path in order, each once."""
    out: list[str] = []
    for s, _, o in path:
        for x in (s, o):
            if x not in out:
                out.append(x)
    return out
