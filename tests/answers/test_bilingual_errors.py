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
from kg.cli import app
from kg.errors import DcpaError
from kg.settings import get_settings
from kg.store import Store

from .conftest import V1, V4, settings_for


def _zh_first(text: str | None, english: str) -> None:
    """``text`` is ``中文 / English``: Chinese before the separator, then the English as it was."""
    assert text, "no text"
    zh, sep, en = text.partition(" / ")
    assert sep and any("\u4e00" <= c <= "\u9fff" for c in zh), f"not Chinese first: {text!r}"
    assert english in en and not any("\u4e00" <= c <= "\u9fff" for c in english), text


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
}


@pytest.mark.parametrize("case", CASES)
def test_answers_refuse_chinese_first(store: Store, case: str) -> None:
    ask, english, hint = CASES[case]
    with pytest.raises(DcpaError) as e:
        ask(store)
    _zh_first(e.value.message, english)
    if hint is not None:
        _zh_first(e.value.hint, hint)


def test_cli_refuses_chinese_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dcpa gaps --start` without --end: refused before the store is opened, Chinese first on stderr."""
    monkeypatch.setenv("DCPA_STORE_PATH", str(tmp_path / "store"))
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(app, ["gaps", "--area", "21", "--start", "2020-01-01"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 2
    message = next(line for line in r.stderr.splitlines() if line.startswith("error: "))
    _zh_first(message.removeprefix("error: "), "give both --start and --end, or neither")
