"""The village's voice on the pages: a need's supporting quote on the village page and in its JSON, escaped,
with who said it (a role) and when; the model page files the need under "interview"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from kg.answers.evidence import need_evidence
from kg.answers.model import model_view
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, MALICIOUS, app_client, fixture_store

ID = "https://w3id.org/dcpa/id/"
NEED = ID + "need/200-c"
WORDS = f"村里没有会用电脑的人。{MALICIOUS}"
#: A need of village 211322101200 that rests on an interview and carries the words said (hostile, to check escaping).
VOICE = f"""
@prefix dcpa: <https://w3id.org/dcpa/ontology#> . @prefix dcpav: <https://w3id.org/dcpa/vocab/> .
@prefix prov: <http://www.w3.org/ns/prov#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{NEED}> a dcpa:Need ; dcpa:isSynthetic true ; dcpa:needOf <{ID}area/211322101200> ; dcpa:needType dcpav:N22 ;
    dcpa:severity 3 ; dcpa:peopleAffected 30 ; dcpa:identifiedOn "2018-05-10"^^xsd:date ;
    prov:wasDerivedFrom <{ID}interview/ITV-9> .
<{ID}interview/ITV-9> a dcpa:Interview ; dcpa:isSynthetic true ; dcpa:intervieweeRole dcpav:IR2 ;
    dcpa:interviewedOn "2018-05-09"^^xsd:date ; dcpa:interviewPlace <{ID}area/211322101200> ;
    dcpa:interviewer "示例·调研组" ; dcpa:consentGiven dcpav:CO1 ; dcpa:anonymisation dcpav:AN1 .
<{NEED}#quote> a dcpa:Quote ; dcpa:isSynthetic true ; dcpa:quoteText "{WORDS}"@zh ; dcpa:supportsNeed <{NEED}> ;
    prov:wasQuotedFrom <{ID}interview/ITV-9> ; prov:wasDerivedFrom <{ID}interview/ITV-9> .
"""


@pytest.fixture(scope="module")
def voiced() -> Store:
    return fixture_store(VOICE)


@pytest.fixture(scope="module")
def client(voiced: Store) -> Iterator[TestClient]:
    with app_client(voiced) as c:
        yield c


def test_one_reader_says_what_each_need_rests_on(voiced: Store) -> None:
    ev = need_evidence(voiced, [NEED, ID + "need/200-a"])
    assert ev[ID + "need/200-a"].kind == "survey" and ev[ID + "need/200-a"].quote is None
    q = ev[NEED].quote
    assert ev[NEED].kind == "interview" and q is not None
    assert (q.text, q.lang, q.role, q.on) == (WORDS, "zh", "https://w3id.org/dcpa/vocab/IR2", "2018-05-09")


def test_the_village_page_shows_the_words_escaped_with_who_and_when(client: TestClient) -> None:
    for lang, role in (("zh", "村党组织书记"), ("en", "Village Party branch secretary")):
        html = client.get(f"/dashboard/village/211322101200?lang={lang}").text
        needs = html[html.index('id="needs"'): html.index('id="recommendations"')]
        assert "村里没有会用电脑的人。" in needs and role in needs and "2018-05-09" in needs
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in needs
        assert ("访谈" if lang == "zh" else "interview") in needs


def test_the_village_json_carries_the_quote(client: TestClient) -> None:
    data = client.get("/api/villages/211322101200").json()
    need = next(n for n in data["needs"] if n["iri"] == NEED)
    assert need["evidence"]["kind"] == "interview"
    assert need["quote"]["text"] == WORDS and need["quote"]["role_label"]["en"] == "Village Party branch secretary"
    assert need["quote"]["anonymisation"] == "https://w3id.org/dcpa/vocab/AN1"
    others = [n for n in data["needs"] if n["iri"] != NEED]
    assert others and all(n["quote"] is None for n in others)


def test_the_model_page_files_the_need_under_interview(voiced: Store) -> None:
    stages = {s.key: s for s in model_view(voiced, "211322", settings=Settings(as_of=AS_OF)).stages}
    assert stages["needs"].by["interview"] == 1
