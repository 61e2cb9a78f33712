"""Dependencies shared by the routes: settings and the store.

Tests override ``get_app_settings`` / pass a store to ``create_app``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request

from kg.contract import StoreAPI
from kg.errors import QueryTimeout
from kg.settings import Settings
from kg.workers import QueryRunner, target_of

P = ParamSpec("P")
T = TypeVar("T")


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def query_runner(request: Request) -> QueryRunner:
    """Where read-only work runs under a deadline: ``await query_runner(request).call("mod:fn", …)``."""
    runner: QueryRunner = request.app.state.query_runner
    return runner


class Answers:
    """Computes a library answer for this request where its deadline can stop it.

    ``await answers(fn, *args, **kwargs)`` runs ``fn(store, *args, **kwargs)`` in a query worker
    (kg.workers) under ``settings.answer_timeout``: past it the worker is killed (its work and its
    memory end with it) and the request gets 503. ``fn`` must be a module-level function of the
    library, and its arguments and result picklable.
    """

    def __init__(self, runner: QueryRunner, timeout: float) -> None:
        self.runner = runner
        self.timeout = timeout

    @classmethod
    def of(cls, state: Any) -> Answers:
        """The app's answers (``request.app.state`` or ``app.state``)."""
        return cls(state.query_runner, state.settings.answer_timeout)

    async def __call__(self, fn: Callable[Concatenate[Any, P], T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result: T = await self.runner.call("kg.workers:invoke", target_of(fn), args, kwargs, timeout=self.timeout)
        except QueryTimeout as e:  # the runner's hint speaks of SPARQL patterns; an answer is scoped instead
            e.hint = (
                "ask for a smaller area or fewer items, or try again later "
                f"(DCPA_ANSWER_TIMEOUT is {self.timeout:g} s)"
            )
            raise
        return result


def get_answers(request: Request) -> Answers:
    return Answers.of(request.app.state)


def get_store(request: Request) -> StoreAPI:
    store: StoreAPI = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[StoreAPI, Depends(get_store)]
AnswersDep = Annotated[Answers, Depends(get_answers)]
