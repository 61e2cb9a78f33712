"""gaps, recommend and similar on the fixture, against the answers worked out in README.md (as of 2020-06-30)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kg.answers.areas import resolve_area
from kg.derived import derive_all
from kg.errors import DataError, InvalidParameter, NotFound
from kg.facts import parse_date
from kg.matching import gaps, recommend, similar
from kg.rule import ended_by
from kg.settings import Settings
from kg.store import Store

from .conftest import V1, V2, V3, V5, fixture_store, need, settings_for


@pytest.mark.parametrize(
    ("reach", "addressed", "unverified", "unaddressed"),
    [("direct", 3, 1, 8), ("area", 3, 0, 9), ("direct,area", 6, 1, 5)],
)
def test_reach_rule_changes_what_is_addressed(store: Store, settings: Settings, reach: str, addressed: int,
                                              unverified: int, unaddressed: int) -> None:
    t = gaps(store, None, reach=reach, settings=settings).totals
    assert (t.addressed, t.unverified, t.unaddressed) == (addressed, unverified, unaddressed)


def test_gap_totals_and_drill_down(store: Store, settings: Settings) -> None:
    rep = gaps(store, "2190", settings=settings)
    assert rep.to_dict()["totals"] == {
        "needs": 12, "addressed": 6, "unverified": 1, "unaddressed": 5, "unaddressed_share": 0.4167,
        "severity_total": 40, "severity_unaddressed": 16, "severe_unaddressed": 2, "people_unaddressed": 320,
        "example_needs": 12, "severity_weighted_unaddressed_share": 0.4,
    }
    assert [(g.code, g.needs, g.unaddressed, g.unverified, g.severity_unaddressed) for g in rep.groups] == [
        ("219001", 7, 3, 1, 10), ("219002", 5, 2, 0, 6)]
    assert [c.code for c in rep.children] == ["219001", "219002"]
    town = gaps(store, "219001001", settings=settings)
    assert [(g.code, g.unaddressed) for g in town.groups] == [(V1, 2), (V2, 1)]
    assert town.groups[0].label is not None and town.groups[0].label.zh == "示例·一村"
    assert gaps(store, V1, settings=settings).totals.unaddressed == 2


def test_every_gap_report_states_its_data_basis(store: Store, settings: Settings) -> None:
    rep = gaps(store, "2190", settings=settings)
    assert (rep.basis.items, rep.basis.example_items, rep.basis.example_share) == (12, 12, 1.0)
    assert "example data" in rep.basis.note_en and "示例数据" in rep.basis.note_zh
    assert all(g.example and g.example_needs == g.needs for g in rep.groups)


def test_grouped_by_area_every_child_area_is_listed_with_zeros_too(store: Store, settings: Settings) -> None:
    """A city without any recorded need is a row of zeros, not missing (it could be taken for no data)."""
    store = fixture_store()
    store.update("""PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
        INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/synthetic> {
          <https://w3id.org/dcpa/id/area/219001009> a dcpa:Township ; dcpa:areaCode "219001009" ;
            <http://www.w3.org/2000/01/rdf-schema#label> "示例·无需求乡"@zh ;
            dcpa:parentArea <https://w3id.org/dcpa/id/area/219001> } }""")
    rep = gaps(store, "219001", settings=settings)
    assert sorted(g.code for g in rep.groups) == sorted(c.code for c in rep.children)
    empty = [g for g in rep.groups if g.needs == 0]
    assert [g.code for g in empty] == ["219001009"]
    with_needs = [g for g in rep.groups if g.needs]
    assert empty and with_needs and rep.groups[: len(with_needs)] == with_needs  # the empty ones last
    assert all(g.label is not None for g in rep.groups)


def test_gaps_by_category_count_a_need_under_each_fitting_category(store: Store, settings: Settings) -> None:
    rep = gaps(store, None, by="category", settings=settings)
    got = {g.code: (g.needs, g.addressed, g.unverified, g.unaddressed, g.severity_unaddressed) for g in rep.groups}
    assert got == {"C4": (6, 2, 0, 4, 12), "C2": (3, 1, 0, 2, 5), "C1": (3, 1, 1, 1, 4), "C3": (4, 3, 0, 1, 2)}
    assert rep.totals.unaddressed == 5  # each need once
    assert any("add up to more than the totals" in n for n in rep.notes)  # and the report says so
    assert not any("add up" in n for n in gaps(store, None, by="need_type", settings=settings).notes)


def test_a_period_report_gives_each_need_the_state_it_has_on_the_day() -> None:
    """I9's one e-reading room goes to the village with the most severe need known on the day: with a need m of
    Community 5 identified in 2018 (severity 5), to Community 5, and l (Village 4, identified 2019) is a gap. A
    report of the needs identified in 2019 judged as of 2020-01-09 counted l addressed: m, identified before the
    period, no longer took its share of the room."""
    store = fixture_store()
    store.update("""PREFIX dcpa: <https://w3id.org/dcpa/ontology#> PREFIX dcpav: <https://w3id.org/dcpa/vocab/>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/synthetic> { <https://w3id.org/dcpa/id/need/m> a dcpa:Need ;
          dcpa:needOf <https://w3id.org/dcpa/id/area/219002001002> ; dcpa:needType dcpav:N11 ; dcpa:severity 5 ;
          dcpa:peopleAffected 20 ; dcpa:identifiedOn "2018-01-01"^^xsd:date ; dcpa:isSynthetic true } }""")
    day = date(2020, 1, 9)
    on_the_day = gaps(store, "219002001001", as_of=day, by="need_type", settings=settings_for())
    assert {g.code.rsplit("/", 1)[-1]: g.unaddressed for g in on_the_day.groups}["N11"] == 1  # l: the room went to m
    period = gaps(store, "219002001001", period=("2019-01-01", day.isoformat()), by="need_type",
                  settings=settings_for())
    assert {g.code.rsplit("/", 1)[-1]: g.unaddressed for g in period.groups}["N11"] == 1


def test_a_period_keeps_the_needs_with_a_date_in_it_or_none_that_compares() -> None:
    """A period report read the scope's needs twice (7 s of a province's 20 s at national scale); it now asks for
    the dates alone. A need of a store loaded by other means, with two dates (one in the period), a string for a
    date, or none, is kept as before; one dated outside alone is left out, in the province and in a county."""
    from kg.answers.needs import need_rows
    from kg.facts import AREA_PREFIX, Period, read_needs

    store = fixture_store(derived=False)
    store.update(f"""INSERT DATA {{ GRAPH <https://w3id.org/dcpa/graph/synthetic> {{
        <{need("two")}> a dcpa:Need ; dcpa:needOf <{AREA_PREFIX}{V1}> ; dcpa:needType dcpav:N33 ; dcpa:severity 3 ;
            dcpa:identifiedOn "2018-02-01"^^xsd:date, "2019-03-01"^^xsd:date .
        <{need("text")}> a dcpa:Need ; dcpa:needOf <{AREA_PREFIX}{V3}> ; dcpa:needType dcpav:N33 ; dcpa:severity 2 ;
            dcpa:identifiedOn "spring 2018" .
        <{need("old")}> a dcpa:Need ; dcpa:needOf <{AREA_PREFIX}{V3}> ; dcpa:needType dcpav:N33 ; dcpa:severity 2 ;
            dcpa:identifiedOn "2018-02-01"^^xsd:date, "2018-03-01"^^xsd:date .
        <{need("none")}> a dcpa:Need ; dcpa:needOf <{AREA_PREFIX}{V3}> ; dcpa:needType dcpav:N33 ; dcpa:severity 1 .
    }} }}""")
    period = Period(date(2019, 1, 1), date(2019, 12, 31))
    for code in ("21", "2190", V1[:6]):
        area = resolve_area(store, code)
        kept = {r.iri for r in need_rows(store, area, period=period, settings=settings_for()).rows}
        assert kept == {n.iri for n in read_needs(store, [code], period)}, code
    kept = {r.iri.rsplit("/", 1)[-1] for r in need_rows(store, resolve_area(store, "21"), period=period,
                                                          settings=settings_for()).rows}
    assert {"two", "text", "none"} <= kept and "old" not in kept and "a" not in kept


def test_gaps_by_severity_and_period(store: Store, settings: Settings) -> None:
    rep = gaps(store, "21", by="severity", settings=settings)
    assert [(g.code, g.needs, g.unaddressed) for g in rep.groups] == [
        ("5", 3, 1), ("4", 3, 1), ("3", 2, 1), ("2", 3, 2), ("1", 1, 0)]
    # needs identified in 2019 (d, e, h, i, l), judged as of its end: e (I7 since June) and h are met
    per = gaps(store, "2190", period=("2019-01-01", "2019-12-31"), settings=settings)
    assert (per.totals.needs, per.totals.addressed, per.as_of.isoformat()) == (5, 2, "2019-12-31")
    with pytest.raises(DataError):
        gaps(store, "21", period=("2019-12-31", "2019-01-01"))
    with pytest.raises(DataError):
        gaps(store, "21", by="colour")
    with pytest.raises(DataError):
        gaps(store, "21", reach="teleport")
    with pytest.raises(DataError) as e:
        gaps(store, "21", reach="area,library")
    assert "library" in e.value.message


def test_unknown_area_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        gaps(store, "219999")
    with pytest.raises(NotFound):
        recommend(store, "219001001999")
    with pytest.raises(NotFound):
        recommend(store, "abc")


def test_recommend_lists_addressed_needs_with_reasons_and_ranks_the_rest(store: Store, settings: Settings) -> None:
    rep = recommend(store, V1, settings=settings)
    [a] = rep.addressed
    assert (a["need"], a["state"]) == (need("a"), "addressed_unverified")
    [reason] = a["reasons"]
    assert (reason["intervention"].rsplit("/", 1)[1], reason["reach"], reason["valid_until"], reason["below_target"]) \
        == ("I1", "direct", "2021-12-31", True)
    # unaddressed first (by severity), then the one not verified
    assert [(n.need, n.state) for n in rep.needs] == [
        (need("b"), "unaddressed"), (need("c"), "unaddressed"), (need("a"), "addressed_unverified")]
    # I1 already addresses a, so it is not a candidate for it
    assert "https://w3id.org/dcpa/id/intervention/I1" not in {c.iri for c in rep.needs[2].candidates}


def test_a_library_serving_a_village_only_makes_candidates(store: Store, settings: Settings) -> None:
    """k1 serves V2 and its active I2 (e-readers, N11) names V3: d (V2, N11) stays a gap, and both the
    e-readers and extending I2 are candidates for it."""
    rep = recommend(store, V2, settings=settings)
    assert [a["need"] for a in rep.addressed] == [need("e")]
    d = next(n for n in rep.needs if n.need == need("d"))
    top = d.candidates[0]
    assert (top.kind, top.iri.rsplit("/", 1)[-1], top.fit) == ("resource", "reader", "exact")
    assert top.components["evidence"] == 1.0 and top.components["reach"] == 0.6
    assert "https://w3id.org/dcpa/id/intervention/I2" in {c.iri for c in d.candidates}
    # the explanation says the library's service area only makes it a candidate
    preds = {s.predicate for s in top.explanation}
    assert "https://w3id.org/dcpa/vocab/RM3" in preds


def test_evidence_holds_only_evaluations_ended_by_the_day() -> None:
    """Replaying 2019-06-30, E1 (I2's e-readers in V3, the year 2019) had not ended: it was no evidence yet for the
    e-readers or for extending I2, as the rule does not read it either."""
    store = fixture_store()
    then = recommend(store, V2, settings=Settings(as_of=date(2019, 6, 30)))
    later = recommend(store, V2, settings=Settings(as_of=date(2020, 6, 30)))
    for rep, evidence in ((then, 0.0), (later, 1.0)):
        d = next(n for n in rep.needs if n.need == need("d"))
        assert {c.iri.rsplit("/", 1)[1]: c.components["evidence"] for c in d.candidates
                if c.iri.rsplit("/", 1)[1] in ("reader", "I2")} == {"reader": evidence, "I2": evidence}
        assert any(s.predicate.endswith("#evaluates") for c in d.candidates for s in c.explanation) == bool(evidence)


def test_evidence_holds_only_the_need_types_known_on_the_day() -> None:
    """Replaying 2020-01-31, E1 (ended 2019) counts for the need types V3 was known to have then: its N11 need f,
    identified later (2020-03-01 here), made E1 evidence for V2's N11 need on a day nobody knew of it."""
    store = fixture_store()
    store.update("""PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        DELETE { GRAPH ?g { ?f dcpa:identifiedOn ?d } }
        INSERT { GRAPH ?g { ?f dcpa:identifiedOn "2020-03-01"^^xsd:date } }
        WHERE { BIND(<https://w3id.org/dcpa/id/need/f> AS ?f) GRAPH ?g { ?f dcpa:identifiedOn ?d } }""")
    for day, evidence in ((date(2020, 1, 31), 0.0), (date(2020, 6, 30), 1.0)):
        d = next(n for n in recommend(store, V2, settings=Settings(as_of=day)).needs if n.need == need("d"))
        assert {c.iri.rsplit("/", 1)[1]: c.components["evidence"] for c in d.candidates
                if c.iri.rsplit("/", 1)[1] in ("reader", "I2")} == {"reader": evidence, "I2": evidence}, day


def test_ranking_components_and_tie_break(store: Store, settings: Settings) -> None:
    rep = recommend(store, V1, settings=settings)
    b = rep.needs[0]
    assert [(c.iri.rsplit("/", 1)[-1], c.fit) for c in b.candidates] == [
        ("net", "exact"), ("point", "broader"), ("I7", "broader")]
    net = b.candidates[0]
    assert net.components == {"type_fit": 1.0, "reach": 0.4, "policy": 1.0, "availability": 0.225, "evidence": 0.0}
    assert net.score == 0.5837
    scores = [c.score for c in b.candidates]
    assert scores == sorted(scores, reverse=True)
    # the kiosk has no capacity left and is never offered
    assert all("kiosk" not in c.iri for n in rep.needs for c in n.candidates)
    assert all(c.example for n in rep.needs for c in n.candidates)
    assert rep.basis.example_share == 1.0


def test_only_candidates_that_could_be_used_are_offered(store: Store, settings: Settings) -> None:
    """I4 is planned for Community 5 (another village): not a candidate for V1. I7 (active, for County 1,
    which holds V1) can be extended to it; I9's one village is taken (it names two); the resources say what
    is left of their stock and where their library serves."""
    rep = recommend(store, V1, settings=settings)
    offered = {c.iri.rsplit("/", 1)[-1]: c for n in rep.needs for c in n.candidates}
    assert "I4" not in offered and offered["I7"].use == "extend" and offered["I7"].capacity is None
    assert offered["net"].use == "give" and offered["net"].capacity == 2
    assert offered["net"].served.endswith("/2190") and offered["net"].served_label  # the city library serves the city
    v5 = recommend(store, "219002001002", settings=settings)
    uses = {c.iri.rsplit("/", 1)[-1]: c.use for n in v5.needs for c in n.candidates}
    assert uses.get("I4") in (None, "here") and "I9" not in uses


def test_explanation_is_a_path_through_the_graph(store: Store, settings: Settings) -> None:
    rep = recommend(store, V1, settings=settings)
    point = next(c for c in rep.needs[0].candidates if c.iri.endswith("/point"))
    steps = [(s.subject.rsplit("/", 1)[-1], s.predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
              s.object.rsplit("/", 1)[-1]) for s in point.explanation]
    assert steps[:6] == [
        ("b", "needOf", V1), ("b", "needType", "N12"), ("N12", "broader", "N1"),
        ("point", "resourceType", "R41"), ("R41", "addressesNeedType", "N1"), ("point", "heldBy", "k1"),
    ]
    assert ("k1", "serves", "219001") in steps and (V1, "withinArea", "219001") in steps
    assert ("k1", "RM3", V1) in steps
    assert ("X1", "supportsNeedType", "N1") in steps
    labels = {s.object_label for s in point.explanation}
    assert "示例·一县图书馆" in labels
    text = json.dumps(rep.to_dict(), ensure_ascii=False)
    assert "互联网接入" in text and "\\u" not in text


def test_poverty_targeting_puts_cause_linked_needs_first_and_says_why(store: Store, settings: Settings) -> None:
    """V1 is (example) registered poor for illness (PC01) and lack of skills (PC07 → N2): a (N22) comes first."""
    plain = recommend(store, V1, settings=settings)
    assert [n.need for n in plain.needs][0] == need("b")
    rep = recommend(store, V1, poor_first=True, settings=settings)
    assert [n.need for n in rep.needs] == [need("a"), need("b"), need("c")]
    assert rep.needs[0].cause_linked == "https://w3id.org/dcpa/vocab/PC07"
    assert rep.targeting["priority"] == 2
    assert rep.targeting["registered_poor_village"] is False  # an example registration is never shown as real
    assert rep.targeting["example_registration"] is True
    top = rep.needs[0].candidates[0]
    steps = [(s.predicate.rsplit("#", 1)[-1], s.object.rsplit("/", 1)[-1]) for s in top.explanation]
    assert ("povertyCause", "PC07") in steps and ("causeLinkedNeedType", "N2") in steps


def test_similar_villages_by_cosine(store: Store) -> None:
    res = similar(store, V1)
    assert [(r.code, r.similarity) for r in res.items] == [(V5, 0.7309), (V3, 0.5536)]
    assert res.items[1].what_worked[0]["intervention"].endswith("/I2")  # E1: actual 6 ≥ target 5
    assert res.to_dict()["items"][0]["shared_need_types"] == ["互联网接入"]
    assert res.basis.example_share == 1.0


def test_similar_villages_of_a_past_day_compare_the_needs_known_then(store: Store) -> None:
    """Replaying 2019-01-01, only a, b, c (V1) and f, g (V3) had been identified, and E1's period (2019) had not
    ended: V5 (needs of 2020) was V1's most similar village and E1 what worked in V3, against the village's page
    for the same day."""
    res = similar(store, V1, settings=Settings(as_of=date(2019, 1, 1)))
    assert [(r.code, r.similarity) for r in res.items] == [(V3, 0.5536)]
    assert res.items[0].what_worked == []
    assert res.as_of == date(2019, 1, 1)
    assert any("needs identified after 2019-01-01 are left out" in n for n in res.notes)
    assert similar(store, V1, as_of=date(2019, 1, 1)).items == res.items  # asked for the day, the same
    today = similar(store, V1, settings=Settings(as_of=date(2020, 6, 30)))
    assert [r.code for r in today.items] == [V5, V3] and today.notes == []


def _with_e9(end: str) -> Store:
    """The fixture with E9: I2's e-readers in V3 met their target (7 against 5) in a period ending ``end``."""
    store = fixture_store()
    store.update("""PREFIX dcpa: <https://w3id.org/dcpa/ontology#>
        PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        INSERT DATA { GRAPH <https://w3id.org/dcpa/graph/synthetic> {
          <https://w3id.org/dcpa/id/evaluation/E9> a dcpa:Evaluation ;
            dcpa:evaluates <https://w3id.org/dcpa/id/intervention/I2> ;
            dcpa:indicator <https://w3id.org/dcpa/vocab/I03> ;
            dcpa:evaluatedArea <https://w3id.org/dcpa/id/area/219001002001> ; dcpa:targetValue 5 ;
            dcpa:actualValue 7 ; dcpa:periodStart "2026-01-01"^^xsd:date ; dcpa:periodEnd """ + end + """ ;
            dcpa:isSynthetic true } }""")
    return store


def _worked_in_v3(store: Store, **kw: object) -> set[str]:
    res = similar(store, V1, **kw)  # type: ignore[arg-type]
    return {x["evaluation"].rsplit("/", 1)[1] for r in res.items if r.code == V3 for x in r.what_worked}


def test_what_worked_holds_only_evaluations_whose_period_has_ended() -> None:
    """An evaluation of a period still running (a value recorded before its end) is not yet a result, today as on a
    past day: the rule does not read it either."""
    store = _with_e9('"2099-12-31"^^xsd:date')
    assert _worked_in_v3(store) == {"E1"}  # today (the period runs until 2099)
    assert _worked_in_v3(store, as_of=date(2100, 1, 1)) == {"E1", "E9"}


def test_an_end_written_as_a_date_and_time_is_read_as_the_rule_reads_it() -> None:
    """The rule (and a village's ``ended``) reads an end written 2099-12-31T00:00:00 as 2099-12-31, a period still
    running; what worked compared it with a date, which SPARQL cannot, and held the evaluation as ended."""
    store = _with_e9('"2099-12-31T00:00:00"^^xsd:dateTime')
    assert not ended_by(parse_date("2099-12-31T00:00:00"), date.today())
    assert _worked_in_v3(store) == {"E1"}


# -- honest answers: real data only ---------------------------------------------------------------


def test_real_only_answers_from_real_data_alone(mixed: Store, settings: Settings) -> None:
    """m (real) is met by the real IR only; n (real) is not met by the example room I9 that names V5."""
    full = gaps(mixed, "21", settings=settings)
    assert (full.totals.needs, full.totals.example_needs) == (14, 12)
    assert full.basis.example_items == 12 and 0 < full.basis.example_share < 1
    real = gaps(mixed, "21", real_only=True, settings=settings)
    assert (real.totals.needs, real.totals.addressed, real.totals.unaddressed) == (2, 1, 1)
    assert real.basis.real_only and real.basis.example_items == 0
    assert gaps(mixed, "2190", by="area", real_only=True, settings=settings).groups[0].example is False


def test_an_empty_real_only_answer_says_why(store: Store, settings: Settings) -> None:
    rep = gaps(store, "21", real_only=True, settings=settings)
    assert rep.totals.needs == 0 and all(g.needs == 0 for g in rep.groups)
    assert [g.code for g in rep.groups] == [c.code for c in rep.children]  # every city, each with zeros
    assert "dcpa import" in rep.basis.note_en and "导入" in rep.basis.note_zh


@pytest.mark.parametrize("code", ["219001", "2190"])
def test_similar_villages_of_an_area_above_a_village_is_a_usage_mistake(store: Store, code: str) -> None:
    """A county's or a city's code is said to be one (it was "village 2190 has no identified needs to compare")."""
    with pytest.raises(InvalidParameter) as e:
        similar(store, code)
    assert e.value.exit_code == 2 and "不是村级单位" in e.value.message
    assert "a county, not a village-level unit" in e.value.message if code == "219001" else "a city," in e.value.message
    assert e.value.hint is not None and "12-digit" in e.value.hint


def test_real_only_recommendations_and_similar(mixed: Store, settings: Settings) -> None:
    rep = recommend(mixed, V5, real_only=True, settings=settings)
    assert [n.need for n in rep.needs] == [need("n")] and rep.addressed == []
    assert all(not c.example for n in rep.needs for c in n.candidates)
    assert rep.basis.real_only
    assert rep.notes == []
    none = recommend(mixed, V1, real_only=True, settings=settings)  # no real needs: says so, and how to record them
    assert none.needs == [] and none.addressed == []
    [note] = none.notes
    assert "no real needs recorded as of 2020-06-30" in note and "还没有真实需求记录" in note
    assert "dcpa template" in note and "dcpa import" in note
    full = recommend(mixed, V2, settings=settings)
    m = next(a for a in full.addressed if a["need"] == need("m"))
    assert [r["intervention"].rsplit("/", 1)[1] for r in m["reasons"]] == ["IR"]
    none = similar(mixed, V1, real_only=True)  # V1 has no real needs: nothing to compare, and why (it was NotFound)
    assert none.items == [] and none.village.code == V1
    [note] = none.notes
    assert "no real needs recorded yet" in note and "还没有真实需求记录" in note and "dcpa import" in note
    assert similar(mixed, V1).notes == []


def test_gap_filters_keep_a_type_with_its_narrower_types_and_count_alike_from_summaries_and_live(
    store: Store, settings: Settings
) -> None:
    from kg.errors import InvalidParameter

    underived = fixture_store(derived=False)  # the rule applied live
    everything = gaps(store, "21", settings=settings)
    for kw in ({"need_type": "N1"}, {"min_severity": 4}, {"need_type": "N2", "min_severity": 3}):
        fast = gaps(store, "21", settings=settings, **kw)  # type: ignore[arg-type]
        live = gaps(underived, "21", settings=settings, **kw)  # type: ignore[arg-type]
        assert fast.source == "summaries" and live.source != "summaries"
        assert fast.totals.to_dict() == live.totals.to_dict()
        assert 0 < fast.totals.needs < everything.totals.needs
    by_type = {g.code: g.needs for g in gaps(store, "21", by="need_type", settings=settings).groups}
    n1 = gaps(store, "21", need_type="N1", settings=settings)
    assert n1.totals.needs == sum(v for k, v in by_type.items() if k.startswith("N1"))  # N1 and N11, N12…
    assert n1.filters == {"need_type": "https://w3id.org/dcpa/vocab/N1", "min_severity": None}
    with pytest.raises(InvalidParameter, match="unknown need type"):
        gaps(store, "21", need_type="N99", settings=settings)
    with pytest.raises(InvalidParameter, match="between 1 and 5"):
        gaps(store, "21", min_severity=7, settings=settings)


def test_gaps_as_of_a_past_day_count_only_the_needs_known_then() -> None:
    # derived as of 2019-06-01: j and k (identified 2020-01-10) were not known then; the derived graph leaves
    # them out, and a report as of that day read from it says so
    store = fixture_store(derived=False)
    day = date(2019, 6, 1)
    derive_all(store, as_of=day)
    rep = gaps(store, "21", as_of=day, settings=settings_for())
    assert rep.totals.needs == 10 and rep.source == "summaries"
    assert any("identified after 2019-06-01" in n for n in rep.notes)
    v5 = next(g for g in gaps(store, "2190", as_of=day, settings=settings_for()).groups if g.code == "219002")
    assert v5.needs == 3  # h, i, l of V4; V5's j and k came later
    # as of the day every need is known, nothing is left out
    rep = gaps(store, "21", as_of=date(2020, 6, 30), settings=settings_for())
    assert rep.totals.needs == 12 and not any("identified after" in n for n in rep.notes)


def test_a_period_judged_as_of_a_day_inside_it_counts_only_the_needs_known_that_day(store: Store,
                                                                                    settings: Settings) -> None:
    # the period 2018-2020 as of 2019-01-01 counted all 12 needs, 7 of them identified later
    both = gaps(store, "21", period=("2018-01-01", "2020-12-31"), as_of=date(2019, 1, 1), settings=settings)
    alone = gaps(store, "21", as_of=date(2019, 1, 1), settings=settings)
    assert both.totals.needs == alone.totals.needs == 5
    assert any("identified after 2019-01-01" in n for n in both.notes)
    whole = gaps(store, "21", period=("2018-01-01", "2020-12-31"), settings=settings)  # judged as of its end
    assert whole.totals.needs == 12 and not any("identified after" in n for n in whole.notes)
