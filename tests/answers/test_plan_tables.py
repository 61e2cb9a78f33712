"""A plan as a planner reads it: flat rows with names, the distance from the best plan in plain words,
the workbook (``kg.answers.plan_tables``), on the fixture's hand-worked plans (tests/answers/README.md)."""

from __future__ import annotations

import dataclasses
import io
import time
from datetime import date

import openpyxl
import pytest

from kg.answers.plan_tables import COLUMN_WIDTH_MAX
from kg.planning import (
    ALLOCATION_COLUMNS,
    UNMET_COLUMNS,
    allocation_rows,
    distance_words,
    plan,
    plan_xlsx,
    summary_rows,
    unmet_rows,
)
from kg.settings import Settings
from kg.store import Store

from .conftest import V1, V2


def test_allocations_are_flat_rows_with_names_costs_needs_and_why(store: Store, settings: Settings) -> None:
    p = plan(store, 11_500, "2190", poor_first=True, settings=settings)
    rows = allocation_rows(p, "en")
    assert [r["village_code"] for r in rows] == [V1, V2] and all(list(r) == list(ALLOCATION_COLUMNS) for r in rows)
    assert all(isinstance(v, str | int | float | bool) for r in rows for v in r.values())  # nothing nested
    assert sum(r["cost"] for r in rows) == p.spent
    v1 = rows[0]
    assert not v1["village"].isdigit() and not v1["resource"].startswith("http")
    assert v1["severity_met"] == 7 and v1["needs_met"].count("(") == 2
    assert " serves " in v1["why"] and "registered poor village (example data)" in v1["why"]
    assert "建档立卡贫困村（示例数据）" in allocation_rows(p, "zh")[0]["why"]


def test_unmet_needs_are_listed_heaviest_first_with_their_village(store: Store, settings: Settings) -> None:
    p = plan(store, 1_500, "2190", settings=settings)
    rows = unmet_rows(p, "zh")
    assert len(rows) == p.totals["uncovered_needs"] and all(list(r) == list(UNMET_COLUMNS) for r in rows)
    weights = [r["weight"] for r in rows]
    assert weights == sorted(weights, reverse=True)
    assert all(r["village"] and not r["village"].isdigit() for r in rows)


def test_each_unmet_need_says_why_nothing_went_to_it(store: Store, settings: Settings) -> None:
    """A planner saw which needs stay unmet but not why: no resource fits (i: nothing for basic digital literacy
    in V4), or the budget went elsewhere (b, l), or more than the whole budget would be needed."""
    rows = {r["need_type"]: r["why_unmet"] for r in unmet_rows(plan(store, 100_000, settings=settings), "zh")}
    assert list(rows.values()) == ["没有合适的资源：服务该村的图书馆没有适合这类需求、标明单价和库存的资源"]
    p = plan(store, 11_500, "2190", settings=settings)
    zh, en = unmet_rows(p, "zh"), unmet_rows(p, "en")
    assert [r["why_unmet"] for r in zh] == ["没有合适的资源：服务该村的图书馆没有适合这类需求、标明单价和库存的资源",
                                            "超出预算：满足它最少要 20,000 元，多于整笔预算"]
    assert en[1]["why_unmet"] == "beyond the budget: meeting it costs at least 20,000 yuan, more than the whole budget"
    tight = plan(store, 1_500, "2190", settings=settings)
    assert "预算已用于更重要的需求：满足它最少要 1,000 元，只剩 0 元" in [r["why_unmet"] for r in unmet_rows(tight)]
    assert {u["unmet_reason"] for u in tight.uncovered} == {"budget", "no_resource"}


def test_an_area_nobody_surveyed_is_not_said_to_have_every_need_met(store: Store, settings: Settings) -> None:
    """A plan with no need left open said "there are no unmet needs here", also where no need (no real need, with
    real data only) was ever recorded: that read as every need met. Now the two are said apart."""
    from .conftest import V3

    met = plan(store, 5_000, V3, settings=settings)  # V3's needs are all addressed
    assert met.totals["needs_recorded"] and distance_words(met, "zh") == "这里记录的需求都已满足，不需要分配。"
    none = plan(store, 5_000, "2190", real_only=True, settings=settings)  # the fixture holds no real need
    assert not none.totals["needs_recorded"]
    assert distance_words(none, "zh") == "这里还没有真实需求记录，无从分配：请先调查需求，用 `dcpa import` 导入。"
    assert distance_words(none, "en").startswith("No real needs are recorded here yet: nothing to allocate")


def test_a_real_need_left_unmet_never_quotes_an_example_cost_as_real() -> None:
    """The real need n (Community 5) stays unmet with 100 yuan; its row said meeting it costs at least 20,000 yuan,
    the unit cost of an example resource, as if it were real."""
    from .conftest import fixture_store, settings_for

    p = plan(fixture_store(real=True), 100, settings=settings_for())
    [n] = [r for r in unmet_rows(p, "zh") if not r["example"]]
    assert n["why_unmet"] == "超出预算：满足它最少要 20,000 元，多于整笔预算（示例数据中的单价）"
    [en] = [r for r in unmet_rows(p, "en") if not r["example"]]
    assert en["why_unmet"].endswith("more than the whole budget (an example resource’s cost)")
    # nothing but real needs (Community 5's): the summary said the cheapest allocation costs 20,000 yuan, no banner
    real = plan(fixture_store(real=True), 100, "219002001002", settings=settings_for())
    assert real.basis.example_items == 0 and real.totals["cheapest_example"]
    assert distance_words(real, "zh") == "这笔预算不够任何一项分配：最便宜的一项要 20,000 元（示例数据中的单价）。"


def test_with_real_data_only_a_need_no_real_resource_fits_says_real() -> None:
    """With real data only, the real need n, which example resources fit, read 没有合适的资源 (no library holds one)."""
    from .conftest import fixture_store, settings_for

    p = plan(fixture_store(real=True), 100_000, real_only=True, settings=settings_for())
    [n] = unmet_rows(p, "zh")
    assert n["why_unmet"].startswith("没有合适的真实资源") and "示例资源未计入" in n["why_unmet"]
    assert unmet_rows(p, "en")[0]["why_unmet"].startswith("no real resource fits")
    words = distance_words(p, "zh")
    assert words.startswith("没有真实资源能用于这些需求") and "示例资源未计入" in words


def test_a_need_whose_resources_went_elsewhere_says_the_stock_ran_out() -> None:
    from kg.answers.plan import _unmet_reasons
    from kg.planning import PlanNeed, PlanResource, build_options, optimise

    # one unit of stock, two villages that need it: the heavier need gets it, the other is out of stock
    needs = [PlanNeed("n1", "219001001001", "T", 5), PlanNeed("n2", "219001001002", "T", 3)]
    res = [PlanResource("r", "lib", ("21",), frozenset({"T"}), 1, 10.0)]
    options = build_options(needs, res, {})
    chosen, _, _ = optimise(needs, res, {}, 100.0, "exact", options=options)
    assert _unmet_reasons(options, chosen, {"r": 1}) == {"n1": ("stock", None, False), "n2": ("stock", None, False)}
    assert [o.village for o, _ in chosen] == ["219001001001"]


def test_how_good_a_plan_is_is_said_in_plain_words(store: Store, settings: Settings) -> None:
    best = plan(store, 5_000, "2190", settings=settings)
    assert best.method == "exact" and best.optimality_gap == 0
    assert distance_words(best, "en").startswith("This is the best plan possible")
    assert distance_words(best, "zh").startswith("这是最好的方案")
    # A fast plan 12.34% short of the bound reaches "at least 87.6%" (rounded down, never up).
    short = dataclasses.replace(best, method="greedy", optimality_gap=0.1234)
    assert "at least 87.6% of the best plan possible" in distance_words(short, "en")
    assert "至少达到最好方案的 87.6%" in distance_words(short, "zh")
    within = dataclasses.replace(best, method="auto (proven within 1%)", optimality_gap=0.003)  # a province's
    assert distance_words(within, "zh") == ("已证明与最好方案相差不到 1%，不再细算；"
                                            "这个方案至少达到最好方案的 99.7%（按严重程度加权的需求）。")
    assert "time limit" not in distance_words(within, "en") and "时限" not in distance_words(within, "zh")
    none_left = dataclasses.replace(best, totals={**best.totals, "unaddressed_needs": 0})
    assert distance_words(none_left, "en") == "Every need recorded here is already met: nothing to allocate."
    nothing_fits = dataclasses.replace(best, upper_bound=0.0)
    assert distance_words(nothing_fits, "en").startswith("No resource can go to these needs")
    for words in (distance_words(p, lang) for p in (best, short) for lang in ("zh", "en")):
        assert "bound" not in words and "gap" not in words and "缺口" not in words
    lines = dict(summary_rows(best, "en"))
    assert lines["Budget (yuan)"] == "5,000" and lines["How good"] == distance_words(best, "en")


def test_a_plan_a_hair_from_its_bound_never_says_it_reaches_all_of_the_best(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A province's plan proven 0.003% from its bound (31,401 of 31,402) had a distance rounded to 0.0, and its page
    said it reached at least 100% of the best plan possible, which was not proven."""
    from kg.answers import plan as plan_module

    solve = plan_module.optimise

    def short(*args: object, **kwargs: object) -> object:
        chosen, _, ub = solve(*args, **kwargs)  # type: ignore[arg-type]
        return chosen, "auto", ub * 31_402 / 31_401

    monkeypatch.setattr(plan_module, "optimise", short)
    p = plan(store, 5_000, "2190", settings=settings)
    assert 0 < p.optimality_gap <= 0.0001
    assert "至少达到最好方案的 99.9%" in distance_words(p, "zh") and "100%" not in distance_words(p, "en")


def test_the_workbook_holds_the_summary_the_allocations_and_every_unmet_need(store: Store, settings: Settings) -> None:
    p = plan(store, 5_000, "2190", settings=settings)
    evil = dataclasses.replace(p, allocations=[dataclasses.replace(p.allocations[0], resource_label="=HYPERLINK(1)")]
                               + p.allocations[1:])
    book = openpyxl.load_workbook(io.BytesIO(plan_xlsx(evil, "en")))
    assert book.sheetnames == ["Summary", "Allocations", "Unmet"]
    allocations = list(book["Allocations"].values)
    assert allocations[0] == tuple(h[1] for h in ALLOCATION_COLUMNS.values())
    assert len(allocations) - 1 == len(p.allocations) and allocations[1][2] == "=HYPERLINK(1)"
    assert book["Allocations"].cell(2, 3).data_type == "s"  # shown as typed, as text: not a formula that runs
    assert len(list(book["Unmet"].values)) - 1 == p.totals["uncovered_needs"]
    summary = dict(book["Summary"].values)
    assert summary["How good"] == distance_words(p, "en")
    # amounts and counts as numbers a spreadsheet sums (they were rounded text: "5,000")
    assert (summary["Budget (yuan)"], summary["Allocated (yuan)"]) == (5_000, p.spent)
    assert summary["Villages served"] == p.totals["villages_served"]
    assert openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, "zh"))).sheetnames == ["概要", "分配", "未满足"]


def test_an_english_workbook_marks_example_rows_in_english(store: Store, settings: Settings) -> None:
    """The English workbook's "example data" column said 是."""
    p = plan(store, 5_000, "2190", settings=settings)
    assert p.allocations and all(a.example for a in p.allocations)
    for lang, yes in (("en", "yes"), ("zh", "是")):
        book = openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, lang)))
        for sheet in book.worksheets[1:]:
            rows = list(sheet.values)
            assert {r[-1] for r in rows[1:]} == {yes}, (lang, sheet.title)


def test_amounts_keep_their_fen_and_add_up_on_the_page(store: Store, settings: Settings) -> None:
    """A budget of 5,000.5 yuan read 5,000 (to the nearest even yuan: 2,500.5 left read 2,500), and 0.5 yuan read 0."""
    lines = dict(summary_rows(plan(store, 5_000.5, "2190", settings=settings), "zh"))
    assert (lines["预算（元）"], lines["已分配（元）"], lines["剩余（元）"]) == ("5,000.5", "2,500", "2,500.5")
    tiny = plan(store, 0.5, "2190", settings=settings)
    assert dict(summary_rows(tiny, "en"))["Budget (yuan)"] == "0.5"


def test_the_workbook_s_columns_fit_what_they_hold(store: Store, settings: Settings) -> None:
    """At Excel's default width every village name, resource and reason was cut off after four characters; a long
    name widens its column up to a bound, and text longer than that wraps."""
    p = plan(store, 5_000, "2190", settings=settings)
    long = "示例·" + "很长的村名" * 20
    p = dataclasses.replace(p, allocations=[dataclasses.replace(p.allocations[0], village_label=long)]
                            + p.allocations[1:])
    sheet = openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, "zh")))["分配"]
    header = [c.value for c in sheet[1]]
    width = {h: sheet.column_dimensions[chr(ord("A") + j)].width for j, h in enumerate(header)}
    assert width["村"] == COLUMN_WIDTH_MAX and sheet.cell(2, 2).alignment.wrap_text
    assert width["给什么（资源）"] >= 2 * len("示例·村史数字馆藏") and width["村代码"] >= 12


def test_the_workbook_shows_the_fen_the_page_shows(store: Store, settings: Settings) -> None:
    """The workbook's #,##0 showed a budget of 5,000.5 yuan as 5,001 and the 2,500.5 left as 2,501."""
    p = plan(store, 5_000.5, "2190", settings=settings)
    summary = {r[0].value: r[1] for r in openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, "zh")))["概要"].iter_rows()}
    for what in ("预算（元）", "剩余（元）"):
        assert summary[what].number_format == "#,##0.00" and summary[what].value % 1 == 0.5, what
    assert summary["已分配（元）"].number_format == "#,##0"  # 2,500: no fen to show
    costs = [r[4] for r in openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, "zh")))["分配"].iter_rows(min_row=2)]
    assert costs and all(c.data_type == "n" and c.number_format == "#,##0" for c in costs)


def test_the_workbook_s_day_is_a_date_a_spreadsheet_sorts(store: Store, settings: Settings) -> None:
    """"As of" was a text cell (2020-06-30), which a spreadsheet neither sorts nor filters as a date; a plan replaying
    the past said what it leaves out in the same cell."""
    p = plan(store, 5_000, "2190", settings=settings)
    for lang, what in (("zh", "按哪天的情况"), ("en", "As of")):
        sheet = openpyxl.load_workbook(io.BytesIO(plan_xlsx(p, lang))).worksheets[0]
        summary = {r[0].value: r[1] for r in sheet.iter_rows()}
        day = summary[what]
        assert day.is_date and day.value.date() == date.fromisoformat(p.as_of) and day.number_format == "yyyy-mm-dd"
    past = dataclasses.replace(p, known_by=p.as_of)
    summary = dict(openpyxl.load_workbook(io.BytesIO(plan_xlsx(past, "zh")))["概要"].values)
    assert summary["按哪天的情况"].date() == date.fromisoformat(p.as_of) and summary["之后认定的需求"] == "不计入"
    assert dict(summary_rows(past, "zh"))["按哪天的情况"] == f"{p.as_of}（之后认定的需求不计入）"  # the page's text


def test_a_province_s_plan_downloads_as_a_workbook_in_seconds(store: Store, settings: Settings) -> None:
    """Each cost cell's format was set on ``sheet.max_row``, which reads every cell of the sheet: a plan of 10,000
    allocations (a province's) took some 40 s to download as a workbook, a few seconds now."""
    p = plan(store, 5_000, "2190", settings=settings)
    many = dataclasses.replace(p, allocations=(p.allocations * 10_000)[:10_000])
    start = time.perf_counter()
    sheet = openpyxl.load_workbook(io.BytesIO(plan_xlsx(many, "zh")))["分配"]
    assert time.perf_counter() - start < 15
    assert sheet.max_row == 10_001 and sheet.cell(10_001, 5).number_format == "#,##0"


def test_a_budget_below_every_allocation_says_so(store: Store, settings: Settings) -> None:
    """Not "no resource can go to these needs" when resources fit but cost more than the budget."""
    p = plan(store, 1, "2190", settings=settings)
    assert p.allocations == [] and p.totals["cheapest_allocation"] == 1_000
    assert distance_words(p, "en") == "The budget is below what any allocation costs: the cheapest costs 1,000 yuan."
    assert distance_words(p, "zh") == "这笔预算不够任何一项分配：最便宜的一项要 1,000 元。"
    quick = plan(store, 1, "2190", method="greedy", settings=settings)  # it said "reaches at least 0%"
    assert distance_words(quick, "zh") == "这笔预算不够任何一项分配：最便宜的一项要 1,000 元。"
    assert plan(store, 5_000, "2190", settings=settings).totals["cheapest_allocation"] is None


def test_a_poverty_cause_is_named_by_its_label_not_its_code(store: Store) -> None:
    from kg.answers.plan import CAUSE_REASON, PlanNeed, _cause_labels
    from kg.answers.plan_tables import reason_text

    needs = [PlanNeed("n", "219001001001", "N32", 3, 4.5, True, (CAUSE_REASON + "PC04", "registered poor village"))]
    causes = _cause_labels(store, needs)
    assert list(causes) == ["PC04"] and causes["PC04"]["zh"] and causes["PC04"]["en"]
    zh, en = causes["PC04"]["zh"], causes["PC04"]["en"]
    assert reason_text(CAUSE_REASON + "PC04", "zh", causes) == f"需求与致贫原因相关：{zh}（PC04）"
    assert reason_text(CAUSE_REASON + "PC04", "en", causes) == f"need linked to poverty cause {en} (PC04)"
    assert reason_text(CAUSE_REASON + "PC99", "zh", causes) == "需求与致贫原因相关：PC99"  # no label: the code


def test_a_plan_for_a_past_day_says_it_leaves_later_needs_out() -> None:
    """Replaying a past day, a plan met the needs known then, but its page, workbook and JSON never said that
    later needs were left out (the gap report for the same day did)."""
    from datetime import date

    from kg.derived import derive_all

    from .conftest import fixture_store

    day = date(2019, 6, 1)  # needs h, k and m were identified in 2020
    store = fixture_store(derived=False)
    derive_all(store, as_of=day)
    p = plan(store, 5_000, "2190", settings=Settings(as_of=day))
    assert p.known_by == "2019-06-01" and p.to_dict()["known_by"] == "2019-06-01"
    zh, en = dict(summary_rows(p, "zh")), dict(summary_rows(p, "en"))
    assert zh["按哪天的情况"] == "2019-06-01（之后认定的需求不计入）"
    assert en["As of"] == "2019-06-01 (needs identified later are left out)"
    today = plan(fixture_store(), 5_000, "2190", settings=Settings(as_of=date(2020, 6, 30)))
    assert today.known_by is None and dict(summary_rows(today, "zh"))["按哪天的情况"] == "2020-06-30"
