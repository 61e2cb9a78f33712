"""The default example data teaches the right thing: every city has some, most goes where the cited facts put
poverty, and all of it stays marked."""

from __future__ import annotations

import random
from collections import Counter

from kg import reference as ref
from kg.synthetic import allocate, city_weights, plan_areas


def test_the_weights_come_from_the_cited_facts() -> None:
    w = city_weights()
    assert len(w) == 14
    facts = {r["id"]: float(r["value"]) for r in ref.facts() if r["id"] in ("F09", "F16", "F17")}
    assert w["2114"] == facts["F16"] and w["2113"] == facts["F17"]  # 葫芦岛市, 朝阳市
    assert abs(sum(w.values()) - facts["F09"]) < 1e-6  # the others share the rest of the provincial figure


def test_every_city_gets_example_villages_and_the_poorest_most() -> None:
    plan = plan_areas(600, random.Random(42))
    per_city = Counter(v.code[:4] for v in plan.villages)
    assert len(plan.villages) == 600 and set(per_city) == set(ref.city_codes_by_name().values())
    others = [n for c, n in per_city.items() if c not in ("2113", "2114")]
    assert min(per_city["2113"], per_city["2114"]) > 2 * max(others)
    assert min(others) >= 12  # at least a township's worth each


def test_allocate_respects_floor_sizes_and_total() -> None:
    shares = allocate(10, {"a": 1.0, "b": 1.0, "c": 8.0}, {"a": 5, "b": 1, "c": 100}, floor=2)
    assert sum(shares.values()) == 10 and shares["b"] == 1 and shares["a"] >= 2 and shares["c"] >= shares["a"]
    assert allocate(3, {"a": 1.0, "b": 1.0}, {"a": 1, "b": 1}, floor=1) == {"a": 1, "b": 1}  # no more than there is


def test_example_household_totals_add_up_to_the_village_registration() -> None:
    import io

    import rdflib

    from kg.namespaces import DCPA
    from kg.synthetic import generate

    buf = io.BytesIO()
    generate(buf, villages=300, seed=3)
    g = rdflib.Graph().parse(data=buf.getvalue(), format="nt")
    registered = {v: int(g.value(st, DCPA.poorHouseholds)) for v, st in g.subject_objects(DCPA.povertyStatus)
                  if str(g.value(st, DCPA.statusType)).endswith("/PS1")}
    assert registered, "no example registered poor village"
    totals: Counter[str] = Counter()
    for agg in g.subjects(DCPA.aggregateOf, None):
        totals[str(g.value(agg, DCPA.aggregateOf))] += int(g.value(agg, DCPA.householdCount))
        assert (agg, DCPA.isSynthetic, rdflib.Literal(True)) in g
    assert {str(v): n for v, n in registered.items()} == dict(totals)
