"""What one client may take of the query workers (``kg.workers.ClientSlots``): calls at once, and worker time a
minute; with a clock the test moves, so nothing here waits for time to pass."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest

from kg.errors import QueryTimeUsed, TooManyQueries
from kg.workers import ClientSlots


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_past_its_limit_is_refused_until_one_of_its_calls_ends() -> None:
    clock = Clock()
    slots = ClientSlots(2, clock=clock)
    with slots.hold("a", 10), slots.hold("a", 10):
        clock.now += 3
        with pytest.raises(TooManyQueries) as refused, slots.hold("a", 10):
            pass
        assert refused.value.retry_after == 7  # the earliest of its calls ends by its deadline, 7 s from now
        assert refused.value.http_status == 429 and refused.value.code == "too_many_queries"
        with slots.hold("b", 10):  # another client is not held back
            assert slots.running("b") == 1
        assert slots.running("a") == 2
    assert slots.running("a") == 0


def test_a_call_that_fails_or_is_cancelled_gives_its_slot_back() -> None:
    slots = ClientSlots(1)
    with pytest.raises(ValueError), slots.hold("a", 10):
        raise ValueError("the query failed")
    assert slots.running("a") == 0

    async def cancelled() -> None:
        entered = asyncio.Event()

        async def call() -> None:
            with slots.hold("a", 10):
                entered.set()
                await asyncio.Event().wait()  # a query that would run on: its client goes away

        task = asyncio.ensure_future(call())
        await entered.wait()
        assert slots.running("a") == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    # in a thread of its own: a browser test's Playwright, still open in this worker, runs its loop in this one
    with concurrent.futures.ThreadPoolExecutor(1) as own:
        own.submit(asyncio.run, cancelled()).result(timeout=30)
    assert slots.running("a") == 0


def test_a_client_past_its_time_is_refused_until_the_time_has_come_back() -> None:
    clock = Clock()
    slots = ClientSlots(None, 60, clock=clock)  # 60 s a minute on average, 120 at once
    for _ in range(3):  # one call after another, one worker's time: as much comes back as is used
        with slots.hold("a", 60):
            clock.now += 50
    assert slots.used("a") == pytest.approx(50)
    with slots.hold("a", 60), slots.hold("a", 60):
        clock.now += 100  # two calls of 100 s at once: the 50 owed has come back, 200 used, 80 past 120
    assert slots.used("a") == pytest.approx(200)
    with pytest.raises(QueryTimeUsed) as refused, slots.hold("a", 60):
        pass
    assert refused.value.retry_after == 80 and refused.value.code == "query_time_used"
    assert refused.value.http_status == 429 and slots.running("a") == 0
    assert refused.value.message.startswith("这个客户端用完了它的查询时间") and "DCPA_CLIENT_QUERY_SECONDS" in str(
        refused.value.hint)
    with slots.hold("b", 60):  # another client has its own time
        pass
    clock.now += refused.value.retry_after  # waiting as Retry-After says is enough
    with slots.hold("a", 60):
        pass
    clock.now += 120  # all of it comes back
    assert slots.used("a") == 0


def test_the_service_s_own_work_and_no_limits_count_nothing() -> None:
    slots = ClientSlots(1, 60)
    with slots.hold(None, 10), slots.hold(None, 10):
        pass
    unlimited = ClientSlots(None, None)
    with unlimited.hold("a", 10), unlimited.hold("a", 10):
        assert unlimited.running("a") == 0
