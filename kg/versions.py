"""Versions of the store: every build makes a new directory, and a pointer says which one is current.

Layout beside ``settings.store_path`` (``var/store`` by default)::

    var/store                         -> store.versions/<id>   the pointer: a relative symbolic link
    var/store.versions/<id>/          one complete Oxigraph store
    var/store.versions/<id>.done.json written only after the version was loaded, flushed and closed
    var/store.versions/.<id>.use.lock held (shared) by every process that has the version open

Why: a build used to rename directories under a server that had the store open; RocksDB then
wrote its files into the new store ("Corruption: Mismatch in unique ID"), and a crash between the
two renames left no store at all. Now a build fills a new version aside, marks it complete, and
moves the pointer with one atomic ``rename`` of a symlink; a process that has a store open
resolved the pointer when it opened it (``kg.store.Store.open``), so it keeps using its version's
own directory, and nothing is ever moved or deleted under it. Old versions and the leftovers of
killed builds are removed by ``collect`` once no process has them open (their use lock is free).

A store path that is an ordinary directory (made by an older version of dcpa, or by hand) is moved
into the versions directory by the first writer that finds nobody using it (``migrate``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from typing import IO, Any

from . import faults
from .atomic import sync_dir, write_json
from .errors import StoreError

log = logging.getLogger(__name__)

DONE_SUFFIX = ".done.json"
#: What to do about a store that is damaged or half-built (said by kg.store too).
REBUILD_HINT = ("请运行 `dcpa build` 重建（保留的导入会重放，用户录入的数据不会丢失） / "
                "run `dcpa build` to rebuild it (retained imports are replayed, nothing users entered is lost)")


def pointer(store_path: Path | str) -> Path:
    """The configured store path, absolute, not following the symlink."""
    return Path(os.path.abspath(store_path))


def versions_dir(store_path: Path | str) -> Path:
    p = pointer(store_path)
    return p.parent / f"{p.name}.versions"


def done_file(version: Path) -> Path:
    return version.parent / f"{version.name}{DONE_SUFFIX}"


def use_lock_file(real: Path) -> Path:
    """The lock file that says a store directory is open (beside it, so that RocksDB never sees it)."""
    return real.parent / f".{real.name}.use.lock"


def is_version(real: Path, store_path: Path | str) -> bool:
    """Whether ``real`` (a resolved store directory) is one of the versions of ``store_path``."""
    return real.parent == versions_dir(store_path).resolve()


def current(store_path: Path | str) -> Path | None:
    """The directory the store path points at now (resolved), or ``None`` when there is no store."""
    p = pointer(store_path)
    if p.is_symlink():
        real = p.resolve()
        return real if real.is_dir() else None
    return p if p.is_dir() else None


def completion(version: Path) -> dict[str, Any] | None:
    """The completion record of a version (its build report), or ``None`` if it is not complete."""
    try:
        data = json.loads(done_file(version).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# ---------------------------------------------------------------------------
# Use locks: who has a store directory open
# ---------------------------------------------------------------------------


def hold(real: Path) -> IO[bytes] | None:
    """Take the shared use lock of an open store directory; close the returned file to release it.

    Best effort: where the lock file cannot be made (a read-only place), the store opens anyway.
    """
    try:
        fh = open(use_lock_file(real), "a+b")  # noqa: SIM115 - held for as long as the store is open
    except OSError:
        return None
    fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
    return fh


def _unused(real: Path) -> IO[bytes] | None:
    """The use lock taken exclusively if nobody has ``real`` open, else ``None``."""
    try:
        fh = open(use_lock_file(real), "a+b")  # noqa: SIM115 - closed by the caller
    except OSError:
        return None
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def check_open(store_path: Path | str, real: Path) -> None:
    """Refuse to open a version the pointer names but whose build never completed."""
    if pointer(store_path).is_symlink() and is_version(real, store_path) and completion(real) is None:
        raise StoreError(
            f"{pointer(store_path)} 的存储不完整：它的版本 {real.name} 没有建完 / "
            f"the store at {pointer(store_path)} is incomplete: its version {real.name} was never finished",
            hint=REBUILD_HINT,
        )


# ---------------------------------------------------------------------------
# Making and switching versions
# ---------------------------------------------------------------------------


def _name() -> str:
    """A new version's name: its creation time (names sort by age) and a random tail."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)


def new_version(store_path: Path | str) -> Path:
    """A fresh, empty directory for the next version (the caller holds the writer lock)."""
    root = versions_dir(store_path)
    root.mkdir(parents=True, exist_ok=True)
    path = root / _name()
    path.mkdir()
    return path


def mark_complete(version: Path, record: dict[str, Any]) -> None:
    """Say that ``version`` is complete (call it after the store was flushed and closed)."""
    write_json(done_file(version), record)


def _point(p: Path, version: Path) -> None:
    """Replace the pointer ``p`` by a symlink to ``version`` in one rename."""
    link = p.parent / f".{p.name}.link-{secrets.token_hex(4)}"
    os.symlink(os.path.relpath(version, p.parent), link)
    try:
        os.replace(link, p)
    except BaseException:
        with contextlib.suppress(OSError):
            link.unlink()
        raise
    sync_dir(p.parent)


def switch(store_path: Path | str, version: Path) -> None:
    """Point the store path at ``version`` (a complete version), atomically."""
    p = pointer(store_path)
    if completion(version) is None:
        # for developers: the build's own steps, in their order, never leave these
        raise StoreError(f"refusing to switch to {version}: it is not complete")
    if p.is_dir() and not p.is_symlink():
        # for developers: the build's own steps, in their order, never leave these
        raise StoreError(f"the store at {p} is of the old layout; `prepare` moves it into {versions_dir(p)} first")
    _point(p, version)
    faults.point("build:switched")
    log.info("the store %s now points at %s", p, version.name)


def migrate(store_path: Path | str) -> str | None:
    """Move a store of the old layout (an ordinary directory at the store path) into the versions
    directory as a complete version, and put the pointer in its place; returns what it did.

    Nothing may have it open (a handle keeps the directory's path, and would write into whatever is
    at that path later): when some process does, nothing is done and ``None`` returned.
    """
    p = pointer(store_path)
    if not p.is_dir() or p.is_symlink():
        return None
    fh = _unused(p)
    if fh is None:
        return None
    try:
        root = versions_dir(p)
        root.mkdir(parents=True, exist_ok=True)
        dest = root / _name()
        # Complete before it moves: a crash right after the move leaves it the newest complete version,
        # which ``prepare`` points at. It has no fingerprint, so the next build rebuilds.
        mark_complete(dest, {"migrated_from": str(p)})
        os.rename(p, dest)
        faults.point("migrate:moved")
        _point(p, dest)
    finally:
        fh.close()
        use_lock_file(p).unlink(missing_ok=True)
    return f"已把旧布局的存储移入 {dest} / moved the store of the old layout into {dest}"


def prepare(store_path: Path | str) -> list[str]:
    """Repair what a crash can leave, and move an old-layout store into the versioned layout (the
    caller holds the writer lock); returns what it did.

    * no pointer (a crash while an old-layout directory was moved): point at the newest complete
      version;
    * no store but the old layout's ``.<name>.old-*`` directory (a crash inside the swap of an
      older dcpa): put it back;
    * an old-layout directory nobody has open: ``migrate`` it.
    """
    p = pointer(store_path)
    notes: list[str] = []
    if current(p) is None:
        complete = sorted(v for v in _versions(p) if completion(v) is not None)
        old = sorted(p.parent.glob(f".{p.name}.old-*"))
        if complete:
            switch(p, complete[-1])
            notes.append(f"存储原先没有指向任何版本，现已指向最新的完整版本 {complete[-1].name} / "
                         f"the store pointed nowhere: now at its newest complete version {complete[-1].name}")
        elif old and not p.is_symlink():
            os.rename(old[-1], p)
            notes.append(f"已从中断的构建留下的 {old[-1].name} 恢复存储 / "
                         f"restored the store from {old[-1].name}, left by an interrupted build")
    moved = migrate(p)
    if moved:
        notes.append(moved)
    return notes


def is_old_layout(store_path: Path | str) -> bool:
    p = pointer(store_path)
    return p.is_dir() and not p.is_symlink()


def _versions(store_path: Path | str) -> list[Path]:
    root = versions_dir(store_path)
    if not root.is_dir():
        return []
    return [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]


def collect(store_path: Path | str) -> list[str]:
    """Remove versions other than the current one that no process has open, and leftovers of killed
    builds (the caller holds the writer lock). Returns the names removed."""
    p = pointer(store_path)
    now = current(p)
    removed: list[str] = []
    for v in _versions(p):
        if now is not None and v.resolve() == now:
            continue
        fh = _unused(v)
        if fh is None:
            continue  # open somewhere (a reader, a server's old handle): removed by a later collect
        try:
            shutil.rmtree(v, ignore_errors=True)
            for extra in (done_file(v), use_lock_file(v), *v.parent.glob(f"{v.name}.*.json")):
                with contextlib.suppress(FileNotFoundError):
                    extra.unlink()  # the completion record, the use lock, files made from it (kg.search)
            removed.append(v.name)
        finally:
            fh.close()
    root = versions_dir(p)
    if root.is_dir():
        for work in root.glob(".*.work"):  # a killed build's scratch files
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work.name)
        for torn in root.glob(".*.json-*"):  # a temporary file of a killed atomic write
            torn.unlink(missing_ok=True)
        for marker in root.glob("*.json"):  # a record (or a file made from it) without its version
            if not (root / marker.name.split(".", 1)[0]).is_dir():
                marker.unlink(missing_ok=True)
    for pattern in (f".{p.name}.building-*", f".{p.name}.link-*"):  # older dcpa's build dirs; stray links
        for leftover in p.parent.glob(pattern):
            if leftover.is_symlink() or leftover.is_file():
                leftover.unlink(missing_ok=True)
            else:
                shutil.rmtree(leftover, ignore_errors=True)
            removed.append(leftover.name)
    if now is not None:
        for old in p.parent.glob(f".{p.name}.old-*"):  # older dcpa's swapped-out store
            shutil.rmtree(old, ignore_errors=True)
            removed.append(old.name)
        (p.parent / f"{p.name}.build.json").unlink(missing_ok=True)  # older dcpa's stamp
    if removed:
        log.info("removed unused store versions and leftovers: %s", ", ".join(sorted(removed)))
    return removed


def scratch(version: Path) -> Path:
    """A scratch directory for the build of ``version`` (removed with it, or by ``collect``)."""
    path = version.parent / f".{version.name}.work"
    path.mkdir(exist_ok=True)
    return path


def discard(version: Path) -> None:
    """Remove a version whose build failed."""
    shutil.rmtree(version, ignore_errors=True)
    shutil.rmtree(version.parent / f".{version.name}.work", ignore_errors=True)
    for extra in (done_file(version), use_lock_file(version)):
        with contextlib.suppress(FileNotFoundError):
            extra.unlink()
