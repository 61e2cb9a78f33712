"""Plans: with this budget and this stock, which villages get what? (the public face of ``kg.answers.plan``,
and of ``kg.answers.plan_tables``: a plan as flat tables, plain words and a workbook)."""

from __future__ import annotations

from .answers.plan import (
    BUDGET_ABOVE,
    BUDGET_HINT,
    BUDGET_MAX,
    BUDGET_TEXT_MAX,
    CAUSE_WEIGHT,
    METHODS,
    PLAN_TIME_LIMIT,
    POOR_COUNTY_WEIGHT,
    POOR_VILLAGE_WEIGHT,
    Allocation,
    Option,
    Plan,
    PlanMethod,
    PlanNeed,
    PlanResource,
    build_options,
    check_budget,
    optimise,
    plan,
    read_budget,
    solve_greedy,
    solve_milp,
    upper_bound,
)
from .answers.plan_tables import (
    ALLOCATION_COLUMNS,
    UNMET_COLUMNS,
    allocation_rows,
    distance_words,
    plan_csv,
    plan_file_name,
    plan_xlsx,
    summary_rows,
    unmet_rows,
    yuan,
)

__all__ = [
    "ALLOCATION_COLUMNS", "BUDGET_ABOVE", "BUDGET_HINT", "BUDGET_MAX", "BUDGET_TEXT_MAX", "CAUSE_WEIGHT", "METHODS",
    "PLAN_TIME_LIMIT", "POOR_COUNTY_WEIGHT", "POOR_VILLAGE_WEIGHT", "UNMET_COLUMNS", "Allocation", "Option", "Plan",
    "PlanMethod", "PlanNeed", "PlanResource", "allocation_rows", "build_options", "check_budget", "distance_words",
    "optimise", "plan", "plan_csv", "plan_file_name", "plan_xlsx", "read_budget", "solve_greedy", "solve_milp",
    "summary_rows", "unmet_rows", "upper_bound", "yuan",
]
