"""``kg.gcpause``: the collector is held off while any pause lasts, and comes back as it was."""

from __future__ import annotations

import gc
import threading

import pytest

from kg import gcpause


@pytest.fixture(autouse=True)
def _collector_on() -> object:
    gc.enable()
    yield
    gc.enable()


def test_nested_pauses_restore_the_collector_when_the_last_ends() -> None:
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_failure_inside_a_pause_still_ends_it() -> None:
    with pytest.raises(RuntimeError), gcpause.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    with gcpause.paused():
        pass
    assert not gc.isenabled()


def test_overlapping_pauses_in_two_threads() -> None:
    """A's pause ends while B's lasts: the collector stays off until B's ends too."""
    a_in, a_may_end, a_done = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with gcpause.paused():
            a_in.set()
            a_may_end.wait(10)
        a_done.set()

    t = threading.Thread(target=a)
    t.start()
    assert a_in.wait(10)
    with gcpause.paused():
        a_may_end.set()
        assert a_done.wait(10)
        assert not gc.isenabled()
    t.join(10)
    assert gc.isenabled()
