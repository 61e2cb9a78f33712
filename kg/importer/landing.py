"""Landing a write: the data, the derived graph and the retained sources go together or not at all.

Imports and replacements write differently (a new graph; a replaced record), but land the same way,
through the journal of ``kg.importer.journal`` so that even ``kill -9`` at any moment leaves a write
that the next writer finishes or undoes:

1. keep the sources under ``settings.imports_path``, their manifest entry marked pending;
2. write the data together with a marker naming the touched areas and needs (one transaction, or
   the marker first; a failed write is settled by recovery, which finds it in the store or not);
3. refresh the derived graph for them, drop the marker;
4. mark the manifest entry done.

If a step raises, the steps before it are undone (the write, the derived graph, the kept files) and
the error is reported; a failure to keep the sources becomes a ``StoreError`` saying that nothing
was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import faults
from ..contract import StoreAPI
from ..errors import StoreError
from ..settings import Settings
from .journal import Marker, finish, recover, refresh_derived
from .retain import discard, retain, settle

log = logging.getLogger(__name__)


def land(
    store: StoreAPI,
    settings: Settings,
    *,
    entry: dict[str, Any],
    files: list[tuple[str, bytes | Path]],
    write: Callable[[Marker], object],
    undo: Callable[[Marker], object],
    touched: tuple[set[str], set[str]],
    graphs: set[str],
    added: bool = False,
    interventions: set[str] | None = None,
    what: tuple[str, str],
    outcome: tuple[str, str],
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Keep ``files`` under ``entry`` (pending), run ``write(marker)`` — which writes the data and
    ``marker``, in one transaction or the marker first (``write_marked``) —, refresh the derived graph
    for ``touched`` (area codes, need IRIs) and ``graphs`` (the named graphs the write adds or changes),
    drop the marker, mark the entry done. ``added``: the write only adds the needs of ``touched`` (and
    records the rule does not read), so that the refresh computes them alone (``kg.derived.refresh``);
    ``interventions``: the write changes nothing the rule reads but these interventions and their evaluations.

    ``undo(marker)`` must remove the data and the marker in one transaction. ``what`` and
    ``outcome``, each (Chinese, English), word the error when the sources cannot be kept: "could not keep {what}
    under {imports path}: {error}; {outcome}". ``progress(step, done, total)`` hears of the two long steps,
    "write" and "refresh" (a 100,000-row import at national scale spends minutes in them).
    """

    def step(name: str, done: int) -> None:
        if progress is not None:
            progress(name, done, 1)

    # What an interrupted write left, before this one adds to it (0.13 s with 2,000 kept batches on a
    # busy 2-core machine: small next to a write's checks).
    recover(store, settings)
    root = Path(settings.imports_path)
    bid = entry["batch_id"]
    marker = Marker(bid, *touched, graphs=graphs, added=added, interventions=interventions)
    try:
        retain(root, entry, files)
    except OSError as e:
        raise StoreError(
            f"无法把{what[0]}保存到 {settings.imports_path}，{outcome[0]} / "
            f"could not keep {what[1]} under {settings.imports_path}: {e}; {outcome[1]}",
            hint="请检查 DCPA_IMPORTS_PATH 是否可写 / check that DCPA_IMPORTS_PATH is writable",
        ) from e
    faults.point("write:retained")
    step("write", 0)
    try:
        write(marker)
    except Exception:
        if not landed_anyway(store, settings, bid):
            raise
        return  # recovery found it in the store and finished it (derived graph, entry)
    except BaseException:
        _forget(root, bid)
        raise
    faults.point("write:landed")
    step("write", 1)
    step("refresh", 0)
    try:
        finish(store, marker, settings)
    except BaseException:
        roll_back(store, settings, marker, undo, lambda: _forget(root, bid))
        raise
    step("refresh", 1)
    faults.point("write:unmarked")
    settle(root, bid)
    faults.point("write:settled")


def landed_anyway(store: StoreAPI, settings: Settings, batch_id: str) -> bool:
    """After a write request failed: whether it landed all the same, finished by recovery.

    Why not take the error's word: a store that commits each operation of a request on its own (Virtuoso)
    may hold its first operations when a later one fails, and an answer lost on the way says nothing. The
    journal's recovery reads the store: it finishes a write whose data is there (True) and undoes one whose
    data is not (False: on a store that runs a request as one transaction, always). When even that fails,
    the entry stays pending for the next writer's recovery.
    """
    try:
        done = recover(store, settings)
    except Exception:  # noqa: BLE001 - the write's error is the one to report
        log.exception("could not settle batch %s after its write failed; the next write settles it", batch_id)
        return False
    if batch_id in done.rolled_forward:
        log.warning("the write of batch %s reported an error but landed; it was completed", batch_id)
        return True
    return False


def _forget(root: Path, batch_id: str) -> None:
    """Remove the kept files of a write that did not land (best effort: recovery removes them later)."""
    try:
        discard(root, batch_id)
    except Exception:  # noqa: BLE001 - the write's error is the one to report
        log.exception("could not remove the kept files of batch %s; the next write removes them", batch_id)


def roll_back(store: StoreAPI, settings: Settings, marker: Marker, undo: Callable[[Marker], object],
              forget: Callable[[], object]) -> None:
    """Undo a landed write whose derived refresh failed: ``undo(marker)`` (the data and the marker, one
    transaction), then ``forget()`` (its trace in the manifest), then the derived graph again.

    If the undo itself fails the write stays pending, and the next writer's recovery completes it.
    """
    try:
        undo(marker)
    except Exception:  # noqa: BLE001 - the first error is the one to report
        log.exception("could not undo batch %s; the next writer will complete it", marker.batch_id)
        return
    forget()
    try:
        # the failed one may be half written
        refresh_derived(store, marker.areas, marker.needs, settings, graphs=marker.graphs, repair=True)
    except Exception:  # noqa: BLE001 - logged, the caller re-raises the first error
        log.exception("could not refresh the derived graph after undoing a write; run `dcpa derive`")
