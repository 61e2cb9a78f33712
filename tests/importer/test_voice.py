"""The village's voice: interviews (who by role, when, where, consent) and the quotes that support needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import ValidationFailed
from kg.importer import import_files, import_records, replace_record, withdraw
from kg.settings import Settings
from kg.store import Store

from .conftest import nquads
from .test_roundtrip import ROWS, fill_csv_template

ITV = "https://w3id.org/dcpa/id/interview/"
#: Needs that rest on the interviews of ROWS["interviews"]: the source implied, or stated as well.
VOICE_NEEDS = [
    {"village_code": "210123206200", "need_type": "N22", "severity": "4", "people_affected": "60",
     "identified_on": "2018-05-10", "surveyor": "县图书馆调研组", "interview": "ITV-T1",
     "quote": "年轻人想学网上卖货，没人教。"},
    {"village_code": "210124101200", "need_type": "N11", "severity": "3", "people_affected": "20",
     "source": "interview", "identified_on": "2018-05-11", "surveyor": "test team", "interview": "ITV-T2",
     "quote": "The signal up the valley is too weak to watch the courses."},
]


def _interviews(store: Store, settings: Settings, tmp_path: Path) -> None:
    import_files(store, [fill_csv_template("interviews", ROWS["interviews"], tmp_path / "interviews.csv")],
                 user="u", settings=settings)


def _quotes(store: Store) -> list[dict]:
    return store.select("""SELECT ?need ?text (LANG(?text) AS ?lang) ?itv ?src ?role WHERE {
        ?q a dcpa:Quote ; dcpa:supportsNeed ?need ; dcpa:quoteText ?text ; prov:wasQuotedFrom ?itv .
        ?need prov:wasDerivedFrom ?src . ?itv dcpa:intervieweeRole ?role } ORDER BY ?lang""")


def test_a_need_rests_on_its_interview_and_carries_the_words_said(store: Store, settings: Settings,
                                                                  tmp_path: Path) -> None:
    _interviews(store, settings, tmp_path)  # a later batch may refer to the interviews of an earlier one
    import_files(store, [fill_csv_template("needs", VOICE_NEEDS, tmp_path / "needs.csv")], user="u",
                 settings=settings)
    rows = _quotes(store)
    assert [(r["text"], r["lang"], r["itv"], r["src"], r["role"].rsplit("/", 1)[-1]) for r in rows] == [
        (VOICE_NEEDS[1]["quote"], "en", ITV + "ITV-T2", ITV + "ITV-T2", "IR6"),
        (VOICE_NEEDS[0]["quote"], "zh", ITV + "ITV-T1", ITV + "ITV-T1", "IR1"),
    ]
    assert all(r["need"] + "#quote" in {str(q["q"]) for q in store.select("SELECT ?q { ?q a dcpa:Quote }")}
               for r in rows)


@pytest.mark.parametrize(("change", "column", "message"), [
    ({"quote": "没有访谈编号的原话", "interview": ""}, "受访者原话 / Quote", "a quote without its interview"),
    ({"source": "survey"}, "证据来源 / Source", "the source contradicts the interview ID"),
    ({"interview": "", "quote": "", "source": ""}, "证据来源 / Source", "required value missing"),
    ({"interview": "ITV-NONE"}, "访谈编号 / Interview ID", "ITV-NONE"),
])
def test_a_need_that_misstates_its_interview_is_refused_where_it_is(
    store: Store, settings: Settings, tmp_path: Path, change: dict, column: str, message: str
) -> None:
    _interviews(store, settings, tmp_path)
    before = nquads(store)
    rows = [VOICE_NEEDS[0], {**VOICE_NEEDS[1], **change}]
    with pytest.raises(ValidationFailed) as e:
        import_files(store, [fill_csv_template("needs", rows, tmp_path / "needs.csv")], user="u", settings=settings)
    issues = [(i.file, i.row, i.column) for i in e.value.issues if message in i.message + (i.value or "")]
    assert issues == [("needs.csv", 3, column)], e.value.issues
    assert nquads(store) == before


@pytest.mark.parametrize(("change", "column"), [
    ({"consent": ""}, "知情同意 / Consent"),  # no consent, no record
    ({"consent": "none"}, "知情同意 / Consent"),
    ({"anonymisation": "实名"}, "匿名处理 / Anonymisation"),
    ({"interviewee_role": "王村长"}, "受访者角色 / Interviewee role"),
    ({"place_code": "21012320620"}, "访谈地点代码 / Place code"),
    ({"interviewed_on": "五月"}, "访谈日期 / Interviewed on"),
])
def test_an_interview_without_its_details_is_refused_where_it_is(
    store: Store, settings: Settings, tmp_path: Path, change: dict, column: str
) -> None:
    before = nquads(store)
    rows = [ROWS["interviews"][0], {**ROWS["interviews"][1], **change}]
    with pytest.raises(ValidationFailed) as e:
        import_files(store, [fill_csv_template("interviews", rows, tmp_path / "interviews.csv")], user="u",
                     settings=settings)
    assert [(i.file, i.row, i.column) for i in e.value.issues] == [("interviews.csv", 3, column)]
    assert e.value.issues[0].hint
    assert nquads(store) == before


def test_replacing_a_need_replaces_its_quote(store: Store, settings: Settings, tmp_path: Path) -> None:
    _interviews(store, settings, tmp_path)
    import_records(store, "needs", [VOICE_NEEDS[0]], user="u", settings=settings)
    need_id = _quotes(store)[0]["need"].rsplit("/", 1)[-1]
    replace_record(store, "needs", need_id, {**VOICE_NEEDS[0], "quote": "改过的原话"}, user="u", settings=settings)
    assert [r["text"] for r in _quotes(store)] == ["改过的原话"]
    replace_record(store, "needs", need_id, {k: v for k, v in VOICE_NEEDS[0].items() if k != "quote"}, user="u",
                   settings=settings)
    assert store.select("SELECT ?q ?p ?o { ?q a dcpa:Quote ; ?p ?o }") == []


def test_an_interview_that_needs_rest_on_cannot_be_withdrawn_alone(store: Store, settings: Settings,
                                                                   tmp_path: Path) -> None:
    first = import_files(store, [fill_csv_template("interviews", ROWS["interviews"], tmp_path / "interviews.csv")],
                         user="u", settings=settings)
    import_records(store, "needs", VOICE_NEEDS, user="u", settings=settings)
    before = nquads(store)
    with pytest.raises(ValidationFailed) as e:
        withdraw(store, first.batch_id, user="u", reason="wrong village", settings=settings)
    assert any("ITV-T1" in i.message and ITV not in i.message for i in e.value.issues)
    assert all("引用了只在本批次中的" in i.message and "which only this batch holds" in i.message
               for i in e.value.issues)  # in Chinese first, as every import message
    assert nquads(store) == before
