"""Gap dashboards: charts by area (drill-down), need type and category, CSV downloads, village pages."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from kg import viz
from kg.errors import NotFound
from kg.safetext import csv_text
from kg.store import Store

from ..deps import SettingsDep, StoreDep

router = APIRouter(tags=["dashboard"])

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
AreaQuery = Annotated[str | None, Query(description="Area code (2, 4, 6 or 9 digits); the province by default.")]

#: chart → [(row key, zh, en, colour)] of the bars drawn
_SERIES: dict[str, list[tuple[str, str, str, str]]] = {
    "area": [
        ("needs", "需求数", "needs", "#90a4ae"),
        ("gaps", "未满足需求", "unaddressed", "#ef5350"),
        ("severe_gaps", "未满足的严重需求", "unaddressed severe", "#b71c1c"),
    ],
    "need_type": [
        ("needs", "需求数", "needs", "#90a4ae"),
        ("gaps", "未满足需求", "unaddressed", "#ef5350"),
        ("severe_gaps", "未满足的严重需求", "unaddressed severe", "#b71c1c"),
    ],
    "category": [
        ("addressed", "已满足需求", "needs addressed", "#1e88e5"),
        ("gaps_fitting", "此类可满足的缺口", "gaps this category could meet", "#fb8c00"),
    ],
}


#: Tables kept per store: the province's tables count every need (seconds at province scale).
CACHE_SIZE = 32
_CACHE: weakref.WeakKeyDictionary[Store, OrderedDict[tuple[Any, ...], dict[str, viz.GapTable]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple[Any, ...], threading.Lock] = {}


def dashboard_tables(store: Any, area: str | None, reach: str) -> dict[str, viz.GapTable]:
    """Every chart's table of an area, computed once per version of the data.

    Every accepted write adds a named graph (an import batch or a replacement's batch), so the
    number of graphs is a version that changes with every write: a page right after a write shows
    it. A remote endpoint can change behind our back, so its tables are never kept.
    """
    if not isinstance(store, Store):
        return viz.gap_tables(store, area, viz.CHARTS, reach=reach)
    key = ((area or "").strip(), reach, len(store.graphs()))
    with _CACHE_LOCK:
        tables = _CACHE.setdefault(store, OrderedDict())
        if key in tables:
            tables.move_to_end(key)
            return tables[key]
        lock = _KEY_LOCKS.setdefault((id(store), *key), threading.Lock())
    try:
        with lock:  # one computation per key, however many requests wait for it
            with _CACHE_LOCK:
                if key in tables:
                    return tables[key]
            made = viz.gap_tables(store, area, viz.CHARTS, reach=reach)
            with _CACHE_LOCK:
                tables[key] = made
                while len(tables) > CACHE_SIZE:
                    tables.popitem(last=False)
    finally:
        with _CACHE_LOCK:
            _KEY_LOCKS.pop((id(store), *key), None)
    return made


def warm(store: Any, reach: str) -> threading.Thread:
    """Compute the default dashboard (the province) in the background, so its first visitor need not wait."""
    thread = threading.Thread(target=_warm, args=(store, reach), name="dashboard-warm", daemon=True)
    thread.start()
    return thread


def _warm(store: Any, reach: str) -> None:
    try:
        dashboard_tables(store, None, reach)
    except Exception:  # noqa: BLE001 - an empty or unbuilt store: the page will say so when asked
        pass


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _href(path: str, **params: Any) -> str:
    return path + "?" + urlencode({k: v for k, v in params.items() if v is not None})


def _row_href(chart: str, row: dict[str, Any], lang: str) -> str | None:
    if chart != "area":
        return None
    if row.get("level") == "village":
        return _href(f"/dashboard/village/{row['code']}", lang=lang)
    return _href("/dashboard", area=row["code"], lang=lang)


def _chart(table: Any, lang: str) -> dict[str, Any]:
    rows = table.rows
    return {
        "labels": [r["label"][lang] for r in rows],
        "datasets": [
            {
                "label": zh if lang == "zh" else en,
                "data": [r.get(key, 0) for r in rows],
                "backgroundColor": colour,
            }
            for key, zh, en, colour in _SERIES[table.chart]
        ],
        "hrefs": [_row_href(table.chart, r, lang) for r in rows],
    }


@router.get("/dashboard", summary="Gap dashboard / 需求缺口看板", response_class=HTMLResponse)
def dashboard(store: StoreDep, settings: SettingsDep, area: AreaQuery = None, lang: LangQuery = "zh") -> HTMLResponse:
    """Unaddressed needs in an area by sub-area, need type and intervention category; click to drill down."""
    lang = _lang(lang)
    tables = dashboard_tables(store, area, settings.reach)
    first = tables["area"]
    code = first.area["code"]
    cards = []
    for name, table in tables.items():
        header, body = table.csv_rows(lang)
        cards.append(
            {
                "name": name,
                "title": viz.CHARTS[name][0 if lang == "zh" else 1],
                "header": header,
                "rows": [
                    {"cells": cells, "href": _row_href(name, r, lang)}
                    for cells, r in zip(body, table.rows, strict=True)
                ],
                "csv": _href(f"/dashboard/data/{name}.csv", area=code, lang=lang),
            }
        )
    ctx = viz.page_context(lang)
    ctx.update(
        area=first.area,
        crumbs=first.breadcrumb,
        cards=cards,
        static="/static",
        synthetic=viz.any_synthetic_need(store, first.area["iri"]),
        data_json=viz.embed_json({"charts": {n: _chart(t, lang) for n, t in tables.items()}}),
        zh_href=_href("/dashboard", area=code, lang="zh"),
        en_href=_href("/dashboard", area=code, lang="en"),
        graph_href=_href(f"/views/area/{code}", lang=lang) if len(code) in (4, 6, 9) else None,
    )
    return HTMLResponse(viz.environment().get_template("dashboard/index.html").render(**ctx))


@router.get("/dashboard/data/{chart}.csv", summary="Data behind a dashboard chart / 图表数据（CSV）")
def chart_csv(
    chart: str, store: StoreDep, settings: SettingsDep, area: AreaQuery = None, lang: LangQuery = "zh"
) -> Response:
    """The rows of one chart as UTF-8 CSV (with a BOM so spreadsheet programs read the Chinese)."""
    if chart not in viz.CHARTS:
        raise NotFound(f"no chart {chart!r}", hint="charts: " + ", ".join(viz.CHARTS))
    table = dashboard_tables(store, area, settings.reach)[chart]
    header, body = table.csv_rows(_lang(lang))
    filename = f"gaps-{chart}-{table.area['code']}.csv"
    return Response(
        "\ufeff" + csv_text(header, body),  # formula injection neutralised
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/dashboard/village/{code}", summary="Village page / 村页面", response_class=HTMLResponse)
def village_page(code: str, store: StoreDep, settings: SettingsDep, lang: LangQuery = "zh") -> HTMLResponse:
    """A village's poverty status, needs, recommendations and graph on one page."""
    lang = _lang(lang)
    summary = viz.village_summary(store, code, reach=settings.reach)
    view = viz.village_view(store, code, reach=settings.reach)
    ctx = viz.page_context(lang)
    ctx.update(
        s=summary,
        view=view,
        static="/static",
        synthetic=summary["synthetic"] or view.synthetic,
        graph_json=viz.embed_json(viz.network_data(view, lang)),
        zh_href=_href(f"/dashboard/village/{code}", lang="zh"),
        en_href=_href(f"/dashboard/village/{code}", lang="en"),
    )
    return HTMLResponse(viz.environment().get_template("dashboard/village.html").render(**ctx))
