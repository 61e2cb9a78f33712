"""Writes on a store that commits each operation of an update request on its own (Virtuoso 7 does), cut
short after any operation as a ``kill -9`` of the writer would leave them: the next writer's recovery makes
each write whole or undoes it. A replaced record is never lost nor doubled, a withdrawn batch is never half
gone, and the derived graph is the one a fresh derivation gives. (``tests/core/test_crash.py`` kills real
processes between the steps of a write; here the cut falls inside a step.)"""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic

import kg.updates
from kg import derived
from kg.contract import StoreAPI
from kg.importer import import_records
from kg.importer.journal import GRAPH_JOURNAL, advance_marked, recover
from kg.importer.replace import replace_record
from kg.importer.retain import read_manifest
from kg.importer.withdraw import withdraw
from kg.namespaces import DCPA, GRAPH_DERIVED, import_graph, withdrawal_graph
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, V3, fixture_store, need, settings_for
from .test_derived import INTERVENTION, _assert_current, _derived_as_of


class Killed(BaseException):
    """The writer died here."""


class OpByOp:
    """The store as a writer sees it when the store commits each operation of a request on its own, and the
    writer dies once ``cut`` operations have landed: what the store and the kept files held then is ``left``."""

    def __init__(self, inner: Store, settings: Settings, cut: int | None) -> None:
        self.inner, self.settings, self.cut, self.done = inner, settings, cut, 0
        self.left: tuple[bytes, Path] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _one(self, write: Callable[[], object]) -> None:
        if self.left is not None:  # dead: what it would still have done (undo, clean up) never happens
            raise Killed
        if self.done == self.cut:
            buf = io.BytesIO()
            self.inner.dump(buf, "nq")
            kept = Path(str(self.settings.imports_path) + f"-left-{self.cut}")
            if self.settings.imports_path.exists():
                shutil.copytree(self.settings.imports_path, kept)
            self.left = (buf.getvalue(), kept)
            raise Killed
        write()
        self.done += 1

    def update(self, sparql: str) -> None:
        for op in sparql.split(" ;\n"):  # how the library joins operations (kg.updates.request)
            self._one(lambda op=op: self.inner.update(op))

    def add_graph(self, graph: str, data: Any) -> int:
        self._one(lambda: self.inner.add_graph(graph, data))
        return 0

    def remove_graph(self, graph: str) -> None:
        self._one(lambda: self.inner.remove_graph(graph))


def _restart(left: tuple[bytes, Path], settings: Settings) -> Store:
    """What the next writer finds: the store and the kept files as the dead one left them, recovered."""
    data, kept = left
    store = Store.memory()
    store.bulk_load(data, "nq")
    shutil.rmtree(settings.imports_path, ignore_errors=True)
    if kept.exists():
        shutil.copytree(kept, settings.imports_path)
    recover(store, settings)
    return store


def _record(store: StoreAPI, iri: str) -> set[tuple[str, str, str]]:
    """What the data graphs (not the derived graph, not the journal) say about ``iri``."""
    return {(q.predicate.value, q.object.value, q.graph_name.value) for q in store.quads(iri)
            if q.graph_name.value != str(GRAPH_DERIVED)}


def _settled(store: StoreAPI, settings: Settings) -> list[dict[str, Any]]:
    assert not [g for g in store.graphs() if g.startswith(GRAPH_JOURNAL)]
    entries = read_manifest(settings.imports_path)["batches"]
    assert not [e for e in entries if e.get("state")], entries
    return entries


def _every_cut(base: Callable[[Settings], Store], write: Callable[[StoreAPI, Settings], object],
               check: Callable[[Store, Settings], None], tmp_path: Path) -> int:
    """Run ``write`` cut after each of its operations in turn (on a fresh ``base``), restart, ``check``;
    returns how many operations the whole write makes."""
    settings = settings_for(tmp_path / "whole")
    whole = OpByOp(base(settings), settings, None)
    write(whole, settings)  # type: ignore[arg-type]
    for cut in range(whole.done):
        settings = settings_for(tmp_path / f"cut{cut}")
        cut_short = OpByOp(base(settings), settings, cut)
        with pytest.raises(Killed):
            write(cut_short, settings)  # type: ignore[arg-type]
        assert cut_short.left is not None
        check(_restart(cut_short.left, settings), settings)
    return whole.done


@pytest.fixture(autouse=True)
def small_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operations of a few triples, so that a refresh is many of them and a cut can fall between any two."""
    monkeypatch.setattr(kg.updates, "DATA_OP_TRIPLES", 10)


NEW_NEED = {"village_code": V3, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
            "identified_on": "2020-03-01", "surveyor": "示例·调查员"}


def test_an_import_cut_anywhere_is_wholly_in_or_out(tmp_path: Path) -> None:
    def check(store: Store, settings: Settings) -> None:
        entries = _settled(store, settings)
        landed = [g for g in store.graphs() if g.startswith(import_graph(""))]
        assert len(landed) == len(entries) <= 1
        _assert_current(store)

    ops = _every_cut(lambda _: fixture_store(),
                     lambda s, settings: import_records(s, "needs", [NEW_NEED], user="录入员", settings=settings),
                     check, tmp_path)
    assert ops > 4  # the marker, the batch, its refresh in several operations, the marker dropped


def test_a_replacement_cut_anywhere_leaves_one_version_of_the_record(tmp_path: Path) -> None:
    """The replaced need (fixture need d) has its old version or its new one after recovery: never both,
    never neither, whichever operation of the replacement or of its refresh the writer died after."""
    iri = need("d")
    old = _record(fixture_store(), iri)
    record = {"village_code": V3, "need_type": "N33", "severity": 1, "people_affected": 3, "source": "survey",
              "identified_on": "2020-03-01", "surveyor": "示例·调查员"}

    def write(store: StoreAPI, settings: Settings) -> object:
        return replace_record(store, "needs", iri.rsplit("/", 1)[1], record, user="李四", settings=settings)

    seen: list[str] = []

    def check(store: Store, settings: Settings) -> None:
        entries = _settled(store, settings)
        now = _record(store, iri)
        if entries:  # the replacement landed: the new version only, in its batch's graph
            assert {g for _, _, g in now} == {import_graph(entries[0]["batch_id"])}
            assert {o for p, o, _ in now if p == str(DCPA.severity)} == {"1"}
            seen.append("new")
        else:
            assert now == old
            seen.append("old")
        _assert_current(store)

    ops = _every_cut(lambda _: fixture_store(), write, check, tmp_path)
    assert ops > 10 and {"old", "new"} <= set(seen)


def test_a_withdrawal_cut_anywhere_is_wholly_done_or_not(tmp_path: Path) -> None:
    """A batch (a province-wide intervention and a need) withdrawn: after recovery its graph is whole and
    there is no withdrawal record, or its graph is gone and the record is there."""
    province_wide = {**INTERVENTION, "id": "I-PROV", "name_zh": "测试·全省村史数字馆藏", "category": "C3",
                     "provided_by": "city", "uses_resources": "local", "target_areas": "21", "status": "S2",
                     "start_date": "2020-01-01"}
    made: dict[str, Any] = {}

    def base(settings: Settings) -> Store:
        store = fixture_store()
        report = import_records(store, "interventions", [province_wide], user="李四", settings=settings)
        made["batch"] = report.batch_id
        made["quads"] = len(list(store.quads(graph=report.graph)))
        return store

    def write(store: StoreAPI, settings: Settings) -> object:
        return withdraw(store, made["batch"], user="李四", reason="测试", settings=settings)

    seen: list[str] = []

    def check(store: Store, settings: Settings) -> None:
        [entry] = _settled(store, settings)
        there = len(list(store.quads(graph=import_graph(made["batch"]))))
        recorded = bool(list(store.quads(graph=withdrawal_graph(made["batch"]))))
        if entry.get("withdrawal"):
            assert (there, recorded) == (0, True)
            seen.append("withdrawn")
        else:
            assert (there, recorded) == (made["quads"], False)
            seen.append("kept")
        _assert_current(store)

    ops = _every_cut(base, write, check, tmp_path)
    assert ops > 10 and {"withdrawn", "kept"} <= set(seen)


def test_a_move_of_the_derived_graph_cut_anywhere_is_repaired(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server's daily move of the derived graph (two interventions go out of force on 2022-01-01) cut
    after any operation: after recovery the derived graph is the one a derivation gives for the date it
    holds (the old or the new), and the next move makes it the new day's. (A county per request, so that
    cuts fall between requests too; operations of 40 triples, 14 of them: of 10, the test took three times as long.)"""
    monkeypatch.setattr(derived, "ADVANCE_CHUNK", 1)
    monkeypatch.setattr(kg.updates, "DATA_OP_TRIPLES", 40)
    day = date(2022, 1, 1)
    seen: set[date] = set()

    def check(store: Store, settings: Settings) -> None:
        _settled(store, settings)
        m = derived.marker(store)
        assert m is not None and m.as_of in (AS_OF, day)
        seen.add(m.as_of)
        _assert_derived_for(store, m.as_of, with_stable_until=False)
        advance_marked(store, day, settings)
        _assert_derived_for(store, day, with_stable_until=True)

    ops = _every_cut(lambda _: fixture_store(), lambda s, settings: advance_marked(s, day, settings), check, tmp_path)
    assert ops > 4 and seen == {AS_OF, day}


def _assert_derived_for(store: Store, day: date, *, with_stable_until: bool) -> None:
    fresh = _derived_as_of(store, day)
    ours, theirs = store.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED))
    if not with_stable_until:  # a repair keeps the earlier of the two (as a refresh does)
        for g in (ours, theirs):
            g.remove((None, DCPA.stableUntil, None))
    assert isomorphic(ours, theirs), day
