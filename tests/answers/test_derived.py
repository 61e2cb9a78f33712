"""The derived graph: its flags and summaries say what the rule says, and stay right after every write."""

from __future__ import annotations

import io
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from rdflib.compare import isomorphic

from kg import derived
from kg.answers._common import REACH_MODES, need_rows, parse_reach, resolve_area
from kg.answers.gaps import GAP_DIMENSIONS, _summary_tallies
from kg.catalogue import run_query
from kg.derived import derive_all
from kg.errors import StoreError
from kg.importer import import_records, replace_record
from kg.matching import gaps
from kg.namespaces import GRAPH_DERIVED
from kg.settings import Settings
from kg.store import Store

from .conftest import V1, V3, fixture_store

ALL_REACHES = [",".join(c) for n in range(1, 4) for c in combinations(REACH_MODES, n)]
MODE_OF = {v: k for k, v in derived.MODE_CONCEPT.items()}


@pytest.fixture(scope="module")
def live() -> Store:
    """The fixture without a derived graph: the library then applies the rule itself."""
    return fixture_store(derived=False)


def test_reach_modes_and_counts_per_need_as_worked_out_by_hand(store: Store) -> None:
    # tests/answers/README.md: direct {a, f}; area adds {h, k}; library {a, d, f, h, k}
    rows = store.select(f"SELECT ?n ?m WHERE {{ GRAPH <{GRAPH_DERIVED}> {{ ?n dcpa:addressedThrough ?m }} }}")
    modes: dict[str, set[str]] = {}
    for r in rows:
        modes.setdefault(r["n"].rsplit("/", 1)[1], set()).add(MODE_OF[r["m"]])
    assert modes == {
        "a": {"direct", "library"}, "d": {"library"}, "f": {"direct", "library"},
        "h": {"area", "library"}, "k": {"area", "library"},
    }
    counts = {r["n"].rsplit("/", 1)[1]: r["c"] for r in store.select(
        "SELECT ?n ?c WHERE { ?n dcpa:addressingInterventionCount ?c }")}
    assert set(counts) == set("abcdefghijk")  # every need has its count, gaps included
    assert {k for k, c in counts.items() if c == 0} == set("bcegij")


@pytest.mark.parametrize("reach", ALL_REACHES)
def test_flags_agree_with_the_rule_applied_live_for_every_reach(store: Store, live: Store, reach: str) -> None:
    modes = parse_reach(reach)
    for code in ("21", "219001", V1):
        scope = resolve_area(store, code)
        assert sorted(need_rows(store, scope, modes)) == sorted(need_rows(live, scope, modes)), code
    assert sorted(need_rows(store, None, modes)) == sorted(need_rows(live, None, modes))


@pytest.mark.parametrize("by", GAP_DIMENSIONS)
@pytest.mark.parametrize("area", [None, "21", "2190", "219001", "219001001", V1])
def test_gap_reports_from_the_derived_graph_equal_those_from_the_rule(
    store: Store, live: Store, area: str | None, by: str
) -> None:
    assert gaps(store, area, by=by).to_dict() == gaps(live, area, by=by).to_dict()


def test_gaps_above_county_level_read_the_summaries(store: Store) -> None:
    """The fast path is taken where it should be (and the slow one below it)."""
    assert _summary_tallies(store, resolve_area(store, "21"), "area") is not None
    assert _summary_tallies(store, resolve_area(store, "219001"), "need_type") is not None
    assert _summary_tallies(store, resolve_area(store, "219001"), "area") is None  # townships: counted from needs
    # a summary the report reads: N22 needs of severity 5 in city 2190 (need g, a gap)
    [row] = store.select("SELECT ?n ?g WHERE { ?s dcpa:summaryOf <https://w3id.org/dcpa/id/area/2190> ; "
                         "dcpa:summaryNeedType dcpav:N22 ; dcpa:summarySeverity 5 ; dcpa:needCount ?n ; "
                         "dcpa:gapCount ?g }")
    assert row == {"n": 1, "g": 1}


def test_a_store_without_the_derived_graph_is_answered_live_or_refused(live: Store) -> None:
    assert not derived.is_current(live)
    assert gaps(live, "2190").totals["unaddressed"] == 6  # computed by the rule itself
    with pytest.raises(StoreError) as exc:
        run_query(live, "needs_of_village", {"village": V1})
    assert "dcpa derive" in (exc.value.hint or "")


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
        derive_all(copy)
    return copy


def _assert_current(store: Store) -> None:
    """The derived graph kept current write by write is the one a fresh derivation gives, and the
    gap report read from it is the one the rule gives when applied live."""
    assert isomorphic(store.to_rdflib(str(GRAPH_DERIVED)), _copy(store, derive=True).to_rdflib(str(GRAPH_DERIVED)))
    live = _copy(store, derive=False)
    for area in ("21", "2190", "219001"):
        assert gaps(store, area).to_dict() == gaps(live, area).to_dict(), area


def _unaddressed(store: Store) -> set[str]:
    rows = store.select("SELECT ?n WHERE { ?n dcpa:addressingInterventionCount 0 }")
    return {r["n"].rsplit("/", 1)[1] for r in rows}


INTERVENTION: dict[str, Any] = {
    "id": "I4",
    "name_zh": "示例·五社区宽带建设",
    "category": "C4",
    "provided_by": "city",
    "target_areas": "219002001002",
    "uses_resources": "net",
    "status": "S1",
    "source": "document",
}


def test_imports_and_replacements_keep_the_derived_graph_current(tmp_path: Path) -> None:
    store = fixture_store()
    settings = Settings(imports_path=tmp_path / "imports", store_path=tmp_path / "store")
    assert _unaddressed(store) == set("bcegij")

    # a new need in V3: a gap, counted in the summaries of its county, city and province
    new_need = {"village_code": V3, "need_type": "N33", "severity": 3, "people_affected": 10,
                "source": "survey", "identified_on": "2020-03-01", "surveyor": "示例·调查员"}
    report = import_records(store, "needs", [new_need], user="录入员", settings=settings)
    [new] = [r["n"].rsplit("/", 1)[1] for r in store.select(
        f"SELECT ?n WHERE {{ GRAPH <{report.graph}> {{ ?n a dcpa:Need }} }}")]
    _assert_current(store)
    assert _unaddressed(store) == set("bcegij") | {new}

    # the planned broadband project (C4: N1 and N43, the city library's) starts: it reaches the whole
    # city through the library, so b and j (N12 internet, under N1) and c (N43) are met
    replace_record(store, "interventions", "I4", {**INTERVENTION, "status": "S2"}, user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("egi") | {new}

    # a county-wide reading project (C1) targeting 219001: meets g (N22 in V3, through broader N2)
    wide = {**INTERVENTION, "id": "I-WIDE", "name_zh": "示例·全县数字素养", "category": "C1", "provided_by": "k1",
            "uses_resources": "", "target_areas": "219001", "status": "S2"}
    import_records(store, "interventions", [wide], user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("ei") | {new}

    # cancelled again: back to where it was
    replace_record(store, "interventions", "I-WIDE", {**wide, "status": "S4"}, user="李四", settings=settings)
    _assert_current(store)
    assert _unaddressed(store) == set("egi") | {new}


def test_refresh_on_a_store_without_a_derived_graph_derives_it_whole() -> None:
    store = fixture_store(derived=False)
    derived.refresh(store, ["219001"])
    assert derived.is_current(store)
    _assert_current(store)


def test_refresh_with_nothing_changed_writes_nothing(store: Store) -> None:
    assert derived.refresh(store, ["21"]) == 0
    assert derived.refresh(store, []) == 0


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
    report = gaps(store, area, by="area")
    assert per_child == {g.code: [g.unaddressed, g.severity_unaddressed] for g in report.groups if g.unaddressed}
    assert per_child  # the fixture has gaps at every level
