"""gaps, recommend and similar on the fixture, against the answers worked out in README.md."""

from __future__ import annotations

import json

import pytest

from kg.errors import DataError, NotFound
from kg.matching import gaps, recommend, similar
from kg.store import Store

from .conftest import V1, V2, V3, V5, need


def _unaddressed(store: Store, reach: str) -> set[str]:
    rep = gaps(store, "21", by="need_type", reach=reach)
    assert rep.totals["needs"] == 11
    return {g.code for g in rep.groups if g.unaddressed}  # type: ignore[misc]


@pytest.mark.parametrize(
    ("reach", "addressed"),
    [("direct", 2), ("area", 4), ("library", 5), ("area,library", 5)],
)
def test_reach_rule_changes_what_is_addressed(store: Store, reach: str, addressed: int) -> None:
    assert gaps(store, None, reach=reach).totals["addressed"] == addressed


def test_gap_totals_and_drill_down(store: Store) -> None:
    rep = gaps(store, "2190")
    assert rep.totals == {
        "needs": 11, "addressed": 5, "unaddressed": 6, "unaddressed_share": 0.5455,
        "severity_total": 38, "severity_unaddressed": 25, "severity_weighted_unaddressed_share": 0.6579,
    }
    assert [(g.code, g.needs, g.unaddressed, g.severity_unaddressed) for g in rep.groups] == [
        ("219001", 7, 4, 16), ("219002", 4, 2, 9)]
    town = gaps(store, "219001001")
    assert [(g.code, g.unaddressed) for g in town.groups] == [(V1, 2), (V2, 1)]
    assert town.groups[0].label == "示例·一村"
    vil = gaps(store, V1)
    assert vil.totals["unaddressed"] == 2


def test_gaps_by_category_count_a_need_under_each_fitting_category(store: Store) -> None:
    rep = gaps(store, None, by="category")
    got = {g.code: (g.needs, g.unaddressed, g.severity_unaddressed) for g in rep.groups}
    assert got == {"C4": (5, 3, 12), "C1": (3, 2, 9), "C3": (4, 2, 6), "C2": (2, 0, 0)}
    assert rep.totals["unaddressed"] == 6  # each need once


def test_gaps_by_severity_and_period(store: Store) -> None:
    rep = gaps(store, "21", by="severity", reach="area")
    assert [(g.code, g.needs, g.unaddressed) for g in rep.groups] == [
        ("5", 3, 3), ("4", 3, 2), ("3", 2, 1), ("2", 2, 1), ("1", 1, 0)]
    per = gaps(store, "2190", period=("2019-01-01", "2019-12-31"))
    assert (per.totals["needs"], per.totals["addressed"]) == (4, 2)  # d, e, h, i; d and h addressed
    with pytest.raises(DataError):
        gaps(store, "21", period=("2019-12-31", "2019-01-01"))
    with pytest.raises(DataError):
        gaps(store, "21", by="colour")
    with pytest.raises(DataError):
        gaps(store, "21", reach="teleport")


def test_unknown_area_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        gaps(store, "219999")
    with pytest.raises(NotFound):
        recommend(store, "219001001999")
    with pytest.raises(NotFound):
        recommend(store, "abc")


def test_need_addressed_only_through_a_broader_type(store: Store) -> None:
    rep = recommend(store, V1)
    assert [a["need"] for a in rep.addressed] == [need("a")]  # N22 met by category C1 → N2
    assert [n.need for n in rep.needs] == [need("b"), need("c")]  # by severity
    # and with the broader link gone the need is a gap: nothing addresses N22 itself
    assert need("g") in {n.need for n in recommend(store, V3).needs}


def test_need_addressed_only_through_the_county_library(store: Store) -> None:
    assert [a["need"] for a in recommend(store, V2).addressed] == [need("d")]
    rep = recommend(store, V2, reach="area")
    assert need("d") in {n.need for n in rep.needs}
    d = next(n for n in rep.needs if n.need == need("d"))
    # the county library's e-readers are first: exact fit, policy-backed, met their target in V3
    top = d.candidates[0]
    assert (top.kind, top.iri.rsplit("/", 1)[-1], top.fit) == ("resource", "reader", "exact")
    assert top.components["evidence"] == 1.0 and top.components["reach"] == 0.6
    # I2 (active, k1) does not reach V2 under `area`, so extending it is a candidate
    assert "https://w3id.org/dcpa/id/intervention/I2" in {c.iri for c in d.candidates}


def test_ranking_components_and_tie_break(store: Store) -> None:
    rep = recommend(store, V1)
    b = rep.needs[0]
    assert [(c.iri.rsplit("/", 1)[-1], c.fit) for c in b.candidates] == [
        ("I4", "exact"), ("net", "exact"), ("point", "broader")]
    net = b.candidates[1]
    assert net.components == {"type_fit": 1.0, "reach": 0.4, "policy": 1.0, "availability": 0.225, "evidence": 0.0}
    assert net.score == 0.5837
    scores = [c.score for c in b.candidates]
    assert scores == sorted(scores, reverse=True)
    # the kiosk has no capacity left and is never offered
    assert all("kiosk" not in c.iri for n in rep.needs for c in n.candidates)


def test_explanation_is_a_path_through_the_graph(store: Store) -> None:
    rep = recommend(store, V1)
    point = next(c for c in rep.needs[0].candidates if c.iri.endswith("/point"))
    steps = [(s.subject.rsplit("/", 1)[-1], s.predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
              s.object.rsplit("/", 1)[-1]) for s in point.explanation]
    assert steps[:6] == [
        ("b", "needOf", V1), ("b", "needType", "N12"), ("N12", "broader", "N1"),
        ("point", "resourceType", "R41"), ("R41", "addressesNeedType", "N1"), ("point", "heldBy", "k1"),
    ]
    assert ("k1", "serves", "219001") in steps and (V1, "withinArea", "219001") in steps
    assert ("X1", "supportsNeedType", "N1") in steps
    labels = {s.object_label for s in point.explanation}
    assert "示例·一县图书馆" in labels
    text = json.dumps(rep.to_dict(), ensure_ascii=False)
    assert "互联网接入" in text and "\\u" not in text


def test_similar_villages_by_cosine(store: Store) -> None:
    res = similar(store, V1)
    assert [(r.code, r.similarity) for r in res] == [(V5, 0.7309), (V3, 0.5536)]
    assert res[1].what_worked[0]["intervention"].endswith("/I2")  # E1: actual 6 ≥ target 5
    assert res[0].to_dict()["shared_need_types"] == ["互联网接入"]
