"""One JSON error shape for every error the API returns.

{"error": {"code": "...", "message": "...", "hint": "...", "details": ...}}
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kg.errors import DcpaError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, hint: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "hint": hint, "details": details}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DcpaError)
    async def _dcpa(_: Request, exc: DcpaError) -> JSONResponse:
        retry = getattr(exc, "retry_after", None)  # StoreBusy: a rebuild is running
        headers = {"Retry-After": str(retry)} if retry else None
        return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "not_found",
            405: "method_not_allowed",
            401: "unauthorized",
            403: "forbidden",
            408: "request_timeout",
            413: "request_too_large",
        }.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": list(e.get("loc", ())), "message": e.get("msg"), "type": e.get("type")} for e in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_request", "the request is not valid", "see details for each field", details),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not a user error: log the traceback, answer in the same shape without internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "an unexpected error occurred", "see the server log; please report it"),
            status_code=500,
        )
