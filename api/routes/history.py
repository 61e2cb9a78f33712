"""The import history and withdrawals: ``GET /api/imports`` lists every write, newest first (who, when,
what, whether withdrawn; ``kg.importer.history``); ``POST /api/imports/{batch_id}/withdraw`` takes a
batch back out of the graph and keeps it on record (``kg.importer.withdraw``: all or nothing, refused
while records of other batches refer to it). The withdrawal needs the bearer token, like every write.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from kg.importer import history, withdraw
from kg.importer.withdraw import MAX_REASON_CHARS

from ..auth import WriterDep
from ..deps import SettingsDep
from ..representation import json_response
from ..serving import ServedStore, collect_here
from ._common import ERROR_RESPONSES, ErrorResponse

router = APIRouter(prefix="/api/imports", tags=["writes / 写入"])


class HistoryItem(BaseModel):
    """One write: an import of files or records, or a replacement."""

    batch_id: str = Field(examples=["20261126T150102Z-ab12cd"])
    user: str = Field(examples=["张三"])
    time: str = Field(examples=["2026-11-26T15:01:02Z"])
    source: str = Field(description="files (an import of files), records (the JSON API) or replace (a PUT)")
    state: str = Field(description="done, pending, withdrawing or withdrawn")
    files: list[str]
    counts: dict[str, int] = Field(description="Records per kind")
    triples: int
    record: str = Field(description="The record a replacement changed (IRI); empty for imports")
    withdrawn_by: str
    withdrawn_at: str
    withdrawal_reason: str
    blocked: str = Field(default="", description="Why a replacement cannot be withdrawn yet; empty when it can")
    can_withdraw: bool


class WithdrawBody(BaseModel):
    reason: str = Field(default="", max_length=MAX_REASON_CHARS, description="Why (kept with the withdrawal)",
                        examples=["wrong county's file"])


@router.get("", summary="Import history / 导入历史", response_model=list[HistoryItem])
def list_imports(
    settings: SettingsDep,
    limit: Annotated[int | None, Query(ge=1, le=10_000, description="Only the newest N writes")] = None,
) -> Response:
    return json_response([e.to_dict() for e in history(settings.imports_path, limit=limit)])


@router.post(
    "/{batch_id}/withdraw",
    summary="Withdraw an import / 撤回导入",
    description="Take an import batch back out of the graph, all or nothing; the batch, its files and the "
    "withdrawal (who, when, why) stay on record. 404 for an unknown batch; 409 when it was withdrawn "
    "already, or is a replacement whose record's earlier batch is not withdrawn (or that replaced example or "
    "reference data); 422 when records of other batches refer to it (listed).",
    responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}, 409: {"model": ErrorResponse},
               **ERROR_RESPONSES},
)
def withdraw_import(
    request: Request,
    settings: SettingsDep,
    user: WriterDep,
    batch_id: Annotated[str, PathParam(max_length=100, pattern=r"^[\w.\-]+$")],
    body: Annotated[WithdrawBody | None, Body()] = None,
    dry_run: Annotated[bool, Query(description="Check only: change nothing.")] = False,
) -> Response:
    served: ServedStore = request.app.state.served
    with served.writing() as store:
        try:
            report = withdraw(store, batch_id, user=user, reason=body.reason if body else "", settings=settings,
                              dry_run=dry_run)
        finally:
            collect_here()
    if not dry_run:
        served.changed()
    result: dict[str, Any] = report.to_dict()
    return json_response({"user": user, "dry_run": dry_run, "report": result})
