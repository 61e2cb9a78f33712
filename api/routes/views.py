"""Interactive graph views (vis-network, assets from /static) and a JSON summary of any node."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse

from kg import viz
from kg.codes import TYPED_AREA_CODE_PATTERN

from ..deps import AnswersDep, SettingsDep
from ._common import RealOnlyParam

router = APIRouter(tags=["views"])

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
MaxNodes = Annotated[int, Query(ge=10, le=2000, description="Most nodes drawn; the page says when it cut.")]


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "zh"


def _page(view: viz.ViewGraph, lang: str, request: Request) -> HTMLResponse:
    # the language switch keeps the view's other choices (an area, real data only, hops, …)
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    hrefs = ("?" + urlencode([*kept, ("lang", "zh")]), "?" + urlencode([*kept, ("lang", "en")]))
    return HTMLResponse(viz.render_view(view, _lang(lang), lang_hrefs=hrefs))


@router.get("/views/village/{code}", summary="Village graph view / 村关系图", response_class=HTMLResponse)
async def village_view(
    code: str,
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    lang: LangQuery = "zh",
    hops: Annotated[int | None, Query(ge=1, le=5, description="Keep only the N-hop neighbourhood.")] = None,
    max_nodes: MaxNodes = viz.MAX_NODES,
    real_only: RealOnlyParam = False,
) -> HTMLResponse:
    """The village around its needs: what meets each, what could (dashed), its poverty status."""
    return _page(await answers(viz.village_view, code, reach=settings.reach, hops=hops, max_nodes=max_nodes,
                               settings=settings, real_only=real_only), lang, request)


@router.get("/views/area/{code}", summary="Area graph view / 区域关系图", response_class=HTMLResponse)
async def area_view(
    code: str,
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    lang: LangQuery = "zh",
    max_nodes: MaxNodes = viz.MAX_NODES,
    real_only: RealOnlyParam = False,
) -> HTMLResponse:
    """An area as a map of its parts (clusters by township or county), coloured by share of severe need
    unaddressed."""
    return _page(await answers(viz.area_view, code, reach=settings.reach, max_nodes=max_nodes,
                               real_only=real_only, settings=settings), lang, request)


@router.get("/views/policy/{ident}", summary="Policy graph view / 政策关系图", response_class=HTMLResponse)
async def policy_view(
    ident: str, request: Request, answers: AnswersDep, lang: LangQuery = "zh", max_nodes: MaxNodes = viz.MAX_NODES,
    area: Annotated[str | None, Query(pattern=TYPED_AREA_CODE_PATTERN,
                                      description="Narrow to this area: summed up by the areas below it down "
                                                  "to a city; a county or below, drawn in full")] = None,
    real_only: RealOnlyParam = False,
) -> HTMLResponse:
    """Policy → programmes → where their interventions go, summed up by area, each area leading down."""
    return _page(await answers(viz.policy_view, ident, area_code=area, max_nodes=max_nodes, real_only=real_only),
                 lang, request)


@router.get("/views/ontology", summary="Ontology graph view / 本体关系图", response_class=HTMLResponse)
def ontology_view(request: Request, lang: LangQuery = "zh") -> HTMLResponse:
    """Classes (subclass edges) and object properties (domain → range) of the ontology."""
    return _page(viz.ontology_view(), lang, request)


@router.get("/views/node.json", summary="One node's labels and edges / 节点摘要")
async def node_json(
    answers: AnswersDep, iri: Annotated[str, Query(description="Full IRI of the node", max_length=2000)]
) -> JSONResponse:
    """A DESCRIBE-like summary: labels, types, outgoing and incoming edges (bounded)."""
    data: dict[str, Any] = await answers(viz.describe, iri)
    return JSONResponse(data)
