"""Withdraw an import batch: its records leave the graph; the batch and its withdrawal stay on record.

A data steward who imported the wrong file needs to take it back without losing the trace of what
happened. ``withdraw`` writes a ``dcpa:Withdrawal`` (who, when, why; ``prov:invalidated`` the batch's graph)
into a graph of its own, then removes the batch's named graph.
The manifest keeps the batch's entry and its files, marked with the withdrawal, so the import
history still shows it, a rebuild does not bring it back, and the files can be corrected and
imported again.

It is refused when the batch is unknown, already withdrawn, still being written, or a replacement that
``kg.importer.retain.replacement_blocker`` holds back (a replacement is undone by replacing the record again), and when
records of other batches refer to records only this batch holds (withdraw those first): nothing would be
left dangling. A record of the batch that was replaced since lives in its replacement's batch, and stays:
the replacement was a later write of its own. The report counts what leaves and names what stays
(``kept``); once every batch a replacement superseded is withdrawn, the replacement can be withdrawn too,
and the record leaves.

Like every write it lands whole or not at all, even across ``kill -9``: the manifest entry is
marked ``withdrawing`` first; one transaction adds the journal's marker and the withdrawal record;
the batch's triples are deleted in parts (``kg.updates.deletions``); the derived graph is refreshed; the mark
becomes the withdrawal. The next writer's recovery (``kg.importer.journal.recover``) finishes a
withdrawal whose record is in the store (it drops what is left of the batch) and forgets one whose
record is not.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import PROV

from .. import faults
from ..contract import StoreAPI
from ..derived import affected_areas, changed_interventions, needs_only
from ..errors import Conflict, Issue, NotFound, ValidationFailed, labelled
from ..facts import needs_by_iri
from ..namespaces import DCPA, GRAPH_DERIVED, batch_of, import_graph, node, withdrawal_graph
from ..safetext import for_terminal, text_problem
from ..settings import Settings
from ..store import graph_to_ntriples
from ..updates import deletions, request
from .batch import TIME_FORMAT, batch_time, checked_user
from .journal import GRAPH_JOURNAL, Marker, finish, recover
from .landing import landed_anyway, roll_back
from .replace import lexical
from .retain import WITHDRAWING, amend, blocker_reason, is_withdrawn, read_manifest, withdrawn_batches

log = logging.getLogger(__name__)

#: Longest reason recorded.
MAX_REASON_CHARS = 500
#: Records of other batches listed when they block a withdrawal.
_MAX_LISTED = 20


@dataclass
class WithdrawReport:
    """What a withdrawal did (or, with ``dry_run``, would do)."""

    batch_id: str
    user: str
    time: str
    reason: str
    triples: int
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    graph: str = ""
    #: records of the batch replaced since, which stay: {"kind", "record", "replaced_in"} (the replacement's batch)
    kept: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def withdrawal_record(batch_id: str, user: str, time: str, reason: str) -> rdflib.Graph:
    """The ``dcpa:Withdrawal`` of a batch: who, when, why, and the graph it invalidated."""
    g = rdflib.Graph()
    w = URIRef(node("withdrawal", batch_id))
    g.add((w, RDF.type, DCPA.Withdrawal))
    g.add((w, RDFS.label, Literal(f"撤回导入批次 {batch_id}", lang="zh")))
    g.add((w, RDFS.label, Literal(f"Withdrawal of import batch {batch_id}", lang="en")))
    g.add((w, DCPA.recordedBy, Literal(user)))
    g.add((w, PROV.endedAtTime, Literal(time, datatype=XSD.dateTime)))
    g.add((w, PROV.invalidated, URIRef(import_graph(batch_id))))
    if reason:
        g.add((w, RDFS.comment, Literal(reason)))
    return g


def withdraw(
    store: StoreAPI, batch_id: str, *, user: str, reason: str = "", settings: Settings, dry_run: bool = False
) -> WithdrawReport:
    """Withdraw the import batch ``batch_id`` (see the module's docstring); ``dry_run`` checks only.

    Raises ``NotFound`` (no such batch), ``Conflict`` (withdrawn already, a replacement, still being
    written) or ``ValidationFailed`` (records of other batches refer to it, or the user or the reason
    cannot be stored); nothing is changed then.
    """
    user = checked_user(user, "请写明由谁撤回这个批次 / say who withdraws the batch")
    reason = _checked_reason(reason)
    recover(store, settings)  # what an interrupted write left, before this one reads the manifest
    root = Path(settings.imports_path)
    batches = read_manifest(root)["batches"]
    entry = _entry(batches, batch_id)
    graph = import_graph(batch_id)
    # the batch as N-Triples: read for the areas it touches, deleted in parts, put back if the refresh fails
    # (a 100,000-row batch: 131 MB, where its quads as Python objects had been 540 MB)
    out = io.BytesIO()
    store.dump(out, "nt", graph)  # Oxigraph writes it: 3.5 s for 10^6 triples, 6.7 s through Python's quads
    data = out.getvalue()
    _refuse_dangling(store, batch_id)
    now = batch_time().strftime(TIME_FORMAT)
    kept = _replaced_since(batches, batch_id)
    counts = dict(entry.get("counts") or {})
    for k in kept:  # what leaves: the batch's records but those replaced since
        counts[k["kind"]] = max(0, counts.get(k["kind"], 0) - 1)
    report = WithdrawReport(batch_id, user, now, reason, data.count(b"\n"), {k: n for k, n in counts.items() if n},
                            dry_run, withdrawal_graph(batch_id), kept)
    if dry_run:
        return report
    def changed() -> Iterator[tuple[str, str, str]]:  # made as it is read: a 100,000-row batch is 10^6 triples
        return ((lexical(t.subject), t.predicate.value, lexical(t.object))
                for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES))

    marker = Marker(batch_id, *affected_areas(store, changed()), graphs={graph, withdrawal_graph(batch_id)},
                    interventions=changed_interventions(changed()))
    # A batch of needs (and of records the rule does not read): their facts, read before they go, let the refresh
    # take their counts off the summaries instead of recounting their counties (a 100,000-row batch: 37.7 s).
    gone = needs_by_iri(store, marker.needs) if marker.needs and needs_only(changed()) else []
    record = graph_to_ntriples(withdrawal_record(batch_id, user, now, reason)).decode("utf-8")
    amend(root, batch_id, set_fields={"state": WITHDRAWING, "withdrawal": {"user": user, "time": now,
                                                                           "reason": reason}})
    faults.point("withdraw:marked")
    try:
        # the record before the data goes: cut short after it, the store holds the batch, or part of it, with its
        # record, and recovery drops the rest; never neither
        store.update(request([marker.insert(),
                              f"INSERT DATA {{ GRAPH <{withdrawal_graph(batch_id)}> {{\n{record}\n}} }}"]))
        faults.point("withdraw:recorded")
        _delete(store, graph, data)
    except Exception:
        if not landed_anyway(store, settings, batch_id):
            raise
        return report
    except BaseException:
        _unmark(root, batch_id)
        raise
    faults.point("withdraw:landed")
    try:
        finish(store, marker, settings, gone=gone)
    except BaseException:
        roll_back(store, settings, marker, lambda m: _put_back(store, m, graph, data),
                  lambda: _unmark(root, batch_id))
        raise
    faults.point("withdraw:unmarked")
    amend(root, batch_id, drop_fields=("state",))
    faults.point("withdraw:settled")
    log.info("withdrew batch %s (%d triples) for %s", batch_id, report.triples, user)
    return report


def _checked_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    problem = text_problem(text, MAX_REASON_CHARS)
    if problem:
        raise ValidationFailed(
            [Issue(labelled("撤回原因", "reason", problem[0]), column="reason", value=for_terminal(text[:80]),
                   hint=problem[1])],
            "撤回原因无法保存，什么都没有撤回 / the reason cannot be stored; nothing was withdrawn",
        )
    return text


def _replaced_since(batches: list[dict[str, Any]], batch_id: str) -> list[dict[str, str]]:
    """The records of ``batch_id`` a later replacement superseded, each with the replacement that holds it now
    (the latest not withdrawn: a record replaced twice is held by the second)."""
    replacements = sorted((e for e in batches if e.get("source") == "replace" and e.get("record")),
                          key=lambda e: str(e.get("time", "")))
    ours = {str(e["record"]) for e in replacements if batch_id in (e.get("replaces_in") or ())}
    out: dict[str, dict[str, str]] = {}
    for e in replacements:
        if str(e["record"]) in ours and not is_withdrawn(e):
            out[str(e["record"])] = {"kind": str(e.get("kind", "")), "record": str(e["record"]),
                                     "replaced_in": str(e["batch_id"])}
    return sorted(out.values(), key=lambda k: k["record"])


def _entry(batches: list[dict[str, Any]], batch_id: str) -> dict[str, Any]:
    found = [e for e in batches if e.get("batch_id") == batch_id]
    if not found:
        raise NotFound(
            f"没有导入批次 {batch_id!r} / no import batch {batch_id!r}",
            hint="`dcpa history`（或 GET /api/imports）会列出所有批次 / "
            "`dcpa history` (or GET /api/imports) lists the batches",
        )
    entry = found[0]
    if entry.get("state"):
        raise Conflict(f"批次 {batch_id} 仍在写入中（{entry['state']}） / "
                       f"batch {batch_id} is still being written ({entry['state']})",
                       hint="请稍后再试：下一次写入会完成或撤销它 / "
                       "try again in a moment: the next write finishes or undoes it")
    if entry.get("withdrawal"):
        w = entry["withdrawal"]
        raise Conflict(f"批次 {batch_id} 已于 {w.get('time')} 由 {w.get('user')} 撤回 / "
                       f"batch {batch_id} was already withdrawn on {w.get('time')} by {w.get('user')}",
                       hint="请把改正后的文件作为新批次导入 / import its corrected files as a new batch")
    blocker = blocker_reason(entry, withdrawn_batches(batches))
    if blocker is not None:
        put = f"PUT /api/{entry.get('kind')}/{entry.get('record_id')}"
        raise Conflict(
            f"批次 {batch_id} 替换了一条记录（{entry.get('record')}），还不能撤回：{blocker[0]} / "
            f"batch {batch_id} is the replacement of one record ({entry.get('record')}) and cannot be withdrawn: "
            f"{blocker[1]}",
            hint=f"请用这条记录应有的内容再替换一次（{put}）；要删除这条记录，先撤回最初导入它的批次，再撤回本批次 / "
            f"replace the record again with the version it should have ({put}); to remove the record, "
            "withdraw the batch that first imported it, then this one",
        )
    return entry


def _refuse_dangling(store: StoreAPI, batch_id: str) -> None:
    """Refuse when records in other graphs refer to records that only this batch holds.

    Each referring record is named once (a need and its quote were two, or three), by where the steward entered it:
    its batch, file, sheet and row, and the record of this batch it refers to by its ID (ITV-2). The problems named
    the batch as the file and the records by their IRIs (…/need/imp-e192395b6b08#quote), found in no spreadsheet."""
    graph = import_graph(batch_id)
    rows = store.select(f"""
        SELECT ?x ?p ?s ?g WHERE {{
          {{ SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s a ?t }} }} }}
          FILTER NOT EXISTS {{ GRAPH ?h {{ ?s a ?t2 }} FILTER(?h != <{graph}>) }}
          GRAPH ?g {{ ?x ?p ?s }}
          FILTER(?g != <{graph}> && ?g != <{GRAPH_DERIVED}> && !STRSTARTS(STR(?g), "{GRAPH_JOURNAL}"))
        }} ORDER BY ?g ?x LIMIT {_MAX_LISTED + 1}""")
    if not rows:
        return
    # a quote (…/need/imp-…#quote) is part of its need: one record, named once, in the order found
    found = dict.fromkeys((str(r["g"]), str(r["x"]).split("#", 1)[0], str(r["s"])) for r in rows[:_MAX_LISTED])
    issues = []
    for g, rec, s in found:
        other = batch_of(g) or g
        name, sheet, row = _entered(store, g, rec)
        what = _short(s)
        issues.append(Issue(
            f"批次 {other} 的这条记录引用了只在本批次中的 {what} / "
            f"this record of batch {other} refers to {what}, which only this batch holds",
            file=name or other,
            sheet=sheet,
            row=row,
            value=what,
            hint=f"请先撤回批次 {other}，或替换这条记录（{_short(rec)}），使它不再引用本批次的记录 / "
            f"withdraw batch {other} first, or replace this record ({_short(rec)}) so that it no longer "
            "refers to this batch's",
        ))
    more, more_zh = (" (and more)", "（还有更多）") if len(rows) > _MAX_LISTED else ("", "")
    raise ValidationFailed(issues, f"其他批次的记录引用了批次 {batch_id} 的记录{more_zh}，什么都没有撤回 / "
                                   f"records of other batches refer to records of batch {batch_id}{more}; "
                                   "nothing was withdrawn")


def _entered(store: StoreAPI, graph: str, record: str) -> tuple[str | None, str | None, int | None]:
    """Where ``record`` of the batch ``graph`` was entered: its file, sheet and row (None where not known). Its file is
    the one its evidence came from, else the batch's only file (a need resting on an interview is derived from the
    interview, no file)."""
    where = store.select(f"""
        SELECT ?sheet ?row WHERE {{ GRAPH <{graph}> {{
          <{record}> <{DCPA.sourceSheet}> ?sheet ; <{DCPA.sourceRow}> ?row }} }}""")
    files = store.select(f"""
        SELECT DISTINCT ?f ?name WHERE {{ GRAPH <{graph}> {{
          ?f a <{DCPA.ImportedFile}> ; <{DCPA.fileName}> ?name }} }}""")
    via = {str(r["f"]) for r in store.select(f"""
        SELECT ?f WHERE {{ GRAPH <{graph}> {{
          <{record}> <{PROV.wasDerivedFrom}> ?e . ?e <{PROV.wasDerivedFrom}> ?f }} }}""")}
    names = [str(r["name"]) for r in files if str(r["f"]) in via] or [str(r["name"]) for r in files]
    sheet = str(where[0]["sheet"]) if where else None
    row = int(str(where[0]["row"])) if where else None
    return (names[0] if len(names) == 1 else None), sheet, row


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _unmark(root: Path, batch_id: str) -> None:
    """Take back the ``withdrawing`` mark of a withdrawal that did not land."""
    try:
        amend(root, batch_id, drop_fields=("state", "withdrawal"))
    except Exception:  # noqa: BLE001 - the write's error is the one to report; recovery clears the mark
        log.exception("could not clear the withdrawal mark of batch %s; the next write clears it", batch_id)


def _delete(store: StoreAPI, graph: str, data: bytes) -> None:
    """Delete the triples ``data`` (N-Triples) from ``graph``, in parts (``kg.updates.deletions``, each a transaction:
    a withdrawal cut short in between is completed by recovery, its record being in the store)."""
    # a blank node cannot be named in DELETE DATA: such lines (no import mints one) go with the DROP after
    lines = [line for line in data.decode("utf-8").splitlines(keepends=True) if "_:" not in line]
    for text in deletions(lines, graph):
        store.update(text)
    store.update(f"DROP SILENT GRAPH <{graph}>")  # whatever is left


def _put_back(store: StoreAPI, marker: Marker, graph: str, data: bytes) -> None:
    """Undo the withdrawal: the data back (one load: whole or not at all), then the withdrawal record and the
    marker gone (cut short in between, the record is still there: recovery completes the withdrawal)."""
    store.add_graph(graph, data)
    store.update(request([f"DROP SILENT GRAPH <{withdrawal_graph(marker.batch_id)}>", marker.delete()]))
