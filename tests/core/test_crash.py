"""Kill -9 at every step of a write or a build, then check what the next writer finds.

Each case runs the real command in a subprocess with ``DCPA_FAULT`` naming a fault point
(``kg.faults``): the process SIGKILLs itself there. Then the next writer opens the store, and the
store must be whole: the batch wholly in (and the derived graph as a full derivation makes it) or
wholly out (and running the write again succeeds); a build leaves the old store or the new one,
never neither, and the next build removes what the killed one left.
"""

from __future__ import annotations

import signal

import httpx
import pytest

from api.testing import ServeProcess, counted_quads
from kg.errors import ValidationFailed
from kg.importer import import_files
from kg.importer.journal import markers
from kg.importer.retain import is_pending, orphans, read_manifest
from kg.store import Store

from .conftest import AUTH, NEED_N1, NEED_ROW, Place, derived_quads, fresh_derivation, import_batches, whole

pytestmark = pytest.mark.timeout(300)

KILLED = -signal.SIGKILL

#: fault point → what the killed import left: (manifest entry, batch in the store, marker in the store)
IMPORT_STEPS = {
    "retain:moved": (None, False, False),
    "write:retained": ("pending", False, False),
    "write:marked": ("pending", False, True),
    "write:landed": ("pending", True, True),
    "write:refreshed": ("pending", True, True),
    "write:unmarked": ("pending", True, False),
    "write:settled": ("done", True, False),
}


@pytest.mark.parametrize("point", IMPORT_STEPS)
def test_an_import_killed_at_any_step_is_wholly_in_or_wholly_out(place: Place, point: str) -> None:
    needs = place.csv("needs.csv", [NEED_ROW])
    run = place.dcpa("import", str(needs), fault=point)
    assert run.returncode == KILLED, run.stderr

    # What the kill left: the write was cut in the middle.
    entry, landed, marked = IMPORT_STEPS[point]
    entries = read_manifest(place.imports)["batches"]
    if entry is None:
        assert entries == [] and len(orphans(place.imports)) == 1  # the files, not yet in the manifest
    else:
        assert len(entries) == 1 and is_pending(entries[0]) == (entry == "pending")
    left = Store.open(place.store_path, read_only=True, create=False)
    try:
        assert bool(import_batches(left)) == landed
        assert bool(markers(left)) == marked
        if point == "write:landed":  # the derived graph is stale until the refresh is redone
            assert derived_quads(left) != fresh_derivation(left)
    finally:
        left.close()
    killed = [e["batch_id"] for e in entries]

    # The next writer recovers: the batch is wholly in, or wholly out.
    batches, recovery = whole(place)
    assert batches == (killed if landed else [])
    assert bool(recovery) == (point != "write:settled")

    # Running the import again: refused as a duplicate when it is in, accepted when it is out.
    store = Store.open(place.store_path, create=False)
    try:
        if landed:
            with pytest.raises(ValidationFailed, match="problem"):
                import_files(store, [needs], user="张三", settings=place.settings)
        else:
            import_files(store, [needs], user="张三", settings=place.settings)
    finally:
        store.close()
    batches, _ = whole(place, recovering=False)
    assert len(batches) == 1


#: fault point → whether the withdrawal landed
WITHDRAW_STEPS = {"withdraw:marked": False, "withdraw:recorded": True, "withdraw:landed": True,
                  "write:refreshed": True, "withdraw:unmarked": True, "withdraw:settled": True}


@pytest.mark.parametrize("point", WITHDRAW_STEPS)
def test_a_withdrawal_killed_at_any_step_is_wholly_done_or_not_at_all(place: Place, point: str) -> None:
    run = place.dcpa("import", str(place.csv("needs.csv", [NEED_ROW])))
    assert run.returncode == 0, run.stderr
    [batch] = [e["batch_id"] for e in read_manifest(place.imports)["batches"]]

    run = place.dcpa("withdraw", batch, "--reason", "wrong file", fault=point)
    assert run.returncode == KILLED, run.stderr

    # The next writer recovers: the batch wholly out (its withdrawal on record), or wholly in.
    landed = WITHDRAW_STEPS[point]
    batches, recovery = whole(place)
    assert batches == ([] if landed else [batch])
    assert bool(recovery) == (point != "withdraw:settled")

    # Withdrawing again: refused as done when it landed, done now when it did not.
    run = place.dcpa("withdraw", batch)
    assert run.returncode == (2 if landed else 0), run.stderr
    assert ("already withdrawn" in run.stderr) == landed
    batches, _ = whole(place, recovering=False)
    assert batches == []


#: fault point → whether the replacement landed
PUT_STEPS = {"write:retained": False, "write:landed": True, "write:unmarked": True}


@pytest.mark.parametrize("point", PUT_STEPS)
def test_a_served_replacement_killed_at_any_step_is_settled_when_the_server_restarts(place: Place, point: str) -> None:
    server = ServeProcess(place.env(DCPA_FAULT=point), cwd=str(place.root))
    with pytest.raises(httpx.TransportError):
        httpx.put(server.url + "/api/needs/N-1", json=NEED_N1, headers=AUTH, timeout=120)
    assert server.wait_killed() == KILLED

    server = ServeProcess(place.env(), cwd=str(place.root))  # the restart recovers before it serves
    try:
        [need] = [n for n in httpx.get(server.url + "/api/villages/210123203200").json()["needs"]
                  if n["id"] == "N-1"]
        assert need["severity"] == (2 if PUT_STEPS[point] else 4)
    finally:
        server.stop()
    assert not server.registration.exists()  # a clean stop: the server unregistered
    batches, recovery = whole(place)
    assert not recovery  # the server did it at start
    assert len(batches) == (1 if PUT_STEPS[point] else 0)


#: fault point → whether the store points at the new version after the kill
BUILD_STEPS = {"build:loaded": False, "build:completed": False, "build:switched": True}


@pytest.mark.parametrize("point", BUILD_STEPS)
def test_a_build_killed_at_any_step_leaves_a_sound_store_and_the_next_build_cleans_up(built: Place, point: str) -> None:
    before, old = built.versions(), built.current()
    run = built.dcpa("build", "--force", "-q", fault=point)
    assert run.returncode == KILLED, run.stderr
    assert len(built.versions()) == 2  # the old version and the new (complete or not)
    assert (built.current() != old) == BUILD_STEPS[point]
    stats = built.dcpa("stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr  # whichever it points at, the store opens and reads

    run = built.dcpa("build")
    assert run.returncode == 0, run.stderr
    assert "up to date" in run.stderr  # same inputs: nothing to build, but the leftovers go
    assert built.versions() == [built.current()]
    assert (built.current() == old) == (not BUILD_STEPS[point])
    assert (built.versions() == before) == (not BUILD_STEPS[point])


def test_a_writer_killed_while_it_moves_an_old_layout_store_is_finished_by_the_next_writer(place: Place) -> None:
    assert place.store_path.is_dir() and not place.store_path.is_symlink()  # the old layout: one directory
    needs = place.csv("needs.csv", [NEED_ROW])
    run = place.dcpa("import", str(needs), fault="migrate:moved")
    assert run.returncode == KILLED, run.stderr
    assert not place.store_path.exists()  # the directory moved into the versions, the pointer not yet made
    assert "no store" in place.dcpa("stats").stderr  # readers do not repair; they say what is wrong

    run = place.dcpa("import", str(needs))  # the next writer points at the moved store, then imports
    assert run.returncode == 0, run.stderr
    assert "newest complete version" in run.stderr
    assert place.store_path.is_symlink() and place.versions() == [place.current()]
    batches, _ = whole(place)
    assert len(batches) == 1


def test_a_server_killed_while_it_builds_serves_the_old_store_after_a_restart(built: Place) -> None:
    old = built.current()
    server = ServeProcess(built.env(DCPA_FAULT="build:loaded"), cwd=str(built.root))
    quads = counted_quads(server.url)
    run = built.dcpa("build", "--force", "-q")  # handed to the server, which dies half-way
    assert run.returncode == 2 and "stopped answering" in run.stderr, run.stderr
    assert server.wait_killed() == KILLED
    assert len(built.versions()) == 2

    server = ServeProcess(built.env(), cwd=str(built.root))
    try:
        assert counted_quads(server.url) == quads
        assert built.current() == old and built.versions() == [old]  # the half-built version is gone
    finally:
        server.stop()
    assert not server.registration.exists()  # a clean stop: the server unregistered
