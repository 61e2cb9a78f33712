"""The graphs behind the views: what each view shows, and how it stays small."""

from __future__ import annotations

import networkx as nx
import pytest

from kg import viz
from kg.errors import NotFound
from kg.namespaces import area, node
from kg.store import Store

V200 = area("211322101200")


def kinds(view: viz.ViewGraph) -> dict[str, str]:
    return {n: d["kind"] for n, d in view.graph.nodes(data=True)}


def test_village_view_flags_unaddressed_needs_and_shows_why(store: Store) -> None:
    view = viz.village_view(store, "211322101200")
    k = kinds(view)
    assert view.center == V200 and k[V200] == "village"
    # 200-a is met by I1 (C1 covers N2, broader of N21); 200-b (terminal access) is a gap.
    assert k[node("need", "200-a")] == "need"
    assert k[node("need", "200-b")] == "gap"
    assert view.graph.has_edge(node("intervention", "I1"), node("need", "200-a"))
    # the intervention's resource, library, policy, programme, evaluation, and the need's evidence
    for kind, iri in [
        ("resource", node("resource", "R1")),
        ("library", node("library", "L2")),
        ("policy", node("policy", "P02")),
        ("programme", node("programme", "P08")),
        ("evaluation", node("evaluation", "E1")),
        ("source", node("source", "survey-1")),
        ("status", node("status", "S200")),
        ("needtype", "https://w3id.org/dcpa/vocab/N11"),
    ]:
        assert k.get(iri) == kind, iri
    # something that could address the gap, drawn with a dashed edge to it
    cands = [n for n, kd in k.items() if kd == "candidate"]
    assert node("resource", "R2") in cands
    assert view.graph.edges[node("resource", "R2"), node("need", "200-b")].get("dashes")


def test_village_view_marks_synthetic_nodes(store: Store) -> None:
    view = viz.village_view(store, "211322101200")
    need = view.graph.nodes[node("need", "200-b")]
    assert need["synthetic"] and need["labels"]["zh"].startswith("示例")
    assert need["labels"]["en"].startswith("Example")
    assert view.synthetic
    # real reference data is not marked
    assert not view.graph.nodes[node("policy", "P02")]["synthetic"]


def test_village_view_hops_keeps_the_neighbourhood(store: Store) -> None:
    full = viz.village_view(store, "211322101200")
    one = viz.village_view(store, "211322101200", hops=1)
    assert set(one.graph) < set(full.graph)
    und = full.graph.to_undirected()
    assert set(one.graph) == set(nx.ego_graph(und, V200, radius=1))


def test_unknown_village_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        viz.village_view(store, "211322101999")
    with pytest.raises(NotFound):
        viz.village_view(store, "211322")  # a county, not a village


def test_area_view_colours_villages_by_share_of_unaddressed_severe_need(store: Store) -> None:
    view = viz.area_view(store, "211322")
    g = view.graph
    props = {n: {r[1]: r[2] for r in d["props"]} for n, d in g.nodes(data=True)}
    # 102200: its only (severe) need is a gap → 100 %, red; 200: one of two severe needs met → 50 %
    assert props[area("211322102200")]["share of severe need unaddressed"] == "100%"
    assert props[V200]["share of severe need unaddressed"] == "50%"
    assert g.nodes[area("211322102200")]["color"] == viz._build.share_colour(1.0)
    assert g.nodes[V200]["color"] != g.nodes[area("211322102200")]["color"]
    # townships between county and villages; the libraries that reach them
    assert g.has_edge(V200, area("211322101")) and g.has_edge(area("211322101"), area("211322"))
    assert g.has_edge(node("library", "L2"), area("211322101"))
    assert kinds(view)[node("library", "L1")] == "library"


def test_policy_view_follows_policy_programme_interventions_villages(store: Store) -> None:
    g = viz.policy_view(store, "P02").graph
    assert g.has_edge(node("policy", "P02"), node("programme", "P08"))
    assert g.has_edge(node("programme", "P08"), node("intervention", "I1"))
    assert g.has_edge(node("intervention", "I1"), V200)
    # I2 is supported by the policy directly (no programme)
    assert g.has_edge(node("policy", "P02"), node("intervention", "I2"))
    assert g.nodes[area("211322102200")]["kind"] == "village"
    with pytest.raises(NotFound):
        viz.policy_view(store, "P99")


def test_ontology_view_has_classes_subclasses_and_properties() -> None:
    g = viz.ontology_view().graph
    dcpa = "https://w3id.org/dcpa/ontology#"
    assert g.nodes[dcpa + "Village"]["labels"] == {"zh": "行政村", "en": "Village"}
    assert g.has_edge(dcpa + "Village", dcpa + "VillageLevelUnit")
    assert "targets area" in g.edges[dcpa + "Intervention", dcpa + "AdministrativeArea"]["labels"]["en"]
    # a union domain (Intervention or Programme) is drawn from each member
    assert g.has_edge(dcpa + "Programme", dcpa + "Policy")


def test_bound_cuts_nearest_first_and_says_so() -> None:
    g = nx.DiGraph()
    for i in range(50):
        viz._model.add_node(g, f"urn:n{i}", "need", {"zh": str(i), "en": str(i)})
    for i in range(1, 50):
        viz._model.add_edge(g, f"urn:n{i - 1}", f"urn:n{i}", "下", "next")
    view = viz.bound(viz.ViewGraph(g, "test", {"zh": "t", "en": "t"}, center="urn:n0"), max_nodes=10)
    assert set(view.graph) == {f"urn:n{i}" for i in range(10)}
    assert view.total_nodes == 50
    assert "10 of 50" in view.notes[-1]["en"] and "10 / 50" in view.notes[-1]["zh"]


def test_large_views_get_server_positions_and_no_physics() -> None:
    g = nx.DiGraph()
    for i in range(200):
        viz._model.add_node(g, f"urn:n{i}", "village", {"zh": f"村{i}", "en": f"v{i}"})
        if i:
            viz._model.add_edge(g, f"urn:n{i // 2}", f"urn:n{i}", "含", "has")
    view = viz.ViewGraph(g, "test", {"zh": "t", "en": "t"})
    assert viz.layout(view.graph)
    data = viz.network_data(view)
    assert all("x" in n and "y" in n for n in data["nodes"])
    assert data["options"]["physics"] == {"enabled": False}


def test_small_views_use_physics_that_stops(store: Store) -> None:
    data = viz.network_data(viz.village_view(store, "211322101200"))
    physics = data["options"]["physics"]
    assert physics["enabled"] and physics["stabilization"]["enabled"]
    assert not any("x" in n for n in data["nodes"])


def test_network_data_carries_both_languages_and_the_legend(store: Store) -> None:
    data = viz.network_data(viz.village_view(store, "211322101200"), "en")
    village = next(n for n in data["nodes"] if n["id"] == V200)
    assert village["label"] == village["label_en"] and village["label_zh"] == "朱碌科村村民委员会"
    legend = {k["kind"]: k for k in data["legend"]}
    assert legend["gap"]["count"] == 1 and legend["gap"]["zh"] == "未满足需求"
    synthetic = next(n for n in data["nodes"] if n["id"] == node("need", "200-b"))
    assert "示例数据 / example data" in synthetic["title"]


@pytest.mark.parametrize("reach", ["direct", "area", "direct,area"])
@pytest.mark.parametrize("township", ["211322101", "211322102"])
def test_area_view_colours_agree_with_the_gap_report(store: Store, township: str, reach: str) -> None:
    """The area view colours villages from the same need rows the gap report counts: per village, the
    gaps it shows are the report's."""
    from kg.answers.areas import resolve_area
    from kg.answers.needs import need_rows
    from kg.matching import gaps

    from .conftest import AS_OF

    rows = need_rows(store, resolve_area(store, township), reach=reach, as_of=AS_OF).rows
    shares = viz.village_shares(rows)
    ours = {s["code"]: (s["needs"], s["gaps"]) for s in shares.values()}
    report = gaps(store, township, by="area", reach=reach, as_of=AS_OF)
    assert ours == {g.code: (g.needs, g.unaddressed) for g in report.groups}