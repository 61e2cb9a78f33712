"""A plan as a planner reads it: flat tables, plain words, a workbook.

``kg.answers.plan`` answers with nested records (each allocation with its needs and explanation).
Spreadsheets and pages need flat rows, one per allocation and one per need left unmet, with names
instead of IRIs; and the solver's bound and relative distance need saying in words that do not
clash with the project's "gap" (an unmet need). The CLI, the API's CSV, the plan page and its XLSX
all take their tables and words from here.
"""

from __future__ import annotations

import io
import math
from datetime import date
from typing import Any

from ..safetext import DATE_FORMAT, DownloadName, append_row, display_width, download_name, spreadsheet_file
from .plan import AUTO_WITHIN, CAUSE_REASON, UNMET_NO_RESOURCE, UNMET_STOCK, Plan

#: Columns of the flat tables, with their headers in each language.
ALLOCATION_COLUMNS: dict[str, tuple[str, str]] = {
    "village_code": ("村代码", "village code"),
    "village": ("村", "village"),
    "resource": ("给什么（资源）", "what to give (resource)"),
    "library": ("图书馆", "library"),
    "cost": ("费用（元）", "cost (yuan)"),
    "needs_met": ("满足的需求（严重程度）", "needs met (severity)"),
    "severity_met": ("满足的严重程度合计", "severity met"),
    "weight_met": ("加权值", "weighted value"),
    "why": ("为什么", "why"),
    "example": ("示例数据", "example data"),
}
UNMET_COLUMNS: dict[str, tuple[str, str]] = {
    "village_code": ("村代码", "village code"),
    "village": ("村", "village"),
    "need_type": ("需求类型", "need type"),
    "severity": ("严重程度", "severity"),
    "weight": ("加权值", "weighted value"),
    "why": ("优先原因", "targeting"),
    "why_unmet": ("为什么没有分到", "why not met"),
    "example": ("示例数据", "example data"),
}

_REASONS_ZH = {
    "registered poor village": "建档立卡贫困村",
    "village lifted out of poverty": "脱贫村",
    "village monitored against a return to poverty": "防返贫监测村",
    "in a key, national or former poverty county": "位于重点、国家级或已摘帽的贫困县",
    " (example data)": "（示例数据）",
    CAUSE_REASON: "需求与致贫原因相关：",
}


def reason_text(reason: str, lang: str, causes: dict[str, dict[str, str]] | None = None) -> str:
    """A targeting reason of ``kg.answers.plan`` in the page's language, a poverty cause by its label
    (``Plan.cause_labels``) rather than its code."""
    code = reason[len(CAUSE_REASON):] if reason.startswith(CAUSE_REASON) else ""
    if code in (causes or {}):
        label = (causes or {})[code]
        if lang == "en":
            return f"{CAUSE_REASON}{label['en']} ({code})"
        return f"{_REASONS_ZH[CAUSE_REASON]}{label['zh']}（{code}）"
    if lang == "en":
        return reason
    for en, zh in _REASONS_ZH.items():
        reason = reason.replace(en, zh)
    return reason


def _name(label: str | None, iri: str) -> str:
    return label or iri.rsplit("/", 1)[-1]


def allocation_rows(plan: Plan, lang: str = "zh") -> list[dict[str, Any]]:
    """One flat row per allocation: which village gets what, from which library, for how much, meeting
    which needs, and why (the library's service area and the targeting reasons)."""
    rows = []
    for a in plan.allocations:
        met = [f"{_name(n['need_type_label'], n['need_type'])} ({n['severity']})" for n in a.needs_covered]
        served = next((s for s in a.explanation if s["predicate"].endswith("serves")), None)
        why = []
        if served:
            area = _name(served.get("object_label"), served["object"])
            why.append(f"{_name(a.library_label, a.library)} 服务 {area}" if lang == "zh"
                       else f"{_name(a.library_label, a.library)} serves {area}")
        why += sorted({reason_text(r, lang, plan.cause_labels) for n in a.needs_covered for r in n["targeting"]})
        rows.append({
            "village_code": a.village, "village": _name(a.village_label, a.village),
            "resource": _name(a.resource_label, a.resource), "library": _name(a.library_label, a.library),
            "cost": a.cost, "needs_met": "; ".join(met), "severity_met": a.covered_severity,
            "weight_met": a.covered_weight, "why": "; ".join(why), "example": a.example,
        })
    return rows


def unmet_rows(plan: Plan, lang: str = "zh") -> list[dict[str, Any]]:
    """One flat row per need the plan leaves unmet, heaviest first."""
    ordered = sorted(plan.uncovered, key=lambda u: (-float(u["weight"]), u["village"], u["need"]))
    return [{
        "village_code": u["village"], "village": _name(u.get("village_label"), u["village"]),
        "need_type": _name(u["need_type_label"], u["need_type"]), "severity": u["severity"],
        "weight": u["weight"], "why": "; ".join(reason_text(r, lang, plan.cause_labels)
                                                for r in u.get("targeting") or []),
        "why_unmet": unmet_text(u, plan, lang),
        "example": u["example"],
    } for u in ordered]


def yuan(x: float) -> str:
    """An amount in yuan as a page and the CLI write it: thousands grouped, and its fen when it has any
    (``{:,.0f}`` wrote a budget of 1,234.5 as 1,234, and two allocations of 1,700.5 as 1,700 each, 3,401 in all)."""
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def unmet_text(need: dict[str, Any], plan: Plan, lang: str = "zh") -> str:
    """Why the plan leaves a need unmet (``unmet_reason`` of ``Plan.uncovered``), in plain words: no resource fits,
    the stock ran out, or the budget (what the cheapest fitting allocation costs, and what is left)."""
    zh = lang != "en"
    reason, cost = need.get("unmet_reason"), need.get("cheapest_cost")
    if reason == UNMET_NO_RESOURCE and plan.real_only:  # example resources may fit: they were left out
        return ("没有合适的真实资源：服务该村的图书馆没有适合这类需求、标明单价和库存的真实资源（示例资源未计入）"
                if zh else
                "no real resource fits: no library serving the village holds a real one for this need with a unit "
                "cost and stock (example resources left out)")
    if reason == UNMET_NO_RESOURCE:
        return ("没有合适的资源：服务该村的图书馆没有适合这类需求、标明单价和库存的资源" if zh else
                "no resource fits: no library serving the village holds one for this need with a unit cost and stock")
    if reason == UNMET_STOCK:
        return ("库存已分完：适合它的资源都已分给其他村" if zh else
                "out of stock: every resource that fits it has gone to other villages")
    if cost is None:
        return ""
    if need.get("cheapest_example") and not need.get("example"):  # a real need's row: an example cost is said so
        return f"{_unmet_cost_text(cost, plan, zh)}{'（示例数据中的单价）' if zh else ' (an example resource’s cost)'}"
    return _unmet_cost_text(cost, plan, zh)


def _unmet_cost_text(cost: float, plan: Plan, zh: bool) -> str:
    left = float(plan.totals.get("budget_left", 0.0))
    if cost > plan.budget + 1e-9:
        return (f"超出预算：满足它最少要 {yuan(cost)} 元，多于整笔预算" if zh else
                f"beyond the budget: meeting it costs at least {yuan(cost)} yuan, more than the whole budget")
    if cost > left + 1e-9:
        return (f"预算已用于更重要的需求：满足它最少要 {yuan(cost)} 元，只剩 {yuan(left)} 元" if zh else
                f"the budget went to needs that weigh more: meeting it costs at least {yuan(cost)} yuan, "
                f"{yuan(left)} yuan are left")
    return (f"这个方案没有选它：满足它最少要 {yuan(cost)} 元" if zh else
            f"this plan left it out: meeting it costs at least {yuan(cost)} yuan")


def _percent(x: float) -> str:
    """A share in percent, rounded down to 0.1 (never claims more than was proven)."""
    return f"{math.floor(x * 1000 + 1e-9) / 10:g}%"


def distance_words(plan: Plan, lang: str = "zh") -> str:
    """How far the plan can be from the best possible one, in plain words (no "bound", no "gap")."""
    zh = lang != "en"
    if plan.totals.get("unaddressed_needs", 0) == 0 and not plan.totals.get("needs_recorded", True):
        real_zh, real_en = ("真实", "real ") if plan.real_only else ("", "")
        return (f"这里还没有{real_zh}需求记录，无从分配：请先调查需求，用 `dcpa import` 导入。" if zh else
                f"No {real_en}needs are recorded here yet: nothing to allocate; survey them and import them "
                "(`dcpa import`).")
    if plan.totals.get("unaddressed_needs", 0) == 0:
        return ("这里记录的需求都已满足，不需要分配。" if zh else
                "Every need recorded here is already met: nothing to allocate.")
    cheapest = plan.totals.get("cheapest_allocation")
    if plan.upper_bound <= 0 and cheapest:
        # an example resource's cost, where every need is real and nothing else marks the page as example data
        ex = plan.totals.get("cheapest_example") and not plan.basis.example_items
        return (f"这笔预算不够任何一项分配：最便宜的一项要 {yuan(cheapest)} 元{'（示例数据中的单价）' if ex else ''}。"
                if zh else f"The budget is below what any allocation costs: the cheapest costs {yuan(cheapest)} yuan"
                f"{' (an example resource’s cost)' if ex else ''}.")
    if plan.upper_bound <= 0 and plan.real_only:  # example resources may fit: they were left out
        return ("没有真实资源能用于这些需求：没有标明单价和库存、且服务这些村的图书馆的真实资源（示例资源未计入）。"
                if zh else
                "No real resource can go to these needs: none with a unit cost and stock held by a library serving "
                "these villages (example resources left out).")
    if plan.upper_bound <= 0:
        return ("没有资源能用于这些需求：没有标明单价和库存、且服务这些村的图书馆资源。" if zh else
                "No resource can go to these needs: none with a unit cost and stock held by a library serving "
                "these villages.")
    if plan.method == "exact" and plan.optimality_gap == 0:
        return ("这是最好的方案：在这笔预算和现有库存下，没有哪个方案能满足更多（按严重程度加权的）需求。" if zh else
                "This is the best plan possible: with this budget and this stock, no plan meets more "
                "(severity-weighted) need.")
    reached = _percent(1 - plan.optimality_gap)
    how = {"greedy": ("用的是快速方法，没有求最优；", "made with the fast method, not optimised; "),
           "auto": ("求解在时限内停止；", "the solver stopped at its time limit; "),
           # a province's plan: the time limit is not why it stopped (said so, it read as cut short)
           AUTO_WITHIN: ("已证明与最好方案相差不到 1%，不再细算；",
                         "proven within 1% of the best plan, so not refined; ")}.get(
        plan.method, ("求解在时限内停止；", "the solver stopped at its time limit; "))
    if zh:
        return f"{how[0]}这个方案至少达到最好方案的 {reached}（按严重程度加权的需求）。"
    return f"This plan was {how[1]}it reaches at least {reached} of the best plan possible (in severity-weighted need)."


def summary_rows(plan: Plan, lang: str = "zh", *, numbers: bool = False, basis: bool = True) -> list[tuple[str, Any]]:
    """(what, value) lines that head a plan: budget, spent, needs met, what stays unmet, how good it is.

    The amounts, counts and day as text for a page (``5,000``), or with ``numbers`` as numbers and a date, for a
    workbook whose reader sums, compares and sorts them; without the data basis if not ``basis`` (`dcpa plan` says it
    in both languages after the table)."""
    zh = lang != "en"
    t = plan.totals

    def money(x: float) -> Any:
        return x if numbers else yuan(x)

    def count(n: int) -> Any:
        return n if numbers else str(n)

    area = plan.area.label.get(lang) + f" ({plan.area.code})" if plan.area else ("全部" if zh else "everywhere")
    lines = [
        ("区域" if zh else "Area", area),
        ("预算（元）" if zh else "Budget (yuan)", money(plan.budget)),
        ("已分配（元）" if zh else "Allocated (yuan)", money(plan.spent)),
        ("剩余（元）" if zh else "Left (yuan)", money(t["budget_left"])),
        ("满足的需求" if zh else "Needs met",
         f"{t['covered_needs']} / {t['unaddressed_needs']}" + (f"（严重程度 {plan.covered_severity} / "
                                                               f"{plan.unaddressed_severity}）" if zh else
                                                               f" (severity {plan.covered_severity} of "
                                                               f"{plan.unaddressed_severity})")),
        ("仍未满足" if zh else "Still unmet", count(t["uncovered_needs"])),
        ("受益村" if zh else "Villages served", count(t["villages_served"])),
        ("方案好坏" if zh else "How good", distance_words(plan, lang)),
        # a date cell in a workbook, which a spreadsheet sorts and filters as a date (a text cell it cannot)
        ("按哪天的情况" if zh else "As of",
         date.fromisoformat(plan.as_of) if numbers else plan.as_of + _left_out(plan, zh)),
        *([("之后认定的需求" if zh else "Needs identified later", "不计入" if zh else "left out")]
          if numbers and plan.known_by else []),
        ("优先贫困村" if zh else "Poor villages first", ("是" if zh else "yes") if plan.poor_first else
         ("否" if zh else "no")),
    ]
    if basis:
        lines.append(("数据依据" if zh else "Basis", plan.basis.note_zh if zh else plan.basis.note_en))
    return lines


def _left_out(plan: Plan, zh: bool) -> str:
    """What the day of a plan replaying the past leaves out: the needs identified after it."""
    if not plan.known_by:
        return ""
    return "（之后认定的需求不计入）" if zh else " (needs identified later are left out)"


def plan_file_name(plan: Plan, ext: str, lang: str = "zh") -> DownloadName:
    """What a plan's CSV or workbook is called: the area's code and name, the budget in yuan (every digit: ``{:g}``
    wrote 1234567 as 1.23457e+06), real data only when so, and the day it is for (``plan-2101-沈阳市-5000-2020-06-30``).
    Two plans of an area with other budgets or days are two files."""
    budget = str(int(plan.budget)) if float(plan.budget).is_integer() else repr(float(plan.budget))
    return download_name("plan", ext, code=plan.area.code if plan.area else "all",
                         name=plan.area.label.get(lang) if plan.area else None,
                         details=[budget, "real-only" if plan.real_only else None], day=plan.as_of)


def plan_csv(plan: Plan, lang: str = "zh") -> bytes:
    """The plan page's CSV, for Excel and WPS: one row per allocation under the workbook's headers in the page's
    language (it had the columns' keys, village_code and cost, where the page and the workbook say 村代码 and
    费用（元）), example rows marked as the workbook marks them (是, where it said true). The API's CSV
    (``format=csv``) keeps the keys, which scripts read. A plan allocating nothing says why in a row of its own
    (the budget is below every allocation, nothing fits, no need is recorded): its file was a header alone."""
    i = 0 if lang != "en" else 1
    rows = [[_cell(r[k], lang) for k in ALLOCATION_COLUMNS] for r in allocation_rows(plan, lang)]
    return spreadsheet_file([h[i] for h in ALLOCATION_COLUMNS.values()], rows or [[distance_words(plan, lang)]])


def plan_xlsx(plan: Plan, lang: str = "zh") -> bytes:
    """The plan as a workbook: the summary, what each village gets, and what stays unmet."""
    from openpyxl import Workbook  # on use: only exports need it
    from openpyxl.styles import Font

    i = 0 if lang != "en" else 1
    book = Workbook()
    summary = book.active
    assert summary is not None  # a new workbook has its one sheet
    summary.title = "概要" if i == 0 else "Summary"
    for what, value in summary_rows(plan, lang, numbers=True):
        append_row(summary, [what, value])
        if isinstance(value, int | float):
            summary.cell(summary.max_row, 2).number_format = _number_format(value)
        elif isinstance(value, date):
            summary.cell(summary.max_row, 2).number_format = DATE_FORMAT
    summary.column_dimensions["A"].width = 18
    summary.column_dimensions["B"].width = 90
    for title, columns, rows in (("分配" if i == 0 else "Allocations", ALLOCATION_COLUMNS, allocation_rows(plan, lang)),
                                 ("未满足" if i == 0 else "Unmet", UNMET_COLUMNS, unmet_rows(plan, lang))):
        sheet = book.create_sheet(title)
        append_row(sheet, [h[i] for h in columns.values()])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for n, r in enumerate(rows, start=2):
            append_row(sheet, [_cell(r[k], lang) for k in columns])
            for j, k in enumerate(columns, start=1):
                if k in _MONEY and isinstance(r[k], int | float):
                    # the row by its number: sheet.max_row reads every cell of the sheet, and a province's plan of
                    # 10,000 allocations took 40 s to write instead of 3
                    sheet.cell(n, j).number_format = _number_format(r[k])
        _fit_columns(sheet)
        sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


#: The widest a plan sheet's column is made (in characters); longer text (a reason, a long village name) wraps.
COLUMN_WIDTH_MAX = 60


def _fit_columns(sheet: Any) -> None:
    """Each column as wide as its widest cell, Chinese counted twice (``display_width``), up to COLUMN_WIDTH_MAX:
    at Excel's default width of 8.43 every village name, resource and reason was cut off after four characters.
    Longer text wraps in its cell rather than running under the next column."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    for j, column in enumerate(sheet.iter_cols(), start=1):
        widest = max((display_width(str(c.value)) for c in column if c.value is not None), default=0)
        sheet.column_dimensions[get_column_letter(j)].width = min(COLUMN_WIDTH_MAX, max(8, widest + 2))
        if widest + 2 > COLUMN_WIDTH_MAX:
            for c in column[1:]:
                c.alignment = Alignment(wrap_text=True, vertical="top")


#: The columns of a plan's sheets that hold amounts in yuan.
_MONEY = frozenset({"cost"})


def _number_format(x: float) -> str:
    """How a workbook shows an amount or a count: thousands grouped, and its fen when it has any, as ``yuan`` does
    (``#,##0`` showed a budget of 5,000.5 yuan as 5,001 and 2,500.5 left as 2,501, where the page says 5,000.5)."""
    return "#,##0" if float(x).is_integer() else "#,##0.00"


def _cell(value: Any, lang: str = "zh") -> Any:
    """A workbook cell: numbers as numbers, flags as 是/blank (yes/blank in an English workbook, whose example column
    said 是), text as text (``append_row`` keeps it from running)."""
    if isinstance(value, bool):
        return ("是" if lang != "en" else "yes") if value else ""
    if isinstance(value, int | float):
        return value
    return str(value)
