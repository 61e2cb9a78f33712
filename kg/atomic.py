"""Files replaced whole or not at all: the one way the project rewrites its small JSON records
(the import manifest, a version's completion record, the server's registration) and writes a dump to a file.

A crash or kill -9 at any moment leaves the old file or the new one, never a torn one: the new
content goes to a temporary file in the same directory, is synced, and is renamed over the old
one; the directory is synced too, so that a power cut after the rename does not undo it.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def write_json(path: Path, data: Any, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` as JSON, atomically and durably (``mode``: its permissions)."""
    with replacing(path, mode=mode) as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


@contextlib.contextmanager
def replacing(path: Path, *, mode: int | None = None) -> Iterator[IO[bytes]]:
    """A file to write that replaces ``path`` whole when the block ends, and is gone when it fails (a dump refused
    or cut short left a torn file where the user asked for one). ``mode``: its permissions (default 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_dir(path.parent)


def shared_mode() -> int:
    """The permissions ``open()`` gives a new file (0666 less the umask): for a file made to be handed on."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def sync_dir(path: Path) -> None:
    """Make a rename in ``path`` durable (a power cut after it must not undo it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
