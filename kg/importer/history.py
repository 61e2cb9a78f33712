"""The import history: every accepted write, newest first, with who, when, what and whether it was
withdrawn (read from the manifest of kept imports, ``kg.importer.retain``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .retain import PENDING, WITHDRAWING, is_withdrawn, read_manifest, replacement_blocker, withdrawn_batches

#: The states of a batch in the history.
DONE, WITHDRAWN = "done", "withdrawn"
STATES = (DONE, PENDING, WITHDRAWING, WITHDRAWN)
#: What made a batch: files (``dcpa import``, an upload), records (the JSON API), a replacement (PUT).
SOURCES = ("files", "records", "replace")


@dataclass
class HistoryEntry:
    """One write of the history."""

    batch_id: str
    user: str
    time: str
    source: str
    state: str
    files: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    triples: int = 0
    #: The record a replacement changed (its IRI); empty for imports.
    record: str = ""
    withdrawn_by: str = ""
    withdrawn_at: str = ""
    withdrawal_reason: str = ""
    #: Why a replacement cannot be withdrawn yet (``kg.importer.retain.replacement_blocker``); empty when it can.
    blocked: str = ""

    @property
    def can_withdraw(self) -> bool:
        """Whether ``kg.importer.withdraw`` may be asked to take it back (it still checks what refers to it)."""
        return self.state == DONE and not self.blocked

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "can_withdraw": self.can_withdraw}


def history(imports_path: Path | str, *, limit: int | None = None) -> list[HistoryEntry]:
    """The writes kept under ``imports_path``, newest first (at most ``limit``)."""
    entries = read_manifest(Path(imports_path))["batches"]
    withdrawn = withdrawn_batches(entries)
    out = [_entry(e, withdrawn) for e in reversed(entries)]
    return out if limit is None else out[:limit]


def _entry(e: dict[str, Any], withdrawn: set[str]) -> HistoryEntry:
    w = e.get("withdrawal") or {}
    state = WITHDRAWN if is_withdrawn(e) else (e.get("state") or DONE)
    return HistoryEntry(
        batch_id=str(e.get("batch_id", "")),
        user=str(e.get("user", "")),
        time=str(e.get("time", "")),
        source=str(e.get("source", "")),
        state=state,
        files=[str(f.get("name", "")) for f in e.get("files") or []],
        counts={str(k): int(v) for k, v in (e.get("counts") or {}).items()},
        triples=int(e.get("triples") or 0),
        record=str(e.get("record", "")),
        withdrawn_by=str(w.get("user", "")) if state == WITHDRAWN else "",
        withdrawn_at=str(w.get("time", "")) if state == WITHDRAWN else "",
        withdrawal_reason=str(w.get("reason", "")) if state == WITHDRAWN else "",
        blocked=replacement_blocker(e, withdrawn) or "",
    )
