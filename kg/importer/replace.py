"""Replace one record (a need, an intervention, an evaluation; also a library or a resource) by a corrected version.

An import only adds records; a planner who finds a wrong severity needs to *change* one. The new
version goes through exactly the checks of an import (column specs, references, SHACL) and keeps
the record's IRI, so everything pointing at it (evaluations of an intervention, links from other
graphs) stays valid. One SPARQL Update then writes the new version as a new batch graph and deletes
every other triple whose subject is the record, in whatever graph (an import batch, the synthetic
example graph); the new batch graph's ``dcpa:ImportActivity`` says who and when and ``prov:invalidated`` the record's
previous description; the derived graph is refreshed for the areas the old and the new version
touch. The replacement is kept in the import manifest (source ``"replace"``) so a
rebuild replays it in order after the imports it corrects.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib import URIRef
from rdflib.namespace import PROV

from ..contract import StoreAPI
from ..derived import affected_areas, changed_interventions, graph_triples
from ..errors import Issue, NotFound, ValidationFailed
from ..namespaces import GRAPH_DERIVED, batch_of, import_graph, node
from ..settings import Settings
from ..store import graph_to_ntriples
from ..updates import quad_ops, request
from .batch import ImportReport, batch_entry, batch_report, batch_time, build_batch, checked_user, new_batch_id
from .checks import shacl_issues, store_types
from .landing import land
from .mapping import NOT_AN_OBJECT, Batch, record_rows, unknown_keys, unsafe_text
from .readers import ImportUsageError
from .specs import RECORD_KINDS, REPLACEABLE
from .supersede import superseded_ops

log = logging.getLogger(__name__)


SOURCE_NAME = "api"
STORED_NAME = "record.json"


def record_iri(kind: str, record_id: str) -> URIRef:
    """The IRI of a replaceable record from its id (the last segment of the IRI, unencoded)."""
    return URIRef(node(REPLACEABLE[kind][0], record_id))


def replace_record(
    store: StoreAPI,
    kind: str,
    record_id: str,
    record: dict[str, Any],
    *,
    user: str,
    settings: Settings,
    dry_run: bool = False,
) -> ImportReport:
    """Replace the record ``record_id`` of ``kind`` by ``record`` (a dict keyed by column keys).

    Raises ``NotFound`` if there is no such record, ``ValidationFailed`` (nothing written) if the new
    version fails any import check. The record keeps its IRI even when identifying columns change.
    """
    if kind not in REPLACEABLE:
        kinds = ", ".join(REPLACEABLE)
        raise ImportUsageError(
            f"{kind!r} 类记录不能替换 / records of kind {kind!r} cannot be replaced",
            hint=f"请使用以下之一：{kinds} / one of: {kinds}"
        )
    user = checked_user(user)
    if not isinstance(record, dict):
        raise ValidationFailed([Issue(NOT_AN_OBJECT, file=SOURCE_NAME, sheet=kind)])
    iri = record_iri(kind, record_id)
    cls = REPLACEABLE[kind][1]
    if not store.ask(f"ASK {{ <{iri}> a/rdfs:subClassOf* <{cls}> }}"):
        raise NotFound(
            f"没有编号为 {record_id!r} 的{RECORD_KINDS[kind].zh} / no {REPLACEABLE[kind][0]} with id {record_id!r}",
            hint=f"图谱中没有记录 <{iri}> / the record <{iri}> is not in the graph",
        )
    now = batch_time()
    batch, reader_issues = _replacement_batch(store, new_batch_id(now), user.strip(), now, kind, record_id, record)
    warnings = _validate(store, batch, reader_issues)
    if not dry_run:
        content = {"kind": kind, "record_id": record_id, "iri": str(iri), "record": record}
        entry = _entry(batch, kind, record_id, iri)
        # the batches whose version of the record this one supersedes: a withdrawal of one of them names the
        # record as staying, and this replacement can be withdrawn once they all are (kg.importer.withdraw)
        held = [str(r["g"]) for r in store.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}")]
        entry["replaces_in"] = sorted({b for g in held if (b := batch_of(g)) is not None})
        entry["supersedes_other"] = any(batch_of(g) is None and g != str(GRAPH_DERIVED) for g in held)
        data = json.dumps(content, ensure_ascii=False, indent=2, default=str).encode("utf-8")
        _commit(store, batch, iri, settings, entry, data)
        log.info("replace %s %s in batch %s (%d triples)", kind, iri, batch.batch_id, len(batch.graph))
    report = batch_report(batch, dry_run, [SOURCE_NAME], warnings)
    report.replaced = str(iri)
    return report


def _replacement_batch(
    store: StoreAPI, batch_id: str, user: str, time: dt.datetime, kind: str, record_id: str, record: dict[str, Any]
) -> tuple[Batch, list[Issue]]:
    """Map and reference-check the new version like an import, then give it the kept IRI."""
    iri = record_iri(kind, record_id)
    record = dict(record)
    reader_issues = unknown_keys(kind, SOURCE_NAME, [record]) + unsafe_text(kind, SOURCE_NAME, [record])
    if RECORD_KINDS[kind].identity == ("id",):  # the id is the IRI: it may be left out, but not changed
        given = record.get("id")
        if given is None or (isinstance(given, str) and not given.strip()):
            record["id"] = record_id
        elif str(given).strip() != record_id:
            reader_issues.append(
                Issue(
                    "编号与被替换的记录不符 / the id differs from the record being replaced",
                    file=SOURCE_NAME,
                    sheet=kind,
                    row=1,
                    column="id",
                    value=str(given),
                    hint=f"请不填 'id'，或填写 {record_id!r}；要添加新记录，请导入它 / "
                    f"leave 'id' out or write {record_id!r}; to add a new record, import it",
                )
            )
    batch = Batch(batch_id, user, time)
    build_batch(store, batch, [(SOURCE_NAME, [(kind, record_rows(kind, SOURCE_NAME, [record]))])])
    for minted in list(batch.minted):
        if minted != iri:
            _rename(batch, minted, iri)
            # The identifying columns changed: the hash IRI they would mint must not name another record.
            if store_types(store, [minted]).get(minted):
                where = batch.minted[iri][1]
                spec = RECORD_KINDS[kind]
                batch.issues.append(
                    where.issue(
                        "另一条记录已有这些标识值 / another record already has these identifying values",
                        spec.identity[0],
                        batch.identities.get(iri, ""),
                        f"<{minted}> 的 {', '.join(spec.identity)} 与之相同：请改为替换那条记录 / "
                        f"<{minted}> has the same {', '.join(spec.identity)}; replace that record instead",
                    )
                )
    batch.graph.add((batch.activity, PROV.invalidated, iri))
    return batch, reader_issues


def _rename(batch: Batch, old: URIRef, new: URIRef) -> None:
    """Give the record minted as ``old`` (from its identifying columns) the kept IRI ``new``."""
    g = batch.graph
    for s, p, o in list(g.triples((old, None, None))):
        g.remove((s, p, o))
        g.add((new, p, o))
    for s, p, o in list(g.triples((None, None, old))):
        g.remove((s, p, o))
        g.add((s, p, new))
    batch.minted[new] = batch.minted.pop(old)
    if old in batch.identities:
        batch.identities[new] = batch.identities.pop(old)
    for r in batch.references:
        if r.iri == old:
            r.iri = new
    batch.context = None  # read again: what counts as context (not minted) may have changed with the IRI


def _validate(store: StoreAPI, batch: Batch, reader_issues: list[Issue]) -> list[str]:
    """The import's checks minus "already exists" (the record is meant to exist). Returns warnings."""
    issues = reader_issues + batch.issues
    warnings: list[str] = []
    if not issues and not batch.minted:
        issues.append(
            Issue("没有可写入的记录 / nothing to write", file=SOURCE_NAME, hint="请发送一条记录 / send one record")
        )
    if not issues:
        shacl, warnings = shacl_issues(store, batch)
        issues += shacl
    if issues:
        issues.sort(key=lambda i: (i.file or "", i.sheet or "", i.row or 0))
        raise ValidationFailed(issues)
    return warnings


def _entry(batch: Batch, kind: str, record_id: str, iri: URIRef) -> dict[str, Any]:
    entry = batch_entry(batch, "replace", [SOURCE_NAME])
    entry.update(
        {
            "kind": kind,
            "record_id": record_id,
            "record": str(iri),
            "files": [{"name": SOURCE_NAME, "stored": STORED_NAME}],
        }
    )
    return entry


def apply_replacement(store: StoreAPI, iri: URIRef | str, graph: str, data: rdflib.Graph, also: str = "") -> None:
    """One request: ``also`` (the journal's marker), the new version of ``iri`` written as ``graph``, then
    what every other graph says about ``iri`` dropped (``superseded_ops``).

    Why in this order: a store that commits each operation of a request on its own (Virtuoso) and is cut
    short holds the old version, or both; never neither. The journal's recovery finishes the second
    (``superseded_ops`` again) and undoes the first. On the embedded store and Oxigraph server the request
    is one transaction.
    """
    text = graph_to_ntriples(data).decode("utf-8")
    store.update(request([also, f"DROP SILENT GRAPH <{graph}>", f"INSERT DATA {{ GRAPH <{graph}> {{\n{text}\n}} }}",
                          *superseded_ops(iri, graph)]))


def _restore(store: StoreAPI, graph: str, old: list[ox.Quad], also: str = "") -> None:
    """Undo ``apply_replacement``: the old triples back where they were, the new graph dropped, then ``also``
    (removing the journal's marker). Cut short on a store that commits each operation on its own, both
    versions are there and the replacement's batch too: recovery completes the replacement."""
    store.update(request([*quad_ops("INSERT", old), f"DROP SILENT GRAPH <{graph}>", also]))


def _commit(
    store: StoreAPI, batch: Batch, iri: URIRef, settings: Settings, entry: dict[str, Any], content: bytes
) -> None:
    graph = import_graph(batch.batch_id)
    old = list(store.quads(str(iri)))
    changed = [(lexical(q.subject), q.predicate.value, lexical(q.object)) for q in old] + graph_triples(batch.graph)
    land(
        store,
        settings,
        entry=entry,
        files=[(STORED_NAME, content)],
        write=lambda marker: apply_replacement(store, iri, graph, batch.graph, also=marker.insert()),
        undo=lambda marker: _restore(store, graph, old, also=marker.delete()),
        touched=affected_areas(store, changed),
        interventions=changed_interventions(changed),
        graphs={graph} | {q.graph_name.value for q in old if isinstance(q.graph_name, ox.NamedNode)},
        what=("这次替换", "the replacement"),
        outcome=("什么都没有改变", "nothing was changed"),
    )


def replay_replacement(store: StoreAPI, root: Path, entry: dict[str, Any], time: dt.datetime) -> None:
    """Apply a retained replacement again (``replay_retained``), keeping its batch id, user and time."""
    bid = entry["batch_id"]
    payload = json.loads((root / bid / entry["files"][0]["stored"]).read_text(encoding="utf-8"))
    batch, reader_issues = _replacement_batch(
        store, bid, entry.get("user", "unknown"), time, payload["kind"], payload["record_id"], payload["record"]
    )
    problems = reader_issues + batch.issues
    if URIRef(payload["iri"]) not in batch.minted:  # keep the old version rather than lose the record
        log.warning(
            "replaying replacement %s: the new version of %s no longer maps, kept the old one: %s",
            bid,
            payload["iri"],
            "; ".join(str(i) for i in problems[:5]),
        )
        return
    if problems:
        log.warning(
            "replaying replacement %s of %s: %d problem(s), applied what maps: %s",
            bid,
            payload["iri"],
            len(problems),
            "; ".join(str(i) for i in problems[:5]),
        )
    apply_replacement(store, payload["iri"], import_graph(bid), batch.graph)


def lexical(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The IRI, blank node id or literal value of a term, for ``affected_areas`` (``str`` for quoted
    triples, never used here)."""
    return str(term) if isinstance(term, ox.Triple) else term.value
