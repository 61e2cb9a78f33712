"""Answers over the graph: gaps, recommendations, similar villages and plans.

``kg.matching`` and ``kg.planning`` re-export the public functions; this package
holds their parts so that no module grows past a few hundred lines.
"""
