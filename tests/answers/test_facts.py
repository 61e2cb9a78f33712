"""``kg.facts``: the needs of many areas, read in parallel parts, are those of each area."""

from __future__ import annotations

from kg import facts

from .conftest import fixture_store


def test_the_needs_of_many_areas_are_read_whole_in_parts() -> None:
    store = fixture_store()
    every = facts.read_needs(store, None)
    # more areas than threads, none inside another; 219003 to 219005 hold no village
    areas = ["219001001", "219003", "219001002", "219004", "219002001", "219005"]
    assert len(facts.need_queries(areas)) == facts.SCAN_THREADS < len(areas)
    for scope in (areas, areas[::-1], areas[:2], ["2190", "219001"]):
        inside = [n for n in every if any(n.village.startswith(a) for a in scope)]
        assert inside and facts.read_needs(store, scope) == inside, scope
    assert {n.village[:9] for n in facts.read_needs(store, areas)} == {"219001001", "219001002", "219002001"}
