"""The served views, the node JSON, the dashboards and their CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from kg.matching import gaps
from kg.namespaces import node
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, MALICIOUS, app_client
from .test_render import EXTERNAL, embedded

PAGES = [
    "/views/village/211322101200",
    "/views/area/211322",
    "/views/area/2113",
    "/views/policy/P02",
    "/views/policy/P08",
    "/views/ontology",
    "/dashboard",
    "/dashboard?area=2113",
    "/dashboard?area=211322",
    "/dashboard/village/211322101200",
    "/dashboard/search?q=朱碌科",
    "/",
    "/?lang=en",
    "/data",
    "/data?lang=en",
    "/plan",
    "/plan?area=211322&budget=20000",
    "/plan?area=2113&budget=5000&method=greedy&poor_first=true&lang=en",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_load_and_refer_only_to_the_server(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert not EXTERNAL.search(r.text), EXTERNAL.search(r.text)
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text


def test_view_pages_load_vis_network_from_static(client: TestClient) -> None:
    html = client.get("/views/village/211322101200").text
    assert '<script src="/static/vendor/vis-network/vis-network.min.js?v=' in html
    assert client.get("/static/vendor/vis-network/vis-network.min.js").status_code == 200
    assert client.get("/static/js/graph.js").status_code == 200


def test_lang_switch_changes_labels(client: TestClient) -> None:
    en = embedded(client.get("/views/area/211322?lang=en").text)
    zh = embedded(client.get("/views/area/211322").text)
    assert en["lang"] == "en" and zh["lang"] == "zh"
    county = node("area", "211322")
    assert next(n for n in en["nodes"] if n["id"] == county)["label"] == "Jianping County"
    assert next(n for n in zh["nodes"] if n["id"] == county)["label"] == "建平县"


def test_unknown_things_are_404_json(client: TestClient) -> None:
    for path in [
        "/views/village/211322101999",
        "/views/policy/P99",
        "/dashboard?area=219999",
        "/dashboard/data/nothing.csv",
        "/views/node.json?iri=https://w3id.org/dcpa/id/nothing",
    ]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["error"]["code"] == "not_found"


def test_node_json_describes_a_node_with_its_edges(client: TestClient) -> None:
    r = client.get("/views/node.json", params={"iri": node("library", "L2")})
    assert r.status_code == 200
    data = r.json()
    assert any(MALICIOUS in lab["value"] for lab in data["labels"])
    assert data["synthetic"] is True
    props = {e["property"] for e in data["out"]}
    assert "https://w3id.org/dcpa/ontology#serves" in props
    assert any(e["subject"] == node("intervention", "I1") for e in data["in"])


def test_node_json_refuses_what_is_not_an_iri(client: TestClient) -> None:
    r = client.get("/views/node.json", params={"iri": "x> } ; DROP ALL"})
    assert r.status_code == 400


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_each_chart_csv_ends_with_the_area_s_own_counts(client: TestClient) -> None:
    """A need that several intervention categories could address is in each of their rows: a planner summing the
    category CSV read more needs than the area has. Each chart's CSV ends with the area's own counts, each need once,
    as the gap report counts them."""
    totals = client.get("/api/gaps", params={"area": "211322"}).json()["totals"]
    for chart in ("category", "area", "need_type"):
        rows = read_csv(client.get(f"/dashboard/data/{chart}.csv", params={"area": "211322"}).text)
        last = rows[-1]
        assert last[0] == "211322" and last[1].startswith("合计") and last[2] == str(totals["needs"]), chart
        if chart == "category":
            assert sum(int(r[2]) for r in rows[1:-1]) > totals["needs"]  # why the column's sum would mislead


def test_an_area_without_needs_has_no_gap_share_in_the_csv(client: TestClient) -> None:
    """朝阳县 has no need recorded: its CSV row said a gap share of 0, which reads "every need met", where the page
    shows —."""
    rows = read_csv(client.get("/dashboard/data/area.csv", params={"area": "2113"}).text)
    share = rows[0].index("缺口占比")
    by_code = {row[0]: row for row in rows[1:]}
    assert by_code["211321"][2] == "0" and by_code["211321"][share] == ""
    assert by_code["211322"][share] == "0.8"
    page = client.get("/dashboard", params={"area": "2113"}).text
    assert '<td class="num">—</td>' in page.split('<td>211321</td>')[1].split("</tr>")[0]  # the page: — still


def test_csv_by_area_drills_down_to_townships_then_villages(client: TestClient) -> None:
    r = client.get("/dashboard/data/area.csv", params={"area": "211322"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="gaps-211322-by-area-2020-06-30.csv"' in r.headers["content-disposition"]
    rows = read_csv(r.text)
    assert rows[0][:5] == ["区划代码", "区域", "需求数", "未满足需求", "已满足但未经验证"]
    by_code = {row[0]: row for row in rows[1:-1]}
    assert by_code["211322101"][2:4] == ["4", "3"]  # 201-a is a gap: L2 serving the township does not count
    assert by_code["211322102"][2:4] == ["1", "1"]
    village_rows = read_csv(client.get("/dashboard/data/area.csv", params={"area": "211322101"}).text)
    assert {row[0]: row[1:4] for row in village_rows[1:-1]} == {
        "211322101200": ["朱碌科村村民委员会", "2", "1"], "211322101201": ["西梁村村民委员会", "2", "2"]}


def test_csv_by_area_at_province_level_groups_by_city(client: TestClient) -> None:
    rows = read_csv(client.get("/dashboard/data/area.csv").text)
    assert [r[:4] for r in rows[1:-1]] == [["2113", "朝阳市", "5", "4"]]


def test_csv_by_need_type_and_category_in_english(client: TestClient) -> None:
    types = read_csv(client.get("/dashboard/data/need_type.csv", params={"area": "21", "lang": "en"}).text)
    assert types[0][:4] == ["code", "need type", "needs", "unaddressed needs"]
    assert {r[0]: r[3] for r in types[1:-1]} == {"N11": "2", "N12": "1", "N21": "1"}
    cats = read_csv(client.get("/dashboard/data/category.csv", params={"area": "21", "lang": "en"}).text)
    assert cats[0][:6] == ["code", "category", "needs of types it addresses", "of which addressed",
                           "of which not verified", "of which gaps"]
    by = {r[0]: r for r in cats[1:]}
    assert by["C1"][2:6] == ["2", "1", "0", "1"]  # N21 needs: 200-a met by I1, 201-a a gap
    assert by["C2"][2:6] == ["2", "0", "0", "2"]  # terminal distribution could meet the two N11 gaps


def test_csv_cells_never_start_a_formula(client: TestClient) -> None:
    rows = read_csv(client.get("/dashboard/data/need_type.csv", params={"area": "21"}).text)
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)


def test_dashboard_links_drill_down_and_keep_real_only(client: TestClient) -> None:
    html = client.get("/dashboard?area=211322").text
    assert 'href="/dashboard?area=211322101&amp;lang=zh"' in html
    township = client.get("/dashboard?area=211322101").text
    assert 'href="/dashboard/village/211322101200?lang=zh"' in township
    assert re.search(r'href="/dashboard/data/area\.csv\?area=211322&(amp;)?lang=zh"', html)
    assert 'href="/dashboard?area=2113&amp;lang=zh"' in html
    city = client.get("/dashboard?area=2113").text
    assert 'href="/dashboard?area=211322&amp;lang=zh"' in city
    # the data basis and the real-only switch
    assert "rest on example data" in client.get("/dashboard?area=2113&lang=en").text
    assert 'href="/dashboard?area=2113&amp;lang=zh&amp;real_only=true"' in city
    real = client.get("/dashboard?area=2113&real_only=true&lang=en").text
    assert "there are no real needs" in real
    assert 'href="/dashboard?area=21&amp;lang=en&amp;real_only=true"' in real


def test_village_page_combines_status_needs_recommendations_and_graph(client: TestClient) -> None:
    html = client.get("/dashboard/village/211322101200").text
    status = html[html.index('id="status"') : html.index('id="needs"')]
    assert "建档立卡贫困村" in status and "示例数据，不是真实认定" in status  # never shown as a real registration
    assert "<td>朱碌科村村民委员会</td>" in status and "<td>211322101200</td>" not in status  # the area by name
    en = client.get("/dashboard/village/211322101200?lang=en").text
    assert "<td>Zhuluke Cun</td>" in en[en.index('id="status"') : en.index('id="needs"')]
    needs = html[html.index('id="needs"') : html.index('id="recommendations"')]
    assert "未满足" in needs and "终端设备接入" in needs
    assert "direct" in needs or "直接" in needs  # the reason of the need I1 meets: it names the village
    assert "示例·电子阅读器" in html  # a recommendation for the terminal-access gap
    assert embedded(html)["center"] == node("area", "211322101200")
    assert "示例数据 / example data" in html


def test_a_village_page_with_real_data_only_leads_to_its_model_and_json_with_real_data_only(
        client: TestClient) -> None:
    html = client.get("/dashboard/village/211322101200?real_only=true").text
    assert 'href="/views/model/211322101200?lang=zh&amp;real_only=true"' in html
    assert 'href="/api/villages/211322101200?real_only=true"' in html
    every = client.get("/dashboard/village/211322101200?lang=en").text
    assert 'href="/views/model/211322101200?lang=en"' in every and 'href="/api/villages/211322101200"' in every
    # and its graph, drawn from real data alone, which its full-screen link keeps
    assert 'href="/views/village/211322101200?lang=zh&amp;real_only=true"' in html
    real = client.get("/views/village/211322101200?real_only=true").text
    assert "示例·" not in real and "示例·" in client.get("/views/village/211322101200").text


def test_graph_views_state_how_much_of_them_is_example_data(client: TestClient) -> None:
    html = client.get("/views/village/211322101200?lang=en").text
    m = re.search(r'class="dcpa-basis" data-example-share="([0-9.]+)">([^<]+)<', html)
    assert m is not None and 0 < float(m.group(1)) < 1  # example needs and libraries, real areas and policies
    assert "rest on example data" in m.group(2)


def test_search_page_finds_by_name_and_pinyin_and_links_to_the_pages(client: TestClient) -> None:
    html = client.get("/dashboard/search", params={"q": "朱碌科"}).text
    assert '<a href="/dashboard/village/211322101200?lang=zh">朱碌科村村民委员会</a>' in html
    assert '<a href="/dashboard?area=211322101&amp;lang=zh">朱碌科镇</a>' in html
    assert "朝阳市 / 建平县 / 朱碌科镇" in html  # where each hit is, to tell namesakes apart
    en = client.get("/dashboard/search", params={"q": "zhuluke", "lang": "en"}).text
    assert 'Zhuluke Cun (<span lang="zh-CN">朱碌科村村民委员会</span>)' in en
    assert "/dashboard/village/211322101200?lang=en" in en
    empty = client.get("/dashboard/search", params={"q": "没有这个村"}).text
    assert "没有找到" in empty
    traditional = client.get("/dashboard/search", params={"q": "朱碌科鎮"}).text  # 鎮: 镇
    assert '<a href="/dashboard?area=211322101&amp;lang=zh">朱碌科镇</a>' in traditional
    assert "按简体“朱碌科镇”搜索" in traditional and "按简体" not in html


def test_a_search_that_finds_nothing_does_not_count_nor_advise_narrowing(client: TestClient) -> None:
    """An empty search said '“”：共 0 个结果。可再加一个词按所在区域缩小范围', advice to narrow what found nothing."""
    empty = client.get("/dashboard/search", params={"q": ""}).text
    assert 'id="dcpa-search-prompt"' in empty and "共 0 个结果" not in empty and "没有找到" not in empty
    none = client.get("/dashboard/search", params={"q": "没有这个村"}).text
    assert "没有找到“没有这个村”" in none and "缩小范围" not in none and "共 0 个结果" not in none
    some = client.get("/dashboard/search", params={"q": "朱碌科"}).text
    assert "缩小范围" in some and 'id="dcpa-search-prompt"' not in some


def test_a_search_from_an_area_s_page_lists_the_villages_of_that_area_first(client: TestClient) -> None:
    """Searched from the dashboard of 建平镇, 村 listed the villages of 朱碌科镇 first (code order)."""
    html = client.get("/dashboard", params={"area": "211322102", "lang": "en"}).text
    assert '<input type="hidden" name="near" value="211322102">' in html
    village = client.get("/dashboard/village/211322101201").text
    assert '<input type="hidden" name="near" value="211322101">' in village

    def first(**params: str) -> str:
        page = client.get("/dashboard/search", params={"q": "村", **params}).text
        return re.findall(r'<td><a href="/dashboard/village/(\d+)', page)[0]

    assert first() == "211322101200" and first(near="211322102") == "211322102200"
    kept = client.get("/dashboard/search", params={"q": "村", "near": "211322102"}).text
    assert '<input type="hidden" name="near" value="211322102">' in kept  # the next search from here too
    assert 'href="/dashboard/search?q=%E6%9D%91&amp;lang=en&amp;near=211322102"' in kept  # and in English


def test_a_search_from_an_area_s_graph_lists_the_villages_of_that_area_first(client: TestClient) -> None:
    """The graph pages of an area or a village searched the whole province in code order, as the home page does."""
    assert '<input type="hidden" name="near" value="211322">' in client.get("/views/area/211322").text
    assert '<input type="hidden" name="near" value="211322101">' in client.get("/views/village/211322101201").text
    assert 'name="near"' not in client.get("/views/ontology").text


def test_search_page_escapes_the_query(client: TestClient) -> None:
    html = client.get("/dashboard/search", params={"q": MALICIOUS}).text
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_dashboard_and_village_pages_have_the_search_box(client: TestClient) -> None:
    for path in ("/dashboard?lang=en", "/dashboard/village/211322101200?lang=en"):
        html = client.get(path).text
        assert '<form class="dcpa-area-search" role="search" action="/dashboard/search"' in html
        assert '<input type="hidden" name="lang" value="en">' in html


def test_the_home_page_says_what_the_graph_holds_and_leads_everywhere(client: TestClient, store: Store) -> None:
    """``/`` is the address the server prints: a page, not a 404."""
    html = client.get("/").text
    totals = gaps(store, None, settings=Settings(as_of=AS_OF)).totals
    assert (f'data-needs="{totals.needs}" data-unaddressed="{totals.unaddressed}" '
            f'data-example-needs="{totals.example_needs}"') in html
    assert totals.needs and "本页含示例数据" in html and "2020-06-30" in html
    for href in ('href="/dashboard?lang=zh"', 'href="/sparql?lang=zh"', 'href="/docs"', 'href="/api/queries"',
                 'href="/views/ontology?lang=zh"', 'action="/dashboard/search"', 'href="/data?lang=zh"',
                 'href="/plan?lang=zh"'):
        assert href in html, href
    en = client.get("/?lang=en").text
    assert "What the graph holds" in en and 'href="/dashboard?lang=en"' in en and "图谱里有什么" not in en


def test_the_home_page_of_an_empty_store_says_how_to_add_data() -> None:
    with app_client(Store.memory()) as c:
        html = c.get("/?lang=en").text
    assert 'data-needs="0"' in html and "dcpa template" in html and "dcpa import" in html
    assert "Data entry" in html and 'href="/data?lang=en"' in html


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/dashboard/village/219999999999", "/dashboard?area=99", "/views/area/99",
                                  "/no/such/page"])
def test_a_browser_gets_an_error_as_a_page_in_its_language(client: TestClient, path: str) -> None:
    r = client.get(path, headers=BROWSER)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>没有找到</h1>" in r.text and 'href="/?lang=zh"' in r.text and 'action="/dashboard/search"' in r.text
    assert client.get(path, headers=BROWSER).text == r.text  # (no state)
    sep = "&" if "?" in path else "?"
    en = client.get(path + sep + "lang=en", headers=BROWSER).text
    assert "<h1>Not found</h1>" in en and 'href="/?lang=en"' in en
    # a program gets the one JSON error shape, as before
    assert client.get(path).json()["error"]["code"] == "not_found"


def test_an_error_page_says_what_is_wrong_in_its_own_language(client: TestClient,
                                                              zh_first: Callable[..., None]) -> None:
    """Error pages showed "中文 / English" sentences (and a mistyped address "Not Found" alone, in English, on a
    Chinese page): a page shows its language's half; a program still gets both."""
    zh = client.get("/dashboard?area=219999", headers=BROWSER).text
    assert "图谱中没有代码为 219999 的地区" in zh and "no area with code" not in zh and "check the code" not in zh
    en = client.get("/dashboard?area=219999&lang=en", headers=BROWSER).text
    assert "no area with code 219999 in the graph" in en and "图谱中没有代码" not in en
    page = client.get("/no/such/page", headers=BROWSER).text
    assert "这个地址没有页面" in page and "Not Found" not in page and "there is no page" not in page
    assert "there is no page at this address" in client.get("/no/such/page?lang=en", headers=BROWSER).text
    zh_first(client.get("/no/such/page").json()["error"]["message"], "there is no page at this address")
    zh_first(client.get("/dashboard?area=219999").json()["error"]["message"], "no area with code 219999")


def test_error_pages_escape_what_they_show_and_the_api_stays_json(client: TestClient) -> None:
    r = client.get("/dashboard?area=" + MALICIOUS, headers=BROWSER)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")  # not an area code
    assert "<script>alert(1)" not in r.text and "<img src=x" not in r.text
    for path in ("/api/villages/219999999999", "/sparql?query=SELECT"):
        r = client.get(path, headers=BROWSER)
        assert r.headers["content-type"].startswith("application/json"), path


def test_the_village_page_compares_the_usable_candidates_of_each_unmet_need(client: TestClient, store: Store) -> None:
    """Per unmet need: the candidates with score and its weighted parts, cost, library and how near it is, fit,
    what is left, how each would be used, and the explanation folded away until asked for."""
    from kg.matching import recommend
    from kg.viz import village_summary

    summary = village_summary(store, "211322101201", reach="direct,area")
    rec = recommend(store, "211322101201", limit=3, reach="direct,area")
    assert [n["need"] for n in summary["recommendations"]] == [n.need for n in rec.needs]
    rows = [c for n in summary["recommendations"] for c in n["candidates"]]
    assert rows and all(abs(sum(c["parts"].values()) - c["score"]) < 0.005 for c in rows)
    assert {c["use"] for c in rows} <= {"give", "here", "planned", "extend"}
    html = client.get("/dashboard/village/211322101201").text
    assert html.count('<tr class="dcpa-rec"') == len(rows) and html.count("<details><summary>依据") == len(rows)
    assert "得分构成" in html and "余量" in html and "服务 朱碌科镇" in html and "把在办项目扩展到本村" in html
    assert "<script>alert(1)" not in html
    en = client.get("/dashboard/village/211322101201?lang=en").text
    section = en[en.index('id="recommendations"'):]
    section = section[:section.index("</section>")]
    assert "Score parts" in section and "extend an active project here" in section and "serves " in section
    assert "Example: digital-literacy course" in section and "示例·数字素养培训课程" not in section


#: Links that are not pages in a language: data, assets, the API's own documentation, downloads.
_NOT_PAGES = ("/api/", "/static/", "/docs", "/openapi", "/sparql?format", "/ontology.ttl", "/ontology.jsonld",
              "/views/node.json", "/data/dcpa-template.xlsx", "/data/dcpa-records.xlsx", "/plan.csv", "/plan.xlsx",
              "/dashboard/data/")


@pytest.mark.parametrize("path", [
    "/?lang=en", "/dashboard?lang=en", "/dashboard?area=211322&lang=en", "/dashboard/village/211322101200?lang=en",
    "/data?lang=en", "/plan?area=211322&budget=20000&lang=en", "/views/area/211322?lang=en",
    "/views/village/211322101200?lang=en", "/views/policy/P02?lang=en", "/sparql?lang=en",
    "/dashboard/search?q=xiliang&lang=en",
])
def test_the_english_choice_is_kept_by_every_link_to_a_page(client: TestClient, path: str) -> None:
    html = client.get(path, headers={"Accept": "text/html"}).text
    links = {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"]*)"', html)}
    lost = sorted(h for h in links if not h.startswith(_NOT_PAGES) and "lang=" not in h)  # lang=zh: the switch
    assert not lost, f"links from {path} that forget the language: {lost}"
    forms = re.findall(r'<form[^>]*action="(/[^"]*)"[^>]*>(.*?)</form>', html, flags=re.S)
    assert all('name="lang" value="en"' in body for _, body in forms)


def test_the_sparql_page_speaks_the_chosen_language(client: TestClient) -> None:
    en = client.get("/sparql?lang=en", headers={"Accept": "text/html"}).text
    assert "<title>SPARQL queries" in en and '<html lang="en">' in en and "只读端点" not in en
    zh = client.get("/sparql", headers={"Accept": "text/html"}).text
    assert "只读端点" in zh and "Read-only endpoint" not in zh
    r = client.get("/sparql", params={"query": "ASK {}", "lang": "en"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["boolean"] is True  # the protocol ignores the page's language


def test_the_dashboard_filters_by_need_type_severity_and_period(client: TestClient, store: Store) -> None:
    """The counts are the gap report's with the same filters; the filters stay in every link; percentages."""
    html = client.get("/dashboard?area=211322&need_type=N1&min_severity=4&start=&end=").text
    report = gaps(store, "211322", need_type="N1", min_severity=4, settings=Settings(as_of=AS_OF))
    everything = gaps(store, "211322", settings=Settings(as_of=AS_OF))
    assert report.totals.needs and report.totals.needs < everything.totals.needs
    assert 'id="dcpa-filtered"' in html
    assert '<option value="N1" selected>' in html and '<option value="4" selected>' in html
    assert "need_type=N1&amp;min_severity=4" in html  # CSV links, drill-down, language switch
    rows = re.findall(r'<td>(\d{9})</td>\s*<td><a href="([^"]+)">', html)
    assert rows and all("need_type=N1" in href and "min_severity=4" in href for _, href in rows)
    csv_text_ = client.get("/dashboard/data/need_type.csv?area=211322&need_type=N1&min_severity=4").text
    *body, total = list(csv.reader(io.StringIO(csv_text_.lstrip("\ufeff"))))[1:]
    assert sum(int(r[2]) for r in body) == report.totals.needs == int(total[2])
    assert re.search(r'<td class="num">\d+\.\d%</td>', html)  # the gap share as a percentage
    period = client.get("/dashboard?area=211322&start=2019-01-01&end=2019-12-31").text
    assert "按 2019-12-31 的情况判断" in period
    bad = client.get("/dashboard?start=2019-13-01&end=2019-12-31", headers=BROWSER)
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    assert client.get("/dashboard?start=2019-01-01").status_code == 422


def test_an_area_without_needs_shows_no_gap_share(client: TestClient) -> None:
    """Every area is listed; those nobody surveyed showed 缺口占比 0.0%, read as every need met."""
    html = client.get("/dashboard?area=2113").text
    rows = re.findall(r'<tr( class="dcpa-zero")?>(.*?)</tr>', html, flags=re.S)
    empty = [cells for zero, cells in rows if zero]
    full = [cells for zero, cells in rows if not zero and 'href="/dashboard?area=' in cells]  # areas with needs
    assert empty and all('<td class="num">—</td>' in c and "0.0%" not in c for c in empty)
    assert full and all(re.search(r'<td class="num">\d+\.\d%</td>', c) for c in full)
    csv_rows = list(csv.reader(io.StringIO(client.get("/dashboard/data/area.csv?area=2113").text.lstrip("\ufeff"))))
    assert all(r[7] != "—" for r in csv_rows[1:])  # the CSV keeps the number for programs


def test_a_need_type_typed_in_lower_case_or_full_width_is_shown_chosen_on_the_dashboard(client: TestClient) -> None:
    """?need_type=n22 filtered the charts by N22 while the need-type list showed 全部: sent again (a severity chosen),
    the form dropped the filter. The list shows the type chosen, and the links carry it as N1."""
    want = client.get("/dashboard?area=211322&need_type=N1").text
    for typed in ("n1", "Ｎ１", "n1\u200b"):
        html = client.get("/dashboard", params={"area": "211322", "need_type": typed}).text
        assert '<option value="N1" selected>' in html, typed
        assert "need_type=N1" in html and html.count("need_type=N1") == want.count("need_type=N1")


def test_an_area_without_needs_says_how_to_add_data(client: TestClient) -> None:
    html = client.get("/dashboard?area=211321").text  # 朝阳县: in the fixture, no needs
    assert "此区域还没有需求记录" in html and 'href="/data?lang=zh"' in html


@pytest.mark.parametrize("path", ["/dashboard/village/211322101200?lang=en", "/views/model/211322?lang=en", "/?lang=en",
                                  "/dashboard?area=211322&lang=en", "/plan?area=211322&budget=20000&lang=en",
                                  "/data?lang=en"])
def test_english_pages_use_english_punctuation(client: TestClient, path: str) -> None:
    """Text the page writes itself: no full-width colon or bracket after English words ("survey：…")."""
    r = client.get(path)
    assert r.status_code == 200
    text = re.sub(r"<[^>]+>", "", r.text)
    assert not re.search(r"[A-Za-z][：（；]", text), re.search(r".{40}[A-Za-z][：（；].{20}", text)


def test_the_category_chart_says_its_rows_overlap(client: TestClient) -> None:
    for lang, words in (("zh", "各行相加可能多于需求总数"), ("en", "the rows may add up to more than the needs")):
        html = client.get("/dashboard", params={"area": "2113", "lang": lang}).text
        card = html[html.index('id="card-category"'):]
        assert words in card[:card.index("</section>")]
        other = html[html.index('id="card-need_type"'):]
        assert words not in other[:other.index("</section>")]



def test_a_candidate_s_steps_and_fit_are_named_in_the_page_s_language(store: Store) -> None:
    """A candidate fitting through a broader type: its step's predicate (skos:broader) and its fit type were shown
    as ``broader`` and ``N2`` on a Chinese page."""
    import dataclasses
    from types import SimpleNamespace

    from kg.answers.recommend import Step, explanation_labels, recommend
    from kg.namespaces import DCPAV, SKOS
    from kg.viz._gaps import _candidate_row

    some = next(c for n in recommend(store, "211322101200").needs for c in n.candidates)
    n22, n2 = str(DCPAV.N22), str(DCPAV.N2)
    c = dataclasses.replace(some, fit="broader", fit_type=n2,
                            explanation=[Step(n22, "电子商务技能", str(SKOS.broader), n2, "数字素养与技能")])
    report = SimpleNamespace(needs=[SimpleNamespace(candidates=[c])])
    names = explanation_labels(store, [report])  # type: ignore[list-item]
    zh, en = _candidate_row(c, names, "zh"), _candidate_row(c, names, "en")
    assert (zh["fit_type"], zh["steps"][0]["predicate"]) == ("数字素养与技能", "上位类型")
    assert en["steps"][0]["predicate"] == "broader type" and en["fit_type"] != "N2"


def test_a_chinese_page_says_what_is_wrong_with_a_period_a_need_type_or_an_area_in_chinese(client: TestClient) -> None:
    """These came in English alone on Chinese pages (what the dashboard's form sends with only a start date)."""
    for url, words in (("/dashboard?start=2024-01-01", "请同时填写开始和结束日期"),
                       ("/dashboard?start=2025-01-01&end=2024-01-01", "时间段的开始晚于结束"),
                       ("/dashboard?need_type=N99", "未知的需求类型"),
                       ("/plan?budget=5000&area=219999", "图谱中没有代码为 219999 的地区")):
        r = client.get(url, headers=BROWSER)
        assert r.status_code in (404, 422) and words in r.text, (url, r.text[:300])


#: An example need of the fixture's village 211322101200 identified after the fixture's day (2020-06-30).
LATER_NEED = """@prefix dcpa: <https://w3id.org/dcpa/ontology#> . @prefix dcpav: <https://w3id.org/dcpa/vocab/> .
    @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
    <https://w3id.org/dcpa/id/need/200-later> a dcpa:Need ; dcpa:isSynthetic true ;
        dcpa:needOf <https://w3id.org/dcpa/id/area/211322101200> ; dcpa:needType dcpav:N44 ; dcpa:severity 3 ;
        dcpa:identifiedOn "2021-03-01"^^xsd:date ."""


def test_the_pages_of_a_past_day_say_they_leave_later_needs_out() -> None:
    """Replaying 2020-06-30, a village with a need identified later showed fewer needs, and the dashboard fewer
    gaps, than the store holds without a word why (the JSON said it, in English, in its notes)."""
    from .conftest import fixture_store

    with app_client(fixture_store(LATER_NEED)) as c:
        for path in ("/dashboard", "/dashboard?area=211322", "/dashboard/village/211322101200"):
            zh, en = c.get(path).text, c.get(path, params={"lang": "en"}).text
            assert "2020-06-30 之后认定的需求不计入" in zh, path
            assert "Needs identified after 2020-06-30 are left out" in en, path
        assert c.get("/api/villages/211322101200").json()["known_by"] == "2020-06-30"
    with app_client(fixture_store()) as c:  # nothing later: nothing said
        assert "之后认定的需求不计入" not in c.get("/dashboard/village/211322101200").text
        assert "之后认定的需求不计入" not in c.get("/").text
        assert c.get("/api/villages/211322101200").json()["known_by"] is None


def test_the_home_page_of_a_past_day_says_its_needs_are_those_known_then() -> None:
    """Replaying 2020-06-30, the home page said "已识别的需求 5 项" of a store holding 6, without a word why."""
    from .conftest import fixture_store

    with app_client(fixture_store(LATER_NEED)) as c:
        assert "2020-06-30 之后认定的需求不计入" in c.get("/").text
        assert "Needs identified after 2020-06-30 are left out" in c.get("/", params={"lang": "en"}).text


def test_the_village_graph_view_is_of_the_server_s_day() -> None:
    """The view (on the village page and at /views/village/…) applied the rule for the environment's day (today),
    not the server's (its DCPA_AS_OF): replaying 2020-06-30, it drew a need identified in 2021."""
    from .conftest import fixture_store

    with app_client(fixture_store(LATER_NEED)) as c:
        for path in ("/views/village/211322101200", "/dashboard/village/211322101200"):
            page = c.get(path).text
            assert "211322101200" in page and "need/200-later" not in page, path


@pytest.mark.parametrize("code", ["21", "2190", "219001"])
def test_the_area_view_answers_under_the_server_s_settings(code: str) -> None:
    """The area view colours its map under the settings it is given (the server's validity windows and day), as
    the village view does; it read the process's own (``get_settings``), right in the server only because its
    answer workers take the server's settings as theirs."""
    from api.app import create_app
    from kg import viz

    from ..answers.conftest import fixture_store as answers_fixture

    store = answers_fixture()
    short = Settings(api_token=None, as_of=AS_OF, validity_months="C1=1,C2=1,C3=1,C4=1")
    with TestClient(create_app(short, store)) as client:
        served = embedded(client.get(f"/views/area/{code}").text)
    theirs = embedded(viz.render_view(viz.area_view(store, code, settings=short), "zh"))
    default = embedded(viz.render_view(viz.area_view(store, code, settings=Settings(as_of=AS_OF)), "zh"))
    assert served["nodes"] == theirs["nodes"] and theirs["nodes"] != default["nodes"]


def test_the_dashboard_says_why_its_figures_were_worked_out_live() -> None:
    """Under other validity windows than the derived graph's, the dashboard showed figures worked out live (right)
    with nothing saying so or how to make the graph answer again; the gap report's reason is now on the page, in
    the page's language."""
    from api.app import create_app

    from ..answers.conftest import fixture_store as answers_fixture

    store = answers_fixture()
    short = Settings(api_token=None, as_of=AS_OF, validity_months="C1=1,C2=1,C3=1,C4=1")
    with TestClient(create_app(short, store)) as client:
        zh = client.get("/dashboard", params={"area": "21"}).text
        en = client.get("/dashboard", params={"area": "21", "lang": "en"}).text
    said = re.search(r'<p class="dcpa-note" id="dcpa-why-live">(.*?)</p>', zh, re.S)
    assert said and "C1=1,C2=1,C3=1,C4=1" in said.group(1) and "dcpa derive" in said.group(1)
    assert " / " not in said.group(1) and "实时计算" in said.group(1)
    said = re.search(r'<p class="dcpa-note" id="dcpa-why-live">(.*?)</p>', en, re.S)
    assert said and "applied live" in said.group(1) and "实时" not in said.group(1)
    # (another store: the tables a server keeps are kept per store, and a server has one set of settings)
    with TestClient(create_app(Settings(api_token=None, as_of=AS_OF), answers_fixture())) as client:
        assert 'id="dcpa-why-live"' not in client.get("/dashboard", params={"area": "21"}).text


def test_a_need_s_evidence_is_named_in_the_page_s_language(client: TestClient) -> None:
    """The village page named a need's survey by whichever of its labels the store gave first: "示例·朱碌科镇入户调查"
    on the English page too. It is named in the page's language (the JSON gives both)."""
    import re

    def cells(lang: str) -> list[str]:
        page = client.get(f"/dashboard/village/211322101200?lang={lang}").text
        return re.findall(r'<td class="dcpa-evidence">(.*?)</td>', page, re.S)

    en, zh = cells("en"), cells("zh")
    assert en and all("Example: household survey in Zhuluke" in c and "调查" not in c for c in en), en
    assert zh and all("示例·朱碌科镇入户调查" in c and "survey in" not in c for c in zh), zh
    need = client.get("/api/villages/211322101200").json()["needs"][0]
    assert need["evidence"]["label"] == {"zh": "示例·朱碌科镇入户调查", "en": "Example: household survey in Zhuluke"}


@pytest.mark.parametrize("path", ["/views/policy/P02?area=211322&real_only=true",
                                  "/views/village/211322101200?hops=1&real_only=true",
                                  "/views/area/211322?max_nodes=50"])
def test_a_graph_view_s_language_switch_keeps_what_it_shows(client: TestClient, path: str) -> None:
    """The language switch of a graph view led to ``?lang=zh`` alone: the policy narrowed to 建平县 became the
    whole province's, a real-data-only view showed the example data again. It keeps the view's other choices."""
    import re
    from urllib.parse import parse_qsl, urlsplit

    asked = dict(parse_qsl(urlsplit(path).query))
    page = client.get(path + "&lang=en").text
    for lang in ("zh", "en"):
        href = re.search(rf'<a href="([^"]*)" hreflang="{lang}"', page)
        assert href, page[:500]
        got = dict(parse_qsl(urlsplit(href.group(1).replace("&amp;", "&")).query))
        assert got == {**asked, "lang": lang}, (lang, href.group(1))
