"""``/``: the landing page, the address ``dcpa serve`` prints: what the graph holds and the ways in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from kg import viz
from kg.answers.overview import overview

from .. import urls
from ..deps import AnswersDep, SettingsDep
from ..paths import pages

router = APIRouter(tags=["pages"])


@router.get("/", summary="Home page / 首页", response_class=HTMLResponse)
async def home(answers: AnswersDep, settings: SettingsDep,
               lang: Annotated[str, Query(description="Page language: zh or en / 页面语言")] = "zh") -> HTMLResponse:
    """What the graph holds (needs, gaps, how much is example data, the last import), a search box, and links
    to the dashboard, the SPARQL endpoint, the API documentation, the query catalogue and the ontology."""
    lang = "en" if lang == "en" else "zh"
    facts = await answers(overview, settings=settings)
    ctx = viz.page_context(lang)
    ctx.update(o=facts, static="/static", zh_href=urls.home(lang="zh"), en_href=urls.home(lang="en"),
               dashboard_href=urls.dashboard(lang=lang), data_href=urls.data_page(lang=lang),
               plan_href=urls.plan_page(lang=lang),
               ontology_href=f"/views/ontology?lang={lang}")
    return HTMLResponse(pages().get_template("dashboard/home.html").render(**ctx))
