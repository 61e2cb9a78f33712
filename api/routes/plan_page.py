"""``/plan``: plan a budget in the browser, print it, take it away as XLSX or CSV.

A form (area, budget, method, poverty targeting, real data only) whose answer is ``kg.planning.plan``:
what each village gets, for how much, which needs it meets and why; what stays unmet; how good the
plan is, in plain words (``kg.answers.plan_tables``, which the CLI and the API's CSV use too). The
form is a GET, so a plan is a link that can be shared, reloaded and printed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from kg import viz
from kg.codes import TYPED_AREA_CODE_PATTERN
from kg.errors import InvalidParameter, NotFound
from kg.planning import (
    BUDGET_TEXT_MAX,
    PLAN_TIME_LIMIT,
    PlanMethod,
    allocation_rows,
    distance_words,
    plan,
    plan_csv,
    plan_file_name,
    plan_xlsx,
    read_budget,
    summary_rows,
    unmet_rows,
    yuan,
)

from .. import urls
from ..deps import Answers, AnswersDep, SettingsDep
from ..errors import in_language, wants_page
from ..paths import pages
from ..representation import CSV_TYPE, attachment

router = APIRouter(tags=["pages"])

#: Unmet needs listed in the page (heaviest first); the XLSX has them all.
UNMET_SHOWN = 200
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: The form's area box: an area code as typed (full-width digits, spaces around it: the library reads it), or empty
#: for everywhere (a browser sends ``area=`` for an empty box).
AREA_OR_EMPTY = rf"^({TYPED_AREA_CODE_PATTERN[1:-1]})?\s*$"

LangQuery = Annotated[str, Query(description="Page language: zh or en / 页面语言")]
#: The longest area code the form takes as typed: a village's 12 digits in groups, spaces around them.
AREA_TEXT_MAX = 40
AreaQuery = Annotated[str | None, Query(pattern=AREA_OR_EMPTY, max_length=AREA_TEXT_MAX,
                                        description="Area code to plan for (all when absent or empty)")]
BudgetQuery = Annotated[str | None, Query(max_length=BUDGET_TEXT_MAX,
                                          description="Budget in yuan, as a planner writes it: 200000, 200,000, "
                                                      "20万, 1.5万元 (read by kg.planning.read_budget)")]
MethodQuery = Annotated[PlanMethod, Query(description="How the plan is optimised")]
FlagQuery = Annotated[bool, Query()]

#: The methods as a planner reads them.
METHOD_TEXT: dict[PlanMethod, tuple[str, str]] = {
    PlanMethod.AUTO: (f"最好的方案（推荐；最多算 {PLAN_TIME_LIMIT:g} 秒，算不完时说明差多少）",
                      f"The best plan (recommended; at most {PLAN_TIME_LIMIT:g} s, and says how far off when "
                      "cut short)"),
    PlanMethod.EXACT: (f"最好的方案，不限 {PLAN_TIME_LIMIT:g} 秒（直到请求时限）",
                       f"The best plan, past {PLAN_TIME_LIMIT:g} s (up to the request's time limit)"),
    PlanMethod.GREEDY: ("快速估算（不求最优）", "A quick estimate (not optimised)"),
}


def budget_text(budget: float) -> str:
    """The budget as a link and the form carry it: every digit typed, never an exponent (``{:g}`` wrote
    1234567 as 1.23457e+06, so the downloads and the language switch asked for 1,234,570 yuan)."""
    return str(int(budget)) if budget.is_integer() else repr(budget)


@dataclass(frozen=True)
class PlanForm:
    """The question of a plan page, its XLSX and its CSV: the same parameters, the same answer."""

    area: str | None
    budget: str | None  # as typed (20万, 200,000…); ``yuan`` reads it
    method: PlanMethod
    poor_first: bool
    real_only: bool
    lang: str

    def yuan(self) -> float:
        """The budget typed, read as ``dcpa plan --budget`` and ``POST /api/plans`` read it; InvalidParameter says
        what was typed and how to write it."""
        if not (self.budget or "").strip():
            raise InvalidParameter("规划需要预算 / a plan needs a budget",
                                   hint="请在地址中加上 budget=…（元） / add budget=… (yuan) to the address")
        return read_budget(self.budget or "")

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query parameters that ask it again (``changes`` override): the budget in digits once read (20万 asks
        again for 200000), as typed when it cannot be read (the language switch keeps the mistake to mend)."""
        try:
            budget = budget_text(self.yuan()) if self.budget else None
        except InvalidParameter:
            budget = self.budget
        d = {"area": self.area, "budget": budget,
             "method": self.method.value, "poor_first": self.poor_first, "real_only": self.real_only, "lang": self.lang}
        return {**d, **changes}

    def answer(self, answers: Answers, settings: Any) -> Awaitable[Any]:
        """``kg.planning.plan`` for this question, in a query worker."""
        return answers(plan, self.yuan(), self.area, method=self.method, poor_first=self.poor_first,
                       real_only=self.real_only, lang=self.lang, settings=settings)


def plan_form(
    area: AreaQuery = None,
    budget: BudgetQuery = None,
    method: MethodQuery = PlanMethod.AUTO,
    poor_first: FlagQuery = False,
    real_only: FlagQuery = False,
    lang: LangQuery = "zh",
) -> PlanForm:
    return PlanForm((area or "").strip() or None, (budget or "").strip() or None, method, poor_first, real_only,
                    "en" if lang == "en" else "zh")


PlanFormDep = Annotated[PlanForm, Depends(plan_form)]


@router.get("/plan", summary="Plan page / 规划页", response_class=HTMLResponse)
async def plan_page(request: Request, answers: AnswersDep, settings: SettingsDep, form: PlanFormDep) -> HTMLResponse:
    """The form, and with a budget the plan: per village what to give, its cost, the needs it meets and
    why; what stays unmet; how good the plan is; exports and a print view."""
    lang = form.lang
    ctx = viz.page_context(lang)
    ctx.update(static="/static", form=form.params(), methods=[(m.value, METHOD_TEXT[m]) for m in PlanMethod],
               area_pattern=AREA_OR_EMPTY[1:-1],  # the browser's check: spaces around a code are dropped
               # the box took 12 characters: a village's code typed in groups (211322 101 200) was cut short
               area_maxlength=AREA_TEXT_MAX,
               budget_maxlength=BUDGET_TEXT_MAX,  # a text box: 20万 is no number to a browser's number box
               zh_href=urls.plan_page(**form.params(lang="zh")), en_href=urls.plan_page(**form.params(lang="en")),
               home_href=urls.home(lang=lang),
               # a plan with real data only leads to pages with real data only, as the dashboard leads here
               dashboard_href=urls.dashboard(form.area, lang=lang, real_only=form.real_only),
               data_href=urls.data_page(lang=lang), made=None)
    if form.budget:
        try:
            made = await form.answer(answers, settings)
        except (NotFound, InvalidParameter) as e:  # an area code or a budget mistyped: the form keeps what was typed
            if not wants_page(request):
                raise
            ctx.update(error=in_language(e.message, lang), error_hint=in_language(e.hint, lang))
            page = pages().get_template("dashboard/plan.html").render(**ctx)
            return HTMLResponse(page, status_code=e.http_status)
        rows = allocation_rows(made, lang)
        by_village: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_village[r["village_code"]].append(r)
        unmet = unmet_rows(made, lang)
        ctx.update(
            made=made, summary=summary_rows(made, lang), distance=distance_words(made, lang), yuan=yuan,
            villages=sorted(by_village.items()),
            village_href=lambda code: urls.dashboard_village(code, lang=lang, real_only=form.real_only),
            unmet=unmet[:UNMET_SHOWN], unmet_total=len(unmet), unmet_shown=UNMET_SHOWN,
            csv_href=urls.plan_export("csv", **form.params()), xlsx_href=urls.plan_export("xlsx", **form.params()),
        )
    return HTMLResponse(pages().get_template("dashboard/plan.html").render(**ctx))


@router.get("/plan.{ext}", summary="Plan as CSV or XLSX / 规划导出", response_class=Response,
            responses={200: {"content": {"text/csv": {}, _XLSX: {}}}})
async def plan_export(
    answers: AnswersDep,
    settings: SettingsDep,
    form: PlanFormDep,
    ext: Annotated[str, PathParam(pattern="^(csv|xlsx)$", description="csv or xlsx")],
) -> Response:
    """CSV: one flat row per allocation. XLSX: the summary, the allocations and every unmet need."""
    made = await form.answer(answers, settings)
    name = plan_file_name(made, ext, form.lang)  # the code as the library read it
    if ext == "csv":
        return Response(plan_csv(made, form.lang), media_type=CSV_TYPE, headers=attachment(name))
    return Response(plan_xlsx(made, form.lang), media_type=_XLSX, headers=attachment(name))
