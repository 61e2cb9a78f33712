"""The admin channel: how ``dcpa import``, ``dcpa build`` and ``dcpa derive`` hand their work to a
running server instead of opening the store themselves (RocksDB allows one writer).

Only a server that opened its store itself (``dcpa serve``) has the channel. It answers only
requests from this machine (a loopback client, or one connecting from the server's own address)
that carry the token the server wrote, at start, to ``<store>.server.json`` (mode 0600; see
``kg.writer``). It is not part of the public API (not in the OpenAPI document).

    GET  /admin/ping      which server this is (the commands check the token and the instance)
    POST /admin/import    multipart ``files``, form ``user`` and ``dry_run``: ``dcpa import``
    POST /admin/build     JSON ``force``, ``example_villages``, ``seed``: ``dcpa build``; answers
                          NDJSON lines ``{"progress": [step, done, total]}`` then ``{"report": …}``
                          or ``{"error": …}``
    POST /admin/derive    ``dcpa derive``

Errors have the one JSON shape; the commands turn them back into the same messages and exit codes.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from kg.errors import DcpaError
from kg.importer import import_files, withdraw

from ..errors import error_body
from ..serving import ServedStore, collect_here

log = logging.getLogger(__name__)

router = APIRouter(prefix="/admin", include_in_schema=False)


def _is_local(request: Request) -> bool:
    """Whether the request comes from this machine: a loopback client address, or the server's own."""
    if request.client is None:
        return False
    try:
        client = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if client.is_loopback:
        return True
    server = request.scope.get("server")
    if not server:
        return False
    try:
        return client == ipaddress.ip_address(server[0])
    except ValueError:
        return False


def require_admin(request: Request) -> ServedStore:
    """The served store, if this request may use the admin channel."""
    served: ServedStore | None = getattr(request.app.state, "served", None)
    if served is None or served.admin_token is None:
        raise HTTPException(404, "这个服务器没有管理通道（它的存储不是自己打开的） / "
                                 "this server has no admin channel (it did not open its store itself)")
    if not _is_local(request):
        raise HTTPException(403, "管理通道只回答本机的请求 / the admin channel answers only requests from this machine")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), served.admin_token.encode()):
        raise HTTPException(401, "管理令牌无效 / the admin token is not valid", headers={"WWW-Authenticate": "Bearer"})
    return served


Admin = Annotated[ServedStore, Depends(require_admin)]


@router.get("/ping")
def ping(served: Admin) -> dict[str, Any]:
    return {"instance": served.instance, "pid": os.getpid(), "store": str(served.settings.store_path)}


@router.post("/import")
def admin_import(
    served: Admin,
    files: Annotated[list[UploadFile], File()],
    user: Annotated[str, Form()],
    dry_run: Annotated[bool, Form()] = False,
) -> JSONResponse:
    """``dcpa import``, run here: the same files (by their names), the same checks, the same report."""
    settings = served.settings
    with tempfile.TemporaryDirectory(prefix="dcpa-handoff-") as tmp:
        paths = []
        for i, f in enumerate(files):
            name = Path(f.filename or f"file-{i}").name or f"file-{i}"
            target = Path(tmp) / str(i) / name  # one directory per file: the names stay as the user gave them
            target.parent.mkdir()
            with target.open("wb") as out:  # sizes are checked by the importer, as when the command works alone
                shutil.copyfileobj(f.file, out, 1 << 20)
            paths.append(target)
        with served.writing() as store:
            try:
                report = import_files(store, paths, user=user, settings=settings, dry_run=dry_run)
            finally:
                collect_here()
    if not dry_run:
        served.changed()
    return JSONResponse({"report": report.to_dict()})


class WithdrawRequest(BaseModel):
    batch_id: str
    user: str
    reason: str = ""
    dry_run: bool = False


@router.post("/withdraw")
def admin_withdraw(served: Admin, body: WithdrawRequest) -> JSONResponse:
    """``dcpa withdraw``, run here: the same checks, the same report."""
    with served.writing() as store:
        try:
            report = withdraw(store, body.batch_id, user=body.user, reason=body.reason, settings=served.settings,
                              dry_run=body.dry_run)
        finally:
            collect_here()
    if not body.dry_run:
        served.changed()
    return JSONResponse({"report": report.to_dict()})


class BuildRequest(BaseModel):
    force: bool = False
    example_villages: int | None = None
    seed: int | None = None


@router.post("/build")
def admin_build(served: Admin, body: BuildRequest) -> StreamingResponse:
    """``dcpa build``, run here: a new version is built while this one serves reads, then switched to."""
    if served.building:
        raise served.busy_error()
    lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
    last: dict[str, Any] = {"at": 0.0, "step": ""}

    def progress(step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if step != last["step"] or done >= total or now - last["at"] > 0.2:  # per step, 5 a second at most
            last.update(at=now, step=step)
            lines.put({"progress": [step, done, total]})

    def run() -> None:
        try:
            report = served.build(progress=progress, **body.model_dump())
            lines.put({"report": report.to_dict()})
        except DcpaError as e:
            lines.put(e.to_dict())
        except Exception:  # noqa: BLE001 - reported to the command in the one error shape
            log.exception("the build failed")
            lines.put(error_body("internal_error", "构建意外失败 / the build failed unexpectedly",
                                 "请查看服务器日志 / see the server log"))
        finally:
            lines.put(None)

    threading.Thread(target=run, name="dcpa-build", daemon=True).start()

    def stream() -> Iterator[bytes]:
        while (item := lines.get()) is not None:
            yield (json.dumps(item, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(stream(), media_type="application/x-ndjson")


class DeriveRequest(BaseModel):
    as_of: date | None = None


@router.post("/derive")
def admin_derive(served: Admin, body: DeriveRequest | None = None) -> dict[str, Any]:
    """``dcpa derive [--as-of DATE]``, run here as one write."""
    started = time.perf_counter()
    n, m = served.derive(body.as_of if body else None)
    return {"needs": n, "seconds": time.perf_counter() - started,
            "as_of": m.as_of.isoformat() if m else None,
            "stable_until": m.stable_until.isoformat() if m and m.stable_until else None}
