"""``/api/areas``: find any area (province to village) by name, part of it, pinyin or code prefix; the
recommendations of every village of a county or township."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg.answers.recommend import CANDIDATES_PER_NEED, MAX_CANDIDATES
from kg.errors import InvalidParameter
from kg.matching import WITHIN_LEVELS, recommend_within
from kg.safetext import download_name
from kg.search import AreaLevel, blank

from .. import urls
from ..deps import AnswersDep, SearchDep, SettingsDep
from ..representation import FormatParam, LimitParam, OffsetParam, SearchPage, csv_response, json_response, wanted
from ._common import ERROR_RESPONSES, AsOfParam, PoorFirstParam, ReachParam, RealOnlyParam, reach_text
from .villages import candidate_rows

router = APIRouter(prefix="/api/areas", tags=["areas / 行政区"])

SearchParam = Annotated[
    str,
    Query(min_length=1, max_length=100,
          description="A name or part of it (`新民`), pinyin in full or by initials (`xinmin`, `xmc`), or a code "
                      "prefix (`2101`). Further words narrow by place: `新民 沈北` is the 新民 in 沈北新区."),
]


class WithinModel(BaseModel):
    code: str = Field(examples=["2101"])
    name: str = Field(examples=["沈阳市"])
    pinyin: str = Field(examples=["Shenyang Shi"])
    level: AreaLevel


class AreaHitModel(BaseModel):
    code: str = Field(examples=["210113008201"])
    iri: str = Field(examples=["https://w3id.org/dcpa/id/area/210113008201"])
    name: str = Field(description="The official name", examples=["新民村"])
    short_name: str = Field(description="The name without its official ending (村民委员会…)", examples=["新民村"])
    pinyin: str = Field(examples=["Xinmin Cun"])
    kind: str = Field(examples=["Village"])
    level: AreaLevel
    match: str = Field(description="exact, prefix or contains: how the query matched (the ranking's first key)",
                       examples=["exact"])
    within: list[WithinModel] = Field(description="The areas containing it, largest first: namesakes differ here")
    href: str = Field(description="Where to go next: the village's JSON, or the area's gaps",
                      examples=["/api/villages/210113008201"])


class AreaPage(SearchPage):
    items: list[AreaHitModel]


def href(code: str, level: str) -> str:
    return urls.village(code) if level == AreaLevel.village else urls.gaps(code)


@router.get(
    "",
    summary="Find areas / 查找行政区",
    description="Ranked: exact name or code first, then names starting with the query, then names containing it; "
    "larger areas first within each. Each hit names its township, county and city.",
    response_model=AreaPage,
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def find_areas(
    request: Request,
    search: SearchDep,
    q: SearchParam,
    level: Annotated[list[AreaLevel] | None, Query(description="Only these levels (repeat the parameter)")] = None,
    limit: LimitParam = 20,
    offset: OffsetParam = 0,
    format: FormatParam = None,
) -> Response:
    if blank(q):  # as q= is refused: spaces alone would list every area
        raise InvalidParameter("没有要搜索的内容：请给出名称、拼音或代码的开头 / nothing to search for: give a name, "
                               "pinyin or the start of a code", details={"parameter": "q"})
    found = await search(q, levels=level, limit=limit, offset=offset)
    items: list[dict[str, Any]] = [dict(h.to_dict(), href=href(h.place.code, h.place.level)) for h in found.hits]
    if wanted(request, format) == "csv":
        rows = [{"code": i["code"], "name": i["name"], "pinyin": i["pinyin"], "level": i["level"],
                 "match": i["match"], "within": " / ".join(w["name"] for w in i["within"]), "href": i["href"]}
                for i in items]
        return csv_response(rows, name=download_name("areas", "csv", details=[q]))
    return json_response({"total": found.total, "limit": limit, "offset": offset, "read_as": found.read_as,
                          "items": items})


@router.get(
    "/{code}/recommendations",
    summary="Recommendations for every village of a county or township / 县、乡镇各村的帮扶推荐",
    description="For each village of the area with a need left open (or the villages listed in `village`), the "
    "report `/api/villages/{code}/recommendations` gives it: ranked resources and interventions for its unmet "
    "needs, each explained; with the data basis over all of them. For a "
    + ", ".join(WITHIN_LEVELS) + " (a city or province: ask county by county). `format=csv`: one row per "
    "village, need and candidate.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def area_recommendations(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    code: Annotated[str, Path(description="Code of a county (6 digits), a township (9) or a village (12); "
                              "any other is refused by the library, which says why", examples=["211381"])],
    village: Annotated[list[str] | None, Query(description="Only these villages (12-digit codes within the "
                                                           "area; repeat the parameter)")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES, description="Candidates per need")] = CANDIDATES_PER_NEED,
    reach: ReachParam = None,
    poor_first: PoorFirstParam = False,
    as_of: AsOfParam = None,
    real_only: RealOnlyParam = False,
    format: FormatParam = None,
) -> Response:
    found = await answers(recommend_within, code, villages=village, limit=limit, reach=reach_text(reach),
                          poor_first=poor_first, real_only=real_only, as_of=as_of, settings=settings)
    report = found.to_dict()
    if wanted(request, format) == "csv":
        rows = [row for v in report["villages"] for row in candidate_rows(v["village"]["code"], v)]
        day = report["villages"][0]["as_of"] if report["villages"] else as_of
        # the code as the library read it
        return csv_response(rows, name=download_name("recommendations", "csv", code=found.area.code,
                                                     name=found.area.label.zh, day=day))
    return json_response(report)
