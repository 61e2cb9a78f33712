"""The study's model for a place: ``/views/model/{code}`` (page) and ``/api/model/{code}`` (JSON).

Both format ``kg.answers.model.model_view``: the four stages, the means behind them and the broken chains
of a county, township or village.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from kg import viz
from kg.answers.model import model_view

from .. import urls
from ..deps import AnswersDep, SettingsDep
from ..paths import pages
from ..representation import json_response
from ._common import ERROR_RESPONSES, EVIDENCE_TEXT, RealOnlyParam

router = APIRouter(tags=["model / 模型"])

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
#: The stages and broken chains as the page names them.
STAGE_TEXT = {
    "resources": ("① 数字资源建设：可用资源", "① Digital resources available"),
    "needs": ("② 贫困与需求识别：已识别需求", "② Poverty and needs identified"),
    "interventions": ("③ 选择帮扶项目：已选项目", "③ Interventions chosen"),
    "evaluations": ("④ 效果评估：已评估项目", "④ Interventions evaluated"),
}
BROKEN_TEXT = {
    "unevaluated": ("已完成但从未评估的项目", "Completed interventions never evaluated"),
    "no_candidate": ("没有任何候选能满足的需求", "Needs with no candidate to meet them"),
    "poor_without_need": ("没有识别出需求的贫困村（建档立卡、已脱贫或防返贫监测）",
                          "Poor villages (registered, lifted out or monitored) with no identified need"),
    "unused_resource": ("从未被任何项目使用的资源", "Resources no intervention has used"),
}


@router.get("/api/model/{code}", summary="The model's four stages for a place / 模型四阶段",
            response_model=dict[str, Any], responses=ERROR_RESPONSES)
async def model_json(code: str, request: Request, answers: AnswersDep, settings: SettingsDep,
                     real_only: RealOnlyParam = False) -> Response:
    """Resources available, needs identified (with their evidence), interventions chosen and evaluated, the
    personnel, funds and technology behind them, and the broken chains, for a county, township or village."""
    report = await answers(model_view, code, real_only=real_only, settings=settings)
    data = report.to_dict()
    data["page"] = urls.model_page(code, real_only=real_only or None)
    return json_response(data)


@router.get("/views/model/{code}", summary="Model page / 模型页面", response_class=HTMLResponse)
async def model_page(code: str, answers: AnswersDep, settings: SettingsDep, lang: LangQuery = "zh",
                     real_only: RealOnlyParam = False) -> HTMLResponse:
    """The four stages of the study's model and where the chain breaks, for one place."""
    lang = "en" if lang == "en" else "zh"
    report = await answers(model_view, code, real_only=real_only, lang=lang, settings=settings)
    ctx = viz.page_context(lang)
    ctx.update(
        r=report,
        names=report.labels,
        stage_text=STAGE_TEXT,
        broken_text=BROKEN_TEXT,
        evidence_text=EVIDENCE_TEXT,
        static="/static",
        synthetic=bool(report.basis.example_items),
        basis=report.basis,
        real_only=real_only,
        real_only_href=urls.model_page(code, lang=lang, real_only=not real_only),
        zh_href=urls.model_page(code, lang="zh", real_only=real_only),
        en_href=urls.model_page(code, lang="en", real_only=real_only),
        dashboard_href=urls.dashboard(code, lang=lang, real_only=real_only),
        crumb_href=(lambda c: urls.dashboard(c, lang=lang, real_only=real_only)),
        village_href=(lambda c: urls.dashboard_village(c, lang=lang, real_only=real_only)),
        json_href=urls.model_json(code, real_only=real_only),
        recommendations_href=urls.area_recommendations(code, format="csv", real_only=real_only),
    )
    return HTMLResponse(pages().get_template("dashboard/model.html").render(**ctx))
