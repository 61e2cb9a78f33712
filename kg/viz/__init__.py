"""Pictures of the graph: village, area, policy and ontology views, and gap tables for dashboards.

Library first: builders return a :class:`ViewGraph` (networkx), ``network_data`` turns it
into vis-network JSON, ``render_view`` into an HTML page (served, or self-contained for
``dcpa viz … -o file.html``). The API routes and the CLI only call these.
"""

from __future__ import annotations

from ._build import area_view, ontology_view, policy_view, tally_shares, village_view
from ._data import SEVERE, NeedRow, labels
from ._describe import describe
from ._gaps import CHARTS, GapTable, dashboard_data, gap_table, gap_tables, need_type_choices, village_summary
from ._model import KINDS, MAX_NODES, SYNTHETIC_MARK, ViewGraph, bound, layout, neighbourhood
from ._render import STATIC_DIR, embed_json, environment, inline_assets, network_data, page_context, render_view

__all__ = [
    "CHARTS",
    "STATIC_DIR",
    "KINDS",
    "MAX_NODES",
    "SEVERE",
    "SYNTHETIC_MARK",
    "NeedRow",
    "ViewGraph",
    "area_view",
    "bound",
    "describe",
    "dashboard_data",
    "embed_json",
    "environment",
    "GapTable",
    "gap_table",
    "gap_tables",
    "inline_assets",
    "labels",
    "layout",
    "neighbourhood",
    "network_data",
    "ontology_view",
    "page_context",
    "policy_view",
    "render_view",
    "tally_shares",
    "need_type_choices",
    "village_summary",
    "village_view",
]
