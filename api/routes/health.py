"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from kg import __version__

from ..deps import StoreDep

router = APIRouter(tags=["health"])


@router.get("/health", summary="Service health / 服务状态")
def health(store: StoreDep) -> dict[str, Any]:
    """Say the service is up and how many quads the store holds."""
    return {"status": "ok", "version": __version__, "quads": store.count()}
