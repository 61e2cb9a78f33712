"""Gap dashboards: charts by area (drill-down), need type and category, CSV downloads, village pages."""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections import OrderedDict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from kg import derived, viz
from kg.errors import NotFound
from kg.safetext import csv_text
from kg.search import AreaLevel, search
from kg.store import Store

from .. import urls
from ..deps import Answers, AnswersDep, SettingsDep, StoreDep
from ._common import RealOnlyParam

router = APIRouter(tags=["dashboard"])

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
AreaQuery = Annotated[str | None, Query(description="Area code (2, 4, 6 or 9 digits); the province by default.")]

#: chart → [(row key, zh, en, colour)] of the bars drawn
_SERIES: dict[str, list[tuple[str, str, str, str]]] = {
    "area": [
        ("needs", "需求数", "needs", "#90a4ae"),
        ("unaddressed", "未满足需求", "unaddressed", "#ef5350"),
        ("unverified", "已满足但未经验证", "addressed, not verified", "#fb8c00"),
        ("severe_unaddressed", "未满足的严重需求", "unaddressed severe", "#b71c1c"),
    ],
    "need_type": [
        ("needs", "需求数", "needs", "#90a4ae"),
        ("unaddressed", "未满足需求", "unaddressed", "#ef5350"),
        ("unverified", "已满足但未经验证", "addressed, not verified", "#fb8c00"),
        ("severe_unaddressed", "未满足的严重需求", "unaddressed severe", "#b71c1c"),
    ],
    "category": [
        ("addressed", "其中已满足", "of which addressed", "#1e88e5"),
        ("unaddressed", "其中缺口", "of which gaps", "#ef5350"),
    ],
}


#: Tables kept per store: the province's tables count every need (seconds at province scale).
CACHE_SIZE = 32
_CACHE: weakref.WeakKeyDictionary[Store, OrderedDict[tuple[Any, ...], dict[str, viz.GapTable]]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()
#: (event loop, store, key) → the computation under way, which later requests for that key await.
_PENDING: dict[tuple[Any, ...], asyncio.Future[dict[str, viz.GapTable]]] = {}


async def dashboard_tables(
    answers: Answers, store: Any, area: str | None, reach: str, real_only: bool = False
) -> dict[str, viz.GapTable]:
    """Every chart's table of an area, computed once per version of the data (in a query worker,
    under the answer deadline) and kept here, in the server, which does every write.

    The version is what the answer depends on: the store's count of writes (``Store.generation``), the
    derived graph's date, and today's date (the rule's dates). A remote endpoint can change behind our
    back, so its tables are never kept.
    """
    if not isinstance(store, Store):
        return await answers(viz.gap_tables, area, viz.CHARTS, reach=reach, real_only=real_only)
    key = ((area or "").strip(), reach, real_only, store.generation, derived.marker(store), date.today())
    with _CACHE_LOCK:
        tables = _CACHE.setdefault(store, OrderedDict())
        if key in tables:
            tables.move_to_end(key)
            return tables[key]
    pending = (id(asyncio.get_running_loop()), id(store), *key)
    task = _PENDING.get(pending)
    if task is None:  # one computation per key, however many requests wait for it
        task = asyncio.ensure_future(answers(viz.gap_tables, area, viz.CHARTS, reach=reach, real_only=real_only))
        _PENDING[pending] = task
        task.add_done_callback(lambda _: _PENDING.pop(pending, None))
    made = await asyncio.shield(task)  # a client that leaves does not stop it for the others
    with _CACHE_LOCK:
        tables[key] = made
        while len(tables) > CACHE_SIZE:
            tables.popitem(last=False)
    return made


def warm(state: Any) -> threading.Thread:
    """Compute the default dashboard (the province) in the background, so its first visitor need not wait."""
    thread = threading.Thread(target=_warm, args=(state,), name="dashboard-warm", daemon=True)
    thread.start()
    return thread


def _warm(state: Any) -> None:
    try:
        asyncio.run(dashboard_tables(Answers.of(state), state.store, None, state.settings.reach))
    except Exception:  # noqa: BLE001 - an empty or unbuilt store: the page will say so when asked
        pass


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _row_href(chart: str, row: dict[str, Any], lang: str, real_only: bool) -> str | None:
    if chart != "area":
        return None
    if row.get("level") == "village":
        return urls.dashboard_village(row["code"], lang=lang, real_only=real_only)
    return urls.dashboard(row["code"], lang=lang, real_only=real_only)


def _chart(table: Any, lang: str, real_only: bool) -> dict[str, Any]:
    rows = table.rows
    return {
        "labels": [r["label"][lang] if r.get("label") else r["code"] for r in rows],
        "datasets": [
            {
                "label": zh if lang == "zh" else en,
                "data": [r.get(key, 0) for r in rows],
                "backgroundColor": colour,
            }
            for key, zh, en, colour in _SERIES[table.chart]
        ],
        "hrefs": [_row_href(table.chart, r, lang, real_only) for r in rows],
    }


@router.get("/dashboard", summary="Gap dashboard / 需求缺口看板", response_class=HTMLResponse)
async def dashboard(store: StoreDep, answers: AnswersDep, settings: SettingsDep, area: AreaQuery = None,
                    lang: LangQuery = "zh", real_only: RealOnlyParam = False) -> HTMLResponse:
    """Unaddressed needs in an area by sub-area, need type and intervention category; click to drill down."""
    lang = _lang(lang)
    tables = await dashboard_tables(answers, store, area, settings.reach, real_only)
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
                    {"cells": cells, "href": _row_href(name, r, lang, real_only)}
                    for cells, r in zip(body, table.rows, strict=True)
                ],
                "csv": urls.chart_csv(name, area=code, lang=lang, real_only=real_only),
            }
        )
    basis = first.basis
    ctx = viz.page_context(lang)
    ctx.update(
        area=first.area,
        crumbs=first.breadcrumb,
        cards=cards,
        static="/static",
        synthetic=bool(basis and basis.example_items),
        basis=basis,
        as_of=first.as_of,
        real_only=real_only,
        real_only_href=urls.dashboard(code, lang=lang, real_only=not real_only),
        crumb_params={"lang": lang, "real_only": real_only},
        data_json=viz.embed_json({"charts": {n: _chart(t, lang, real_only) for n, t in tables.items()}}),
        zh_href=urls.dashboard(code, lang="zh", real_only=real_only),
        en_href=urls.dashboard(code, lang="en", real_only=real_only),
        graph_href=urls.view("area", code, lang=lang) if len(code) in (4, 6, 9) else None,
        plan_href=urls.plan_page(area=code if len(code) > 2 else None, lang=lang, real_only=real_only),
    )
    return HTMLResponse(viz.environment().get_template("dashboard/index.html").render(**ctx))


@router.get("/dashboard/data/{chart}.csv", summary="Data behind a dashboard chart / 图表数据（CSV）")
async def chart_csv(
    chart: str, store: StoreDep, answers: AnswersDep, settings: SettingsDep, area: AreaQuery = None,
    lang: LangQuery = "zh", real_only: RealOnlyParam = False,
) -> Response:
    """The rows of one chart as UTF-8 CSV (with a BOM so spreadsheet programs read the Chinese)."""
    if chart not in viz.CHARTS:
        raise NotFound(f"no chart {chart!r}", hint="charts: " + ", ".join(viz.CHARTS))
    table = (await dashboard_tables(answers, store, area, settings.reach, real_only))[chart]
    header, body = table.csv_rows(_lang(lang))
    filename = f"gaps-{chart}-{table.area['code']}.csv"
    return Response(
        "\ufeff" + csv_text(header, body),  # formula injection neutralised
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/dashboard/village/{code}", summary="Village page / 村页面", response_class=HTMLResponse)
async def village_page(code: str, answers: AnswersDep, settings: SettingsDep, lang: LangQuery = "zh",
                 real_only: RealOnlyParam = False) -> HTMLResponse:
    """A village's poverty status, needs (state and why), recommendations and graph on one page."""
    lang = _lang(lang)
    summary = await answers(viz.village_summary, code, reach=settings.reach, real_only=real_only, lang=lang)
    view = await answers(viz.village_view, code, reach=settings.reach)
    ctx = viz.page_context(lang)
    ctx.update(
        s=summary,
        view=view,
        static="/static",
        synthetic=summary["synthetic"] or view.synthetic,
        basis=summary["basis"],
        real_only=real_only,
        real_only_href=urls.dashboard_village(code, lang=lang, real_only=not real_only),
        graph_json=viz.embed_json(viz.network_data(view, lang)),
        zh_href=urls.dashboard_village(code, lang="zh", real_only=real_only),
        en_href=urls.dashboard_village(code, lang="en", real_only=real_only),
    )
    return HTMLResponse(viz.environment().get_template("dashboard/village.html").render(**ctx))


_LEVEL_NAMES = {AreaLevel.province: ("省", "province"), AreaLevel.city: ("市", "city"),
                AreaLevel.county: ("县级", "county"), AreaLevel.township: ("乡级", "township"),
                AreaLevel.village: ("村级", "village")}


@router.get("/dashboard/search", summary="Find a village or area / 查找村或区域", response_class=HTMLResponse)
async def search_page(answers: AnswersDep, q: Annotated[str, Query(max_length=100)] = "",
                      lang: LangQuery = "zh") -> HTMLResponse:
    """Search by name, pinyin or code; each hit links to its village page or its area's dashboard."""
    lang = _lang(lang)
    found = await answers(search, q, limit=50) if q.strip() else None
    hits = []
    for h in found.hits if found else []:
        p = h.place
        href = urls.dashboard_village(p.code, lang=lang) if p.level == AreaLevel.village else urls.dashboard(
            p.code, lang=lang)
        within = " / ".join((w.name if lang == "zh" else w.pinyin or w.name) for w in h.within[1:])
        hits.append({"name": p.name if lang == "zh" else f"{p.pinyin} ({p.name})" if p.pinyin else p.name,
                     "pinyin": p.pinyin, "level": _LEVEL_NAMES[p.level][0 if lang == "zh" else 1],
                     "within": within, "code": p.code, "href": href})
    ctx = viz.page_context(lang)
    ctx.update(q=q, total=found.total if found else 0, hits=hits, static="/static",
               zh_href=urls.search_page(q, lang="zh"), en_href=urls.search_page(q, lang="en"))
    return HTMLResponse(viz.environment().get_template("dashboard/search.html").render(**ctx))
