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


def test_village_view_is_laid_out_around_its_needs(store: Store) -> None:
    """Each need (coloured by state) with what meets it and what could (dashed); no explanation paths,
    sources or need-type nodes: those are in the details and on the village page."""
    view = viz.village_view(store, "211322101200")
    k = kinds(view)
    assert view.center == V200 and k[V200] == "village"
    # 200-a is met by I1 (C1 covers N2, broader of N21); 200-b (terminal access) is a gap.
    assert k[node("need", "200-a")] == "need"
    assert k[node("need", "200-b")] == "gap"
    assert view.graph.has_edge(node("intervention", "I1"), node("need", "200-a"))
    assert k[node("status", "S200")] == "status"
    assert set(k.values()) <= {"village", "status", "need", "unverified", "gap", "intervention", "candidate"}
    cands = [n for n, kd in k.items() if kd == "candidate"]
    assert node("resource", "R2") in cands
    assert view.graph.edges[node("resource", "R2"), node("need", "200-b")].get("dashes")
    # every candidate hangs on the need it could meet, nothing else
    assert all(set(view.graph.successors(c)) <= {n for n, kd in k.items() if kd == "gap"} for c in cands)
    # the need's details say what meets it and its evidence
    rows = {r[1]: r[2] for r in view.graph.nodes[node("need", "200-a")]["props"]}
    assert "met by" in rows and "evidence" in rows
    # laid out by the server: the village in the middle, needs on a ring, what meets them further out
    pos = {n: (d["x"], d["y"]) for n, d in view.graph.nodes(data=True)}
    assert pos[V200] == (0.0, 0.0)
    radius = {n: (x * x + y * y) ** 0.5 for n, (x, y) in pos.items()}
    assert max(radius[n] for n, kd in k.items() if kd in ("need", "gap")) < min(
        radius[n] for n, kd in k.items() if kd in ("intervention", "candidate"))
    assert len(set(pos.values())) == len(pos)  # no two nodes on the same spot


def test_village_view_marks_synthetic_nodes(store: Store) -> None:
    view = viz.village_view(store, "211322101200")
    need = view.graph.nodes[node("need", "200-b")]
    assert need["synthetic"] and need["labels"]["zh"].startswith("示例")
    assert need["labels"]["en"].startswith("Example")
    assert view.synthetic
    # real reference data is not marked
    assert not view.graph.nodes[V200]["synthetic"]


def test_village_view_with_real_data_only_draws_no_example_node(store: Store) -> None:
    """The village page with "real data only" drew its graph from every datum: example needs, statuses,
    interventions and candidates. Drawn from real data alone, none is left (the fixture's are all example data),
    and its links keep the switch."""
    full = viz.village_view(store, "211322101200")
    kinds = {d["kind"] for _, d in full.graph.nodes(data=True) if d.get("synthetic")}
    assert {"status", "candidate"} <= kinds and kinds & {"need", "gap", "unverified"}  # drawn without the switch
    real = viz.village_view(store, "211322101200", real_only=True)
    assert [n for n, d in real.graph.nodes(data=True) if d.get("synthetic")] == []
    assert V200 in real.graph and not real.synthetic
    assert all(link["href"].endswith("?real_only=true") for link in real.links if "village" in link["en"])
    # the view drawn from every datum says where the one from real data alone is, as the village page does
    assert {"zh": "只看真实数据", "en": "real data only", "href": "/views/village/211322101200?real_only=true"} in \
        full.links and not any(link["en"] == "real data only" for link in real.links)


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


def test_area_view_is_a_map_of_townships_coloured_by_share_of_unaddressed_severe_need(store: Store) -> None:
    view = viz.area_view(store, "211322")
    g = view.graph
    props = {n: {r[1]: r[2] for r in d["props"]} for n, d in g.nodes(data=True)}
    # 102200: its only (severe) need is a gap → 100 %, red; 200: one of two severe needs met → 50 %
    assert props[area("211322102200")]["share of severe need unaddressed"] == "100%"
    assert props[V200]["share of severe need unaddressed"] == "50%"
    assert g.nodes[area("211322102200")]["color"] == viz._build.share_colour(1.0)
    assert g.nodes[V200]["color"] != g.nodes[area("211322102200")]["color"]
    # villages cluster round their township; every township of the county is drawn, linked to its view
    assert g.has_edge(V200, area("211322101")) and g.nodes[area("211322101")]["href"] == "/views/area/211322101"
    assert g.nodes[V200]["href"] == "/dashboard/village/211322101200"
    assert {area("211322101"), area("211322102")} <= set(g)
    pos = {n: (d["x"], d["y"]) for n, d in g.nodes(data=True)}
    hub = pos[area("211322101")]
    village = pos[V200]
    other_hub = pos[area("211322102")]
    assert abs(village[0] - hub[0]) + abs(village[1] - hub[1]) < abs(village[0] - other_hub[0]) + abs(
        village[1] - other_hub[1])  # a village is drawn next to its own township
    # the colours rest on example needs, and the page says so
    assert view.synthetic and view.basis.example_items == view.basis.items > 0
    # a province: its cities, each with its counties around it
    prov = viz.area_view(store, "21").graph
    assert area("2113") in prov and area("211322") in prov and prov.has_edge(area("211322"), area("2113"))


def test_area_view_draws_from_real_data_alone_when_asked(store: Store) -> None:
    """`/views/area/{code}?real_only=true` coloured the map by example needs all the same (the parameter unread)."""
    view = viz.area_view(store, "211322", real_only=True)
    assert view.basis.real_only and view.basis.example_items == 0 and "dcpa import" in view.basis.note_en
    assert not any(d.get("synthetic") for _, d in view.graph.nodes(data=True))
    assert area("211322102200") not in view.graph  # its one need is example data
    # what it leads to answers from the same data, and the map without it says where real data alone is
    assert all(link["href"].endswith("real_only=true") for link in view.links)
    assert view.graph.nodes[area("211322101")]["href"] == "/views/area/211322101?real_only=true"
    assert {"zh": "只看真实数据", "en": "real data only", "href": "/views/area/211322?real_only=true"} in \
        viz.area_view(store, "211322").links


def test_policy_view_draws_from_real_data_alone_when_asked(store: Store) -> None:
    """`/views/policy/P02?real_only=true` summed up example interventions all the same (the parameter unread)."""
    whole = viz.policy_view(store, "P02")
    assert whole.data_basis.example_items > 0
    assert {"zh": "只看真实数据", "en": "real data only", "href": "/views/policy/P02?real_only=true"} in whole.links
    real = viz.policy_view(store, "P02", real_only=True)
    assert real.data_basis.real_only and real.data_basis.example_items == 0
    assert f"{area('2113')}#policy-P02" not in real.graph  # 朝阳市's interventions are all example data
    county = viz.policy_view(store, "P02", area_code="211322", real_only=True)
    assert node("intervention", "I1") not in county.graph
    assert all(link["href"].endswith("real_only=true") for link in county.links)


def test_share_colours_run_blue_to_red_through_pale_yellow() -> None:
    assert viz._build.share_colour(0.0) == "#2c7bb6"
    assert viz._build.share_colour(0.5) == "#ffffbf"
    assert viz._build.share_colour(1.0) == "#d7191c"
    assert viz._build.share_colour(None) == "#bdbdbd"


def test_policy_view_sums_up_by_area_and_draws_a_county_in_full(store: Store) -> None:
    whole = viz.policy_view(store, "P02")
    g = whole.graph
    assert g.has_edge(node("policy", "P02"), node("programme", "P08"))
    summary = f"{area('2113')}#policy-P02"  # 朝阳市, as this view sums it up
    assert g.nodes[summary]["href"] == "/views/policy/P02?area=2113"
    assert "interventions" in g.nodes[summary]["labels"]["en"]
    assert g.has_edge(node("programme", "P08"), summary)
    assert node("intervention", "I1") not in g  # summed up, not drawn one by one
    county = viz.policy_view(store, "P02", area_code="211322").graph
    assert county.has_edge(node("programme", "P08"), node("intervention", "I1"))
    assert county.has_edge(node("intervention", "I1"), V200)
    # I2 is supported by the policy directly (no programme)
    assert county.has_edge(node("policy", "P02"), node("intervention", "I2"))
    assert county.nodes[area("211322102200")]["kind"] == "village"
    # the data basis: the interventions drawn or summed up, and which of them are example data
    rows = store.select("""SELECT DISTINCT ?i ?ex WHERE {
        { ?i dcpa:supportedBy <https://w3id.org/dcpa/id/policy/P02> } UNION
        { ?g dcpa:supportedBy <https://w3id.org/dcpa/id/policy/P02> . ?i dcpa:partOfProgramme ?g }
        ?i a dcpa:Intervention ; dcpa:targetsArea ?a . OPTIONAL { ?i dcpa:isSynthetic ?ex } }""")
    assert (whole.data_basis.items, whole.data_basis.example_items) == (
        len({r["i"] for r in rows}), len({r["i"] for r in rows if r.get("ex") is True}))
    assert whole.data_basis.items >= 2
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


def test_views_are_drawn_where_the_server_put_them_and_dark_nodes_get_white_text(store: Store) -> None:
    data = viz.network_data(viz.village_view(store, "211322101200"))
    assert data["options"]["physics"] == {"enabled": False} and all("x" in n for n in data["nodes"])
    assert data["options"]["layout"]["randomSeed"] == 7 and data["options"]["interaction"]["keyboard"]["enabled"]
    onto = viz.network_data(viz.ontology_view())
    dark = [n for n in onto["nodes"] if n["kind"] == "class"]
    assert dark and all(n["font"]["color"] == "#ffffff" for n in dark)  # on #3949ab
    light = [n for n in onto["nodes"] if n["kind"] == "external"]
    assert light and all(n["font"]["color"] == "#000000" for n in light)  # on #9fa8da


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
    from kg.answers.gaps import row_tallies
    from kg.answers.needs import need_rows
    from kg.matching import gaps

    from .conftest import AS_OF

    rows = need_rows(store, resolve_area(store, township), reach=reach, as_of=AS_OF).rows
    shares = viz.tally_shares(row_tallies(rows))
    ours = {s["code"]: (s["needs"], s["gaps"]) for s in shares.values()}
    report = gaps(store, township, by="area", reach=reach, as_of=AS_OF)
    assert ours == {g.code: (g.needs, g.unaddressed) for g in report.groups}

def test_a_province_map_is_coloured_from_its_county_summaries_as_from_every_need(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A province's map reads its counties' need summaries (what took 6-12 s for a province's needs at
    national scale); the map is the one its needs give, counted one by one on a store without them."""
    from kg.answers.areas import resolve_area
    from kg.answers.gaps import map_tallies
    from kg.namespaces import GRAPH_DERIVED

    from .conftest import AS_OF

    monkeypatch.setenv("DCPA_AS_OF", AS_OF.isoformat())  # the day the fixture's derived graph answers for
    live = Store.memory()
    for g in store.graphs():
        if g != str(GRAPH_DERIVED):
            live.add_graph(g, store.to_rdflib(g))
    province = resolve_area(store, "21")
    assert {len(t.code) for t in map_tallies(store, province)} == {6}  # per county: the summaries answered
    assert {len(t.code) for t in map_tallies(live, province)} == {12}  # per village: every need read
    ours, theirs = viz.area_view(store, "21"), viz.area_view(live, "21")
    assert dict(ours.graph.nodes(data=True)) == dict(theirs.graph.nodes(data=True))
    assert ours.basis == theirs.basis and ours.basis.items > 0
    props = {n: {r[1]: r[2] for r in d["props"]} for n, d in ours.graph.nodes(data=True)}
    assert props[area("211322")]["needs"] > 0


def test_nodes_are_added_in_iri_order_so_that_layouts_do_not_change_between_processes(store: Store) -> None:
    """A set's order changes with the process's hash seed: a programme's two policies swapped places from one
    server start to the next."""
    g = nx.DiGraph()
    given = [node("policy", "P02"), node("programme", "P08"), area("2113"), area("21")]
    viz._build._add_labelled(g, store, reversed(given))
    assert list(g) == sorted(given)


def test_a_candidate_s_library_and_the_area_it_serves_are_named_in_both_languages(store: Store) -> None:
    """On the English village graph the e-readers' details named their library 示例·建平县图书馆 and the area it
    serves 建平县 (the recommendation's Chinese names): both are now given in each language."""
    view = viz.village_view(store, "211322101200")
    rows = {r[1]: r[2] for r in view.graph.nodes[node("resource", "R2")]["props"]}
    assert rows["library"] == {"zh": "示例·建平县图书馆", "en": "Example: Jianping County Library"}
    assert rows["library serves"] == {"zh": "建平县", "en": "Jianping County"}
