"""Dependencies shared by the routes: settings and the store.

Tests override ``get_app_settings`` / pass a store to ``create_app``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kg.settings import Settings
from kg.store import Store
from kg.workers import QueryRunner


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def query_runner(request: Request) -> QueryRunner:
    """Where read-only work runs under a deadline: ``await query_runner(request).call("mod:fn", …)``."""
    runner: QueryRunner = request.app.state.query_runner
    return runner


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
