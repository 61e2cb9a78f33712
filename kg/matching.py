"""Matching needs with interventions: recommendations, gaps and similar villages.

The public face of :mod:`kg.answers`; ``docs/DATA_MODEL.md`` says what "addressed" means (``kg.rule``)
and ``settings.reach`` which reach modes count.
"""

from __future__ import annotations

from .answers.areas import Area, AreaRef, child_areas, resolve_area
from .answers.gaps import GAP_DIMENSIONS, GapDimension, GapGroup, GapReport, as_period, gaps
from .answers.needs import NeedRow, NeedSet, need_rows
from .answers.recommend import (
    WEIGHTS,
    WITHIN_LEVELS,
    AreaRecommendations,
    Candidate,
    NeedRecommendation,
    RecommendationReport,
    Step,
    recommend,
    recommend_within,
)
from .answers.similar import SimilarReport, SimilarVillage, similar
from .rule import REACH_MODES, NeedState, ReachMode, parse_reach

__all__ = [
    "GAP_DIMENSIONS",
    "REACH_MODES",
    "WEIGHTS",
    "WITHIN_LEVELS",
    "Area",
    "AreaRecommendations",
    "AreaRef",
    "Candidate",
    "GapDimension",
    "GapGroup",
    "GapReport",
    "NeedRecommendation",
    "NeedRow",
    "NeedSet",
    "NeedState",
    "ReachMode",
    "RecommendationReport",
    "SimilarReport",
    "SimilarVillage",
    "Step",
    "as_period",
    "child_areas",
    "gaps",
    "need_rows",
    "parse_reach",
    "recommend",
    "recommend_within",
    "resolve_area",
    "similar",
]
