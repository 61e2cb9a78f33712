"""The rule of "addressed" (kg.rule), clause by clause, on hand-made inputs (no store).

Each test builds the few needs and interventions a clause is about, so that a failure names the clause.
The same clauses are checked end to end on the fixture graph in test_derived.py.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import DataError
from kg.namespaces import DCPAV, ID
from kg.rule import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    PLANNED,
    EvaluationFacts,
    Fit,
    InterventionFacts,
    NeedFacts,
    NeedState,
    ReachMode,
    Rule,
    add_months,
    parse_reach,
    parse_validity,
    validity,
)

N1, N11, N12, N2, N21, N22 = (str(DCPAV[c]) for c in ("N1", "N11", "N12", "N2", "N21", "N22"))
BROADER = {N11: [N1], N12: [N1], N21: [N2], N22: [N2]}
C1, C2, C4 = str(DCPAV.C1), str(DCPAV.C2), str(DCPAV.C4)
TRAINING = (Fit(N2, C1, "category"),)
TERMINAL = (Fit(N11, str(DCPAV.R22), "resource_type"),)
ONLINE_APP = (Fit(N21, str(ID) + "resource/app", "resource"),)
DAY = date(2020, 6, 30)
V, W, X = "219001001001", "219001001002", "219001002001"  # V and W in one township, X in another


def need(key: str, village: str, t: str, severity: int = 3, people: int | None = 50, example: bool = True) -> NeedFacts:
    return NeedFacts(str(ID) + f"need/{key}", village, t, severity, people, example)


def intervention(key: str, **kw: object) -> InterventionFacts:
    base: dict[str, object] = {"iri": str(ID) + f"intervention/{key}", "example": True, "status": ACTIVE,
                               "category": C1, "category_code": "C1", "start": date(2020, 1, 1)}
    base.update(kw)
    return InterventionFacts(**base)  # type: ignore[arg-type]


def states(interventions: list[InterventionFacts], needs: list[NeedFacts], day: date = DAY,
           evaluations: list[EvaluationFacts] | None = None, **kw: object) -> dict[str, NeedState]:
    rule = Rule({i.iri: i for i in interventions}, evaluations or [], BROADER, day)
    out = rule.outcomes(needs, **kw)  # type: ignore[arg-type]
    return {n.iri.rsplit("/", 1)[1]: out[n.iri].state for n in needs}


A, U, G = NeedState.ADDRESSED, NeedState.UNVERIFIED, NeedState.UNADDRESSED


# -- reach -----------------------------------------------------------------------------


def test_a_one_village_training_addresses_only_that_village() -> None:
    """Provided by a province-wide library or not: it names V, so it reaches V and nothing else."""
    i = intervention("t", villages=(V,), named_fits=TRAINING)
    assert states([i], [need("v", V, N22), need("w", W, N22), need("x", X, N21)]) == {"v": A, "w": G, "x": G}


def test_an_on_site_intervention_targeting_an_area_reaches_no_village() -> None:
    i = intervention("t", areas=("219001001",), named_fits=TRAINING, area_fits=())
    assert states([i], [need("v", V, N22), need("w", W, N22)]) == {"v": G, "w": G}


def test_an_area_wide_online_platform_addresses_every_village_of_the_area() -> None:
    i = intervention("p", category=C4, category_code="C4", areas=("219001001",),
                     named_fits=(Fit(N1, C4, "category"), *ONLINE_APP), area_fits=ONLINE_APP)
    assert states([i], [need("v", V, N21), need("w", W, N21), need("x", X, N21)]) == {"v": A, "w": A, "x": G}
    # across the area only the online resource fits, not the category (N1)
    assert states([i], [need("v", V, N11)]) == {"v": G}


def test_a_declared_whole_area_scope_reaches_every_village_with_all_its_fits() -> None:
    i = intervention("t", areas=("219001",), whole_area=True, named_fits=TRAINING, area_fits=TRAINING)
    assert states([i], [need("v", V, N22), need("x", X, N21)]) == {"v": A, "x": A}


def test_a_narrower_reach_rule_counts_only_its_modes() -> None:
    i = intervention("p", areas=("219001001",), named_fits=ONLINE_APP, area_fits=ONLINE_APP)
    needs = [need("v", V, N21)]
    assert states([i], needs, modes=(ReachMode.AREA,)) == {"v": A}
    assert states([i], needs, modes=(ReachMode.DIRECT,)) == {"v": G}


def test_library_is_not_a_reach_mode_of_addressed() -> None:
    with pytest.raises(DataError) as e:
        parse_reach("area,library")
    assert "never makes a need addressed" in e.value.message
    assert parse_reach("area, direct") == (ReachMode.DIRECT, ReachMode.AREA)


# -- fit ---------------------------------------------------------------------------------


def test_a_fit_through_a_broader_type_keeps_its_path() -> None:
    i = intervention("t", villages=(V,), named_fits=TRAINING)
    rule = Rule({i.iri: i}, [], BROADER, DAY)
    [reason] = rule.outcomes([need("v", V, N22)])[str(ID) + "need/v"].reasons
    assert reason.fit_path == (N22, N2)
    assert reason.fit == TRAINING[0]
    assert reason.mode is ReachMode.DIRECT and reason.target == V


def test_a_type_an_intervention_does_not_address_is_not_met() -> None:
    i = intervention("t", villages=(V,), named_fits=TERMINAL)
    assert states([i], [need("v", V, N12), need("w", V, N11)]) == {"v": G, "w": A}


# -- time ----------------------------------------------------------------------------------


def test_training_past_its_window_no_longer_addresses() -> None:
    i = intervention("t", villages=(V,), named_fits=TRAINING, status=COMPLETED, start=date(2017, 1, 1),
                     end=date(2017, 3, 31))
    needs = [need("v", V, N22)]
    assert states([i], needs, date(2019, 3, 31)) == {"v": A}  # end + 24 months
    assert states([i], needs, date(2019, 4, 1)) == {"v": G}


def test_a_terminal_counts_while_in_service() -> None:
    i = intervention("e", category=C2, category_code="C2", villages=(V,), named_fits=TERMINAL, status=COMPLETED,
                     start=date(2015, 1, 1), end=date(2015, 2, 1), in_service_until=date(2024, 12, 31))
    needs = [need("v", V, N11)]
    assert states([i], needs, date(2024, 12, 31)) == {"v": A}  # far past end + 60 months, but still in service
    assert states([i], needs, date(2025, 1, 1)) == {"v": G}


def test_a_declared_in_service_date_ends_it_before_its_window_or_open_end() -> None:
    # the steward's date replaces the category's window and an active one's open end (docs/DATA_MODEL.md)
    needs = [need("v", V, N11)]
    for status, end in ((COMPLETED, date(2020, 1, 31)), (ACTIVE, None)):
        i = intervention("e", category=C2, category_code="C2", villages=(V,), named_fits=TERMINAL, status=status,
                         start=date(2019, 1, 1), end=end, in_service_until=date(2020, 3, 31))
        assert states([i], needs, date(2020, 3, 31)) == {"v": A}
        assert states([i], needs, date(2020, 4, 1)) == {"v": G}  # well within end + 60 months, or open-ended


def test_planned_cancelled_and_not_yet_started_interventions_do_not_count() -> None:
    needs = [need("v", V, N22)]
    for status in (PLANNED, CANCELLED):
        assert states([intervention("t", villages=(V,), named_fits=TRAINING, status=status)], needs) == {"v": G}
    later = intervention("t", villages=(V,), named_fits=TRAINING, start=date(2020, 7, 1))
    assert states([later], needs) == {"v": G}
    assert states([later], needs, date(2020, 7, 1)) == {"v": A}


def test_completed_without_dates_does_not_count_and_active_without_end_is_open_ended() -> None:
    windows = parse_validity("")
    undated = intervention("t", status=COMPLETED, start=None)
    assert validity(undated, windows)[0] is None
    assert validity(intervention("t", status=ACTIVE, start=None), windows)[1] is None  # an active one counts
    open_ended = intervention("t", status=ACTIVE, start=date(2010, 1, 1))
    assert validity(open_ended, windows)[1] is None
    # an active intervention whose end has passed is judged by its end and window, like a completed one
    stale = intervention("t", status=ACTIVE, start=date(2010, 1, 1), end=date(2010, 6, 30))
    assert validity(stale, windows)[1] == add_months(date(2010, 6, 30), 24)


def test_the_next_change_is_the_first_validity_boundary_after_the_date() -> None:
    ends = intervention("a", villages=(V,), named_fits=TRAINING, status=COMPLETED, start=date(2019, 1, 1),
                        end=date(2019, 6, 30))  # in force until 2021-06-30
    starts = intervention("b", villages=(V,), named_fits=TRAINING, start=date(2021, 1, 15))
    rule = Rule({i.iri: i for i in (ends, starts)}, [], BROADER, DAY)
    assert rule.next_change() == date(2021, 1, 15)
    assert Rule({ends.iri: ends}, [], BROADER, DAY).next_change() == date(2021, 7, 1)


def test_validity_windows_are_a_setting() -> None:
    assert parse_validity("C1=6")["C1"] == 6 and parse_validity("C1=6")["C2"] == 60
    with pytest.raises(DataError):
        parse_validity("C9=3")
    with pytest.raises(DataError):
        parse_validity("C1=soon")


# -- evaluation ------------------------------------------------------------------------------


def evaluation(i: InterventionFacts, area: str, target: float, actual: float, end: date,
               example: bool = True) -> EvaluationFacts:
    return EvaluationFacts(i.iri + "/e" + end.isoformat(), i.iri, area, target, actual, end, example)


def test_an_evaluation_below_target_gives_addressed_but_not_verified() -> None:
    i = intervention("t", villages=(V,), named_fits=TRAINING)
    needs = [need("v", V, N22)]
    assert states([i], needs, evaluations=[evaluation(i, V, 100, 80, date(2020, 5, 31))]) == {"v": U}
    # an evaluation of the township containing V counts for V too
    assert states([i], needs, evaluations=[evaluation(i, "219001001", 100, 80, date(2020, 5, 31))]) == {"v": U}
    # the latest evaluation decides; one still running (period end after the date) does not count yet
    evs = [evaluation(i, V, 100, 80, date(2020, 1, 31)), evaluation(i, V, 100, 120, date(2020, 5, 31)),
           evaluation(i, V, 100, 10, date(2020, 12, 31))]
    assert states([i], needs, evaluations=evs) == {"v": A}
    # two indicators evaluated over the same period: one short of its target is enough (docs/DATA_MODEL.md)
    met = EvaluationFacts(i.iri + "/e-met", i.iri, V, 100, 120, date(2020, 5, 31), True)
    assert states([i], needs, evaluations=[met, evaluation(i, V, 100, 80, date(2020, 5, 31))]) == {"v": U}
    # a later row without its actual value (not yet measured) does not hide the result before it
    pending = EvaluationFacts(i.iri + "/e-pending", i.iri, V, 100, None, date(2020, 6, 30), True)
    assert states([i], needs, evaluations=[evaluation(i, V, 100, 80, date(2020, 5, 31)), pending]) == {"v": U}


def test_one_verified_intervention_is_enough() -> None:
    i = intervention("t", villages=(V,), named_fits=TRAINING)
    j = intervention("u", villages=(V,), named_fits=TRAINING)
    assert states([i, j], [need("v", V, N22)], evaluations=[evaluation(i, V, 100, 80, date(2020, 5, 31))]) == {"v": A}


# -- capacity and people -----------------------------------------------------------------------


def test_a_declared_village_capacity_is_not_exceeded_and_serves_the_most_severe_first() -> None:
    i = intervention("room", category=C2, category_code="C2", villages=(V, W, X), named_fits=TERMINAL,
                     village_capacity=2)
    got = states([i], [need("v", V, N11, 2), need("w", W, N11, 5), need("x", X, N11, 4)])
    assert got == {"v": G, "w": A, "x": A}


def test_people_reached_limits_the_villages_covered() -> None:
    i = intervention("class", villages=(V, W, X), named_fits=TRAINING, people_reached=100)
    # W (sev 5, 60 people) first; then X (sev 4, 50 people) does not fit in the 40 left; V (sev 3, 30) does
    got = states([i], [need("v", V, N22, 3, 30), need("w", W, N22, 5, 60), need("x", X, N21, 4, 50)])
    assert got == {"v": A, "w": A, "x": G}


def test_capacity_applies_to_named_villages_not_to_an_online_area() -> None:
    i = intervention("p", villages=(V,), areas=("219001001",), named_fits=ONLINE_APP, area_fits=ONLINE_APP,
                     village_capacity=0)
    assert states([i], [need("v", V, N21), need("w", W, N21)]) == {"v": A, "w": A}  # both through the area


# -- honesty -------------------------------------------------------------------------------------


def test_example_data_never_addresses_or_verifies_a_real_need() -> None:
    example = intervention("ex", villages=(V,), named_fits=TRAINING, example=True)
    real = intervention("re", villages=(V,), named_fits=TRAINING, example=False)
    real_need, example_need = need("r", V, N22, example=False), need("e", V, N22, example=True)
    assert states([example], [real_need, example_need]) == {"r": G, "e": A}
    assert states([real], [real_need, example_need]) == {"r": A, "e": A}
    # an example evaluation below target does not make a real need unverified
    ev = evaluation(real, V, 100, 10, date(2020, 5, 31), example=True)
    assert states([real], [real_need, example_need], evaluations=[ev]) == {"r": A, "e": U}


def test_example_needs_never_take_capacity_meant_for_real_needs() -> None:
    room = intervention("room", category=C2, category_code="C2", villages=(V, W), named_fits=TERMINAL,
                        village_capacity=1, example=False)
    got = states([room], [need("v", V, N11, 5, example=True), need("w", W, N11, 1, example=False)])
    assert got == {"v": G, "w": A}


def test_a_real_need_keeps_its_share_of_a_capacity_whatever_the_example_needs_beside_other_real_ones() -> None:
    # V's real need is mild, W's severe; V also has a severe example need with many people. The room serves one
    # village: W, as it does without the example data (a gap report with "real data only" must not change)
    room = intervention("room", category=C2, category_code="C2", villages=(V, W), named_fits=TERMINAL,
                        village_capacity=1, example=False)
    real = [need("v", V, N11, 2, example=False), need("w", W, N11, 4, example=False)]
    assert states([room], real) == {"v": G, "w": A}
    assert states([room], [*real, need("ve", V, N11, 5, example=True)]) == {"v": G, "w": A, "ve": G}
    # the same with people: V's example need of 90 people would leave no room for W's 60
    course = intervention("class", villages=(V, W), named_fits=TRAINING, people_reached=100, example=False)
    real = [need("v", V, N22, 5, 30, example=False), need("w", W, N22, 4, 60, example=False)]
    assert states([course], real) == {"v": A, "w": A}
    assert states([course], [*real, need("ve", V, N22, 1, 90, example=True)]) == {"v": A, "w": A, "ve": A}


# -- a property: an intervention changes only the needs of the villages it reaches -------------------

CODES = [V, W, X, "219002001001"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    needs=st.lists(st.tuples(st.sampled_from(CODES), st.sampled_from([N11, N12, N21, N22]),
                             st.integers(1, 5)), min_size=1, max_size=12),
    named=st.sets(st.sampled_from(CODES), max_size=3),
    area=st.sampled_from([None, "219001001", "219001", "2190"]),
    online=st.booleans(),
    capacity=st.one_of(st.none(), st.integers(0, 3)),
)
def test_adding_one_intervention_changes_only_needs_in_villages_it_reaches(
    needs: list[tuple[str, str, int]], named: set[str], area: str | None, online: bool, capacity: int | None
) -> None:
    base = [intervention("base", villages=(X,), named_fits=TERMINAL)]
    facts = [need(str(k), v, t, sev) for k, (v, t, sev) in enumerate(needs)]
    fits = ONLINE_APP + TRAINING if online else TRAINING
    new = intervention("new", villages=tuple(sorted(named)), areas=(area,) if area else (), named_fits=fits,
                       area_fits=ONLINE_APP if online else (), village_capacity=capacity)
    before = states(base, facts)
    after = states([*base, new], facts)
    reached = set(named) | ({c for c in CODES if area and c.startswith(area)} if online else set())
    for n in facts:
        key = n.iri.rsplit("/", 1)[1]
        if n.village not in reached:
            assert after[key] == before[key], (n, new)
        else:  # a new intervention can only add reasons: nothing it reaches gets worse
            assert not (before[key] is A and after[key] is not A)
