"""Gap dashboards: charts by area (drill-down), need type and category, CSV downloads, village pages."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response

from kg import viz
from kg.answers.gaps import as_period
from kg.codes import TYPED_NOTATION_PATTERN, normal_notation
from kg.errors import InvalidParameter, NotFound, halves
from kg.rule import SEVERITY_MAX, SEVERITY_MIN
from kg.safetext import download_name, spreadsheet_file
from kg.search import AreaLevel, preload
from kg.settings import Settings

from .. import urls
from ..deps import Answers, AnswersDep, SearchDep, SettingsDep, StoreDep
from ..kept import Kept
from ..paths import pages
from ..representation import attachment
from ._common import EVIDENCE_TEXT, RealOnlyParam

router = APIRouter(tags=["dashboard"])

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
AreaQuery = Annotated[str | None, Query(description="Area code (2, 4, 6 or 9 digits); the province by default.")]
NearQuery = Annotated[str | None, Query(pattern=r"^\d{2,12}$", description="The code of the area the search was "
                                       "made from (a dashboard's, a village's township): its areas are listed first")]

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


@dataclass(frozen=True)
class Filters:
    """Which needs a dashboard counts (beyond its area): real data only, a period, a need type, a severity."""

    real_only: bool = False
    start: date | None = None
    end: date | None = None
    need_type: str | None = None
    min_severity: int | None = None

    @property
    def period(self) -> tuple[date, date] | None:
        return (self.start, self.end) if self.start and self.end else None

    @property
    def narrowed(self) -> bool:
        """Whether anything besides real data only narrows the needs counted."""
        return bool(self.period or self.need_type or self.min_severity)

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query parameters that keep these filters in a link (``changes`` override)."""
        d = {"real_only": self.real_only, "start": self.start, "end": self.end, "need_type": self.need_type,
             "min_severity": self.min_severity}
        d.update(changes)
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.items()}

    def file_name_details(self) -> list[str | None]:
        """What a CSV's file name says of these filters (``kg.safetext.download_name``), as /api/gaps names them."""
        return [self.need_type, f"severity-{self.min_severity}+" if self.min_severity else None,
                "real-only" if self.real_only else None]


def filters_of(
    real_only: RealOnlyParam = False,
    start: Annotated[str | None, Query(max_length=10, description="Period start (YYYY-MM-DD), with end")] = None,
    end: Annotated[str | None, Query(max_length=10, description="Period end (YYYY-MM-DD), with start")] = None,
    need_type: Annotated[str | None, Query(pattern=rf"{TYPED_NOTATION_PATTERN}|^$",
                                           description="Only needs of this type and its narrower types (N1, N22…)")
                         ] = None,
    min_severity: Annotated[str | None, Query(pattern=rf"^[{SEVERITY_MIN}-{SEVERITY_MAX}]?$",
                                              description="Only needs at least this severe (1–5)")] = None,
) -> Filters:
    """The filters of a dashboard page or CSV. A form sends its empty fields as empty strings: they mean
    "no filter"."""
    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError as e:
        raise InvalidParameter(f"不是日期 / not a date: {e}",
                               hint="请按 YYYY-MM-DD 填写日期 / write dates as YYYY-MM-DD") from None
    if (first is None) != (last is None):
        raise InvalidParameter("请同时填写开始和结束日期，或都不填 / "
                               "give both the start and the end of the period, or neither",
                               hint="如 start=2018-01-01&end=2018-12-31 / e.g. start=2018-01-01&end=2018-12-31")
    if first and last:
        as_period((first, last))  # the rule of a period has one home
    # n22 or Ｎ２２ as N22: the need-type list shows it chosen, the links and the form carry it as the scheme has it
    return Filters(real_only, first, last, normal_notation(need_type) if need_type else None,
                   int(min_severity) if min_severity else None)


FiltersDep = Annotated[Filters, Depends(filters_of)]


#: Tables kept per store: the province's tables count every need (seconds at province scale).
CACHE_SIZE = 32
_TABLES = Kept(CACHE_SIZE)


async def dashboard_tables(
    answers: Answers, store: Any, area: str | None, settings: Settings, filters: Filters = Filters()
) -> dict[str, Any]:
    """Every chart's table of an area and the filter's need types (``kg.viz.dashboard_data``), computed
    once per version of the data (in a query worker, under the answer deadline) and kept in the server,
    which does every write (``api.kept``). With the server's settings, as ``/api/gaps``: its day
    (``settings.as_of``) is the page's."""
    def compute() -> Any:
        return answers(viz.dashboard_data, area, reach=settings.reach, real_only=filters.real_only,
                       period=filters.period, need_type=filters.need_type, min_severity=filters.min_severity,
                       settings=settings)

    key = ((area or "").strip(), settings.reach, settings.as_of, filters)
    made: dict[str, Any] = await _TABLES.get(store, answers.runner, key, compute)
    return made


def warm(state: Any) -> threading.Thread:
    """Compute the default dashboard (the province) and load the search index in the background, so that
    their first visitors need not wait."""
    thread = threading.Thread(target=_warm, args=(state,), name="dashboard-warm", daemon=True)
    thread.start()
    return thread


def _warm(state: Any) -> None:
    try:
        asyncio.run(dashboard_tables(Answers.of(state), state.store, None, state.settings))
    except Exception:  # noqa: BLE001 - an empty or unbuilt store: the page will say so when asked
        pass
    try:  # api.deps.Search searches here: 1.9 s to load at national scale. Only a saved index, which reads
        # no store: making one from the store raced a rebuild's clean-up of the version it read
        preload(state.store)
    except Exception:  # noqa: BLE001 - as above: the search will say so when asked
        pass


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _row_href(chart: str, row: dict[str, Any], lang: str, filters: Filters) -> str | None:
    if chart != "area":
        return None
    if row.get("level") == "village":
        return urls.dashboard_village(row["code"], lang=lang, real_only=filters.real_only)
    return urls.dashboard(row["code"], lang=lang, **filters.params())


#: Columns shown as a percentage on the page (the CSV keeps the fraction).
_PERCENT = {"unaddressed_share"}


def _cell(key: str, value: Any, needs: int | None) -> Any:
    """A cell as the page shows it: a share as a percentage, and no share where no need is recorded (0.0% read
    as "every need met" for the many areas nobody has surveyed)."""
    if key in _PERCENT and (isinstance(value, float) or not needs):  # the table's share: empty where no need is
        return "—" if not needs else f"{value:.1%}"
    return value


def _chart(table: Any, lang: str, filters: Filters) -> dict[str, Any]:
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
        "hrefs": [_row_href(table.chart, r, lang, filters) for r in rows],
    }


@router.get("/dashboard", summary="Gap dashboard / 需求缺口看板", response_class=HTMLResponse)
async def dashboard(store: StoreDep, answers: AnswersDep, settings: SettingsDep, filters: FiltersDep,
                    area: AreaQuery = None, lang: LangQuery = "zh") -> HTMLResponse:
    """Unaddressed needs in an area by sub-area, need type and intervention category; click to drill down;
    filtered by period, need type and severity."""
    lang = _lang(lang)
    made = await dashboard_tables(answers, store, area, settings, filters)
    tables: dict[str, viz.GapTable] = made["tables"]
    first = tables["area"]
    code = first.area["code"]
    cards = []
    for name, table in tables.items():
        header, body = table.csv_rows(lang)
        keys = [k for k, _, _ in table.columns]
        cards.append(
            {
                "name": name,
                "title": viz.CHARTS[name][0 if lang == "zh" else 1],
                "header": header,
                "rows": [
                    {"cells": [_cell(k, c, r.get("needs")) for k, c in zip(keys, cells, strict=True)],
                     "href": _row_href(name, r, lang, filters), "empty": not r.get("needs")}
                    for cells, r in zip(body, table.rows, strict=True)
                ],
                "csv": urls.chart_csv(name, area=code, lang=lang, **filters.params()),
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
        known_by=first.known_by,
        why_live=halves(first.why_live) if first.why_live else None,
        real_only=filters.real_only,
        filters=filters,
        need_types=made["need_types"],
        real_only_href=urls.dashboard(code, lang=lang, **filters.params(real_only=not filters.real_only)),
        crumb_href=lambda c: urls.dashboard(c, lang=lang, **filters.params()),
        clear_href=urls.dashboard(code, lang=lang, real_only=filters.real_only),
        data_json=viz.embed_json({"charts": {n: _chart(t, lang, filters) for n, t in tables.items()}}),
        zh_href=urls.dashboard(code, lang="zh", **filters.params()),
        en_href=urls.dashboard(code, lang="en", **filters.params()),
        graph_href=urls.view("area", code, lang=lang) if len(code) in (4, 6, 9) else None,
        plan_href=urls.plan_page(area=code if len(code) > 2 else None, lang=lang, real_only=filters.real_only),
        model_href=urls.model_page(code, lang=lang, real_only=filters.real_only) if len(code) in (6, 9) else None,
        data_href=urls.data_page(lang=lang),
    )
    return HTMLResponse(pages().get_template("dashboard/index.html").render(**ctx))


@router.get("/dashboard/data/{chart}.csv", summary="Data behind a dashboard chart / 图表数据（CSV）")
async def chart_csv(
    chart: str, store: StoreDep, answers: AnswersDep, settings: SettingsDep, filters: FiltersDep,
    area: AreaQuery = None, lang: LangQuery = "zh",
) -> Response:
    """The rows of one chart as UTF-8 CSV (with a BOM so spreadsheet programs read the Chinese)."""
    if chart not in viz.CHARTS:
        charts = ", ".join(viz.CHARTS)
        raise NotFound(f"没有图表 {chart!r} / no chart {chart!r}", hint=f"图表有：{charts} / charts: {charts}")
    table = (await dashboard_tables(answers, store, area, settings, filters))["tables"][chart]
    header, body = table.csv_rows(_lang(lang))
    body.append(table.total_row(_lang(lang)))  # the area's own counts: a column's sum is not always one
    # named by what it holds, as /api/gaps: the chart, the area, the filters and the day
    name = download_name("gaps", "csv", code=table.area["code"], name=table.area["labels"].get(_lang(lang)),
                         details=[f"by-{chart}", *filters.file_name_details()],
                         day=f"{filters.start}_{filters.end}" if filters.period else table.as_of)
    return Response(
        spreadsheet_file(header, body),  # formula injection neutralised
        media_type="text/csv; charset=utf-8",
        headers=attachment(name),
    )


@router.get("/dashboard/village/{code}", summary="Village page / 村页面", response_class=HTMLResponse)
async def village_page(code: str, answers: AnswersDep, settings: SettingsDep, lang: LangQuery = "zh",
                 real_only: RealOnlyParam = False) -> HTMLResponse:
    """A village's poverty status, needs (state and why), recommendations and graph on one page."""
    lang = _lang(lang)
    summary = await answers(viz.village_summary, code, reach=settings.reach, real_only=real_only, lang=lang,
                            settings=settings)
    view = await answers(viz.village_view, code, reach=settings.reach, settings=settings, real_only=real_only)
    ctx = viz.page_context(lang)
    ctx.update(
        s=summary,
        view=view,
        evidence_names=EVIDENCE_TEXT,
        static="/static",
        synthetic=summary["synthetic"] or view.synthetic,
        basis=summary["basis"],
        real_only=real_only,
        real_only_href=urls.dashboard_village(code, lang=lang, real_only=not real_only),
        # the model and the JSON answer the same question: real data only when the page is
        model_href=urls.model_page(code, lang=lang, real_only=real_only),
        json_href=urls.village(code, real_only=real_only),
        graph_json=viz.embed_json(viz.network_data(view, lang)),
        zh_href=urls.dashboard_village(code, lang="zh", real_only=real_only),
        en_href=urls.dashboard_village(code, lang="en", real_only=real_only),
    )
    return HTMLResponse(pages().get_template("dashboard/village.html").render(**ctx))


_LEVEL_NAMES = {AreaLevel.province: ("省", "province"), AreaLevel.city: ("市", "city"),
                AreaLevel.county: ("县级", "county"), AreaLevel.township: ("乡级", "township"),
                AreaLevel.village: ("村级", "village")}


@router.get("/dashboard/search", summary="Find a village or area / 查找村或区域", response_class=HTMLResponse)
async def search_page(search: SearchDep, q: Annotated[str, Query(max_length=100)] = "",
                      lang: LangQuery = "zh", near: NearQuery = None) -> HTMLResponse:
    """Search by name, pinyin or code; each hit links to its village page or its area's dashboard."""
    lang = _lang(lang)
    found = await search(q, limit=50, near=near) if q.strip() else None
    hits = []
    for h in found.hits if found else []:
        p = h.place
        href = urls.dashboard_village(p.code, lang=lang) if p.level == AreaLevel.village else urls.dashboard(
            p.code, lang=lang)
        within = " / ".join((w.name if lang == "zh" else w.pinyin or w.name) for w in h.within[1:])
        hits.append({"name": p.name, "pinyin": p.pinyin, "level": _LEVEL_NAMES[p.level][0 if lang == "zh" else 1],
                     "within": within, "code": p.code, "href": href})
    ctx = viz.page_context(lang)
    ctx.update(q=q, total=found.total if found else 0, hits=hits, static="/static", read_as=found and found.read_as,
               near=near, zh_href=urls.search_page(q, lang="zh", near=near),
               en_href=urls.search_page(q, lang="en", near=near))
    return HTMLResponse(pages().get_template("dashboard/search.html").render(**ctx))
