"""``/api/stats``: the counts a reader wants first (``kg.stats``, the same as ``dcpa stats``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg.stats import stats

from ..deps import AnswersDep, SettingsDep, StoreDep
from ..kept import Kept
from ..representation import json_response

router = APIRouter(prefix="/api/stats", tags=["statistics / 统计"])


class StatsModel(BaseModel):
    summary: dict[str, Any] = Field(examples=[{"triples": 2500000, "instance_triples": 2100000,
                                              "synthetic_triples": 1800000, "real_triples": 300000,
                                              "derived_triples": 400000, "synthetic_share": 0.8571,
                                              "derived": {"as_of": "2026-12-01", "stable_until": "2027-03-01",
                                                          "current": True, "write_under_way": False,
                                                          "windows": "C1=24,C2=60,C3=36,C4=60",
                                                          "other_windows": False},
                                              "software": "dcpa 0.1.0", "build": "ad757e82…", "last_write": None}],
                                   description="Totals; ``derived`` says which day the derived graph (need "
                                   "states, reasons, summaries) answers for and until when it stays right; "
                                   "``software``, "
                                   "``build`` (the fingerprint of its inputs) and ``last_write`` (the last import or "
                                   "withdrawal), what a dump of the store is cited by")
    counts: dict[str, dict[str, int]] = Field(
        description="Headline counts, each split into real and example data",
        examples=[{"villages": {"real": 16727, "example": 0}, "needs": {"real": 0, "example": 3612},
                   "registered_poor_villages": {"real": 0, "example": 156}}])
    graphs: list[dict[str, Any]] = Field(
        examples=[[{"graph": "https://w3id.org/dcpa/graph/reference", "kind": "reference", "triples": 250000}]]
    )
    classes: list[dict[str, Any]] = Field(
        description="Instances per class: real, example (synthetic) and derived (computed by the rule)")


#: The statistics read every graph and class of the store (6.6 s at national scale): kept until the next write.
_KEPT = Kept(1)


@router.get("", summary="Statistics / 统计", response_model=StatsModel)
async def get_stats(answers: AnswersDep, settings: SettingsDep, store: StoreDep) -> Response:
    async def compute() -> dict[str, Any]:
        return (await answers(stats, settings)).to_dict()

    return json_response(await _KEPT.get(store, answers.runner, "stats", compute))
