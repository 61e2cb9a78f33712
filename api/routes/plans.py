"""``POST /api/plans``: with this budget (and this stock), which villages get what?"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from .. import lookup
from ..deps import StoreDep
from ..representation import FormatParam, report_response
from ._common import ERROR_RESPONSES, library_call

router = APIRouter(prefix="/api/plans", tags=["plans / 规划"])


class PlanRequest(BaseModel):
    budget: float = Field(gt=0, le=1e12, description="Budget in yuan", examples=[200000])
    area: str | None = Field(
        default=None, pattern=r"^\d{2,12}$", description="Area code to plan for (all when absent)", examples=["2101"]
    )
    method: str = Field(default="auto", pattern="^(auto|flow|greedy|matching|milp)$", examples=["auto"])
    reach: str | None = Field(default=None, pattern=r"^(direct|area|library)(,(direct|area|library))*$")


@router.post(
    "",
    summary="Plan a budget / 预算分配规划",
    description="An optimisation over the graph that maximises weighted covered need within the budget "
    "and the resources' stock; each village's assignment comes with its explanation.",
    response_model=dict[str, Any],
    responses={200: {"content": {"text/csv": {}}}, **ERROR_RESPONSES},
)
def make_plan(
    request: Request,
    store: StoreDep,
    body: PlanRequest,
    format: FormatParam = None,
) -> Response:
    if body.area:
        lookup.area_info(store, body.area)
    planning = library_call("kg.planning")
    result = planning.plan(store, body.budget, body.area, method=body.method, reach=body.reach).to_dict()
    return report_response(request, result, format, name="plan")
