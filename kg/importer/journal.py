"""The journal of writes: each write lands wholly or not at all, even across ``kill -9``.

A write (an import, a record replacement) touches three things that no single transaction covers:
the data, the derived graph and the kept files (``retain``). So it goes in steps, each one atomic,
and leaves enough behind at every moment to finish or undo it:

1. keep the files and add the manifest entry marked pending              (``retain``)
2. a *marker* in ``GRAPH_JOURNAL`` naming the areas and needs whose derived facts are now stale
   (``Marker``), then the data: for an import, two writes of one graph each (``write_marked``); for
   a replacement, one request holding both, the new data before the old is dropped (a store that commits
   each operation on its own, Virtuoso, cut short in between holds both); for a withdrawal, one request
   holding the marker and the withdrawal record, then the batch's triples deleted in parts
3. refresh the derived graph for them (its own writes, repaired by recovery if cut short), then drop the marker
4. mark the manifest entry done                                          (``settle``)

``recover`` runs whenever a writer starts (the server at start, every write before it writes, a
build before it replays): a pending entry whose batch is not in the store is rolled back (entry and
files removed: the write never happened and can be run again); one whose batch is in the store is
rolled forward (a replacement's old version dropped again, the refresh redone from its marker —
both are harmless twice — and the entry marked done). A marker whose batch did not land is dropped
with the entry. A build replays only done entries. A withdrawal (``kg.importer.withdraw``) is settled
the same way: finished when its withdrawal record is in the store (its batch's graph dropped again),
forgotten when it is not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import rdflib

from .. import faults
from ..contract import StoreAPI
from ..derived import MARKED, advance, refresh
from ..namespaces import GRAPH_JOURNAL, JOURNAL, import_graph, withdrawal_graph
from ..rule import NeedFacts
from ..settings import Settings
from ..store import to_python
from ..updates import request
from .retain import WITHDRAWING, amend, discard, is_pending, read_manifest, remove_orphans, settle
from .supersede import superseded_ops

log = logging.getLogger(__name__)


@dataclass
class Marker:
    """"The derived facts of these areas and needs are stale": written with the data (or just before it),
    dropped after the refresh."""

    batch_id: str
    areas: set[str] = field(default_factory=set)
    needs: set[str] = field(default_factory=set)
    #: Named graphs the write adds, changes or drops (their class partitions are recounted).
    graphs: set[str] = field(default_factory=set)
    #: The write only adds ``needs`` (and records the rule does not read): ``kg.derived.refresh(added=True)``.
    added: bool = False
    #: Not None: what the write changes that the rule reads is these interventions and their evaluations alone.
    interventions: set[str] | None = None

    @property
    def graph(self) -> str:
        """The marker's own named graph (dropping it removes the marker whole)."""
        return GRAPH_JOURNAL + self.batch_id

    def ntriples(self) -> bytes:
        s = ox.NamedNode(self.graph)
        lines = [f"{s} <{JOURNAL.batch}> {ox.Literal(self.batch_id)} .\n"]
        lines += [f"{s} <{JOURNAL.area}> {ox.Literal(a)} .\n" for a in sorted(self.areas)]
        lines += [f"{s} <{JOURNAL.need}> {ox.NamedNode(n)} .\n" for n in sorted(self.needs)]
        lines += [f"{s} <{JOURNAL.graph}> {ox.NamedNode(g)} .\n" for g in sorted(self.graphs)]
        if self.added:
            lines.append(f"{s} <{JOURNAL.added}> {ox.Literal(True)} .\n")
        if self.interventions is not None:
            lines.append(f"{s} <{JOURNAL.interventionsOnly}> {ox.Literal(True)} .\n")
            lines += [f"{s} <{JOURNAL.intervention}> {ox.NamedNode(i)} .\n" for i in sorted(self.interventions)]
        return "".join(lines).encode("utf-8")

    def insert(self) -> str:
        """A SPARQL Update operation adding the marker (to join the write's own update)."""
        return f"INSERT DATA {{ GRAPH <{self.graph}> {{\n{self.ntriples().decode('utf-8')}}} }}"

    def delete(self) -> str:
        """A SPARQL Update operation removing the marker."""
        return f"DROP SILENT GRAPH <{self.graph}>"


def write_marked(store: StoreAPI, marker: Marker, graph: str, data: rdflib.Graph | bytes) -> None:
    """Step 2 of an import: the marker, then the batch's graph, each one write of one graph.

    Why not one write of both: a remote store may commit each operation of a request on its own
    (Virtuoso), and its update parser refuses a few thousand triples, while one graph goes whole in one
    Graph Store Protocol request (``kg.remote``); the embedded store loads one graph in one transaction, or
    one bulk load as atomic (``Store.add_graph``).
    A kill between the two leaves a marker whose batch is not in the store: ``recover`` rolls the batch
    back and drops the marker. A failed data write drops it at once.
    """
    store.add_graph(marker.graph, marker.ntriples())
    faults.point("write:marked")
    try:
        store.add_graph(graph, data)
    except BaseException:
        try:
            store.remove_graph(marker.graph)
        except Exception:  # noqa: BLE001 - the write's error is the one to report; recovery drops it
            log.exception("could not drop the marker of batch %s; the next write drops it", marker.batch_id)
        raise


def markers(store: StoreAPI) -> dict[str, Marker]:
    """The markers in the store, by batch id."""
    out: dict[str, Marker] = {}
    for graph in sorted({str(r["g"]) for r in store.select(f"SELECT DISTINCT ?g WHERE {{ {MARKED} }}")}):
        pos = [(q.predicate.value, str(to_python(q.object)))
               for q in store.quads(graph=graph)]
        bid = next((o for p, o in pos if p == str(JOURNAL.batch)), graph[len(GRAPH_JOURNAL):])
        out[bid] = Marker(bid, {o for p, o in pos if p == str(JOURNAL.area)},
                          {o for p, o in pos if p == str(JOURNAL.need)}, {o for p, o in pos if p == str(JOURNAL.graph)},
                          added=any(p == str(JOURNAL.added) for p, _ in pos),
                          interventions={o for p, o in pos if p == str(JOURNAL.intervention)}
                          if any(p == str(JOURNAL.interventionsOnly) for p, _ in pos) else None)
    return out


def in_store(store: StoreAPI, batch_id: str) -> bool:
    """Whether the data of a batch is in the store (its graph has at least one triple)."""
    return store.ask(f"ASK {{ GRAPH <{import_graph(batch_id)}> {{ ?s ?p ?o }} }}")


def refresh_derived(store: StoreAPI, areas: Iterable[str], needs: Iterable[str], settings: Settings, *,
                    graphs: Iterable[str] = (), repair: bool = False, added: bool = False,
                    interventions: Iterable[str] | None = None, gone: Sequence[NeedFacts] = ()) -> None:
    """Recompute the derived graph for the touched areas, needs and graphs (the one call of ``kg.derived``'s
    refresh by writes and their recovery; ``repair`` for a refresh that may have been cut short, ``added``
    for a write that only added the needs, ``interventions`` for one that only changed those, ``gone`` the
    facts of the needs a write only removed, read before it)."""
    refresh(store, set(areas), set(needs), graphs=set(graphs), settings=settings, repair=repair, added=added,
            interventions=None if interventions is None else set(interventions), gone=gone)


def finish(store: StoreAPI, marker: Marker, settings: Settings, *, repair: bool = False,
           gone: Sequence[NeedFacts] = ()) -> None:
    """Steps 3 and the marker's removal: bring the derived graph up to date, then drop the marker.
    Recovery ``repair``s: the refresh it redoes may have been cut short half written (a repair recomputes
    the counties whole, whatever the write was). ``gone``: see ``refresh_derived``."""
    refresh_derived(store, marker.areas, marker.needs, settings, graphs=marker.graphs, repair=repair,
                    added=marker.added, interventions=marker.interventions, gone=gone)
    faults.point("write:refreshed")
    store.update(marker.delete())


@contextmanager
def stale(store: StoreAPI, batch_id: str, areas: Iterable[str]) -> Iterator[None]:
    """A marker naming ``areas`` for as long as the block runs: dropped when it ends, left for recovery
    when it fails (the block's writes may have landed in part)."""
    marker = Marker(batch_id, set(areas))
    store.add_graph(marker.graph, marker.ntriples())
    yield
    store.update(marker.delete())


def advance_marked(store: StoreAPI, day: date, settings: Settings) -> int:
    """``kg.derived.advance`` with the counties it rewrites marked stale while it runs: a move cut short
    (a crash, a store that commits each operation of a request on its own) is repaired by ``recover``,
    as of the date the derived graph then holds; the next move redoes the rest."""
    return advance(store, day, settings=settings,
                   journal=lambda counties: stale(store, f"advance-{day.isoformat()}", counties))


@dataclass
class Recovery:
    """What ``recover`` did."""

    rolled_back: list[str] = field(default_factory=list)
    rolled_forward: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rolled_back or self.rolled_forward or self.removed)


def recover(store: StoreAPI | None, settings: Settings) -> Recovery:
    """Finish or undo what interrupted writes left (the caller is the store's only writer).

    With ``store=None`` (the store is missing or damaged, and a build will replace it) no batch can be
    shown to have landed: pending entries are rolled back.
    """
    root = Path(settings.imports_path)
    done = Recovery()
    entries = read_manifest(root)["batches"] if root.is_dir() else []
    pending = [e["batch_id"] for e in entries if is_pending(e)]
    withdrawing = [e["batch_id"] for e in entries if e.get("state") == WITHDRAWING]
    left = markers(store) if store is not None else {}
    by_id = {e["batch_id"]: e for e in entries}
    for bid in pending:
        if store is not None and in_store(store, bid):
            if by_id[bid].get("source") == "replace" and by_id[bid].get("record"):  # the old version may be left
                store.update(request(superseded_ops(by_id[bid]["record"], import_graph(bid))))
            marker = left.pop(bid, None)
            if marker is not None:
                finish(store, marker, settings, repair=True)
            settle(root, bid)
            done.rolled_forward.append(bid)
        else:
            marker = left.pop(bid, None)
            if store is not None and marker is not None:  # killed between the marker and the data
                store.update(marker.delete())
            discard(root, bid)
            done.rolled_back.append(bid)
    for bid in withdrawing:  # landed when its withdrawal record is in the store
        if store is not None and store.ask(f"ASK {{ GRAPH <{withdrawal_graph(bid)}> {{ ?s ?p ?o }} }}"):
            store.update(f"DROP SILENT GRAPH <{import_graph(bid)}>")  # cut short before the drop: drop it now
            marker = left.pop(bid, None)
            if marker is not None:
                finish(store, marker, settings, repair=True)
            amend(root, bid, drop_fields=("state",))
            done.rolled_forward.append(bid)
        else:
            marker = left.pop(bid, None)
            if store is not None and marker is not None:  # cut short after the marker: the batch is all there
                store.update(marker.delete())
            amend(root, bid, drop_fields=("state", "withdrawal"))
            done.rolled_back.append(bid)
    if store is not None:
        for marker in left.values():  # a marker without a pending entry: finish the refresh all the same
            finish(store, marker, settings, repair=True)
    if root.is_dir():
        done.removed = remove_orphans(root)
    if done:
        log.warning(
            "recovered interrupted writes: rolled back %s, completed %s, removed leftovers %s",
            done.rolled_back or "none",
            done.rolled_forward or "none",
            done.removed or "none",
        )
    return done
