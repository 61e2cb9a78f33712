"""Keep accepted import sources on disk, with a manifest, so that a rebuild replays them.

Layout under ``settings.imports_path``::

    manifest.json              {"version": 1, "batches": [{batch_id, user, time, source, files, …}]}
                               (in the order the imports were accepted: replay keeps that order)
    <batch_id>/<file name>     the files as the user gave them (or records.json for API writes)

The manifest is rewritten through a temporary file and an atomic rename, under a lock, so a crash
or a concurrent import never leaves it half written.

The manifest is also the journal of writes in progress (``kg.importer.journal``): a write first
keeps its files and adds its entry marked ``"state": "pending"``; only when the data and the
derived graph are in the store does ``settle`` drop the mark. An entry without a state is done.
A withdrawn batch keeps its entry and its files, with a ``"withdrawal"`` (who, when, why); while its
withdrawal is under way the entry is marked ``"state": "withdrawing"`` (``kg.importer.withdraw``).
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

from .. import faults
from ..atomic import write_json

MANIFEST = "manifest.json"
PENDING = "pending"
#: State of an entry whose withdrawal is under way (``kg.importer.withdraw``).
WITHDRAWING = "withdrawing"


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
    write_json(root / MANIFEST, data)


def stored_names(names: list[str]) -> list[str]:
    """File names inside the batch directory: the original names, made unique."""
    out: list[str] = []
    for i, n in enumerate(names, start=1):
        base = Path(n).name
        base = base if base not in ("", ".", "..") else f"file-{i}"  # a name that is no file's would be a directory
        out.append(base if base not in out else f"{i:02d}-{base}")
    return out


def is_pending(entry: dict[str, Any]) -> bool:
    return entry.get("state") == PENDING


def is_withdrawn(entry: dict[str, Any]) -> bool:
    """Whether the batch of ``entry`` was withdrawn (wholly: not while its withdrawal is under way)."""
    return bool(entry.get("withdrawal")) and entry.get("state") != WITHDRAWING


def withdrawn_batches(batches: list[dict[str, Any]]) -> set[str]:
    """The ids of the withdrawn batches of a manifest's ``batches``."""
    return {str(e.get("batch_id")) for e in batches if is_withdrawn(e)}


def replacement_blocker(entry: dict[str, Any], withdrawn: set[str]) -> str | None:
    """Why the replacement ``entry`` cannot be withdrawn yet, ``中文 / English`` (None: it can, or it is no
    replacement), the batches ``withdrawn`` (``withdrawn_batches``) given: read once for a whole history, not once
    an entry.

    A replacement supersedes the record's versions in other graphs, which a withdrawal does not restore: it may go
    only once every import batch whose version it superseded is withdrawn (the record then leaves), and never when
    it superseded example or reference data (a rebuild would bring that version back; ``supersedes_other``).
    """
    said = blocker_reason(entry, withdrawn)
    return " / ".join(said) if said is not None else None


def blocker_reason(entry: dict[str, Any], withdrawn: set[str]) -> tuple[str, str] | None:
    """``replacement_blocker``'s reason in Chinese and in English, for a sentence of each language."""
    if entry.get("source") != "replace":
        return None
    if "replaces_in" not in entry:
        return ("记录它时，被它取代的批次还没有保存", "it was recorded before the batches it superseded were kept")
    if entry.get("supersedes_other"):
        return ("它替换的是示例数据或参考数据，撤回无法恢复它们",
                "it replaced example or reference data, which a withdrawal cannot bring back")
    earlier = [b for b in entry["replaces_in"] if b not in withdrawn]
    if not earlier:
        return None
    batches = ", ".join(earlier)
    return (f"它所替换版本所在的批次 {batches} 尚未撤回",
            f"batch {batches}, whose version it replaced, is not withdrawn")


def retain(root: Path, entry: dict[str, Any], files: list[tuple[str, bytes | Path]]) -> None:
    """Store the batch's files under ``root/<batch_id>/`` and add ``entry`` to the manifest, marked
    pending (``settle`` marks it done once the write has landed)."""
    batch_dir = root / entry["batch_id"]
    entry = {**entry, "state": PENDING}
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
            faults.point("retain:moved")
            data = read_manifest(root)
            data["batches"] = [b for b in data["batches"] if b.get("batch_id") != entry["batch_id"]] + [entry]
            _write_manifest(root, data)
        except BaseException:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            shutil.rmtree(batch_dir, ignore_errors=True)
            raise


def settle(root: Path, batch_id: str) -> None:
    """Mark the entry of ``batch_id`` done: its write has wholly landed."""
    with _locked(root):
        data = read_manifest(root)
        for b in data["batches"]:
            if b.get("batch_id") == batch_id:
                b.pop("state", None)
        _write_manifest(root, data)


def amend(root: Path, batch_id: str, *, set_fields: dict[str, Any] | None = None,
          drop_fields: tuple[str, ...] = ()) -> None:
    """Change the entry of ``batch_id`` (a withdrawal's marks, ``kg.importer.withdraw``): one atomic rewrite."""
    with _locked(root):
        data = read_manifest(root)
        for b in data["batches"]:
            if b.get("batch_id") == batch_id:
                for k in drop_fields:
                    b.pop(k, None)
                b.update(set_fields or {})
        _write_manifest(root, data)


def discard(root: Path, batch_id: str) -> None:
    """Forget ``batch_id``: its manifest entry and its files (a write that did not land)."""
    with _locked(root):
        data = read_manifest(root)
        kept = [b for b in data["batches"] if b.get("batch_id") != batch_id]
        if len(kept) != len(data["batches"]):
            data["batches"] = kept
            _write_manifest(root, data)
        shutil.rmtree(root / batch_id, ignore_errors=True)


def orphans(root: Path) -> list[Path]:
    """Files and directories under ``root`` that no manifest entry accounts for: the leftovers of a
    write killed while keeping its files (``.<batch>-*`` scratch directories, ``.manifest-*``
    temporary files, batch directories not in the manifest)."""
    if not root.is_dir():
        return []
    listed = {b.get("batch_id") for b in read_manifest(root)["batches"]}
    out = []
    for p in root.iterdir():
        if p.name in (MANIFEST, ".manifest.lock"):
            continue
        if p.name.startswith(".") or (p.is_dir() and p.name not in listed):
            out.append(p)
    return out


def remove_orphans(root: Path) -> list[str]:
    """Remove what ``orphans`` finds (the caller is the only writer); returns the names removed."""
    with _locked(root):
        found = orphans(root)
        for p in found:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
    return [p.name for p in found]
