"""``/api/villages``: find villages, read one, its recommendations and similar villages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg.answers.poverty import registered_poor_villages
from kg.answers.recommend import CANDIDATES_PER_NEED, MAX_CANDIDATES, NO_CANDIDATE
from kg.answers.villages import village_detail, village_hits, village_search_options
from kg.codes import TYPED_VILLAGE_CODE_PATTERN
from kg.matching import recommend as run_recommend
from kg.matching import similar as run_similar
from kg.records import records_graph
from kg.safetext import download_name

from .. import urls
from ..deps import AnswersDep, SearchDep, SettingsDep
from ..representation import (
    FormatParam,
    LimitParam,
    OffsetParam,
    SearchPage,
    csv_response,
    json_response,
    jsonld_response,
    report_response,
    wanted,
)
from ._common import ERROR_RESPONSES, AsOfParam, PoorFirstParam, ReachParam, RealOnlyParam, reach_text

router = APIRouter(prefix="/api/villages", tags=["villages / 村"])

CodeParam = Annotated[
    str, Path(pattern=TYPED_VILLAGE_CODE_PATTERN, description="12-digit statistical code of the village",
              examples=["211381107200"])
]


class LabelModel(BaseModel):
    zh: str = Field(examples=["水源地社区"])
    en: str = Field(examples=["水源地社区"])


class BasisModel(BaseModel):
    """How much of the answer rests on example data (never a real registration, library or case)."""

    items: int = Field(examples=[12])
    example_items: int = Field(examples=[12])
    example_share: float = Field(examples=[1.0])
    real_only: bool = Field(examples=[False])
    note_zh: str = Field(examples=["12 项中有 12 项（100%）依据示例数据，不是真实情况。"])
    note_en: str = Field(examples=["12 of 12 items (100%) rest on example data, not on real facts."])


class PovertyModel(BaseModel):
    priority: int = Field(description="2 registered poor village, 1 in a poverty county, 0 otherwise", examples=[2])
    registered_poor_village: bool = Field(description="A real registration as a poor village (建档立卡贫困村)",
                                          examples=[False])
    example_registration: bool = Field(description="The registration shown is example data, not a real one",
                                       examples=[True])
    in_poor_county: bool = Field(examples=[False], description="A real status of a containing area as a poor county")
    example_county_status: bool = Field(default=False, examples=[False],
                                        description="Such a status from example data only, not a real one")
    causes: list[str] = Field(examples=[["https://w3id.org/dcpa/vocab/PC07"]])


class VillageHitModel(BaseModel):
    code: str = Field(examples=["211381107200"])
    iri: str = Field(examples=["https://w3id.org/dcpa/id/area/211381107200"])
    label: LabelModel
    kind: str = Field(examples=["Village"])
    township: dict[str, Any] | None = None
    poverty: PovertyModel
    example: bool = Field(description="What is shown of it rests on example data", examples=[True])
    within: list[dict[str, Any]] = Field(description="The areas containing it, largest first (namesakes differ here)")
    match: str = Field(description="How the query matched: exact, prefix or contains (all: no query)",
                       examples=["exact"])
    href: str = Field(examples=["/api/villages/211381107200"])


class VillagePage(SearchPage):
    items: list[VillageHitModel]
    basis: BasisModel


class VillageDetailModel(BaseModel):
    """One village: poverty status, needs with their state and reasons, interventions, evaluations, evidence."""

    village: dict[str, Any]
    as_of: str = Field(examples=["2026-12-01"])
    reach: list[str] = Field(examples=[["direct", "area"]])
    real_only: bool
    source: str = Field(description="derived: read from the derived graph; live: the rule applied now",
                        examples=["derived"])
    poverty: PovertyModel
    statuses: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    interventions: list[dict[str, Any]]
    evaluations: list[dict[str, Any]]
    basis: BasisModel
    notes: list[str]
    links: dict[str, str]


@router.get(
    "",
    summary="Find villages / 查找村",
    response_model=VillagePage,
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def list_villages(
    request: Request,
    answers: AnswersDep,
    search: SearchDep,
    q: Annotated[
        str | None,
        Query(max_length=100, description="A name or part of it, pinyin (full or initials) or a code prefix, e.g. "
                                          "`水源`, `shuiyuan`, `2101`; ranked (see /api/areas)"),
    ] = None,
    poor: Annotated[
        bool | None, Query(description="Only villages with (true) / without (false) a registration as a poor "
                                       "village (example registrations count unless real_only)")
    ] = None,
    limit: LimitParam = 50,
    offset: OffsetParam = 0,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    # as search_villages, with the search itself in this process (api.deps.Search)
    registered = await answers(registered_poor_villages, real_only) if poor is not None else None
    hits = await search(q or "", **village_search_options(registered, poor, limit=limit, offset=offset))
    found = await answers(village_hits, hits, real_only=real_only)
    items = [dict(i, href=urls.village(i["code"])) for i in found.to_dict()["items"]]
    if wanted(request, format) == "csv":
        rows = [{"code": i["code"], "label": i["label"]["zh"], "label_en": i["label"]["en"], "kind": i["kind"],
                 "township": (i["township"] or {}).get("code"),
                 "registered_poor_village": i["poverty"]["registered_poor_village"],
                 "example_registration": i["poverty"]["example_registration"], "example": i["example"],
                 "href": i["href"]} for i in items]
        return csv_response(rows, name=download_name("villages", "csv", details=[q]))
    return json_response({"total": found.total, "limit": limit, "offset": offset, "read_as": found.read_as,
                          "items": items, "basis": found.basis.to_dict()})


@router.get(
    "/{code}",
    summary="One village / 村详情",
    description="JSON by default; `Accept: application/ld+json` (or `?format=jsonld`) gives the graph "
    "of the village, its poverty status and its needs as JSON-LD. Each need has its state under the rule "
    "of \"addressed\" and one reason per intervention addressing it (reach, type-fit path, valid until).",
    response_model=VillageDetailModel,
    responses={200: {"content": {"application/ld+json": {}}}, **ERROR_RESPONSES},
)
async def get_village(
    request: Request, answers: AnswersDep, settings: SettingsDep, code: CodeParam, reach: ReachParam = None,
    as_of: AsOfParam = None, real_only: RealOnlyParam = False, format: FormatParam = None,
) -> Response:
    detail = await answers(village_detail, code, reach=reach_text(reach), as_of=as_of, real_only=real_only,
                           settings=settings)
    if wanted(request, format, ("json", "jsonld")) == "jsonld":
        iris = [detail.village.iri, *(s["iri"] for s in detail.statuses), *(n["iri"] for n in detail.needs)]
        return jsonld_response(await answers(records_graph, iris))
    data = detail.to_dict()
    parent = detail.village.parent
    data["links"] = {"recommendations": urls.village_recommendations(code), "similar": urls.village_similar(code),
                     "gaps": urls.gaps(parent.code if parent else None), "page": urls.dashboard_village(code),
                     "graph": urls.view("village", code)}
    return json_response(data)


@router.get(
    "/{code}/recommendations",
    summary="Recommendations for a village / 村的帮扶推荐",
    description="Ranked resources and interventions for the village's unmet needs (unaddressed, or addressed "
    "but not verified), each with its explanation (the path in the graph that justifies it). Candidates come "
    "from the libraries serving the village, nearest first. `poor_first` puts the needs linked to the "
    "village's poverty causes first and says why.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def recommendations(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    code: CodeParam,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES, description="Candidates per need")] = CANDIDATES_PER_NEED,
    reach: ReachParam = None,
    poor_first: PoorFirstParam = False,
    as_of: AsOfParam = None,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    found = await answers(run_recommend, code, limit=limit, reach=reach_text(reach), poor_first=poor_first,
                          real_only=real_only, as_of=as_of, settings=settings)
    report = found.to_dict()
    if wanted(request, format) == "csv":  # the code as the library read it (２１…), not as typed
        return csv_response(candidate_rows(found.village.code, report),
                            name=download_name("recommendations", "csv", code=found.village.code,
                                               name=found.village.label.zh, day=report["as_of"]))
    return json_response(report)


def candidate_rows(code: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """One CSV row per (need, candidate), ranked within each need, and one per need without a candidate (those are
    what a planner must look for elsewhere); the explanation stays in JSON."""
    rows = []
    for need in report.get("needs", []):
        if not need.get("candidates"):  # a need nothing within reach fits: a row all the same, as the CLI writes
            rows.append({"village": code, "need": need.get("need"), "need_type": need.get("need_type"),
                         "need_type_label": need.get("need_type_label"), "severity": need.get("severity"),
                         "state": need.get("state"), "rank": None, "label": NO_CANDIDATE})
        for rank, c in enumerate(need.get("candidates", []), start=1):
            rows.append(
                {
                    "village": code,
                    "need": need.get("need"),
                    "need_type": need.get("need_type"),
                    "need_type_label": need.get("need_type_label"),
                    "severity": need.get("severity"),
                    "state": need.get("state"),
                    "rank": rank,
                    **{k: v for k, v in c.items() if k not in ("explanation", "components")},
                }
            )
    return rows


@router.get(
    "/{code}/similar",
    summary="Similar villages / 相似村",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def similar(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    code: CodeParam,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    as_of: AsOfParam = None,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    report = (await answers(run_similar, code, limit=limit, real_only=real_only, as_of=as_of,
                            settings=settings)).to_dict()
    village = report["village"]
    return report_response(request, report, format, name=download_name(
        "similar", "csv", code=village["code"], name=village["label"]["zh"], day=report["as_of"]))
