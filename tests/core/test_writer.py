"""The writer lock: one writing process per store; it says who holds it; it dies with its holder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg.build import build
from kg.errors import StoreBusy
from kg.writer import WriterLock, lock_path

from .conftest import Place, writer_lock_held

pytestmark = pytest.mark.timeout(120)


def test_two_builds_never_run_at_once(tmp_path: Path, quick: None) -> None:
    place = Place(tmp_path)
    with writer_lock_held(place.store_path) as pid:
        with pytest.raises(StoreBusy, match=f"dcpa build \\(pid {pid}\\)"):
            build(place.settings)
        assert not place.store_path.exists() and place.versions() == []
    build(place.settings)  # the lock is free again
    assert lock_path(place.store_path).exists() and place.store_path.is_symlink()


def test_a_forked_child_does_not_keep_the_lock_of_its_dead_parent(tmp_path: Path) -> None:
    """A server's forked worker outliving a ``kill -9`` of the server must not block every later writer."""
    store_path, go, forked = tmp_path / "store", tmp_path / "go", tmp_path / "forked"
    parent = subprocess.Popen(
        [sys.executable, "-c",
         "import os, pathlib, signal, sys, time\n"
         "from kg.writer import WriterLock\n"
         f"assert WriterLock({str(store_path)!r}, 'serve').try_acquire()\n"
         "child = os.fork()\n"
         "if child == 0:\n"
         f"    pathlib.Path({str(forked)!r}).touch()  # its at-fork handlers have run\n"
         f"    while not pathlib.Path({str(go)!r}).exists(): time.sleep(0.05)\n"
         "    os._exit(0)\n"
         "print(child, flush=True)\n"
         "sys.stdin.read()\n"
         "os.kill(os.getpid(), signal.SIGKILL)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert parent.stdout is not None and parent.stdin is not None
    child = int(parent.stdout.readline())
    try:
        # a parent killed before its child was first scheduled would leave the child holding the lock until
        # then (a few milliseconds; it failed once on a busy machine): wait for the child to be running
        deadline = time.monotonic() + 30
        while not forked.exists():
            assert time.monotonic() < deadline, "the forked child never ran"
            time.sleep(0.01)
        assert not WriterLock(store_path, "import").try_acquire()  # held by the parent
        parent.stdin.close()
        assert parent.wait(timeout=30) < 0  # killed
        lock = WriterLock(store_path, "import")
        assert lock.try_acquire()  # free, although the child still runs:
        os.kill(child, 0)
        lock.release()
    finally:
        go.touch()
