"""The server keeps its derived graph answering for today: when the day passes the graph's
stable-until date it re-derives it, by itself, as one write."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.testing import wait_for
from kg.derived import derive_all, marker
from kg.store import Store

from .conftest import Place, derived_quads

pytestmark = pytest.mark.timeout(300)


def _derive(place: Place, day: date) -> date:
    """Derive the place's store as of ``day``; returns the day its derived graph stops being right."""
    store = Store.open(place.store_path, create=False)
    try:
        derive_all(store, as_of=day, settings=place.settings)
        m = marker(store)
        assert m is not None and m.stable_until is not None, "the fixture must have a change ahead of 2020"
        return m.stable_until
    finally:
        store.close()


def _derived_as_of(store: Store, day: date) -> set[str]:
    """The derived graph a full derivation as of ``day`` makes from the store (on a copy)."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    copy = Store.memory()
    copy.inner.load(buf.getvalue(), format=ox.RdfFormat.N_QUADS)
    derive_all(copy, as_of=day)
    return derived_quads(copy)


def test_a_server_past_the_stable_until_date_re_derives_by_itself(place: Place) -> None:
    until = _derive(place, date(2020, 6, 30))
    settings = place.settings.model_copy(update={"as_of": until})  # the first day the graph is wrong
    with TestClient(create_app(settings)) as client:
        def derived_now() -> dict[str, Any]:
            found: dict[str, Any] = client.get("/api/stats").json()["summary"]["derived"]
            return found

        wait_for(lambda: derived_now()["as_of"] == until.isoformat(), 120, f"the derived graph to move to {until}")
        derived = derived_now()
        assert derived["current"] is True
        assert derived["stable_until"] is None or date.fromisoformat(derived["stable_until"]) > until
    store = Store.open(place.store_path, create=False)
    try:
        assert derived_quads(store) == _derived_as_of(store, until)  # exactly what `dcpa derive` makes
    finally:
        store.close()


def test_a_current_derived_graph_is_left_alone_and_a_given_store_never_written(place: Place) -> None:
    until = _derive(place, date(2020, 6, 30))
    day = until - timedelta(days=1)  # still covered
    settings = place.settings.model_copy(update={"as_of": day})
    with TestClient(create_app(settings)) as client:
        served = client.app.state.served  # type: ignore[attr-defined]
        assert served.keep_current() is False
        assert client.get("/api/stats").json()["summary"]["derived"] == {
            "as_of": "2020-06-30", "stable_until": until.isoformat(), "next_identified": None, "current": True,
            "write_under_way": False, "windows": "C1=24,C2=60,C3=36,C4=60", "other_windows": False}

    with TestClient(create_app(settings, Store.memory())) as client:
        assert client.app.state.served.keep_current() is False  # type: ignore[attr-defined]
        assert client.get("/api/stats").json()["summary"]["derived"] is None
