"""Keep accepted import sources on disk, with a manifest, so that a rebuild replays them.

Layout under ``settings.imports_path``::

    manifest.json              {"version": 1, "batches": [{batch_id, user, time, source, files, …}]}
                               (in the order the imports were accepted: replay keeps that order)
    <batch_id>/<file name>     the files as the user gave them (or records.json for API writes)

The manifest is rewritten through a temporary file and an atomic rename, under a lock, so a crash
or a concurrent import never leaves it half written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".manifest.lock", "a+b") as fh:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not on POSIX
            pass
        yield


def read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.exists():
        return {"version": 1, "batches": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("batches", [])
    return data


def _write_manifest(root: Path, data: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, root / MANIFEST)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def stored_names(names: list[str]) -> list[str]:
    """File names inside the batch directory: the original names, made unique."""
    out: list[str] = []
    for i, n in enumerate(names, start=1):
        base = Path(n).name or f"file-{i}"
        out.append(base if base not in out else f"{i:02d}-{base}")
    return out


def retain(root: Path, entry: dict[str, Any], files: list[tuple[str, bytes | Path]]) -> None:
    """Store the batch's files under ``root/<batch_id>/`` and add ``entry`` to the manifest."""
    batch_dir = root / entry["batch_id"]
    with _locked(root):
        tmp_dir = Path(tempfile.mkdtemp(prefix=f".{entry['batch_id']}-", dir=root))
        try:
            for name, content in files:
                target = tmp_dir / name
                if isinstance(content, Path):
                    shutil.copyfile(content, target)
                else:
                    target.write_bytes(content)
            os.replace(tmp_dir, batch_dir)
            data = read_manifest(root)
            data["batches"] = [b for b in data["batches"] if b.get("batch_id") != entry["batch_id"]] + [entry]
            _write_manifest(root, data)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            shutil.rmtree(batch_dir, ignore_errors=True)
            raise
