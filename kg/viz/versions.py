"""Asset URLs that change when their file does, so that a browser may keep the file for good.

Why: the county libraries' links are slow, and a page's scripts are most of its bytes (vis-network is
155 KB compressed). A URL carrying its file's fingerprint (``/static/js/graph.js?v=3f1c2a9b0d4e``) can be
cached as ``immutable``: a new release changes the fingerprint, so a browser never runs the last release's
script against this release's page, as a heuristically cached ``/static/js/graph.js`` could.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

#: Hex digits of the content's SHA-256 kept in a URL: 48 bits, so two versions of one file never share one.
FINGERPRINT_DIGITS = 12


def fingerprint(path: Path) -> str | None:
    """The fingerprint of ``path``'s content, or None when there is no such file. Read again when the file's
    size or modification time changes (a file replaced while the server runs)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return _digest(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:FINGERPRINT_DIGITS]


def find(path: str, roots: Sequence[Path]) -> Path | None:
    """The file ``path`` (relative, as after ``/static/``) names in the first of ``roots`` holding it, the
    order in which the service's ``/static`` looks."""
    for root in roots:
        candidate = root / path
        if candidate.is_file():
            return candidate
    return None


def asset_url(static: str, path: str, roots: Sequence[Path]) -> str:
    """``static``/``path`` with its fingerprint (``?v=…``); without one for a file that is missing (the page
    still renders, and the service warns of missing assets at its start)."""
    found = find(path, roots)
    version = fingerprint(found) if found is not None else None
    return f"{static}/{path}" + (f"?v={version}" if version else "")
