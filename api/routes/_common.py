"""Pieces shared by the API routes: documented error responses, optional library modules."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from pydantic import BaseModel, Field

from kg.errors import DcpaError


class ErrorBody(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["no area with code 210102001999"])
    hint: str | None = Field(default=None, examples=["search villages with /api/villages?q=…"])
    details: Any = None


class ErrorResponse(BaseModel):
    """The one JSON error shape of the whole API."""

    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "Not found"},
    422: {"model": ErrorResponse, "description": "Invalid request or data"},
    503: {"model": ErrorResponse, "description": "Time limit reached or store unavailable"},
}


class NotAvailable(DcpaError):
    code = "not_available"
    http_status = 501


def library_call(module: str) -> ModuleType:
    """Import a ``kg`` module the route needs, as a clean 501 error when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise NotAvailable(
            f"this server has no {module} yet: {e}", hint="install a complete version of the dcpa package"
        ) from e
