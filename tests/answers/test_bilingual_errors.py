"""The errors a planner meets asking for answers say what is wrong in Chinese first, then in English
(``中文 / English``), message and hint: in the library, the CLI and therefore the pages and the JSON API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kg.answers.gaps import gaps
from kg.answers.model import model_view
from kg.answers.plan import optimise
from kg.answers.recommend import check_limit, recommend, recommend_within
from kg.answers.villages import village_detail
from kg.catalogue import params_of, run_query
from kg.cli import app
from kg.errors import DcpaError
from kg.settings import get_settings
from kg.store import Store

from .conftest import V1, V4, settings_for

#: (what is asked, the English the message keeps, the English the hint keeps)
CASES: dict[str, tuple[Callable[[Store], Any], str, str | None]] = {
    "gaps by": (lambda s: gaps(s, "21", by="colour", settings=settings_for()),
                "cannot group gaps by 'colour'", "use one of area"),
    "model of a city": (lambda s: model_view(s, "2190", settings=settings_for()),
                        "the model page is for a county, a township or a village, not a city", "open a county"),
    "plan method": (lambda s: optimise([], [], {}, 100.0, method="guess"), "unknown plan method 'guess'",
                    "use one of"),
    "negative budget": (lambda s: optimise([], [], {}, -1.0), "negative budget -1.0", "give a budget ≥ 0 in yuan"),
    "candidates": (lambda s: check_limit(0), "candidates per need must be from 1 to", "give a limit from 1 to"),
    "recommend a county": (lambda s: recommend(s, "219001", settings=settings_for()),
                           "219001 is not a village-level unit", "recommendations are for 12-digit codes"),
    "recommend within a city": (lambda s: recommend_within(s, "2190", settings=settings_for()),
                                "recommendations for many villages are for a county or a township, not a city",
                                "ask county by county"),
    "village outside": (lambda s: recommend_within(s, "219001", villages=[V1, V4], settings=settings_for()),
                        f"{V4} is not a village-level unit within 219001", "give 12-digit codes"),
    "village detail of a county": (lambda s: village_detail(s, "219001", settings=settings_for()),
                                   "219001 is not a village-level unit", "villages have 12-digit codes"),
    # the catalogue's: each type's expectation (to_term), a name twice, unknown or missing, a concept unknown
    "no such query": (lambda s: run_query(s, "needs_by_typ"), "no catalogue query named 'needs_by_typ'",
                      "did you mean needs_by_type"),
    "a language": (lambda s: run_query(s, "needs_by_type", {"area": "21", "lang": "fr"}),
                   "parameter lang='fr' is not a language the labels are in (zh, en)", "lang: language of the labels"),
    "a severity": (lambda s: run_query(s, "top_unaddressed_villages", {"area": "21", "min_severity": "9"}),
                   "parameter min_severity='9' is not a severity from 1 to 5", "min_severity: lowest severity"),
    "an area code": (lambda s: run_query(s, "evaluation_results", {"area": "21x"}),
                     "parameter area='21x' is not an area code of 2, 4, 6, 9 or 12 digits", "area: code of the area"),
    "an IRI": (lambda s: run_query(s, "evidence_of_node", {"node": "area/21"}),
               "parameter node='area/21' is not an absolute http(s) IRI", "node: IRI of any node"),
    "twice": (lambda s: params_of([("area", "21"), ("area", "2101")]),
              "parameter area is given more than once ('21', '2101')", "give area once"),
    "unknown parameter": (lambda s: run_query(s, "needs_by_type", {"colour": "red"}),
                          "query 'needs_by_type' has no parameter colour", "its parameters are: area, lang"),
    "missing parameter": (lambda s: run_query(s, "needs_by_type", {"area": ""}),
                          "query 'needs_by_type' needs parameter area", "area: code of the area"),
    "unknown concept": (lambda s: run_query(s, "resources_for_need_type", {"need_type": "N99"}),
                        "parameter need_type='N99' is no concept of the vocabulary", "need_type: one of N1"),
}


@pytest.mark.parametrize("case", CASES)
def test_answers_refuse_chinese_first(store: Store, case: str,
                                      zh_first: Callable[..., None]) -> None:
    ask, english, hint = CASES[case]
    with pytest.raises(DcpaError) as e:
        ask(store)
    zh_first(e.value.message, english)
    if hint is not None:
        zh_first(e.value.hint, hint)


def test_a_refused_catalogue_value_is_said_in_both_languages_in_its_details_too(store: Store,
                                                                                zh_first: Callable[..., None]) -> None:
    with pytest.raises(DcpaError) as e:
        run_query(store, "evaluation_results", {"area": "2.1"})
    zh_first(e.value.details[0]["message"], "expected an area code of 2, 4, 6, 9 or 12 digits")


@pytest.mark.parametrize(("args", "english", "hint"), [
    (["gaps", "--area", "21", "--start", "2020-01-01"], "give both --start and --end, or neither", "e.g. --start"),
    (["query", "needs_by_type", "--param", "area"], "bad --param 'area'", "write --param key=value"),
])
def test_cli_refuses_chinese_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], english: str,
                                   hint: str,
                                   zh_first: Callable[..., None]) -> None:
    """Refused before the store is opened: Chinese first on stderr, message and hint."""
    monkeypatch.setenv("DCPA_STORE_PATH", str(tmp_path / "store"))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    zh_first(next(x for x in lines if x.startswith("错误：")), "error: " + english)
    zh_first(next(x for x in lines if x.startswith("提示：")), "hint: " + hint)
