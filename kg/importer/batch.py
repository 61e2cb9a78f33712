"""One import batch from start to report: its id and time, its graph built from rows, the author's
name, its manifest entry and its report (shared by imports, record writes, replacements and replays)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..contract import StoreAPI
from ..errors import Issue, ValidationFailed, labelled
from ..namespaces import import_graph
from ..safetext import for_terminal, text_problem
from . import checks
from .mapping import Batch, Located, add_rows
from .readers import ImportUsageError
from .vocab import code_lists, store_vocabulary

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do)."""

    batch_id: str
    counts: dict[str, int]
    triples: int
    dry_run: bool
    user: str = ""
    time: str = ""
    graph: str = ""
    files: list[str] = field(default_factory=list)
    skipped_examples: int = 0
    warnings: list[str] = field(default_factory=list)
    #: IRI of the record a replacement (``replace_record``) changed; empty for imports.
    replaced: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def new_batch_id(now: dt.datetime | None = None) -> str:
    """A batch id that sorts by time: ``20261126T150102Z-ab12cd``."""
    t = now or dt.datetime.now(dt.UTC)
    return t.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def batch_time() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


Source = tuple[str, list[tuple[str, list[tuple[Located, dict[str, Any]]]]]]  # (file name, [(kind, rows)])


#: Rows mapped between two progress reports.
_PROGRESS_EVERY = 2_000


def build_batch(store: StoreAPI, batch: Batch, sources: list[Source],
                progress: Callable[[int], None] | None = None) -> Batch:
    """Map every row of ``sources`` into ``batch`` and check its references; ``progress(rows done)``."""
    vocab = store_vocabulary(store)
    lists = code_lists(vocab)
    done = 0
    for name, parts in sources:
        file_node = batch.add_file(name)
        for kind, rows in parts:
            for start in range(0, len(rows), _PROGRESS_EVERY):
                add_rows(batch, rows[start: start + _PROGRESS_EVERY], kind, file_node, lists, vocab)
                done += len(rows[start: start + _PROGRESS_EVERY])
                if progress is not None:
                    progress(done)
    if batch.minted:
        checks.check_references(store, batch, vocab)
    return batch


def batch_report(batch: Batch, dry_run: bool, names: list[str], warnings: list[str], skipped: int = 0) -> ImportReport:
    return ImportReport(
        batch_id=batch.batch_id,
        counts=dict(batch.counts),
        triples=batch.size,
        dry_run=dry_run,
        user=batch.user,
        time=batch.time.strftime(TIME_FORMAT),
        graph=import_graph(batch.batch_id),
        files=names,
        skipped_examples=skipped,
        warnings=warnings,
    )


def checked_user(user: str | None, hint: str = "请写明由谁写入这些数据 / say who writes the data") -> str:
    """The author's name to record, stripped; refused when empty or holding control or bidi characters.

    ``hint`` (``中文 / English``) says how to name the user where none was given."""
    if not user or not user.strip():
        raise ImportUsageError("没有写明用户 / no user given", hint=hint)
    problem = text_problem(user.strip(), 200)
    if problem:
        raise ValidationFailed(
            [Issue(labelled("用户名", "user name", problem[0]), column="user", value=for_terminal(user),
                   hint=problem[1])]
        )
    return user.strip()


def batch_entry(batch: Batch, source: str, names: list[str]) -> dict[str, Any]:
    return {
        "batch_id": batch.batch_id,
        "user": batch.user,
        "time": batch.time.strftime(TIME_FORMAT),
        "source": source,
        "files": [{"name": n, "stored": n} for n in names],
        "counts": dict(batch.counts),
        "triples": batch.size,
        "graph": import_graph(batch.batch_id),
    }
