"""Recommendations for many villages at once (``recommend_within``) are each village's own (``recommend``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from kg.answers.model import model_view
from kg.answers.needs import need_rows
from kg.answers.recommend import recommend, recommend_within
from kg.build import build_into
from kg.errors import InvalidParameter, NotFound
from kg.matching import resolve_area
from kg.namespaces import GRAPH_REFERENCE, GRAPH_SYNTHETIC
from kg.rule import NeedState
from kg.store import Store

from .conftest import V5, fixture_store, settings_for


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The default build's parts with 300 example villages (a county with 20-odd villages with gaps)."""
    store = Store.memory()
    build_into(store, example_villages=300, seed=7, workdir=tmp_path_factory.mktemp("build"))
    return store


def _busiest_counties(store: Store, n: int) -> list[str]:
    """The ``n`` counties with the most villages with needs."""
    rows = store.select("SELECT ?c (COUNT(DISTINCT ?v) AS ?n) WHERE { ?need dcpa:needOf ?v . "
                        f"?v dcpa:withinArea ?c . ?c a dcpa:County }} GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT {n}")
    return [str(r["c"]).rsplit("/", 1)[-1] for r in rows]


def _busiest_county(store: Store) -> str:
    return _busiest_counties(store, 1)[0]


def _open_villages(store: Store, code: str, **kw: Any) -> list[str]:
    rows = need_rows(store, resolve_area(store, code), **kw).rows
    return sorted({n.village for n in rows if n.state is not NeedState.ADDRESSED})


@pytest.mark.parametrize("kw", [
    {},
    {"real_only": True},
    {"poor_first": True, "limit": 2, "lang": "en"},
    {"reach": "direct"},
    {"as_of": date(2019, 1, 1)},  # a day the derived graph does not answer for: the rule applied live
], ids=["default", "real_only", "poor_first-limit-en", "direct", "live"])
def test_each_village_gets_the_report_recommend_gives_it(built: Store, kw: dict[str, Any]) -> None:
    county = _busiest_county(built)
    villages = _open_villages(built, county, **{k: v for k, v in kw.items() if k in ("real_only", "reach", "as_of")})
    batch = recommend_within(built, county, **kw).villages
    assert [r.village.code for r in batch] == villages
    assert [r.to_dict() for r in batch] == [recommend(built, v, **kw).to_dict() for v in villages]
    if not kw.get("real_only"):  # the comparison is about something: villages with needs and candidates
        assert len(villages) >= 10
        assert sum(len(n.candidates) for r in batch for n in r.needs) >= 20


def test_listed_villages_even_without_needs(built: Store) -> None:
    county = _busiest_county(built)
    some = _open_villages(built, county)[:2]
    quiet = [str(r["v"]).rsplit("/", 1)[-1] for r in built.select(
        f"SELECT ?v WHERE {{ ?v dcpa:withinArea <https://w3id.org/dcpa/id/area/{county}> ; a dcpa:Village "
        "FILTER NOT EXISTS { ?n dcpa:needOf ?v } } ORDER BY ?v LIMIT 1")]
    assert quiet, "no village without needs in the county"
    batch = recommend_within(built, county, villages=[*some, *quiet]).villages
    assert [r.village.code for r in batch] == sorted([*some, *quiet])
    assert [r.to_dict() for r in batch] == [recommend(built, v).to_dict() for v in sorted([*some, *quiet])]
    assert next(r for r in batch if r.village.code == quiet[0]).needs == []


def test_a_village_outside_the_area_or_unknown_is_refused(built: Store) -> None:
    county = _busiest_county(built)
    with pytest.raises(InvalidParameter, match=f"not a village-level unit within {county}"):
        recommend_within(built, county, villages=["219001001001"])
    with pytest.raises(InvalidParameter, match="not a village-level unit"):
        recommend_within(built, county, villages=[county + "001"])
    with pytest.raises(NotFound, match=f"no area with code {county}999999"):
        recommend_within(built, county, villages=[county + "999999"])


def test_need_rows_handed_over_must_be_read_alike(built: Store) -> None:
    county = _busiest_county(built)
    ns = need_rows(built, resolve_area(built, county), with_reasons=True, reach="direct")
    with pytest.raises(ValueError, match="another reach"):
        recommend_within(built, county, needs=ns)
    assert recommend_within(built, county, needs=ns, reach="direct").to_dict() == \
        recommend_within(built, county, reach="direct").to_dict()


def test_the_model_page_lists_the_needs_recommend_finds_nothing_for(built: Store) -> None:
    """Its broken chain "no candidate" is recommend's answer, village by village (the three counties with
    the most villages with needs)."""
    found = 0
    for county in _busiest_counties(built, 3):
        expected = [{"iri": r.need, "need_type": r.need_type, "village": v,
                     "village_iri": f"https://w3id.org/dcpa/id/area/{v}", "example": r.example}
                    for v in sorted({n.village for n in need_rows(built, resolve_area(built, county)).rows
                                     if n.state is NeedState.UNADDRESSED})
                    for r in recommend(built, v, limit=1).needs if r.state == "unaddressed" and not r.candidates]
        chain = next(b for b in model_view(built, county).broken if b.key == "no_candidate")
        assert chain.items == expected and chain.count == len(expected)
        found += len(expected)
    assert found, "no need without candidates: the comparison would be empty"


def test_resolving_many_areas_is_resolving_each(built: Store) -> None:
    from kg.answers.areas import resolve_areas

    county = _busiest_county(built)
    codes = [county[:2], county[:4], county, *_open_villages(built, county)[:3]]
    assert resolve_areas(built, codes) == {c: resolve_area(built, c) for c in codes}
    with pytest.raises(NotFound, match="no area with code 98 in the graph"):
        resolve_areas(built, [county, "98"])
    assert resolve_areas(built, []) == {}




def test_the_answer_says_how_much_rests_on_example_data(built: Store) -> None:
    county = _busiest_county(built)
    found = recommend_within(built, county)
    assert found.area.code == county
    assert found.basis.items == sum(r.basis.items for r in found.villages) > 0
    assert found.basis.example_items == sum(r.basis.example_items for r in found.villages) > 0
    assert "example data" in found.basis.note_en


def test_a_city_is_asked_county_by_county(built: Store) -> None:
    with pytest.raises(InvalidParameter, match="county or a township, not a city"):
        recommend_within(built, _busiest_county(built)[:4])


def test_an_example_poverty_cause_never_puts_a_real_need_first() -> None:
    """The real need n (N12, Community 5) is linked to a poverty cause (PC10) only by an example status: it is
    not put first for it; a real status with that cause puts it first, and its explanation names that status."""
    store = fixture_store(real=True)
    status = "https://w3id.org/dcpa/id/status/S-V5-real"
    store.update(f"""INSERT DATA {{ GRAPH <{GRAPH_SYNTHETIC}> {{
      <https://w3id.org/dcpa/id/area/{V5}> dcpa:povertyStatus <https://w3id.org/dcpa/id/status/S-V5-ex> .
      <https://w3id.org/dcpa/id/status/S-V5-ex> a dcpa:PovertyStatus ; dcpa:statusType dcpav:PS1 ;
          dcpa:povertyCause dcpav:PC10 ; dcpa:isSynthetic true . }} }}""")

    def n_of(s: Store) -> Any:
        report = recommend(s, V5, poor_first=True, settings=settings_for())
        return next(x for x in report.needs if x.need.endswith("/need/n"))

    assert n_of(store).cause_linked is None
    store.update(f"""INSERT DATA {{ GRAPH <{GRAPH_REFERENCE}> {{
      <https://w3id.org/dcpa/id/area/{V5}> dcpa:povertyStatus <{status}> .
      <{status}> a dcpa:PovertyStatus ; dcpa:statusType dcpav:PS1 ; dcpa:povertyCause dcpav:PC10 . }} }}""")
    n = n_of(store)
    assert n.cause_linked == "https://w3id.org/dcpa/vocab/PC10"
    assert n.candidates and all(str(c.explanation[0].object) == status for c in n.candidates)


def test_the_number_of_candidates_has_one_default_and_one_range() -> None:
    from kg.answers.recommend import CANDIDATES_PER_NEED, MAX_CANDIDATES

    store = fixture_store()
    report = recommend(store, V5, settings=settings_for())
    assert all(len(n.candidates) <= CANDIDATES_PER_NEED for n in report.needs)
    for bad in (0, MAX_CANDIDATES + 1):
        with pytest.raises(InvalidParameter):
            recommend(store, V5, limit=bad, settings=settings_for())
        with pytest.raises(InvalidParameter):
            recommend_within(store, V5[:6], limit=bad, settings=settings_for())


def test_recommendations_as_of_a_past_day_say_later_needs_are_left_out() -> None:
    """V2's needs were identified on 2019-03-01: as of 2019-01-01 the answer said V2 had no needs recorded and to
    record them with `dcpa import`, which they were."""
    from datetime import date as day

    from .conftest import V2

    report = recommend(fixture_store(), V2, as_of=day(2019, 1, 1), settings=settings_for())
    assert not report.needs and any("identified after 2019-01-01" in n for n in report.notes)
    assert not any("dcpa import" in n for n in report.notes)
    # said as a field too, as gap reports and plans say it, for a page or a program to word it in its language
    assert report.known_by == day(2019, 1, 1) and report.to_dict()["known_by"] == "2019-01-01"
    assert recommend(fixture_store(), V2, settings=settings_for()).to_dict()["known_by"] is None
