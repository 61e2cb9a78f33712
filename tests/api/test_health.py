"""/health as a monitor probes it: answered at once, even while the store's quads are being counted."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

import api.routes.health as health_route
from api.app import create_app
from api.testing import LiveServer, wait_for
from kg.store import Store

from .conftest import load_fixture, make_settings


def test_a_probe_is_answered_while_the_count_goes_on_without_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Counting took 7 s at national scale, longer than a monitor waits (Kubernetes: 1 s), and a probe given up on
    stopped the count it began: such a server never answered a probe. A probe now waits for the count a moment at
    most (``COUNT_WAIT``), says ``quads: null`` meanwhile, and the count goes on, once for every probe."""
    gate, calls = threading.Event(), []

    def slow_count(store: Any) -> int:
        calls.append(1)
        gate.wait(60)
        return int(store.count())

    monkeypatch.setattr(health_route, "quads", slow_count)
    store = load_fixture(Store.memory())
    live = LiveServer(create_app(make_settings(tmp_path), store))
    try:
        url = live.url + "/health"
        with pytest.raises(httpx.TimeoutException):
            httpx.get(url, timeout=0.2)  # a monitor that gives up first
        wait_for(lambda: calls == [1], 30, "the count to begin")
        r = httpx.get(url, timeout=10)
        assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["quads"] is None
        gate.set()
        wait_for(lambda: httpx.get(url, timeout=10).json()["quads"] is not None, 30, "the count to end")
        assert httpx.get(url, timeout=10).json()["quads"] == store.count()
        assert calls == [1]  # one count, begun by the probe that went away
    finally:
        gate.set()
        live.stop()
        store.close()
