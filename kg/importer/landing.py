"""Landing a write: the data, the derived graph and the retained sources go together or not at all.

Imports and replacements write differently (a new graph; a replaced record), but land the same way:
write, bring the derived graph up to date for the areas the change touches, keep the sources under
``settings.imports_path``. If a later step fails, the write is undone, the derived graph recounted,
and a failure to keep the sources becomes a ``StoreError`` saying that nothing was written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..derived import refresh as refresh_derived
from ..errors import StoreError
from ..settings import Settings
from ..store import Store

log = logging.getLogger(__name__)


def land(
    store: Store,
    settings: Settings,
    *,
    write: Callable[[], object],
    undo: Callable[[], object],
    keep: Callable[[], object],
    touched: tuple[set[str], set[str]],
    what: str,
    outcome: str,
) -> None:
    """Run ``write``, refresh the derived graph for ``touched`` (area codes, need IRIs), run ``keep``.

    ``what`` and ``outcome`` word the error when the sources cannot be kept: "could not keep
    {what} under {imports path}: {error}; {outcome}".
    """
    areas, needs = touched
    write()
    try:
        refresh_derived(store, areas, needs)
        keep()
    except BaseException as e:  # undo the write: the data must not outlive its retained source
        undo()
        _refresh_after_undo(store, areas, needs)
        if isinstance(e, OSError):
            raise StoreError(
                f"could not keep {what} under {settings.imports_path}: {e}; {outcome}",
                hint="check that DCPA_IMPORTS_PATH is writable",
            ) from e
        raise


def _refresh_after_undo(store: Store, areas: set[str], needs: set[str]) -> None:
    """Put the derived graph back in line with the store after a write was undone (best effort:
    the original error is the one to report; a later write or ``dcpa derive`` repairs the rest)."""
    try:
        refresh_derived(store, areas, needs)
    except Exception:  # noqa: BLE001 - logged, the caller re-raises the first error
        log.exception("could not refresh the derived graph after undoing a write; run `dcpa derive`")
