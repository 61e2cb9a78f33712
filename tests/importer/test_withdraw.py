"""Withdrawing an import batch: its data leaves, the store is as if it had never come, the batch and
its withdrawal stay on record (history, kept files, a ``dcpa:Withdrawal`` in the graph), a rebuild does
not bring it back, and every refusal changes nothing. (``tests/core/test_crash.py`` kills a real
withdrawal at every step.)"""

from __future__ import annotations

from typing import Any

import pytest

import kg.importer.journal
import kg.updates
from kg.derived import derive_all, partition_iri
from kg.errors import Conflict, NotFound, StoreError, ValidationFailed
from kg.importer import ImportUsageError, history, import_records, replace_record, replay_retained, withdraw
from kg.importer.journal import markers, recover
from kg.importer.retain import WITHDRAWING, amend, read_manifest
from kg.namespaces import DCPA, GRAPH_ONTOLOGY, import_graph, withdrawal_graph
from kg.settings import Settings
from kg.stats import stats
from kg.store import Store

from .conftest import NEED, load_fixture, nquads

LIB = [{"id": "LIB-W", "name_zh": "撤回测试馆", "library_type": "county", "located_in": "210124"}]
INTERVENTION: dict[str, Any] = {
    "id": "INT-W",
    "name_zh": "示例·数字阅读推广",
    "category": "C1",
    "provided_by": "LIB-W",
    "target_areas": "210123206200",
    "status": "S2",
    "start_date": "2018-03-01",
    "source": "document",
}
EVALUATION: dict[str, Any] = {
    "intervention_id": "INT-W",
    "indicator": "I01",
    "area_code": "210123206200",
    "actual_value": 5,
    "period_start": "2019-01-01",
    "period_end": "2019-12-31",
}


def _data(store: Store, *, without: tuple[str, ...] = ()) -> bytes:
    """Sorted N-Quads of every graph but the ontology (its blank nodes differ from load to load) and ``without``."""
    skip = [str(GRAPH_ONTOLOGY).encode(), *(g.encode() for g in without)]
    return b"\n".join(q for q in nquads(store).splitlines() if not any(s in q for s in skip))


def test_a_withdrawn_batch_leaves_the_store_as_before_and_stays_on_record(store: Store, settings: Settings) -> None:
    import_records(store, "libraries", LIB, user="api", settings=settings)
    before = _data(store)
    batch = import_records(store, "needs", [NEED], user="录入员", settings=settings).batch_id
    assert _data(store) != before

    report = withdraw(store, batch, user="审核员", reason="重复录入 / entered twice", settings=settings)

    assert report.counts == {"needs": 1} and report.triples > 0 and not report.dry_run
    # The data and every derived fact about it are gone, as if the batch had never come (but for its withdrawal,
    # and the count of it the derived graph keeps).
    withdrawals = partition_iri(withdrawal_graph(batch), str(DCPA.Withdrawal))
    assert _data(store, without=(withdrawal_graph(batch), withdrawals)) == before
    assert not markers(store)
    # The withdrawal is on record in the graph: who, when, why, which graph.
    [row] = store.select(f"""SELECT ?who ?why ?gone WHERE {{ GRAPH <{withdrawal_graph(batch)}> {{
        ?w a dcpa:Withdrawal ; dcpa:recordedBy ?who ; rdfs:comment ?why ; prov:invalidated ?gone ;
           prov:endedAtTime ?when }} }}""")
    assert (row["who"], row["why"], str(row["gone"])) == ("审核员", "重复录入 / entered twice", import_graph(batch))
    # ... and in the history, whose files are kept.
    newest = history(settings.imports_path)[0]
    assert (newest.batch_id, newest.state, newest.withdrawn_by, newest.withdrawal_reason) == (
        batch, "withdrawn", "审核员", "重复录入 / entered twice")
    assert not newest.can_withdraw and newest.user == "录入员" and newest.counts == {"needs": 1}
    assert (settings.imports_path / batch / "records.json").is_file()
    # `dcpa stats` names the graph's kind (it said "other")
    kinds = {g["graph"]: g["kind"] for g in stats(store, settings=settings).graphs}
    assert kinds[withdrawal_graph(batch)] == "withdrawal"


def test_a_batch_deleted_in_parts_leaves_the_store_as_before(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch larger than a deletion's part (100,000 triples; here 3) goes in several transactions, and the
    store is as before all the same."""
    monkeypatch.setattr(kg.updates, "DELETE_PART", 3)
    updates: list[str] = []
    real_update = Store.update
    monkeypatch.setattr(Store, "update", lambda self, q: (updates.append(q), real_update(self, q))[1])
    before = _data(store)
    needs = [NEED, {**NEED, "need_type": "N11"}, {**NEED, "need_type": "N12", "severity": 2}]
    batch = import_records(store, "needs", needs, user="录入员", settings=settings)
    assert batch.triples > 3 * 3
    updates.clear()
    withdraw(store, batch.batch_id, user="审核员", settings=settings)
    assert sum(q.startswith("DELETE DATA") for q in updates) >= batch.triples // 3
    withdrawals = partition_iri(withdrawal_graph(batch.batch_id), str(DCPA.Withdrawal))
    assert _data(store, without=(withdrawal_graph(batch.batch_id), withdrawals)) == before
    assert not markers(store)


def test_a_rebuild_does_not_bring_a_withdrawn_batch_back(store: Store, settings: Settings) -> None:
    kept = import_records(store, "needs", [NEED], user="u", settings=settings).batch_id
    gone = import_records(store, "needs", [{**NEED, "need_type": "N11"}], user="u", settings=settings).batch_id
    withdraw(store, gone, user="u", reason="wrong type", settings=settings)

    rebuilt = load_fixture(Store.memory())
    replay_retained(rebuilt, settings.imports_path)
    derive_all(rebuilt)
    graphs = set(rebuilt.graphs())
    assert import_graph(kept) in graphs and import_graph(gone) not in graphs
    assert withdrawal_graph(gone) in graphs
    assert _data(rebuilt) == _data(store)


def test_a_dry_run_changes_nothing(store: Store, settings: Settings) -> None:
    batch = import_records(store, "needs", [NEED], user="u", settings=settings).batch_id
    before, manifest = _data(store), read_manifest(settings.imports_path)
    report = withdraw(store, batch, user="u", settings=settings, dry_run=True)
    assert report.dry_run and report.counts == {"needs": 1}
    assert _data(store) == before and read_manifest(settings.imports_path) == manifest


def test_refusals_say_why_and_change_nothing(store: Store, settings: Settings) -> None:
    libs = import_records(store, "libraries", LIB, user="u", settings=settings).batch_id
    interventions = import_records(store, "interventions", [INTERVENTION], user="u", settings=settings).batch_id
    evaluations = import_records(store, "evaluations", [EVALUATION], user="u", settings=settings).batch_id
    need = import_records(store, "needs", [NEED], user="u", settings=settings)
    [iri] = [r["n"] for r in store.select(f"SELECT ?n WHERE {{ GRAPH <{need.graph}> {{ ?n a dcpa:Need }} }}")]
    replaced = replace_record(store, "needs", str(iri).rsplit("/", 1)[1], {**NEED, "severity": 2}, user="u",
                              settings=settings).batch_id
    before, manifest = _data(store), read_manifest(settings.imports_path)

    with pytest.raises(NotFound, match="no import batch"):
        withdraw(store, "20990101T000000Z-000000", user="u", settings=settings)
    with pytest.raises(Conflict, match="replacement"):
        withdraw(store, replaced, user="u", settings=settings)
    # The evaluation refers to the intervention, which refers to the library: each is named.
    with pytest.raises(ValidationFailed) as refused:
        withdraw(store, interventions, user="u", settings=settings)
    [issue] = refused.value.issues
    assert evaluations in issue.message and "INT-W" in issue.message and "withdraw" in (issue.hint or "")
    with pytest.raises(ValidationFailed) as refused:
        withdraw(store, libs, user="u", settings=settings)
    assert [interventions in i.message for i in refused.value.issues] == [True]
    with pytest.raises(ImportUsageError, match="no user"):
        withdraw(store, evaluations, user=" ", settings=settings)
    with pytest.raises(ValidationFailed, match="reason"):
        withdraw(store, evaluations, user="u", reason="\u202e", settings=settings)
    assert _data(store) == before and read_manifest(settings.imports_path) == manifest

    # Withdrawn newest first, each one is accepted, then a second withdrawal is refused.
    for batch in (evaluations, interventions, libs):
        withdraw(store, batch, user="u", settings=settings)
    with pytest.raises(Conflict, match="already withdrawn"):
        withdraw(store, libs, user="u", settings=settings)


def test_a_failed_refresh_puts_everything_back(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = import_records(store, "needs", [NEED], user="u", settings=settings).batch_id
    before, manifest = _data(store), read_manifest(settings.imports_path)
    real = kg.importer.journal.refresh
    calls = []

    def broken_once(*args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise StoreError("disk full")
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kg.importer.journal, "refresh", broken_once)
    with pytest.raises(StoreError, match="disk full"):
        withdraw(store, batch, user="u", settings=settings)
    assert _data(store) == before and read_manifest(settings.imports_path) == manifest
    assert history(settings.imports_path)[0].state == "done"


def test_recovery_finishes_a_landed_withdrawal_and_forgets_one_that_did_not_land(
    store: Store, settings: Settings
) -> None:
    landed = import_records(store, "needs", [NEED], user="u", settings=settings).batch_id
    not_landed = import_records(store, "needs", [{**NEED, "need_type": "N11"}], user="u", settings=settings).batch_id
    # The landed one: its record and data change are in the store, the mark still on its entry.
    withdraw(store, landed, user="u", settings=settings)
    after_withdrawal = _data(store)
    amend(settings.imports_path, landed, set_fields={"state": WITHDRAWING})
    # The other: only marked (killed before its transaction).
    amend(settings.imports_path, not_landed, set_fields={"state": WITHDRAWING,
                                                          "withdrawal": {"user": "u", "time": "x", "reason": ""}})
    assert {e.state for e in history(settings.imports_path)} == {WITHDRAWING}

    done = recover(store, settings)

    assert done.rolled_forward == [landed] and done.rolled_back == [not_landed]
    states = {e.batch_id: e.state for e in history(settings.imports_path)}
    assert states == {landed: "withdrawn", not_landed: "done"}
    assert _data(store) == after_withdrawal


def test_a_record_replaced_since_its_import_stays_with_its_replacement(store: Store, settings: Settings) -> None:
    first = import_records(store, "needs", [NEED], user="u", settings=settings)
    [iri] = [r["n"] for r in store.select(f"SELECT ?n WHERE {{ GRAPH <{first.graph}> {{ ?n a dcpa:Need }} }}")]
    replace_record(store, "needs", str(iri).rsplit("/", 1)[1], {**NEED, "severity": 2}, user="u", settings=settings)
    withdraw(store, first.batch_id, user="u", reason="the first file was wrong", settings=settings)
    [row] = store.select(f"SELECT ?sev WHERE {{ <{iri}> dcpa:severity ?sev }}")
    assert row["sev"] == 2  # the later write stands


def test_a_withdrawal_names_a_record_replaced_since_which_stays_and_can_then_be_withdrawn(
    store: Store, settings: Settings
) -> None:
    """A batch of two needs, one corrected since: its withdrawal takes one need, says so ("needs": 1, not 2) and
    names the one that stays, with the correction's batch; that batch can be withdrawn then, not before, and
    the store is as before the import."""
    before = _data(store)
    batch = import_records(store, "needs", [NEED, {**NEED, "need_type": "N11"}], user="u", settings=settings)
    found = store.select(f"SELECT ?n WHERE {{ GRAPH <{batch.graph}> {{ ?n a dcpa:Need }} }}")
    iris = sorted(str(r["n"]) for r in found)
    fixed = replace_record(store, "needs", iris[0].rsplit("/", 1)[1], {**NEED, "severity": 2}, user="u",
                           settings=settings).batch_id
    with pytest.raises(Conflict) as early:  # the batch whose version it replaced is not withdrawn
        withdraw(store, fixed, user="u", settings=settings)
    assert f"batch {batch.batch_id}, whose version it replaced, is not" in early.value.message
    assert f"PUT /api/needs/{iris[0].rsplit('/', 1)[1]}" in (early.value.hint or "")

    dry = withdraw(store, batch.batch_id, user="u", settings=settings, dry_run=True)
    assert dry.counts == {"needs": 1} and dry.kept == [{"kind": "needs", "record": iris[0], "replaced_in": fixed}]
    report = withdraw(store, batch.batch_id, user="u", settings=settings)
    assert (report.counts, report.kept) == (dry.counts, dry.kept)
    assert store.ask(f"ASK {{ <{iris[0]}> a dcpa:Need }}") and not store.ask(f"ASK {{ <{iris[1]}> a dcpa:Need }}")

    withdraw(store, fixed, user="u", settings=settings)  # now the record leaves
    assert not store.ask(f"ASK {{ <{iris[0]}> ?p ?o }}")
    assert _data(store, without=tuple(withdrawal_graph(b) for b in (batch.batch_id, fixed))
                 + tuple(partition_iri(withdrawal_graph(b), str(DCPA.Withdrawal)) for b in (batch.batch_id, fixed))
                 ) == before


def test_a_replacement_of_example_data_is_never_withdrawn_and_a_twice_replaced_record_names_its_holder(
    store: Store, settings: Settings
) -> None:
    """Withdrawing a replacement of an example record took the record out of the store, which a rebuild brought back;
    a record replaced twice was said to be held by its first replacement, whose withdrawal took nothing."""
    from kg.importer import history
    from kg.namespaces import GRAPH_SYNTHETIC

    store.update(f"""INSERT DATA {{ GRAPH <{GRAPH_SYNTHETIC}> {{ <https://w3id.org/dcpa/id/need/SYN-W> a dcpa:Need ;
        dcpa:needOf <https://w3id.org/dcpa/id/area/210123206200> ; dcpa:needType dcpav:N22 ; dcpa:severity 4 ;
        dcpa:isSynthetic true }} }}""")
    example = replace_record(store, "needs", "SYN-W", {**NEED, "severity": 3}, user="u", settings=settings).batch_id
    with pytest.raises(Conflict, match="example or reference data"):
        withdraw(store, example, user="u", settings=settings)
    assert store.ask("ASK { <https://w3id.org/dcpa/id/need/SYN-W> a dcpa:Need }")
    assert not next(e for e in history(settings.imports_path) if e.batch_id == example).can_withdraw

    batch = import_records(store, "needs", [{**NEED, "need_type": "N11"}], user="u", settings=settings)
    [iri] = [str(r["n"]) for r in store.select(f"SELECT ?n WHERE {{ GRAPH <{batch.graph}> {{ ?n a dcpa:Need }} }}")]
    key = iri.rsplit("/", 1)[1]
    first = replace_record(store, "needs", key, {**NEED, "need_type": "N11", "severity": 2}, user="u",
                           settings=settings).batch_id
    second = replace_record(store, "needs", key, {**NEED, "need_type": "N11", "severity": 1}, user="u",
                            settings=settings).batch_id
    entries = {e.batch_id: e for e in history(settings.imports_path)}
    assert not entries[first].can_withdraw and entries[first].blocked  # the history says what the withdrawal would
    report = withdraw(store, batch.batch_id, user="u", settings=settings)
    assert report.kept == [{"kind": "needs", "record": iri, "replaced_in": second}]
    entries = {e.batch_id: e for e in history(settings.imports_path)}
    assert entries[first].can_withdraw and not entries[second].can_withdraw  # the second replaced the first
    withdraw(store, first, user="u", settings=settings)
    assert next(e for e in history(settings.imports_path) if e.batch_id == second).can_withdraw
    withdraw(store, second, user="u", settings=settings)
    assert not store.ask(f"ASK {{ <{iri}> ?p ?o }}")


def test_a_withdrawal_refused_for_a_record_resting_on_the_batch_names_it_by_file_sheet_and_row(
        store: Store, settings: Settings, tmp_path: Any) -> None:
    # the refusal named the batch as the file and the records by their IRIs, a need and its quote apart (three
    # problems for one row, .../need/imp-…#quote), where the steward looks for a file, a sheet and a row
    from kg.importer import import_files

    from .conftest import write_csv

    interviews = write_csv(tmp_path / "interviews.csv",
                           ["id", "interviewee_role", "interviewed_on", "place_code", "interviewer", "consent",
                            "anonymisation"],
                           [["ITV-W1", "IR1", "2018-05-10", "210123206200", "示例·调研组", "CO1", "AN1"]])
    first = import_files(store, [interviews], user="u", settings=settings).batch_id
    needs = write_csv(tmp_path / "村里的需求.csv",
                      ["village_code", "need_type", "severity", "people_affected", "identified_on", "surveyor",
                       "source", "interview", "quote"],
                      [["210123206200", "N22", "4", "120", "2018-05-12", "示例·调查员", "survey", "", ""],
                       ["210123206201", "N22", "4", "120", "2018-05-12", "示例·调查员", "", "ITV-W1", "示例·原话"]])
    second = import_files(store, [needs], user="u", settings=settings).batch_id
    with pytest.raises(ValidationFailed) as refused:
        withdraw(store, first, user="u", settings=settings)
    [issue] = refused.value.issues
    assert (issue.file, issue.sheet, issue.row, issue.value) == ("村里的需求.csv", "needs", 3, "ITV-W1")
    assert second in issue.message and "imp-" not in issue.message and "imp-" in (issue.hint or "")
