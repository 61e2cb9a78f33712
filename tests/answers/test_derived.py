"""The derived graph: its states, reasons and summaries say what the rule says, and stay right after every write."""

from __future__ import annotations

import io
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic

from kg import derived, updates
from kg.answers.areas import resolve_area
from kg.answers.gaps import GAP_DIMENSIONS, GapDimension, _summary_tallies
from kg.answers.needs import need_rows
from kg.catalogue import run_query
from kg.derived import derive_all, tally
from kg.errors import StoreBusy, StoreError
from kg.facts import AREA_PREFIX
from kg.importer import import_records, landing, replace_record
from kg.importer.journal import advance_marked, recover
from kg.importer.withdraw import withdraw
from kg.matching import gaps
from kg.namespaces import DCPA, GRAPH_DERIVED
from kg.rule import NeedFacts, NeedState, Outcome, ReachMode
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, V1, V2, V3, V4, V5, fixture_store, need, settings_for

#: The validity windows the fixture's derived graph is made with (the defaults), as it records them.
WINDOWS = "C1=24,C2=60,C3=36,C4=60"

A, U, G = NeedState.ADDRESSED, NeedState.UNVERIFIED, NeedState.UNADDRESSED
REACHES = [(ReachMode.DIRECT,), (ReachMode.AREA,), (ReachMode.DIRECT, ReachMode.AREA)]
DATES = [AS_OF, date(2019, 1, 1), date(2022, 1, 1)]


@pytest.fixture(scope="module")
def live() -> Store:
    """The fixture without a derived graph: the library then applies the rule itself."""
    return fixture_store(derived=False)


def _states(store: Store, **kw: Any) -> dict[str, NeedState]:
    rows = need_rows(store, None, settings=settings_for(), **kw)
    return {r.iri.rsplit("/", 1)[1]: r.state for r in rows}


def test_states_as_worked_out_by_hand(store: Store) -> None:
    # tests/answers/README.md, as of 2020-06-30
    assert _states(store) == {"a": U, "b": G, "c": G, "d": G, "e": A, "f": A, "g": A, "h": A, "i": G, "j": A,
                              "k": A, "l": G}
    assert {k for k, s in _states(store, reach="direct").items() if s is A} == set("fgj")
    # as of a past day, only the needs identified by then (a, b, c from 2018-05, f, g from 2018-06)
    then = _states(store, as_of=date(2019, 1, 1))
    assert then == {"a": U, "b": G, "c": G, "f": A, "g": G}
    assert {k for k, s in _states(store, as_of=date(2022, 1, 1)).items() if s is A} == set("efj")


def test_reasons_stored_per_need_as_worked_out_by_hand(store: Store) -> None:
    rows = store.select(f"""SELECT ?n ?i ?m ?p ?u WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?n dcpa:addressedBy ?r .
        ?r dcpa:byIntervention ?i ; dcpa:reachMode ?mode ; dcpa:fitPath ?p .
        OPTIONAL {{ ?r dcpa:validUntil ?u }} }} ?mode skos:notation ?m }}""")
    got = {(r["n"].rsplit("/", 1)[1], r["i"].rsplit("/", 1)[1], r["m"], r["p"], r.get("u")) for r in rows}
    assert got == {
        ("a", "I1", "RM1", "N22 → N2", "2021-12-31"),
        ("e", "I7", "RM2", "N33", None),
        ("f", "I2", "RM1", "N11", None),
        ("g", "I6", "RM1", "N22", "2021-10-01"),
        ("h", "I3", "RM2", "N31", "2021-12-31"),
        ("j", "I9", "RM1", "N12", None),
        ("k", "I3", "RM2", "N33", "2021-12-31"),
    }
    [below] = store.select("SELECT ?r WHERE { ?r dcpa:belowTarget true }")
    assert below["r"] == derived.reason_iri("https://w3id.org/dcpa/id/need/a", "https://w3id.org/dcpa/id/intervention/I1")


def test_the_derived_graph_says_its_date_and_until_when_it_holds(store: Store) -> None:
    m = derived.marker(store)
    assert m is not None and m.as_of == AS_OF
    assert m.stable_until == date(2021, 10, 2)  # I6 ends its window on 2021-10-01
    assert derived.is_current(store, AS_OF) and derived.is_current(store, date(2021, 10, 1))
    assert not derived.is_current(store, date(2021, 10, 2)) and not derived.is_current(store, date(2020, 6, 29))


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("reach", REACHES, ids=lambda r: ",".join(m.value for m in r))
def test_need_rows_from_the_derived_graph_equal_the_rule_applied_live(
    store: Store, live: Store, reach: tuple[ReachMode, ...], day: date
) -> None:
    def rows(s: Store, code: str | None) -> list[Any]:
        scope = resolve_area(s, code) if code else None
        return need_rows(s, scope, reach=reach, as_of=day, with_reasons=True, settings=settings_for()).rows

    for code in (None, "21", "219001", V1):
        assert rows(store, code) == rows(live, code), code


@pytest.mark.parametrize("states", [(G,), (A, U), (G, A, U)])
def test_need_rows_of_some_states_are_those_rows_whichever_way_they_are_read(
    store: Store, live: Store, states: tuple[NeedState, ...]
) -> None:
    """Plans read only the gaps (written into the query when the derived graph answers)."""
    for s in (store, live):
        for code in (None, "21", "219002"):
            scope = resolve_area(s, code) if code else None
            every = need_rows(s, scope, settings=settings_for()).rows
            some = need_rows(s, scope, states=states, settings=settings_for()).rows
            assert some == [r for r in every if r.state in states] and some, (code, states)


@pytest.mark.parametrize("reach", REACHES[:2], ids=lambda r: r[0].value)
def test_states_under_one_reach_mode_read_without_reasons_are_the_rule_s(
    store: Store, live: Store, reach: tuple[ReachMode, ...]
) -> None:
    """A gap report under one reach mode reads the needs' states from their reasons' modes and evaluations
    alone (not every reason whole); they are the states the rule gives, and its gap reports the rule's."""
    seen: set[NeedState] = set()
    for code in (None, "21", "219001", V1):
        scope = resolve_area(store, code) if code else None
        fast = need_rows(store, scope, reach=reach, settings=settings_for()).rows
        slow = need_rows(live, scope, reach=reach, settings=settings_for()).rows
        assert [(r.iri, r.state) for r in fast] == [(r.iri, r.state) for r in slow], code
        seen |= {r.state for r in fast}
        for by in GAP_DIMENSIONS:
            a, b = (gaps(s, code, by=by, reach=reach[0].value, settings=settings_for()).to_dict()
                    for s in (store, live))
            for d in (a, b):
                d.pop("source"), d.pop("notes")
            assert a == b, (code, by)
    assert len(seen) >= 2


def test_a_need_reached_both_ways_is_judged_on_its_reasons_of_the_mode_asked_for(tmp_path: Path) -> None:
    """a (V1, N22) is met directly by an intervention below its target (not verified); a real course for its
    whole county (C1 fits N2, reach scope RS2) meets it through the area too: addressed under the full rule
    and through the area, still not verified when only the interventions naming the village count."""
    store = fixture_store()
    course = {**INTERVENTION, "id": "I-COURSE", "name_zh": "测试·全县数字素养课", "category": "C1",
              "provided_by": "city", "uses_resources": "", "target_areas": "219001", "reach_scope": "RS2",
              "status": "S2", "start_date": "2020-01-01"}
    import_records(store, "interventions", [course], user="李四", settings=settings_for(tmp_path))
    live = _copy(store, derive=False)
    scope = resolve_area(store, "219001")
    states = {}
    for reach in [(ReachMode.DIRECT,), (ReachMode.AREA,), (ReachMode.DIRECT, ReachMode.AREA)]:
        fast = need_rows(store, scope, reach=reach, settings=settings_for()).rows
        assert [(r.iri, r.state) for r in fast] == [(r.iri, r.state) for r in need_rows(
            live, scope, reach=reach, settings=settings_for()).rows]
        states[reach] = {r.iri.rsplit("/", 1)[1]: r.state for r in fast}
    assert [states[reach]["a"] for reach in states] == [U, A, A]


@pytest.mark.parametrize("by", GAP_DIMENSIONS)
@pytest.mark.parametrize("area", [None, "21", "2190", "219001", "219001001", V1])
def test_gap_reports_from_the_derived_graph_equal_those_from_the_rule(
    store: Store, live: Store, area: str | None, by: str
) -> None:
    def report(s: Store) -> dict[str, Any]:
        d = gaps(s, area, by=by, settings=settings_for()).to_dict()
        d.pop("source"), d.pop("notes")
        return d

    assert report(store) == report(live)


def test_gaps_above_county_level_read_the_summaries(store: Store) -> None:
    """The fast path is taken where it should be (and the slow one below it)."""
    assert _summary_tallies(store, resolve_area(store, "21"), GapDimension.AREA) is not None
    assert _summary_tallies(store, resolve_area(store, "219001"), GapDimension.NEED_TYPE) is not None
    assert _summary_tallies(store, resolve_area(store, "219001"), GapDimension.AREA) is None
    assert gaps(store, "21", settings=settings_for()).source == "summaries"
    # the summary of N22 needs of severity 4 in city 2190 (need a: not verified); example data
    [row] = store.select("SELECT ?n ?g ?u ?ex WHERE { ?s dcpa:summaryOf <https://w3id.org/dcpa/id/area/2190> ; "
                         "dcpa:summaryNeedType dcpav:N22 ; dcpa:summarySeverity 4 ; dcpa:needCount ?n ; "
                         "dcpa:gapCount ?g ; dcpa:unverifiedCount ?u ; dcpa:isSynthetic ?ex }")
    assert row == {"n": 1, "g": 0, "u": 1, "ex": True}


def test_a_store_without_the_derived_graph_is_answered_live_or_refused(live: Store) -> None:
    assert derived.marker(live) is None
    report = gaps(live, "2190", settings=settings_for())
    assert report.source == "live" and report.totals.unaddressed == 5
    assert report.notes and "dcpa derive" in report.notes[0]
    with pytest.raises(StoreError) as exc:
        run_query(live, "needs_of_village", {"village": V1})
    assert "dcpa derive" in (exc.value.hint or "")


def test_another_date_is_answered_live_and_says_so(store: Store) -> None:
    """`dcpa derive` is suggested for the day answers are for, only: it cannot help an answer for another day
    (it said "run `dcpa derive` to make it current" for 2030 too)."""
    report = gaps(store, "21", as_of=date(2022, 1, 1), settings=settings_for())
    assert report.source == "live" and report.totals.unaddressed == 9
    assert report.notes == ["派生图不适用于 2022-01-01（它适用于 2020-06-30，有效至 2021-10-02 之前），"
                            "已按规则实时计算 2022-01-01 的结果 / the derived graph does not answer for 2022-01-01 "
                            "(it is for 2020-06-30, stable until 2021-10-02); the rule was applied live for 2022-01-01"]
    # the settings' day (DCPA_AS_OF, else today) past the graph's: deriving makes it current, and the note says so
    today = Settings(as_of=date(2022, 1, 1))
    for asked in (None, date(2022, 1, 1)):
        note = gaps(store, "21", as_of=asked, settings=today).notes[0]
        assert note.endswith("the rule was applied live for 2022-01-01 (run `dcpa derive` to make it current)")


# ---------------------------------------------------------------------------
# Kept current write by write
# ---------------------------------------------------------------------------


def _copy(store: Store, *, derive: bool) -> Store:
    """The same data in a fresh store: derived from scratch, or without a derived graph at all."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    copy = Store.memory()
    copy.bulk_load(buf.getvalue(), "nq")
    copy.remove_graph(str(GRAPH_DERIVED))
    if derive:
        derive_all(copy, as_of=AS_OF)
    return copy


def _assert_current(store: Store, areas: tuple[str, ...] = ("21", "2190", "219001")) -> None:
    """The derived graph kept current write by write is the one a fresh derivation for its day gives (stable-until
    aside: a refresh keeps the earlier of the two dates), and the gap report read from it is the one the rule
    gives when applied live, down to saying that it leaves later needs out."""
    m = derived.marker(store)
    assert m is not None
    fresh = _derived_as_of(store, m.as_of)
    f = derived.marker(fresh)
    assert f is not None and (m.as_of, m.next_identified) == (f.as_of, f.next_identified)
    assert f.stable_until is None or (m.stable_until is not None and m.stable_until <= f.stable_until)
    ours, theirs = store.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED))
    for g in (ours, theirs):
        g.remove((None, derived.DCPA.stableUntil, None))
    assert isomorphic(ours, theirs)
    live = _copy(store, derive=False)
    for area in areas:
        a = gaps(store, area, as_of=m.as_of, settings=settings_for()).to_dict()
        b = gaps(live, area, as_of=m.as_of, settings=settings_for()).to_dict()
        assert a.pop("source") in ("summaries", "derived") and b.pop("source") == "live"
        notes = [n for n in a.pop("notes") if "identified after" in n]
        assert notes == [n for n in b.pop("notes") if "identified after" in n]
        assert bool(notes) == (m.next_identified is not None)
        assert a == b, area


def _unaddressed(store: Store) -> set[str]:
    rows = store.select("SELECT ?n WHERE { ?n dcpa:needState dcpav:NS3 }")
    return {r["n"].rsplit("/", 1)[1] for r in rows}


INTERVENTION: dict[str, Any] = {
    "id": "I4",
    "name_zh": "示例·五社区宽带建设",
    "category": "C4",
    "provided_by": "city",
    "target_areas": "219002001002",
    "uses_resources": "net",
    "status": "S1",
    "start_date": "2021-01-01",
    "source": "document",
}


#: The village-history collection (online, R14: N43), real, offered to the whole province.
COLLECTION: dict[str, Any] = {**INTERVENTION, "id": "I-PROV", "name_zh": "测试·全省村史数字馆藏", "category": "C3",
                              "provided_by": "city", "uses_resources": "local", "target_areas": "21", "status": "S2",
                              "start_date": "2020-01-01"}


def test_imports_and_replacements_keep_the_derived_graph_current(tmp_path: Path) -> None:
    store = fixture_store()
    settings = settings_for(tmp_path)
    assert _unaddressed(store) == set("bcdil")

    # a new need in V3: a gap, counted in the summaries of its county, city and province
    new_need = {"village_code": V3, "need_type": "N33", "severity": 3, "people_affected": 10,
                "source": "survey", "identified_on": "2020-03-01", "surveyor": "示例·调查员"}
    report = import_records(store, "needs", [new_need], user="录入员", settings=settings)
    [new] = [r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    _assert_current(store)
    # the county-wide app I7 (online, states N33) reaches V3 — but the imported need is real, the app example
    assert _unaddressed(store) == set("bcdil") | {new}

    # the planned broadband project (C4, network access R44: N12) for Community 5 becomes active: it names
    # V5 only, and V5's internet need j is already met; nothing else changes
    replace_record(store, "interventions", "I4", {**INTERVENTION, "status": "S2", "start_date": "2020-01-01"},
                   user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bcdil") | {new}

    # a literacy class (C1) naming Village 4 with room for 100 people: meets i (N21, 80 people)
    wide = {**INTERVENTION, "id": "I-CLASS", "name_zh": "示例·四村数字素养课", "category": "C1", "provided_by": "k2",
            "uses_resources": "", "target_areas": V4, "status": "S2", "start_date": "2020-03-01",
            "people_reached": "100"}
    import_records(store, "interventions", [wide], user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bcdl") | {new}

    # cancelled again: back to where it was
    replace_record(store, "interventions", "I-CLASS", {**wide, "status": "S4"}, user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bcdil") | {new}


def test_the_class_partitions_follow_every_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """synthetic_share_summary, read from the class partitions, answers what synthetic_share counts over the
    whole store after an import, a replacement of an example record by a real one, and a withdrawal (each
    write recounts only the graphs it changed, and, changing interventions only, recomputes only the needs
    they reach)."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    intervention = str(DCPA.Intervention)
    partial, _ = _refreshed_in_part(monkeypatch)

    def share() -> tuple[int, int]:
        fast = run_query(store, "synthetic_share_summary", {}).rows
        assert fast == run_query(store, "synthetic_share", {}).rows
        for real_only in (True, False):  # the real nodes alone too
            assert run_query(store, "synthetic_share_summary", {}, real_only=real_only).rows == \
                run_query(store, "synthetic_share", {}, real_only=real_only).rows
        [row] = [r for r in fast if r["class"] == intervention]
        return row["nodes"], row["synthetic"]

    nodes, synthetic = share()
    report = import_records(store, "interventions", [{**INTERVENTION, "id": "I-NEW"}], user="李四", settings=settings)
    assert share() == (nodes + 1, synthetic)  # one real intervention more
    replace_record(store, "interventions", "I4", {**INTERVENTION, "status": "S2"}, user="李四", settings=settings)
    assert share() == (nodes + 1, synthetic - 1)  # the example I4 replaced by a real version
    withdraw(store, report.batch_id, user="李四", reason="测试", settings=settings)
    assert share() == (nodes, synthetic - 1)
    _assert_current(store)
    assert len(partial) == 3 and None not in partial


def test_a_capacity_shared_across_counties_is_refreshed_together(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One (real) room for V1 (county 219001) or V4 (county 219002): a write in one county moves it."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    room = {**INTERVENTION, "id": "I-ROOM", "name_zh": "测试·一间阅览室", "category": "C2", "provided_by": "k2",
            "uses_resources": "room", "target_areas": f"{V1};{V4}", "status": "S2", "start_date": "2020-01-01",
            "village_capacity": "1"}
    import_records(store, "interventions", [room], user="李四", settings=settings)
    _assert_current(store)
    # V1's b (N12, sev 5) outranks V4's l (N11, sev 2) for the one room
    assert _unaddressed(store) == set("cdil")
    # a real need in V4 (N11, sev 1): real needs come before example ones, so the room moves to V4 —
    # and b, in the other county, is a gap again although the write only touched county 219002
    real = {"village_code": V4, "need_type": "N11", "severity": 1, "people_affected": 5, "source": "survey",
            "identified_on": "2020-03-01", "surveyor": "测试·调查员"}
    # the import of needs recomputes its need and those of the villages sharing the room, not the counties
    added, scopes = _refreshed_in_part(monkeypatch)
    report = import_records(store, "needs", [real], user="录入员", settings=settings)
    read = [code for scope in scopes for code in scope]
    [new] = [r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    _assert_current(store)
    assert _unaddressed(store) == set("bcdi")  # the room in V4 meets l and the new need there, not b
    assert new not in _unaddressed(store)
    assert added and added[0] is not None
    assert {V1, V4} <= set(read) and all(len(code) == 12 for code in read)  # the villages sharing the room
    # withdrawn, the need gives the room back to b: its refresh, too, reads the villages sharing the room only
    scopes.clear()
    withdraw(store, report.batch_id, user="录入员", reason="测试", settings=settings)
    read = [code for scope in scopes for code in scope]
    _assert_current(store)
    assert _unaddressed(store) == set("cdil")
    assert added[-1] is not None and {V1, V4} <= set(read) and all(len(code) == 12 for code in read)


def _reach_of(store: Store, need_key: str, intervention: str) -> set[tuple[str, str]]:
    """(reach mode, target area) of the reasons by ``intervention`` (IRI) the derived graph gives a need."""
    return {(r["m"].rsplit("/", 1)[1], r["t"].rsplit("/", 1)[1]) for r in store.select(
        f"SELECT ?m ?t WHERE {{ <{need(need_key)}> dcpa:addressedBy ?r . ?r dcpa:byIntervention <{intervention}> ; "
        "dcpa:reachMode ?m ; dcpa:reachTarget ?t }")}


def test_a_need_whose_room_moves_away_keeps_the_intervention_s_online_reach(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A room for one village, V1 or V4, with the village-history collection online across County 1: c (N43,
    in V1) is met by the room while V1 has it, and by the collection through County 1 once the room moves to
    V4. The reason stays (same intervention, same node) but says another reach: its lines are rewritten."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    room = {**INTERVENTION, "id": "I-ROOM", "name_zh": "测试·阅览室与村史馆藏", "category": "C2", "provided_by": "k2",
            "uses_resources": "room;local", "target_areas": f"{V1};{V4};219001", "status": "S2",
            "start_date": "2020-01-01", "village_capacity": "1"}
    import_records(store, "interventions", [room], user="李四", settings=settings)
    iri = "https://w3id.org/dcpa/id/intervention/I-ROOM"
    _assert_current(store)
    assert _reach_of(store, "c", iri) == {("RM1", V1)}  # direct: V1 has the room
    real = {"village_code": V4, "need_type": "N11", "severity": 1, "people_affected": 5, "source": "survey",
            "identified_on": "2020-03-01", "surveyor": "测试·调查员"}
    added, _ = _refreshed_in_part(monkeypatch)
    import_records(store, "needs", [real], user="录入员", settings=settings)
    assert added and added[0] is not None  # refreshed need by need
    _assert_current(store)
    assert _reach_of(store, "c", iri) == {("RM2", "219001")}  # the room went to V4; the collection stays


def _refreshed_in_part(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int | None], list[list[str]]]:
    """From now on, a refresh that recounts whole counties fails the test. Returns what each refresh of the
    needs a write can move returned, and the scopes (area codes) whose needs were read."""
    returned: list[int | None] = []
    scopes: list[list[str]] = []
    partial, read_needs = derived._partial, derived.facts.read_needs

    def spy_partial(*a: Any, **k: Any) -> int | None:
        returned.append(partial(*a, **k))
        return returned[-1]

    def spy_read(store: Any, scope: list[str] | None, *a: Any, **k: Any) -> Any:
        scopes.append(list(scope or ["(every need)"]))
        return read_needs(store, scope, *a, **k)

    def whole(*_a: Any, **_k: Any) -> int:
        raise AssertionError("a refresh of the needs a write can move recounted whole counties")

    monkeypatch.setattr(derived, "_partial", spy_partial)
    monkeypatch.setattr(derived, "_rewrite", whole)
    monkeypatch.setattr(derived.facts, "read_needs", spy_read)
    return returned, scopes


NEED_ROWS = [{"village_code": v, "need_type": t, "severity": sev, "people_affected": people, "source": "survey",
              "identified_on": "2020-03-01", "surveyor": "测试·调查员"}
             for v, t, sev, people in [(V1, "N33", 3, 10), (V3, "N43", 5, 40), (V4, "N21", 2, 7), (V4, "N12", 1, 3),
                                       (V1, "N11", 4, 12)]]


def test_an_import_of_needs_is_refreshed_need_by_need_without_reading_its_counties(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Needs in both counties, some met by interventions there, some not: the derived graph after the import
    is the one a fresh derivation gives, and no county's needs were read whole."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    # a real collection for the whole province (online, R14: N43), so that a real need can be met
    import_records(store, "interventions", [COLLECTION], user="李四", settings=settings)
    before = _unaddressed(store)
    added, scopes = _refreshed_in_part(monkeypatch)
    report = import_records(store, "needs", NEED_ROWS, user="录入员", settings=settings)
    read = [code for scope in scopes for code in scope]
    _assert_current(store)
    new = {r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")}
    assert len(new) == len(NEED_ROWS)
    assert before < _unaddressed(store) < before | new  # some of them are gaps, not all
    assert added and added[0] is not None and added[0] >= len(NEED_ROWS)
    assert all(len(code) == 12 for code in read)


def test_a_withdrawal_of_needs_is_refreshed_need_by_need_without_reading_its_counties(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The needs leave with their batch: their derived facts go and the summaries lose their counts, as a
    fresh derivation has them, and no county's needs are read whole."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    import_records(store, "interventions", [COLLECTION], user="李四", settings=settings)
    unaddressed = _unaddressed(store)
    report = import_records(store, "needs", NEED_ROWS, user="录入员", settings=settings)
    assert _unaddressed(store) != unaddressed
    returned, scopes = _refreshed_in_part(monkeypatch)
    withdraw(store, report.batch_id, user="录入员", reason="测试", settings=settings)
    read = [code for scope in scopes for code in scope]
    _assert_current(store)
    assert _unaddressed(store) == unaddressed
    assert len(returned) == 1 and returned[0] is not None and returned[0] >= len(NEED_ROWS)
    assert all(len(code) == 12 for code in read)
    monkeypatch.undo()

    # a need of the batch that another graph also holds stays when the batch goes: the refresh sees it is still
    # there and recounts its counties
    again = import_records(store, "needs", NEED_ROWS, user="录入员", settings=settings)
    [kept] = [r["n"] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{again.graph}> {{ ?n a dcpa:Need ; dcpa:severity 5 }} }}")]
    store.update(f"""INSERT {{ GRAPH <https://w3id.org/dcpa/graph/import/elsewhere> {{ <{kept}> ?p ?o }} }}
                     WHERE {{ GRAPH <{again.graph}> {{ <{kept}> ?p ?o }}
                              FILTER(?p IN (rdf:type, dcpa:needOf, dcpa:needType, dcpa:severity)) }}""")
    derived.refresh(store, [], graphs=["https://w3id.org/dcpa/graph/import/elsewhere"], settings=settings)
    returned = []
    partial = derived._partial
    monkeypatch.setattr(derived, "_partial", lambda *a, **k: returned.append(partial(*a, **k)) or returned[-1])
    withdraw(store, again.batch_id, user="录入员", reason="测试", settings=settings)
    assert returned == [None]
    _assert_current(store)
    assert store.ask(f"ASK {{ <{kept}> dcpa:needState ?s }}")


def test_a_refresh_of_needs_said_added_but_already_derived_recounts_their_counties(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Needs that already have derived facts are counted in the summaries: adding them again would count
    them twice, so the refresh recounts their counties (here: nothing changes)."""
    needs = [r["n"] for r in store.select(f"SELECT ?n WHERE {{ ?n dcpa:needOf <{AREA_PREFIX}{V1}> }}")]
    returned: list[int | None] = []
    partial = derived._partial
    monkeypatch.setattr(derived, "_partial", lambda *a, **k: returned.append(partial(*a, **k)) or returned[-1])
    assert derived.refresh(store, [V1], needs, settings=settings_for(), added=True) == 0
    assert returned == [None]


def test_a_province_wide_write_is_refreshed_need_by_need(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The village-history collection (online, R14: N43) offered to the whole province reaches every
    village: c, the N43 gap of County 1, is met; a cancellation takes it back. Each write recomputes the
    needs the collection reaches (of a type it fits), not every need of the province."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    partial, scopes = _refreshed_in_part(monkeypatch)
    import_records(store, "interventions", [COLLECTION], user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bdil")
    # narrowed to County 2: c, in County 1, is a gap again (a stored reason names the collection, which no
    # longer reaches it)
    replace_record(store, "interventions", "I-PROV", {**COLLECTION, "target_areas": "219002"}, user="李四",
                   settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bcdil")
    replace_record(store, "interventions", "I-PROV", {**COLLECTION, "status": "S4"}, user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("bcdil")
    assert len(partial) == 3 and None not in partial


def test_an_evaluation_below_its_target_is_refreshed_for_the_needs_its_intervention_reaches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A literacy class naming Village 4 meets i; its evaluation there below its target leaves i addressed
    but not verified (each write recomputes the needs the class reaches)."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    partial, _ = _refreshed_in_part(monkeypatch)
    course = {**INTERVENTION, "id": "I-CLASS", "name_zh": "示例·四村数字素养课", "category": "C1", "provided_by": "k2",
              "uses_resources": "", "target_areas": V4, "status": "S2", "start_date": "2020-03-01"}
    import_records(store, "interventions", [course], user="李四", settings=settings)
    _assert_current(store)
    assert "i" not in _unaddressed(store)
    evaluation = {"intervention_id": "I-CLASS", "indicator": "I03", "area_code": V4, "target_value": "10",
                  "actual_value": "4", "period_start": "2020-03-01", "period_end": "2020-05-31", "source": "document"}
    import_records(store, "evaluations", [evaluation], user="李四", settings=settings)
    _assert_current(store)
    assert _states(store)["i"] is U
    assert len(partial) == 2 and None not in partial


def test_a_derived_graph_without_digests_is_rewritten_where_it_is_refreshed() -> None:
    """A derived graph written before needs carried digests: a refresh cannot tell what changed, so it
    rewrites the needs it covers, and the result is the one a fresh derivation gives."""
    store = fixture_store()
    store.update(f"DELETE WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?n <{derived.DCPA.derivedDigest}> ?d }} }}")
    needs = len(store.select("SELECT ?n WHERE { ?n a dcpa:Need }"))
    assert derived.refresh(store, ["21"], settings=settings_for()) == needs
    _assert_current(store)
    assert derived.refresh(store, ["21"], settings=settings_for()) == 0


def test_a_need_gone_from_a_derived_graph_without_digests_is_forgotten() -> None:
    """A need without a digest (written before digests were) that has since left the graph: the refresh
    still finds its derived facts (by its state line) and removes them."""
    store = fixture_store()
    store.update(f"DELETE WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?n <{derived.DCPA.derivedDigest}> ?d }} }}")
    gone = store.select(f"SELECT ?n WHERE {{ ?n dcpa:needOf <https://w3id.org/dcpa/id/area/{V1}> }} "
                        "ORDER BY ?n LIMIT 1")[0]["n"]
    graphs = {r["g"] for r in store.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{gone}> a ?c }} }}")}
    store.update(f"DELETE {{ GRAPH ?g {{ <{gone}> ?p ?o }} }} WHERE {{ GRAPH ?g {{ <{gone}> ?p ?o }} "
                 f"FILTER(?g != <{GRAPH_DERIVED}>) }}")
    assert store.ask(f"ASK {{ GRAPH <{GRAPH_DERIVED}> {{ <{gone}> ?p ?o }} }}")
    derived.refresh(store, ["21"], [gone], graphs=graphs, settings=settings_for())
    assert not store.ask(f"ASK {{ GRAPH <{GRAPH_DERIVED}> {{ <{gone}> ?p ?o }} }}")
    _assert_current(store)


def test_refresh_on_a_store_without_a_derived_graph_derives_it_whole() -> None:
    store = fixture_store(derived=False)
    derived.refresh(store, ["219001"], settings=settings_for())
    assert derived.marker(store) is not None
    _assert_current(store)


def test_a_derived_graph_of_another_version_is_none_and_is_replaced_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """A derived graph made by another version (say, before coverage summaries) is treated as absent:
    queries that need it are refused and gaps are computed live. The server's check derives it again and
    leaves none of the old graph behind, in transactions of bounded size (here a few hundred characters each)."""
    store = fixture_store()
    old = "https://w3id.org/dcpa/id/activity/derive-addressed-v2"
    store.update(f"""DELETE {{ GRAPH <{GRAPH_DERIVED}> {{ <{GRAPH_DERIVED}> ?p ?o }} }}
                     INSERT {{ GRAPH <{GRAPH_DERIVED}> {{ <{GRAPH_DERIVED}> ?p ?o2 . <{old}> a prov:Activity .
                               <https://w3id.org/dcpa/id/summary/stale> dcpa:needCount 1 }} }}
                     WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ <{GRAPH_DERIVED}> ?p ?o }}
                              BIND(IF(?p = prov:wasGeneratedBy, <{old}>, ?o) AS ?o2) }}""")
    assert derived.marker(store) is None
    assert gaps(store, "21", settings=settings_for()).source == "live"
    with pytest.raises(StoreError):
        run_query(store, "coverage_summary_by_category", {"area": "21"})

    updates: list[str] = []
    real_update = Store.update
    monkeypatch.setattr(Store, "update", lambda self, q: (updates.append(q), real_update(self, q))[1])
    monkeypatch.setattr(derived, "REPLACE_CHUNK_CHARS", 500)
    assert derived.ensure_current(store, AS_OF, settings=settings_for())  # what the server does on its check
    assert sum(q.startswith("INSERT DATA") for q in updates) > 10  # many small transactions, the marker last
    assert derived.marker(store) is not None and "derivedAsOf" in updates[-1]
    fresh = _copy(store, derive=True)
    assert isomorphic(store.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED)))
    assert not store.select(f"SELECT ?s WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?s ?p <{old}> }} }}")


@pytest.mark.parametrize("crash_at", [1, 2, 5])
def test_a_derivation_cut_short_leaves_no_derived_graph_and_the_next_one_completes(
    monkeypatch: pytest.MonkeyPatch, crash_at: int
) -> None:
    """A crash between the transactions of a re-derivation (the first removes the marker) leaves a store
    that reads as having no derived graph, never a half one: answers are computed live, and the next
    derivation writes the whole graph. A crash in the first leaves the old graph as it was."""
    store = fixture_store()
    before = store.to_rdflib(str(GRAPH_DERIVED))
    want = gaps(store, "21", settings=settings_for()).to_dict()
    calls = 0
    real_update = Store.update

    def failing(self: Store, q: str) -> None:
        nonlocal calls
        calls += 1
        if calls == crash_at:
            raise StoreError("the process died here")
        real_update(self, q)

    monkeypatch.setattr(Store, "update", failing)
    monkeypatch.setattr(derived, "REPLACE_CHUNK_CHARS", 500)
    with pytest.raises(StoreError):
        derive_all(store, as_of=AS_OF)
    monkeypatch.setattr(Store, "update", real_update)
    if crash_at == 1:
        assert isomorphic(store.to_rdflib(str(GRAPH_DERIVED)), before)
        return
    assert derived.marker(store) is None
    got = gaps(store, "21", settings=settings_for()).to_dict()
    assert got.pop("source") == "live"
    want.pop("source"), want.pop("notes"), got.pop("notes")
    assert got == want
    derive_all(store, as_of=AS_OF)
    _assert_current(store)


def test_refresh_with_nothing_changed_writes_nothing(store: Store) -> None:
    assert derived.refresh(store, ["21"], settings=settings_for()) == 0
    assert derived.refresh(store, [], settings=settings_for()) == 0


def test_a_refresh_reads_each_need_once(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import names its new needs and their counties; the counties' needs include them. Their old
    derived facts are read once each (a 100,000-row import at national scale had read 100,000 twice)."""
    needs = [r["n"] for r in store.select("SELECT ?n WHERE { ?n a dcpa:Need }")]
    asked: list[list[str]] = []
    real = derived._old_digests

    def spy(s: Store, iris: list[str]) -> dict[str, str]:
        asked.append(list(iris))
        return real(s, asked[-1])

    monkeypatch.setattr(derived, "_old_digests", spy)
    assert derived.refresh(store, ["21"], needs, settings=settings_for()) == 0
    assert sorted(asked[0]) == sorted(set(needs))


@pytest.mark.parametrize("area", ["21", "2190", "219001", "219001001"])
def test_unmet_needs_by_area_agrees_with_the_gap_report(store: Store, area: str) -> None:
    """The catalogue query reads summaries above county level and needs below it; either way its
    per-child totals are the gap report's."""
    rows = run_query(store, "unmet_needs_by_area", {"area": area}).rows
    per_child: dict[str, list[int]] = {}
    for r in rows:
        c = per_child.setdefault(r["child_code"], [0, 0])
        c[0] += r["unmet"]
        c[1] += r["unmet_severity"]
    report = gaps(store, area, by="area", settings=settings_for())
    assert per_child == {g.code: [g.unaddressed, g.severity_unaddressed] for g in report.groups if g.unaddressed}
    assert per_child  # the fixture has gaps at every level


# ---------------------------------------------------------------------------
# Moved to another day
# ---------------------------------------------------------------------------


def _derived_as_of(store: Store, day: date) -> Store:
    copy = _copy(store, derive=False)
    derive_all(copy, as_of=day)
    return copy


#: Days on both sides of the fixture's validity boundaries (I6's window ends 2021-10-01, I1's and I3's
#: 2021-12-31), and far before and after them.
ADVANCE_DAYS = [date(2021, 10, 1), date(2021, 10, 2), date(2022, 1, 1), date(2019, 1, 1), date(2035, 1, 1), AS_OF]


@pytest.mark.parametrize(("chunk", "bulk"), [(1, False), (derived.ADVANCE_CHUNK, False), (1, True)])
def test_moving_the_derived_graph_day_by_day_equals_deriving_it_for_each_day(
    chunk: int, bulk: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server moves the graph to each new day by recomputing the counties where an outcome changes
    (a whole re-derive at national scale needed over 24 GB): the result is the graph a derivation for
    that day gives, stable-until date included, however the counties are grouped into transactions, and
    when each transaction's lines go in one load (``bulk``: as from ``BULK_FROM`` lines on)."""
    monkeypatch.setattr(derived, "ADVANCE_CHUNK", chunk)
    loads = _loads_of_the_derived_graph(monkeypatch) if bulk else []
    store = fixture_store()
    for day in ADVANCE_DAYS:
        derived.advance(store, day, settings=settings_for())
        fresh = _derived_as_of(store, day)
        assert derived.marker(store) == derived.marker(fresh), day
        assert isomorphic(store.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED))), day
    assert bool(loads) == bulk


def test_a_day_without_a_change_moves_only_the_date() -> None:
    store = fixture_store()
    codes, _ = derived.changed_areas(store, AS_OF, date(2021, 10, 1), settings_for().validity_windows())
    assert codes == set()
    assert derived.advance(store, date(2021, 10, 1), settings=settings_for()) == 1  # the graph's own node
    assert derived.marker(store) == derived.Marker(date(2021, 10, 1), date(2021, 10, 2), None, WINDOWS)


def test_the_areas_that_change_are_those_of_the_interventions_going_out_of_force() -> None:
    store = fixture_store()
    codes, rule = derived.changed_areas(store, AS_OF, date(2021, 10, 2), settings_for().validity_windows())
    i6 = store.select("SELECT ?a WHERE { <https://w3id.org/dcpa/id/intervention/I6> dcpa:targetsArea ?a }")
    assert codes == {r["a"].rsplit("/", 1)[1] for r in i6}
    assert rule.next_change() == date(2022, 1, 1)


def test_counts_within_some_areas_are_the_full_counts_of_those_areas() -> None:
    """``tally(within=…)`` keeps exactly the summaries of areas inside one of the codes, whatever their
    lengths (a refresh passes villages, townships and counties together)."""
    rnd = random.Random(3)
    villages = [f"21{c:02d}{t:02d}{s:03d}{v:03d}" for c in (1, 2) for t in (1, 2, 3) for s in (1, 2) for v in (1, 2)]
    states = list(NeedState)
    needs = [NeedFacts(f"urn:need:{i}", rnd.choice(villages), rnd.choice(["N11", "N22"]), rnd.randint(1, 5),
                       rnd.randint(0, 9), rnd.random() < 0.5) for i in range(300)]
    result = {n.iri: Outcome(rnd.choice(states)) for n in needs}
    full = tally(needs, result)
    for within in (("2101",), ("210102", "2102"), (villages[3], "210203"), ("22",), ("21",)):
        inside = {k: c for k, c in full.items() if any(k[0].startswith(w) for w in within)}
        assert tally(needs, result, within) == inside, within


def _loads_of_the_derived_graph(monkeypatch: pytest.MonkeyPatch, *, fail: bool = False) -> list[int]:
    """From now on every refresh writes as one of ``BULK_FROM`` lines or more does (its deletions in parts, here
    of 3 lines, then its lines in one load, then the marker's move). Returns the number of lines of each load
    into the derived graph; with ``fail``, each such load fails instead, as a process killed there would stop."""
    monkeypatch.setattr(derived, "BULK_FROM", 1)
    monkeypatch.setattr(updates, "DELETE_PART", 3)
    loads: list[int] = []
    real = Store.add_graph

    def add_graph(self: Store, graph: str, data: Any) -> int:
        if graph == str(GRAPH_DERIVED):
            if fail:
                raise StoreError("the process died here")
            loads.append(data.count(b"\n"))
        return real(self, graph, data)

    monkeypatch.setattr(Store, "add_graph", add_graph)
    return loads


def test_a_refresh_of_many_lines_loads_them_and_the_graph_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refresh of ``BULK_FROM`` lines or more (a 100,000-row import at national scale: 354,159) writes them
    in one load between its deletions and the marker's move; after an import, a replacement and an import of
    needs, the derived graph is the one a fresh derivation gives."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    loads = _loads_of_the_derived_graph(monkeypatch)
    import_records(store, "interventions", [COLLECTION], user="李四", settings=settings)
    assert len(loads) == 1 and loads[0] > 0
    _assert_current(store)
    replace_record(store, "interventions", "I-PROV", {**COLLECTION, "target_areas": "219002"}, user="李四",
                   settings=settings)
    assert len(loads) == 2
    _assert_current(store)
    import_records(store, "needs", NEED_ROWS, user="录入员", settings=settings)
    assert len(loads) == 3
    _assert_current(store)


def _cut_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Store, Settings]:
    """The fixture after an import of the province-wide collection whose process died between its refresh's
    deletions and its load: its data in, its marker left, its derived graph half refreshed."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    _loads_of_the_derived_graph(monkeypatch, fail=True)
    monkeypatch.setattr(landing, "roll_back", lambda *_a, **_k: None)  # a killed process undoes nothing
    with pytest.raises(StoreError, match="died here"):
        import_records(store, "interventions", [COLLECTION], user="李四", settings=settings)
    monkeypatch.undo()
    return store, settings


def test_a_refresh_killed_between_its_deletions_and_its_load_is_repaired_by_recovery(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The import's data is in, the refresh's deletions too, its lines not (the process died): the next
    writer's recovery repairs the derived graph to what a fresh derivation gives."""
    store, settings = _cut_short(tmp_path, monkeypatch)
    fresh = _copy(store, derive=True)
    assert not isomorphic(store.to_rdflib(str(GRAPH_DERIVED)), fresh.to_rdflib(str(GRAPH_DERIVED)))
    assert recover(store, settings).rolled_forward
    _assert_current(store)
    assert _unaddressed(store) == set("bdil")  # the collection meets c, as when the write is whole


def test_answers_while_a_write_is_unfinished_apply_the_rule_live_and_say_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write cut short between its refresh's deletions and its load leaves its marker and a derived graph half
    refreshed: until recovery finishes it, the needs and gaps answers are the rule's applied live (as the data
    now stands), and say why; after it, they read the derived graph again."""
    store, settings = _cut_short(tmp_path, monkeypatch)
    assert derived.in_flux(store) and not derived.is_current(store, AS_OF)
    live = _copy(store, derive=False)
    during = need_rows(store, None, with_reasons=True, settings=settings)
    assert during.source == "live" and any("a write is under way" in n for n in during.notes)
    by_iri = {r.iri: r for r in need_rows(live, None, with_reasons=True, settings=settings).rows}
    assert {r.iri: r for r in during.rows} == by_iri
    assert {r.iri.rsplit("/", 1)[1] for r in during.rows if r.state is NeedState.UNADDRESSED} == set("bdil")
    for area in ("21", "219001"):
        a, b = gaps(store, area, settings=settings).to_dict(), gaps(live, area, settings=settings).to_dict()
        assert a.pop("source") == "live" and b.pop("source") == "live"
        assert any("a write is under way" in n for n in a.pop("notes"))
        b.pop("notes")
        assert a == b, area
    assert recover(store, settings).rolled_forward
    assert not derived.in_flux(store) and derived.is_current(store, AS_OF)
    assert need_rows(store, None, settings=settings).source == "derived"


def test_catalogue_queries_of_the_derived_graph_wait_for_a_write_to_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalogue query reading the derived graph refuses, saying to try again, while a write cut short has left
    it half refreshed; one that does not read it runs; after recovery both run."""
    store, settings = _cut_short(tmp_path, monkeypatch)
    with pytest.raises(StoreBusy, match="a write is refreshing") as e:
        run_query(store, "needs_of_village", {"village": V1})
    assert "try again" in (e.value.hint or "")
    assert run_query(store, "needs_by_evidence", {"area": "2190"}).rows  # reads no derived fact
    recover(store, settings)
    assert len(run_query(store, "needs_of_village", {"village": V1}).rows) >= 3


# ---------------------------------------------------------------------------
# The needs known on the graph's day
# ---------------------------------------------------------------------------

#: A day on which every need of the fixture but j and k (identified 2020-01-10) was known.
PAST = date(2019, 6, 1)


def _held(store: Store) -> set[str]:
    """The needs the derived graph holds (a state each)."""
    rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?n dcpa:needState ?s }} }}")
    return {r["n"].rsplit("/", 1)[1] for r in rows}


def test_a_graph_for_a_past_day_holds_the_needs_known_then_and_answers_for_it() -> None:
    """With ``DCPA_AS_OF`` replaying a past day, the derived graph for it counted needs identified later, and
    the catalogue queries that read it counted them too; every answer for that day ran live."""
    store = _derived_as_of(fixture_store(), PAST)
    assert _held(store) == set("abcdefghil")
    m = derived.marker(store)
    assert m is not None and m.as_of == PAST and m.next_identified == date(2020, 1, 10)
    assert m.stable_until is not None and m.stable_until <= date(2020, 1, 10)
    assert not derived.is_current(store, date(2020, 1, 10))
    report = gaps(store, "21", as_of=PAST, settings=settings_for())
    assert report.source == "summaries" and report.totals.needs == 10
    assert report.notes == ["2019-06-01 之后识别的需求未计入：截至某日的回答只计入当日已知的需求 / needs identified "
                            "after 2019-06-01 are left out: an answer as of a day counts the needs known by then"]
    _assert_current(store, ("21", "2190", "219002"))
    # the catalogue's queries of the derived graph count the same needs
    counted = run_query(store, "need_summary_by_type", {"area": "21"})
    assert sum(int(r["needs"]) for r in counted.rows) == 10


def test_a_need_identified_after_the_graph_s_day_waits_for_its_day(tmp_path: Path) -> None:
    """An import (or a replacement) bringing a need identified after the graph's day leaves it out and moves
    the graph's stable-until date to its day; moved to that day, the graph counts it. Each time the graph is
    the one a derivation for its day gives."""
    store = _derived_as_of(fixture_store(), PAST)
    settings = settings_for(tmp_path)
    # in villages where no intervention comes into force or leaves it before the need's day (only V3 has one)
    row = {"village_code": V4, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2019-09-01", "surveyor": "测试·调查员"}
    report = import_records(store, "needs", [row], user="录入员", settings=settings)
    [new] = [r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    assert new not in _held(store)
    assert derived.marker(store) == derived.Marker(PAST, date(2019, 9, 1), date(2019, 9, 1), WINDOWS)
    _assert_current(store, ("21", "2190", "219002"))
    # a need known on the day moved after it: it leaves the graph (a replacement recounts its counties)
    replace_record(store, "needs", "e", {"village_code": V2, "need_type": "N33", "severity": 4, "people_affected": 9,
                                        "source": "survey",
                                        "identified_on": "2019-08-01", "surveyor": "测试·调查员"},
                   user="李四", settings=settings)
    assert "e" not in _held(store)
    assert derived.marker(store) == derived.Marker(PAST, date(2019, 8, 1), date(2019, 8, 1), WINDOWS)
    _assert_current(store, ("21", "2190", "219002"))
    derived.advance(store, date(2019, 9, 1), settings=settings)
    assert {"e", new} <= _held(store) and "j" not in _held(store)
    _assert_current(store, ("21", "2190", "219002"))


def test_a_write_on_a_later_day_the_graph_covers_dates_it_that_day_and_counts_the_day_s_needs(tmp_path: Path) -> None:
    """A server's graph made on an earlier day keeps answering while it covers today; the first survey imported
    after that day, identified since, was left out and sent every answer live until the keeper moved the graph."""
    store = fixture_store()  # made for AS_OF (2020-06-30), stable until 2021-10-02
    later = date(2020, 7, 15)
    row = {"village_code": V4, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2020-07-10", "surveyor": "测试·调查员"}
    report = import_records(store, "needs", [row], user="录入员", settings=settings_for(tmp_path, as_of=later))
    [new] = [r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    assert new in _held(store)
    assert derived.marker(store) == derived.Marker(later, date(2021, 10, 2), None, WINDOWS)
    assert derived.is_current(store, later)
    _assert_current(store)


def test_a_move_to_a_later_day_cut_short_is_repaired_without_the_needs_of_that_day(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A move of the graph to a later day killed between its parts leaves the old marker and some counties
    already moved, holding needs identified after the graph's day; recovery repaired those counties as of the
    old day but kept the needs, so the graph counted them on days it answers for."""
    store = _derived_as_of(fixture_store(), PAST)
    settings = settings_for(tmp_path)
    row = {"village_code": V1, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2019-09-01", "surveyor": "测试·调查员"}
    import_records(store, "needs", [row], user="录入员", settings=settings)
    monkeypatch.setattr(derived, "ADVANCE_CHUNK", 1)  # 219001 (the new need's county), then 219002
    real, calls = derived._rewrite, []

    def killed_at_the_second(*a: Any, **k: Any) -> int:
        calls.append(a[2])
        if len(calls) == 2:
            raise StoreError("the process died here")
        return real(*a, **k)

    monkeypatch.setattr(derived, "_rewrite", killed_at_the_second)
    with pytest.raises(StoreError, match="died here"):
        advance_marked(store, AS_OF, settings)
    monkeypatch.undo()
    assert calls == [["219001"], ["219002"]] and len(_held(store)) == 11  # 219001 moved, with the new need
    assert recover(store, settings).rolled_forward == []
    m = derived.marker(store)
    assert m is not None and m.as_of == PAST
    assert _held(store) == set("abcdefghil")
    _assert_current(store, ("21", "2190", "219001"))


@pytest.mark.parametrize("bad", ['"2019-13-45"^^xsd:date', '"2099-07-01"'])
def test_a_need_whose_identification_date_is_not_a_date_counts_as_undated_in_the_graph_and_live(
        bad: str, tmp_path: Path) -> None:
    """A need whose dcpa:identifiedOn is not a date (ill-formed; a plain string: a store loaded by other means
    than an import) was never a later need for the graph's marker, so the graph held it, while an answer
    leaving later needs out dropped it (its date did not compare), and a string sorting last made every day
    leave needs out: the graph and the live answer counted different needs. It counts as a need without a
    date, both ways."""
    store = fixture_store(derived=False)
    store.update(f"""INSERT DATA {{ GRAPH <https://w3id.org/dcpa/graph/synthetic> {{ <{need("z")}> a dcpa:Need ;
        dcpa:needOf <{AREA_PREFIX}{V1}> ; dcpa:needType dcpav:N33 ; dcpa:severity 3 ; dcpa:identifiedOn {bad} }} }}""")
    derive_all(store, as_of=AS_OF)
    assert "z" in _held(store)
    _assert_current(store, ("21", "2190", "219001"))
    # a later need brought in: the graph leaves it out and says so, and still counts z, as the live answer does
    row = {"village_code": V4, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2020-07-01", "surveyor": "测试·调查员"}
    import_records(store, "needs", [row], user="录入员", settings=settings_for(tmp_path))
    m = derived.marker(store)
    assert m is not None and m.next_identified == date(2020, 7, 1) and "z" in _held(store)
    _assert_current(store, ("21", "2190", "219001"))


def test_an_answer_read_from_a_graph_of_an_earlier_day_says_it_leaves_out_the_needs_after_the_day_asked() -> None:
    """Replaying 2019-07-01 on a graph made for 2019-06-01 (it answers until 2019-09-01), the dashboard's gap
    report said needs identified after 2019-07-01 were left out, and the village page, a gap report by one reach
    mode, a plan or recommendations, read from the graph too, said after 2019-06-01 (their notes said 2019-07-01):
    every answer for the day says the day asked, as the rule applied live does."""
    store = _derived_as_of(fixture_store(), PAST)
    day = date(2019, 7, 1)
    assert derived.is_current(store, day)
    ns = need_rows(store, None, as_of=day, settings=settings_for())
    assert ns.source == "derived" and ns.known_by == day
    assert need_rows(_copy(store, derive=False), None, as_of=day, settings=settings_for()).known_by == day
    assert gaps(store, "21", as_of=day, reach="direct", settings=settings_for()).known_by == day
    assert gaps(store, "21", as_of=day, settings=settings_for()).known_by == day


def test_a_withdrawn_or_re_dated_later_need_no_longer_sets_the_graph_s_next_identification(tmp_path: Path) -> None:
    """A survey entered with a date after the graph's day, then withdrawn (or its need re-dated later still):
    the graph's marker kept naming the gone date, so every answer read from it said later needs were left out
    when none were (or the first later one was on a day none is), and the live answer did not."""
    store = fixture_store()
    settings = settings_for(tmp_path)
    row = {"village_code": V4, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2020-07-01", "surveyor": "测试·调查员"}
    report = import_records(store, "needs", [row], user="录入员", settings=settings)
    assert derived.marker(store) == derived.Marker(AS_OF, date(2020, 7, 1), date(2020, 7, 1), WINDOWS)
    withdraw(store, report.batch_id, user="录入员", reason="测试", settings=settings)
    m = derived.marker(store)
    assert m is not None and m.next_identified is None and m.known() is None
    assert not any("identified after" in n for n in need_rows(store, None, settings=settings).notes)
    _assert_current(store)
    # the only later need moved later still: the next identification is its new day
    store = _derived_as_of(fixture_store(), PAST)
    replace_record(store, "needs", "j", {"village_code": V5, "need_type": "N12", "severity": 5, "people_affected": 90,
                                        "source": "survey", "identified_on": "2020-03-01", "surveyor": "测试·调查员"},
                   user="李四", settings=settings)
    replace_record(store, "needs", "k", {"village_code": V5, "need_type": "N33", "severity": 1, "people_affected": 10,
                                        "source": "survey", "identified_on": "2020-03-01", "surveyor": "测试·调查员"},
                   user="李四", settings=settings)
    m = derived.marker(store)
    assert m is not None and m.next_identified == date(2020, 3, 1)
    _assert_current(store, ("21", "2190", "219002"))


def test_an_answer_for_a_day_after_tomorrow_leaves_out_the_needs_identified_after_it_as_the_graph_does() -> None:
    """A store holding a need identified after a day beyond tomorrow (loaded by other means than an import,
    which refuses those: a remote store, a planned survey): the graph for that day leaves it out and says so,
    but the rule applied live took it that no need could be later and counted it on that day."""
    store = fixture_store(derived=False)
    store.update(f"""INSERT DATA {{ GRAPH <https://w3id.org/dcpa/graph/synthetic> {{ <{need("z")}> a dcpa:Need ;
        dcpa:needOf <{AREA_PREFIX}{V1}> ; dcpa:needType dcpav:N33 ; dcpa:severity 3 ;
        dcpa:identifiedOn "2099-01-01"^^xsd:date }} }}""")
    day = date(2098, 1, 1)
    live = need_rows(store, None, as_of=day, settings=settings_for())
    assert live.source == "live" and "z" not in {r.iri.rsplit("/", 1)[1] for r in live.rows}
    assert live.known_by == day
    derive_all(store, as_of=day)
    assert "z" not in _held(store)
    _assert_current(store, ("21", "2190", "219001"))


SHORT_WINDOWS = "C1=1,C2=1,C3=1,C4=1"


def test_a_graph_made_with_other_validity_windows_answers_for_its_own_alone(tmp_path: Path) -> None:
    """A server started with another DCPA_VALIDITY_MONTHS over an existing store answered its gap reports from
    the graph made with the old windows (and live answers, a period or another day, with the new: two figures
    for one need). The graph records its windows; under others the answer is live and says why; a write under
    others refreshes the graph by its own windows, so it is never half one rule and half the other."""
    store = fixture_store()
    default, short = settings_for(), settings_for(validity_months=SHORT_WINDOWS)
    m = derived.marker(store)
    assert m is not None and m.windows == WINDOWS
    ours = gaps(store, "21", settings=default)
    assert ours.source == "summaries"
    other = gaps(store, "21", settings=short)
    copy = _copy(store, derive=False)
    derive_all(copy, as_of=AS_OF, settings=short)
    assert derived.marker(copy).windows == "C1=1,C2=1,C3=1,C4=1"  # type: ignore[union-attr]
    made = gaps(copy, "21", settings=short)
    assert made.source == "summaries" and other.source == "live"
    assert other.totals == made.totals and other.totals != ours.totals
    assert any("C1=1,C2=1,C3=1,C4=1" in n and "dcpa derive" in n for n in other.notes)
    assert need_rows(store, resolve_area(store, "2190"), settings=short).source == "live"
    # a survey imported under the other windows: the graph stays the one its own windows give
    row = {"village_code": V4, "need_type": "N33", "severity": 3, "people_affected": 10, "source": "survey",
           "identified_on": "2020-06-01", "surveyor": "测试·调查员"}
    import_records(store, "needs", [row], user="录入员", settings=settings_for(tmp_path, validity_months=SHORT_WINDOWS))
    assert derived.marker(store).windows == WINDOWS  # type: ignore[union-attr]
    _assert_current(store)
    # and a refresh of the whole province under them (a, g, h and k change state by the windows)
    derived.refresh(store, ["21"], settings=short)
    _assert_current(store)
    # and the keeper moving it to a later day (past I6's window, under the graph's own windows)
    assert gaps(store, "21", settings=default).source == "summaries"
    derived.advance(store, date(2021, 10, 2), settings=short)
    _assert_current(store)


def test_a_catalogue_query_on_a_graph_made_with_other_windows_says_so() -> None:
    """`dcpa query needs_of_village` and /api/queries/needs_of_village under another DCPA_VALIDITY_MONTHS read
    the graph made with the old windows and said only its date: need states other than every gap report's (live
    under the new windows), without a word. They now say the graph's windows differ, and what to run."""
    from kg.catalogue import answer

    store = fixture_store()
    assert answer(store, "needs_of_village", {"village": V1}, settings=settings_for()).notes == []
    said = answer(store, "needs_of_village", {"village": V1}, settings=settings_for(validity_months=SHORT_WINDOWS))
    assert said.derived_as_of == AS_OF.isoformat() and len(said.notes) == 1
    assert said.notes[0].startswith(f"派生图是按另一组有效期（{WINDOWS}）生成的")
    assert "these rows are read from it" in said.notes[0] and "dcpa derive" in said.notes[0]
