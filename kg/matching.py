"""Matching needs with interventions: recommendations, gaps and similar villages.

The public face of :mod:`kg.answers`; see ``docs/DATA_MODEL.md`` for what
"addressed" means and ``settings.reach`` for the reach rule.
"""

from __future__ import annotations

from .answers._common import REACH_MODES, AreaInfo, parse_reach
from .answers.gaps import GAP_DIMENSIONS, GapGroup, GapReport, gaps
from .answers.recommend import WEIGHTS, Candidate, NeedRecommendation, RecommendationReport, Step, recommend
from .answers.similar import SimilarVillage, similar

__all__ = [
    "GAP_DIMENSIONS",
    "REACH_MODES",
    "WEIGHTS",
    "AreaInfo",
    "Candidate",
    "GapGroup",
    "GapReport",
    "NeedRecommendation",
    "RecommendationReport",
    "SimilarVillage",
    "Step",
    "gaps",
    "parse_reach",
    "recommend",
    "similar",
]
