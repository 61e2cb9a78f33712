"""Plans: with this budget and this stock, which villages get what? (the public face of ``kg.answers.plan``)."""

from __future__ import annotations

from .answers.plan import (
    CAUSE_WEIGHT,
    METHODS,
    POOR_COUNTY_WEIGHT,
    POOR_VILLAGE_WEIGHT,
    Allocation,
    Option,
    Plan,
    PlanMethod,
    PlanNeed,
    PlanResource,
    build_options,
    optimise,
    plan,
    solve_greedy,
    solve_milp,
    upper_bound,
)

__all__ = ["CAUSE_WEIGHT", "METHODS", "POOR_COUNTY_WEIGHT", "POOR_VILLAGE_WEIGHT", "Allocation", "Option", "Plan",
           "PlanMethod", "PlanNeed", "PlanResource", "build_options", "optimise", "plan", "solve_milp",
           "solve_greedy", "upper_bound"]
