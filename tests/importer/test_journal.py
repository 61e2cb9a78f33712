"""The journal of writes, in process: a step that raises undoes the steps before it; recovery settles
pending entries both ways; a rebuild replays only completed writes. (``tests/core/test_crash.py``
kills real processes at every step.)"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import kg.importer.journal
from kg.errors import StoreError
from kg.importer import import_files, replay_retained
from kg.importer.journal import GRAPH_JOURNAL, Marker, markers, recover
from kg.importer.retain import PENDING, orphans, read_manifest, retain
from kg.namespaces import import_graph
from kg.settings import Settings
from kg.store import Store

from .conftest import load_fixture, nquads, write_csv

HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]
ROW = ["210123206200", "N22", "4", "120", "survey", "2018-05-12", "张晓梅"]


def _csv(tmp_path: Path, date: str = "2018-05-12") -> Path:
    return write_csv(tmp_path / f"needs-{date}.csv", HEADER, [ROW[:5] + [date] + ROW[6:]])


def test_a_failed_derived_refresh_undoes_the_data_and_the_kept_files(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = nquads(store)

    def broken(*_: object, **__: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(kg.importer.journal, "refresh", broken)
    with pytest.raises(StoreError, match="disk full"):
        import_files(store, [_csv(tmp_path)], user="u", settings=settings)
    assert nquads(store) == before  # no batch graph, no marker
    assert read_manifest(settings.imports_path)["batches"] == []
    assert orphans(settings.imports_path) == []


def test_a_failed_data_write_keeps_no_files(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = nquads(store)

    real = Store.add_graph

    def broken(self: Store, graph: str, data: object) -> int:
        if not graph.startswith(GRAPH_JOURNAL):  # the marker lands, the data fails
            raise StoreError("write failed; nothing was written")
        return real(self, graph, data)  # type: ignore[arg-type]

    monkeypatch.setattr(Store, "add_graph", broken)
    with pytest.raises(StoreError):
        import_files(store, [_csv(tmp_path)], user="u", settings=settings)
    assert nquads(store) == before  # the marker dropped again
    assert read_manifest(settings.imports_path)["batches"] == [] and orphans(settings.imports_path) == []


def _pending(settings: Settings, batch_id: str) -> None:
    retain(settings.imports_path, {"batch_id": batch_id, "source": "files", "files": [{"name": "x.csv",
                                                                                       "stored": "x.csv"}]},
           [("x.csv", b"village_code\n")])


def test_recovery_rolls_back_what_did_not_land_and_completes_what_did(
    store: Store, settings: Settings, tmp_path: Path
) -> None:
    import_files(store, [_csv(tmp_path)], user="u", settings=settings)
    [done] = read_manifest(settings.imports_path)["batches"]
    _pending(settings, "20990101T000000Z-aaaaaa")  # kept, never written
    _pending(settings, "20990101T000000Z-bbbbbb")  # kept and written, its refresh not done
    landed = "20990101T000000Z-bbbbbb"
    store.add_graphs([(import_graph(landed), b"<https://w3id.org/dcpa/id/x> <https://example.org/p> \"1\" .\n"),
                      (Marker(landed, {"210123"}).graph, Marker(landed, {"210123"}).ntriples())])
    (settings.imports_path / ".20990101T000000Z-cccccc-tmp").mkdir()  # a killed retain's scratch directory
    assert set(markers(store)) == {landed}

    done_now = recover(store, settings)
    assert done_now.rolled_back == ["20990101T000000Z-aaaaaa"] and done_now.rolled_forward == [landed]
    assert done_now.removed == [".20990101T000000Z-cccccc-tmp"]
    entries = read_manifest(settings.imports_path)["batches"]
    assert [e["batch_id"] for e in entries] == [done["batch_id"], landed]
    assert all("state" not in e for e in entries)
    assert not (settings.imports_path / "20990101T000000Z-aaaaaa").exists()
    assert not [g for g in store.graphs() if g.startswith(GRAPH_JOURNAL)]
    assert not recover(store, settings)  # nothing left to do


@pytest.mark.parametrize(("added", "interventions"), [
    (False, None), (True, None), (False, set()), (False, {"https://w3id.org/dcpa/id/intervention/I1"})])
def test_a_marker_names_the_graphs_its_write_changes(store: Store, added: bool, interventions: set[str] | None) -> None:
    """What recovery reads back from a marker: the areas, the needs, the graphs to recount, whether the write
    only added the needs, and the interventions it only changed (none at all is not "not said")."""
    bid = "20990101T000000Z-dddddd"
    marker = Marker(bid, {"210123"}, {"https://w3id.org/dcpa/id/need/x"}, {import_graph(bid)}, added=added,
                    interventions=interventions)
    store.add_graph(marker.graph, marker.ntriples())
    assert markers(store)[bid] == marker


def test_an_import_of_needs_alone_is_refreshed_as_added_needs(
    store: Store, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import of needs tells the refresh it only added them; one with an intervention does not."""
    said: list[bool] = []
    real = kg.importer.journal.refresh

    def spy(*a: object, added: bool = False, **k: object) -> int:
        said.append(added)
        return real(*a, added=added, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.importer.journal, "refresh", spy)
    import_files(store, [_csv(tmp_path)], user="u", settings=settings)
    intervention = write_csv(tmp_path / "interventions.csv",
                             ["id", "name_zh", "category", "provided_by", "target_areas", "status", "source"],
                             [["I-T", "测试·培训", "C1", "liaoning-provincial-library", "210123206200", "S1",
                               "document"]])
    import_files(store, [_csv(tmp_path, "2019-05-12"), intervention], user="u", settings=settings)
    assert said == [True, False]


def test_without_a_readable_store_pending_writes_are_rolled_back(settings: Settings) -> None:
    _pending(settings, "20990101T000000Z-aaaaaa")
    assert recover(None, settings).rolled_back == ["20990101T000000Z-aaaaaa"]
    assert read_manifest(settings.imports_path)["batches"] == []


def test_a_rebuild_replays_only_completed_writes(
    store: Store, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import_files(store, [_csv(tmp_path)], user="u", settings=settings)
    _pending(settings, "20990101T000000Z-aaaaaa")
    assert read_manifest(settings.imports_path)["batches"][-1]["state"] == PENDING
    fresh = load_fixture(Store.memory())
    with caplog.at_level(logging.WARNING):
        assert replay_retained(fresh, settings.imports_path) == 1
    assert "20990101T000000Z-aaaaaa" in caplog.text and "never completed" in caplog.text
    assert import_graph("20990101T000000Z-aaaaaa") not in fresh.graphs()
