"""Dependencies shared by the routes: settings and the store.

Tests override ``get_app_settings`` / pass a store to ``create_app``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from kg.contract import StoreAPI
from kg.errors import QueryTimeout
from kg.search import Found, search
from kg.settings import Settings
from kg.workers import ClientSlots, QueryRunner, target_of

P = ParamSpec("P")
T = TypeVar("T")


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_of(request: Request) -> str:
    """Who sent the request, as the per-client limits count it (``kg.workers.ClientSlots``): its peer's address, or
    the address a trusted proxy names (``DCPA_TRUSTED_PROXIES``: uvicorn reads X-Forwarded-For for those alone,
    ``api.server.server_options``). The port is not part of it: a client opens as many connections as it likes.
    Nor are the last 64 bits of an IPv6 address: one home or one machine is given a whole /64, and counted by
    address it had 2^64 clients' shares to take every worker with."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:  # not an address (a test client's name): itself
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:10.1.1.1: an IPv4 client of a dual-stack socket
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


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

    An answer takes a worker as a SPARQL query does, for longer (``answer_timeout``), so it counts against its
    client's limit of calls at once (``slots``, ``client``) as a query does: answers and queries share the
    workers, and a client looping over ``/api/gaps`` took them as surely as one sending SPARQL.
    """

    def __init__(self, runner: QueryRunner, timeout: float, slots: ClientSlots | None = None,
                 client: str | None = None) -> None:
        self.runner = runner
        self.timeout = timeout
        self.slots = slots or ClientSlots(None)
        self.client = client

    @classmethod
    def of(cls, state: Any, client: str | None = None) -> Answers:
        """The app's answers (``request.app.state`` or ``app.state``), for ``client`` (None: the service's own)."""
        return cls(state.query_runner, state.settings.answer_timeout, state.client_slots, client)

    async def __call__(self, fn: Callable[Concatenate[Any, P], T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            with self.slots.hold(self.client, self.timeout):
                result: T = await self.runner.call("kg.workers:invoke", target_of(fn), args, kwargs,
                                                   timeout=self.timeout)
        except QueryTimeout as e:  # the runner's hint speaks of SPARQL patterns; an answer is scoped instead
            e.hint = (
                f"请缩小地区范围或减少条目，或稍后再试（DCPA_ANSWER_TIMEOUT 为 {self.timeout:g} 秒） / "
                "ask for a smaller area or fewer items, or try again later "
                f"(DCPA_ANSWER_TIMEOUT is {self.timeout:g} s)"
            )
            raise
        return result


class Search:
    """Area search (``kg.search.search``) run in this process, on the served store, in a thread.

    The index is what costs: at national scale (139,525 areas) 1.9 s to load and 260 MB, then 0.1-20 ms a
    search. In query workers each one kept its own copy, and a worker whose task runs past ``SLOW_AFTER``
    (the load itself) is replaced after it: every search loaded the index again (1.9-2.3 s each, served).
    Here it is loaded once per store version (``kg.search.index_of``). A search reads only the index, so
    it needs no worker to be stopped by: its work is bounded by the page asked for.
    """

    def __init__(self, store: StoreAPI) -> None:
        self.store = store

    async def __call__(self, q: str, **kwargs: Any) -> Found:
        return await run_in_threadpool(search, self.store, q, **kwargs)


def get_search(request: Request) -> Search:
    return Search(request.app.state.store)


def get_answers(request: Request) -> Answers:
    return Answers.of(request.app.state, client_of(request))


def get_store(request: Request) -> StoreAPI:
    store: StoreAPI = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
StoreDep = Annotated[StoreAPI, Depends(get_store)]
AnswersDep = Annotated[Answers, Depends(get_answers)]
SearchDep = Annotated[Search, Depends(get_search)]
