"""Named fault points: where a test may kill the process, to prove that writes and builds survive it.

Code that must survive a crash calls ``point("write:landed")`` between its steps. Nothing happens
unless the environment variable ``DCPA_FAULT`` names that point when the process starts; then the
process sends itself SIGKILL there, like a power cut or ``kill -9`` would stop it (no ``finally``,
no flush, no atexit). Tests run the command in a subprocess with ``DCPA_FAULT`` set and check what
the next writer finds. Otherwise the cost is one comparison with ``None``.

The points, in the order a write or a build passes them, are listed in ``POINTS``.
"""

from __future__ import annotations

import os
import signal

#: Every fault point, in order of passing (``tests/core/test_crash.py`` kills the process at each).
POINTS = (
    "retain:moved",  # the batch's files are in place, the manifest does not list them yet
    "write:retained",  # files kept and the manifest entry written, marked pending
    "write:landed",  # the data and the "derived refresh pending" marker are in the store (one transaction)
    "write:refreshed",  # the derived graph is refreshed, the marker is still there
    "write:unmarked",  # the marker is gone, the manifest entry still says pending
    "write:settled",  # the manifest entry is done; the write is complete
    "migrate:moved",  # an old-layout store directory was moved into the versions, the pointer not yet made
    "build:loaded",  # the new version is loaded but not complete
    "build:completed",  # the new version is complete (marker written), the store still points at the old one
    "build:switched",  # the store points at the new version; the old one is not yet removed
)

_ARMED = os.environ.get("DCPA_FAULT") or None


def point(name: str) -> None:
    """Kill this process here if ``DCPA_FAULT`` names ``name``."""
    if _ARMED is not None and _ARMED == name:
        os.kill(os.getpid(), signal.SIGKILL)
