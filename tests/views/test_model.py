"""The study's model for a place: four stages, means, broken chains — the library, the catalogue query, the
JSON and the page agree, on the views fixture plus a few hand-made breaks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from kg.answers.model import model_view
from kg.answers.recommend import recommend
from kg.catalogue import run_query
from kg.errors import InvalidParameter
from kg.namespaces import area
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, MALICIOUS, app_client, fixture_store

ID = "https://w3id.org/dcpa/id/"
#: Three breaks added to the fixture: a completed intervention nobody evaluated, a registered poor village with no
#: need recorded, a resource no intervention uses (its label is hostile, to check the page escapes it).
BREAKS = f"""
@prefix dcpa: <https://w3id.org/dcpa/ontology#> . @prefix dcpav: <https://w3id.org/dcpa/vocab/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}intervention/I3> a dcpa:Intervention ; dcpa:isSynthetic true ;
    rdfs:label "示例·已完成的培训"@zh , "Example: finished class"@en ;
    dcpa:category dcpav:C1 ; dcpa:targetsArea <{ID}area/211322101201> ; dcpa:interventionStatus dcpav:S3 ;
    dcpa:startDate "2018-01-01"^^xsd:date ; dcpa:endDate "2018-06-30"^^xsd:date ; dcpa:budget 8000 ;
    dcpa:fundingSource "县级财政" ; dcpa:personnelCount 2 ; dcpa:volunteerCount 3 ; dcpa:technology "移动应用" ;
    dcpa:usesTechnology dcpav:TE4 ; dcpa:personnelInput <{ID}intervention/I3#personnel-PR1> .
<{ID}intervention/I3#personnel-PR1> a dcpa:PersonnelInput ; dcpa:personnelRole dcpav:PR1 ; dcpa:personCount 1 .
<{ID}status/S202> a dcpa:PovertyStatus ; dcpa:isSynthetic true ; dcpa:statusType dcpav:PS1 .
<{ID}area/211322102201> a dcpa:Village ; rdfs:label "示例·无需求村"@zh ; dcpa:areaCode "211322102201" ;
    dcpa:parentArea <{ID}area/211322102> ; dcpa:withinArea <{ID}area/211322102> , <{ID}area/211322> , <{ID}area/2113> ,
    <{ID}area/21> ; dcpa:povertyStatus <{ID}status/S202> .
<{ID}evaluation/E2> a dcpa:Evaluation ; dcpa:isSynthetic true ; dcpa:evaluates <{ID}intervention/I1> ;
    dcpa:indicator dcpav:I05 .
<{ID}resource/R3> a dcpa:DigitalResource ; dcpa:isSynthetic true ; rdfs:label "{MALICIOUS}"@zh , "{MALICIOUS}"@en ;
    dcpa:resourceType dcpav:R11 ; dcpa:heldBy <{ID}library/L1> .
"""


@pytest.fixture(scope="module")
def broken() -> Store:
    return fixture_store(BREAKS)


@pytest.fixture(scope="module")
def broken_client(broken: Store) -> Iterator[TestClient]:
    with app_client(broken) as c:
        yield c


def _settings() -> Settings:
    return Settings(as_of=AS_OF)


def test_the_four_stages_of_a_county(broken: Store) -> None:
    r = model_view(broken, "211322", settings=_settings())
    stages = {s.key: s for s in r.stages}
    assert stages["resources"].count == 3  # R1 (township branch), R2 (county library), R3 (added)
    assert stages["needs"].count == 5 and stages["needs"].by == {"survey": 4, "example": 1}  # what each rests on
    assert stages["interventions"].count == 3  # I1, I2, I3
    # I1 has two evaluations: one met its target, one records no values (it must not hide the other, and it is no
    # missed target either: the rule reads an evaluation only with its result)
    assert stages["evaluations"].count == 1 and stages["evaluations"].by == {"evaluations": 2, "met": 1, "running": 0,
                                                                             "no_result": 1}
    assert r.means.budget == 58000 and r.means.funding["县级财政"] == 8000
    assert r.means.personnel >= 2 and r.means.volunteers >= 3 and "移动应用" in r.means.technology  # words written
    assert "https://w3id.org/dcpa/vocab/TE4" in r.means.technology  # and the scheme's concept
    assert r.means.roles == {"https://w3id.org/dcpa/vocab/PR1": 1}
    assert r.basis.example_items == r.basis.items > 0


def test_the_broken_chains_are_the_ones_made(broken: Store) -> None:
    r = model_view(broken, "211322", settings=_settings())
    chains = {b.key: b for b in r.broken}
    assert [i["iri"] for i in chains["unevaluated"].items] == [ID + "intervention/I3"]
    assert [i["iri"] for i in chains["poor_without_need"].items] == [area("211322102201")]
    assert [i["iri"] for i in chains["unused_resource"].items] == [ID + "resource/R3"]
    # "no candidate" is recommend's answer, village by village: the same needs, no more, no fewer
    expected = set()
    for v in ("211322101200", "211322101201", "211322102200"):
        rep = recommend(broken, v, settings=_settings())
        expected |= {n.need for n in rep.needs if n.state == "unaddressed" and not n.candidates}
    assert {i["iri"] for i in chains["no_candidate"].items} == expected
    assert chains["no_candidate"].count == len(expected)


def test_a_village_and_the_refusal_above_a_county(broken: Store) -> None:
    r = model_view(broken, "211322101201", settings=_settings())
    assert {s.key: s.count for s in r.stages}["needs"] == 2
    assert [i["iri"] for i in {b.key: b for b in r.broken}["unevaluated"].items] == [ID + "intervention/I3"]
    with pytest.raises(InvalidParameter, match="county"):
        model_view(broken, "2113", settings=_settings())


def test_the_catalogue_query_counts_what_the_library_counts(broken: Store) -> None:
    rows = {r["row"]: r for r in run_query(broken, "model_stages", {"area": "211322"}).rows}
    lib = model_view(broken, "211322", settings=_settings())
    counts = {s.key: s.count for s in lib.stages}
    assert rows["1 resources available"]["count"] == counts["resources"]
    assert rows["2 needs identified"]["count"] == counts["needs"]
    assert rows["3 interventions chosen"]["count"] == counts["interventions"]
    assert rows["4 interventions evaluated"]["count"] == counts["evaluations"]
    broken_counts = {b.key: b.count for b in lib.broken}
    assert rows["broken: completed, never evaluated"]["count"] == broken_counts["unevaluated"] == 1
    assert rows["broken: poor village, no identified need"]["count"] == broken_counts["poor_without_need"] == 1
    assert rows["broken: resource never used"]["count"] == broken_counts["unused_resource"] == 1
    real = {r["row"]: r["count"] for r in run_query(broken, "model_stages", {"area": "211322"}, real_only=True).rows}
    assert set(real.values()) == {0}  # everything in the fixture is example data


def test_the_page_shows_stages_and_breaks_escaped_and_the_json_agrees(broken_client: TestClient) -> None:
    page = broken_client.get("/views/model/211322", params={"lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Digital resources available" in html and "Interventions evaluated" in html
    assert 'id="broken-unevaluated" data-count="1"' in html and "Example: finished class" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "First secretary stationed in the village" in html and "Cloud platform" in html  # roles, technology
    assert "No public source records a case here." in html  # no documented case in the fixture
    assert 'href="/dashboard?area=2113&amp;lang=en"' in html  # the breadcrumb leads up to the city's dashboard
    assert "example data" in html.lower()  # the basis note says it all rests on example data
    data = broken_client.get("/api/model/211322").json()
    assert {b["key"]: b["count"] for b in data["broken"]}["unused_resource"] == 1
    assert data["page"] == "/views/model/211322"
    assert broken_client.get("/api/model/2113").status_code == 422
    zh = broken_client.get("/views/model/211322").text
    assert "数字资源建设" in zh and "断链" in zh


def test_the_dashboard_links_to_the_model_page(client: TestClient) -> None:
    html = client.get("/dashboard", params={"area": "211322", "lang": "en"}).text
    assert "/views/model/211322?lang=en" in html


def test_the_model_page_offers_the_recommendations_of_its_villages(broken_client: TestClient) -> None:
    """The needs nothing could meet are one break; what could meet the others is one download away."""
    html = broken_client.get("/views/model/211322", params={"lang": "en"}).text
    href = "/api/areas/211322/recommendations?format=csv"
    assert f'href="{href}"' in html and "Recommendations, village by village (CSV)" in html
    r = broken_client.get(href)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = r.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("village,need,") and len(rows) > 1
    assert all(row.startswith("211322") for row in rows[1:])
    real = broken_client.get("/views/model/211322", params={"real_only": "true"}).text
    assert 'href="/api/areas/211322/recommendations?format=csv&amp;real_only=true"' in real


def test_an_evaluation_still_running_on_the_day_is_neither_met_nor_missed() -> None:
    """A value recorded half way through an evaluation's period was counted as its result: the page said 2 of I1's
    evaluations met their target on 2020-06-30, one of them running to the end of 2020, which the rule does not
    read yet (``kg.rule.ended_by``)."""
    running = BREAKS + f"""<{ID}evaluation/E3> a dcpa:Evaluation ; dcpa:isSynthetic true ;
        dcpa:evaluates <{ID}intervention/I1> ; dcpa:indicator dcpav:I05 ; dcpa:evaluatedArea <{ID}area/211322> ;
        dcpa:targetValue 10 ; dcpa:actualValue 20 ; dcpa:periodStart "2020-01-01"^^xsd:date ;
        dcpa:periodEnd "2020-12-31"^^xsd:date ."""
    store = fixture_store(running)
    assert {s.key: s for s in model_view(store, "211322", settings=_settings()).stages}["evaluations"].by == {
        "evaluations": 3, "met": 1, "running": 1, "no_result": 1}
    later = Settings(as_of=date(2021, 1, 1))  # ended: now a result, and it met its target
    assert {s.key: s for s in model_view(store, "211322", settings=later).stages}["evaluations"].by == {
        "evaluations": 3, "met": 2, "running": 0, "no_result": 1}
    with app_client(store) as client:
        html = client.get("/views/model/211322").text
        assert "评估期未结束（不计达标与否）" in html


def test_an_evaluation_without_its_values_is_no_missed_target_on_the_page(broken_client: TestClient) -> None:
    """I1's second evaluation records no target and no value: the page said 2 evaluations, 1 met and none running,
    so the reader counted one missed target, where the rule (``Rule.below_target``) reads no result at all."""
    html = broken_client.get("/views/model/211322").text
    assert "没有结果（未记录目标值或实际值，不计达标与否）" in html
    en = broken_client.get("/views/model/211322", params={"lang": "en"}).text
    assert "no result recorded (no target or no actual value: neither met nor missed)" in en


def test_the_budget_keeps_its_fen() -> None:
    """The model page wrote a budget of 58,000.5 yuan as 58,000 (``{:,.0f}``), where plans keep the fen."""
    store = fixture_store(BREAKS.replace("dcpa:budget 8000 ;", "dcpa:budget 8000.5 ;"))
    with app_client(store) as client:
        html = client.get("/views/model/211322").text
    assert ">58,000.5<" in html and ">8,000.5<" in html
