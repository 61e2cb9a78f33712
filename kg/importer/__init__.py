"""Safe import of user data: CSV/XLSX templates or API records → validated RDF, all or nothing.

    import_files(store, paths, user=…, settings=…)      files (``dcpa import``)
    import_records(store, kind, records, user=…, …)      dicts keyed by column keys (the API)
    replace_record(store, kind, id, record, user=…, …)   replace one need/intervention/evaluation (the API's PUT)
    replay_retained(store, imports_path)                 re-import every kept batch after a rebuild
    withdraw(store, batch_id, user=…, reason=…, …)       take a batch back out, keeping it on record
    history(imports_path)                                every write, newest first, withdrawn ones too

Each accepted import becomes one named graph ``kg.namespaces.import_graph(batch_id)`` written in one
transaction; then the derived graph is refreshed for the areas it touches (``kg.derived``), and its
sources are kept under ``settings.imports_path`` so a rebuild does not lose them.
Invalid input raises ``ValidationFailed`` listing every problem (file, sheet, row, column, value,
hint); nothing is written then.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import gcpause
from ..contract import StoreAPI
from ..derived import affected_areas, changed_interventions, graph_triples, needs_only
from ..errors import Issue, ValidationFailed
from ..namespaces import import_graph, withdrawal_graph
from ..settings import Settings
from . import checks
from .batch import (
    TIME_FORMAT,
    ImportReport,
    Source,
    batch_entry,
    batch_report,
    batch_time,
    build_batch,
    checked_user,
    new_batch_id,
)
from .history import HistoryEntry, history
from .journal import write_marked
from .landing import land
from .mapping import Batch, located_rows, record_rows, unknown_keys, unsafe_text
from .readers import ImportUsageError, Table, file_name_issue, read_file, too_large_issue
from .replace import REPLACEABLE, replace_record, replay_replacement
from .retain import is_pending, is_withdrawn, read_manifest, stored_names
from .specs import RECORD_KINDS, Column, RecordSpec
from .withdraw import WithdrawReport, withdraw, withdrawal_record

log = logging.getLogger(__name__)

__all__ = [
    "RECORD_KINDS",
    "REPLACEABLE",
    "Column",
    "HistoryEntry",
    "ImportReport",
    "ImportUsageError",
    "RecordSpec",
    "checked_user",
    "file_name_issue",
    "too_large_issue",
    "history",
    "import_files",
    "import_records",
    "new_batch_id",
    "replace_record",
    "replay_retained",
    "withdraw",
    "WithdrawReport",
]

def _validate(store: StoreAPI, batch: Batch, reader_issues: list[Issue]) -> list[str]:
    """Run every check; raise ``ValidationFailed`` with all problems. Returns warnings."""
    warnings: list[str] = []
    issues = reader_issues + batch.issues
    if batch.minted:
        checks.check_existing(store, batch)
        issues = reader_issues + batch.issues
        if not issues:  # shapes only on data that passed the cheaper checks (they would repeat them)
            shacl, warnings = checks.shacl_issues(store, batch)
            issues += shacl
    if not issues and not batch.minted:
        issues.append(Issue("没有可导入的记录 / nothing to import", hint="请至少填写一行 / fill in at least one row"))
    if issues:
        issues.sort(key=lambda i: (i.file or "", i.sheet or "", i.row or 0))
        raise ValidationFailed(issues)
    return warnings


def _commit(
    store: StoreAPI, batch: Batch, settings: Settings, entry: dict[str, Any], files: list[tuple[str, bytes | Path]],
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    graph = import_graph(batch.batch_id)
    triples = graph_triples(batch.graph)
    touched = affected_areas(store, triples)
    added = needs_only(triples)  # an import adds whole records: its needs are new
    interventions = changed_interventions(triples)
    del triples  # 360 MB for a 100,000-row batch, and the write needs room
    data = [batch.release()]  # handed over by pop(): not held through the refresh (133 MB for 100,000 rows)
    land(
        store,
        settings,
        entry=entry,
        files=files,
        write=lambda marker: write_marked(store, marker, graph, data.pop()),
        undo=lambda marker: store.update(f"DROP SILENT GRAPH <{graph}> ;\n{marker.delete()}"),
        touched=touched,
        graphs={graph},
        added=added,
        interventions=interventions,
        what=("导入的文件", "the import's files"),
        outcome=("什么都没有写入", "nothing was written"),
        progress=progress,
    )


def _table_sources(tables_by_file: list[tuple[str, list[Table]]]) -> list[Source]:
    return [(name, [(t.kind, located_rows(t)) for t in tables]) for name, tables in tables_by_file]


def import_files(
    store: StoreAPI, paths: list[Path] | list[str], *, user: str, settings: Settings, dry_run: bool = False,
    progress: Callable[[str, int, int], None] | None = None, names: list[str] | None = None,
) -> ImportReport:
    """Import CSV/XLSX files as one batch: everything or nothing.

    ``progress(step, done, total)`` hears of each step: read (files), map (rows), check, write, refresh
    (the derived graph). ``names``: the files' names as their user gave them, shown in the problems and kept
    (default: the paths' names); an upload is read from a temporary path whose name is made safe, and its
    problems and history named 康平县_需求_2026_.xlsx for 康平县 需求（2026）.xlsx.
    """

    def step(name: str, done: int, total: int) -> None:
        if progress is not None:
            progress(name, done, total)

    files = [Path(p) for p in paths]
    if not files:
        raise ImportUsageError(
            "没有给出文件 / no files given",
            hint="请给出要导入的文件：dcpa import needs.xlsx [更多文件…] / dcpa import needs.xlsx [more files…]",
        )
    user = checked_user(user, "请写明由谁导入这些数据（--user 姓名） / say who imports the data (--user NAME)")
    given = [Path(n).name for n in names] if names is not None else [p.name for p in files]
    if len(given) != len(files):
        raise ValueError(f"{len(files)} files, {len(given)} names")
    bad_names = [i for i in (file_name_issue(n) for n in given) if i is not None]
    if bad_names:
        raise ValidationFailed(bad_names)
    reader_issues: list[Issue] = []
    names = stored_names(given)
    per_file = []
    for i, (p, name) in enumerate(zip(files, names, strict=True)):
        step("read", i, len(files))
        per_file.append((name, read_file(p, settings, reader_issues, name=name)))
    step("read", len(files), len(files))
    # what the readers only warn of (a sheet of no known kind, left out) is told in the report, not refused
    read_warnings = [str(i) for i in reader_issues if i.severity == "warning"]
    reader_issues = [i for i in reader_issues if i.severity != "warning"]
    now = batch_time()
    sources = _table_sources(per_file)
    rows = sum(len(r) for _, parts in sources for _, r in parts)
    with gcpause.paused():  # the batch's objects all live until it ends: see kg.gcpause
        batch = build_batch(store, Batch(new_batch_id(now), user, now), sources,
                            progress=lambda done: step("map", done, rows))
        step("check", 0, 1)
        warnings = read_warnings + _validate(store, batch, reader_issues)
        step("check", 1, 1)
        skipped = sum(t.skipped_examples for _, ts in per_file for t in ts)
        if not dry_run:
            entry = batch_entry(batch, "files", names)
            _commit(store, batch, settings, entry, list(zip(names, files, strict=True)), progress=step)
            log.info("import %s: %s (%d triples)", batch.batch_id, batch.counts, batch.size)
    return batch_report(batch, dry_run, names, warnings, skipped)


def import_records(
    store: StoreAPI,
    kind: str,
    records: list[dict[str, Any]],
    *,
    user: str,
    settings: Settings,
    source_name: str = "api",
    dry_run: bool = False,
) -> ImportReport:
    """Import records given as dicts keyed by column keys (e.g. from the JSON API) as one batch."""
    if kind not in RECORD_KINDS:
        kinds = ", ".join(RECORD_KINDS)
        raise ImportUsageError(f"未知的记录种类 {kind!r} / unknown record kind {kind!r}",
                               hint=f"请使用以下之一：{kinds} / one of: {kinds}")
    if not isinstance(records, list) or not records:
        raise ValidationFailed([Issue("没有记录 / no records given", file=source_name, sheet=kind)])
    user = checked_user(user)
    reader_issues = unknown_keys(kind, source_name, records) + unsafe_text(kind, source_name, records)
    now = batch_time()
    good = [r if isinstance(r, dict) else {} for r in records]
    with gcpause.paused():  # see kg.gcpause
        batch = build_batch(
            store,
            Batch(new_batch_id(now), user, now),
            [(source_name, [(kind, record_rows(kind, source_name, good))])],
        )
        warnings = _validate(store, batch, reader_issues)
        if not dry_run:
            payload = {"kind": kind, "source_name": source_name, "records": records}
            content = json.dumps(payload, ensure_ascii=False, indent=2, default=str).encode("utf-8")
            entry = batch_entry(batch, "records", [source_name])
            entry["files"] = [{"name": source_name, "stored": "records.json"}]
            _commit(store, batch, settings, entry, [("records.json", content)])
    return batch_report(batch, dry_run, [source_name], warnings)


def replay_retained(store: StoreAPI, imports_path: Path) -> int:
    """Re-import every retained batch into its own graph, oldest first, keeping ids, user and time.

    Used by the build after it made a fresh store. A batch whose references no longer resolve (say,
    the reference data changed) is still loaded, with a warning, so that nothing users entered is lost.
    Replacements (source ``"replace"``) are applied in their place in that order, so a record
    replaced after its import ends up in its replaced state. Entries still pending (a write that was
    interrupted; ``kg.importer.journal.recover`` settles them first) are not replayed. Withdrawn
    batches are not replayed either: only their withdrawal record is written again.
    """
    root = Path(imports_path)
    manifest = read_manifest(root)
    settings = Settings(  # what was accepted once is replayed, whatever the limits are now
        imports_path=root,
        max_import_bytes=1 << 62,
        max_import_rows=1 << 62,
        xlsx_max_uncompressed_bytes=1 << 62,
        xlsx_max_ratio=float("inf"),
        xlsx_max_cells=1 << 62,
        xlsx_max_sheets=1 << 62,
    )
    n = 0
    for entry in manifest["batches"]:  # in the order they were accepted
        bid = entry["batch_id"]
        if is_pending(entry):
            log.warning("not replaying import %s: it was interrupted and never completed", bid)
            continue
        if is_withdrawn(entry):  # its data stays out; its withdrawal stays on record
            w = entry["withdrawal"]
            record = withdrawal_record(bid, w["user"], w["time"], w.get("reason", ""))
            store.replace_graph(withdrawal_graph(bid), record)
            continue
        time = dt.datetime.strptime(entry["time"], TIME_FORMAT).replace(tzinfo=dt.UTC)
        batch = Batch(bid, entry.get("user", "unknown"), time)
        reader_issues: list[Issue] = []
        if entry.get("source") == "replace":
            replay_replacement(store, root, entry, time)
            n += 1
            continue
        if entry.get("source") == "records":
            f = entry["files"][0]
            payload = json.loads((root / bid / f["stored"]).read_text(encoding="utf-8"))
            sources: list[Source] = [
                (f["name"], [(payload["kind"], record_rows(payload["kind"], f["name"], payload["records"]))])
            ]
        else:
            per_file = [
                (f["name"], read_file(root / bid / f["stored"], settings, reader_issues, name=f["name"], strict=False))
                for f in entry["files"]
            ]
            sources = _table_sources(per_file)
        with gcpause.paused():  # see kg.gcpause
            build_batch(store, batch, sources)
        problems = reader_issues + batch.issues
        if problems:
            log.warning(
                "replaying import %s: %d problem(s), loaded what maps: %s",
                bid,
                len(problems),
                "; ".join(str(i) for i in problems[:5]),
            )
        store.replace_graph(import_graph(bid), batch.graph)
        n += 1
    return n
