"""``POST /api/plans``: with this budget (and this stock), which villages get what? (``kg.answers.plan``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from kg.codes import TYPED_AREA_CODE_PATTERN
from kg.planning import (
    ALLOCATION_COLUMNS,
    BUDGET_ABOVE,
    BUDGET_MAX,
    PlanMethod,
    allocation_rows,
    plan,
    plan_file_name,
    read_budget,
)
from kg.rule import ReachMode

from ..deps import AnswersDep, SettingsDep
from ..representation import FormatParam, csv_response, json_response, wanted
from ._common import ERROR_RESPONSES, RealOnlyParam, reach_text

router = APIRouter(prefix="/api/plans", tags=["plans / 规划"])


class PlanRequest(BaseModel):
    # NaN and Infinity (JSON as Python reads it) are no budget: "must be at most 1e+12" said of NaN misled
    budget: float = Field(gt=BUDGET_ABOVE, le=BUDGET_MAX, allow_inf_nan=False,
                          description="Budget in yuan: a number, or text as a planner writes it (\"20万\", "
                                      "\"200,000\", \"1.5万元\")", examples=[200000])
    area: str | None = Field(
        default=None, pattern=TYPED_AREA_CODE_PATTERN,
        description="Area code to plan for (all when absent)", examples=["2101"],
    )
    method: PlanMethod = Field(default=PlanMethod.AUTO, description="How the plan is optimised")
    reach: list[ReachMode] | None = Field(
        default=None, min_length=1,
        description="Reach modes that count for \"addressed\" (leave it out for the server's setting)",
    )
    poor_first: bool = Field(default=False, description="Poverty targeting: weigh registered poor villages and "
                                                        "needs linked to their poverty causes more")
    real_only: bool = Field(default=False, description="Plan from real needs and real resources alone")

    @field_validator("budget", mode="before")
    @classmethod
    def _an_amount(cls, v: Any) -> Any:
        # JSON's true is a number to pydantic (1 yuan): a client sending it meant something else.
        if isinstance(v, bool):
            raise PydanticCustomError("float_type", "Input should be a valid number")
        # a budget as text is read as the plan page and dcpa plan read it (20万, 200,000); refused, it is the
        # library's InvalidParameter, which says what was typed and how to write it
        return read_budget(v) if isinstance(v, str) else v


@router.post(
    "",
    summary="Plan a budget / 预算分配规划",
    description="An optimisation over the graph that maximises weighted covered need within the budget "
    "and the resources' stock; each village's assignment comes with its explanation. As CSV "
    "(`format=csv` or `Accept: text/csv`): one flat row per allocation (village, resource, library, cost, "
    "needs met, why). `real_only=true` may come in the query, as for every answer, or in the body.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
async def make_plan(
    request: Request,
    answers: AnswersDep,
    settings: SettingsDep,
    body: PlanRequest,
    format: FormatParam = None,
    real_only: RealOnlyParam = False,
) -> Response:
    made = await answers(plan, body.budget, body.area, method=body.method, reach=reach_text(body.reach),
                         poor_first=body.poor_first, real_only=body.real_only or real_only, settings=settings)
    if wanted(request, format) == "csv":  # flat: one row per allocation, names and plain text in the cells
        return csv_response(allocation_rows(made), list(ALLOCATION_COLUMNS), name=plan_file_name(made, "csv"))
    return json_response(made.to_dict())
