"""Views and dashboards in headless Chromium: offline, error-free, searchable, clickable, safe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest

from kg import viz
from kg.namespaces import area, node
from kg.store import Store

from .conftest import Watched

pytestmark = pytest.mark.browser

LOCAL = ("http://127.0.0.1:",)
MALICIOUS = "<script>alert(1)</script><img src=x onerror=alert(2)>"

#: page → nodes on its canvas, counted by hand from tests/data/views/fixture.ttl: the village, its
#: poverty status, its two needs, I1 that meets one and R2 that could meet the other; the county, its
#: two townships and their three villages with needs; the policy, its programme and 朝阳市 summed up;
#: the same narrowed to 建平县: P02, P08, I1, I2 and the village each names.
VIEWS = {
    "/views/village/211322101200": 6,
    "/views/area/211322": 6,
    "/views/policy/P02": 3,
    "/views/policy/P02?area=211322": 6,
    "/views/ontology": None,
}


def expected_nodes(path: str, store: Store) -> int:
    if VIEWS.get(path):
        return int(VIEWS[path] or 0)
    return viz.ontology_view().graph.number_of_nodes()


def node_count(w: Watched) -> int:
    return int(w.page.evaluate("window.dcpaNetwork.nodes.length"))


@pytest.mark.parametrize("path", list(VIEWS))
def test_view_loads_offline_and_draws_every_node(
    open_page: Callable[..., Watched], view_store: Store, path: str
) -> None:
    w = open_page(path)
    expected = expected_nodes(path, view_store)
    assert node_count(w) == expected
    # vis-network really drew them: every node has a position on the canvas
    assert w.page.evaluate("Object.keys(window.dcpaNetwork.network.getPositions()).length") == expected
    legend = w.page.locator(".dcpa-legend li")
    assert legend.count() >= 2
    w.shot("view-" + path.strip("/").replace("/", "-"))
    w.check(LOCAL)


def test_search_finds_a_village_by_chinese_name_and_focuses_it(open_page: Callable[..., Watched]) -> None:
    w = open_page("/views/area/211322")
    w.page.fill(".dcpa-search input", "西梁村")
    w.page.press(".dcpa-search input", "Enter")
    assert w.page.text_content(".dcpa-status") == "找到 1 个节点"
    assert w.page.evaluate("window.dcpaNetwork.network.getSelectedNodes()") == [area("211322101201")]
    assert "西梁村" in (w.page.text_content(".dcpa-details-body h3") or "")
    w.shot("search-xiliang")
    w.check(LOCAL)


def test_a_search_from_an_area_s_dashboard_lists_its_villages_first(open_page: Callable[..., Watched]) -> None:
    """Typed into the search box of 建平镇's dashboard and sent with Enter, 村 listed 朱碌科镇's villages first."""
    w = open_page("/dashboard?area=211322102", wait="form.dcpa-area-search input[name=q]")
    w.page.fill("form.dcpa-area-search input[name=q]", "村")
    w.page.press("form.dcpa-area-search input[name=q]", "Enter")
    w.page.wait_for_selector(".dcpa-search-results tbody tr")
    first = w.page.get_attribute(".dcpa-search-results tbody tr:first-child a", "href") or ""
    assert first.startswith("/dashboard/village/211322102200"), first
    w.check(LOCAL)


def click_node(w: Watched, iri: str) -> None:
    """Click on the node where vis-network drew it and nothing covers it (canvas → DOM coordinates):
    its centre, else the first point of its box that ``getNodeAt`` says is this node."""
    pos = w.page.evaluate(
        """(id) => { const n = window.dcpaNetwork.network;
                     const p = n.getPositions([id])[id], b = n.getBoundingBox(id);
                     const points = [p];
                     for (let fx = 0.1; fx < 1; fx += 0.2) for (let fy = 0.1; fy < 1; fy += 0.2)
                       points.push({x: b.left + fx * (b.right - b.left), y: b.top + fy * (b.bottom - b.top)});
                     for (const c of points) { const d = n.canvasToDOM(c); if (n.getNodeAt(d) === id) return d; }
                     return null; }""",
        iri,
    )
    assert pos is not None, f"{iri} is covered by other nodes everywhere"
    box = w.page.locator(".dcpa-canvas").bounding_box()
    w.page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])


def test_clicking_a_node_opens_its_details_and_highlights_neighbours(
    open_page: Callable[..., Watched],
) -> None:
    w = open_page("/views/village/211322101200")
    gap = node("need", "200-b")
    click_node(w, gap)
    w.page.wait_for_function(
        "window.dcpaNetwork.selected !== undefined && window.dcpaNetwork.selected !== null"
    )
    assert w.page.evaluate("window.dcpaNetwork.selected") == gap
    body = w.page.text_content(".dcpa-details-body") or ""
    assert "终端设备接入" in body and "未满足" in body and "示例数据" in body
    href = w.page.get_attribute(".dcpa-details-body a.dcpa-json-link", "href")
    assert href and href.startswith("/views/node.json?iri=")
    # neighbours keep their colour, the rest fade
    faded = w.page.evaluate(
        "window.dcpaNetwork.nodes.get()"
        ".filter(n => typeof n.color === 'string' && n.color.startsWith('rgba(200')).length"
    )
    assert faded > 0
    assert w.page.evaluate(f"window.dcpaNetwork.nodes.get('{node('intervention', 'I1')}').color").startswith(
        "rgba(200"
    )
    w.shot("click-gap")
    # the JSON link answers
    resp = w.page.request.get(w.page.url.split("/views/")[0] + href)
    assert resp.ok and resp.json()["iri"] == gap
    w.check(LOCAL)


def test_filter_by_kind_hides_and_shows_nodes(open_page: Callable[..., Watched]) -> None:
    w = open_page("/views/village/211322101200")
    hidden = "window.dcpaNetwork.nodes.get({filter: n => n.hidden}).length"
    assert w.page.evaluate(hidden) == 0
    w.page.uncheck(".dcpa-legend input[data-kind='candidate']")
    assert w.page.evaluate(hidden) == 1
    w.page.check(".dcpa-legend input[data-kind='candidate']")
    assert w.page.evaluate(hidden) == 0
    w.check(LOCAL)


def test_language_switch_shows_english_labels(open_page: Callable[..., Watched]) -> None:
    w = open_page("/views/area/211322?lang=en")
    label = w.page.evaluate(f"window.dcpaNetwork.nodes.get('{area('211322')}').label")
    assert label == "Jianping County"
    assert w.page.locator("nav.dcpa-lang a[aria-current='true']").text_content() == "English"
    w.page.click("nav.dcpa-lang a[hreflang='zh']")
    w.page.wait_for_selector(".dcpa-graph[data-ready='1']")
    assert w.page.evaluate(f"window.dcpaNetwork.nodes.get('{area('211322')}').label") == "建平县"
    w.check(LOCAL)


def assert_malicious_label_is_text(w: Watched) -> None:
    """I1 is provided by L2, the library whose name is hostile: its details show the name as text."""
    w.page.evaluate(f"window.dcpaNetwork.select('{node('intervention', 'I1')}')")
    assert MALICIOUS in (w.page.text_content(".dcpa-details-body table") or "")
    assert w.page.locator("img[src='x']").count() == 0
    assert w.page.evaluate("document.querySelectorAll('script:not([src]):not([type])').length") <= 2
    assert w.page.evaluate("window.__xss === undefined")
    assert not w.dialogs


def test_malicious_label_stays_text_in_the_browser(open_page: Callable[..., Watched]) -> None:
    w = open_page("/views/village/211322101200")
    assert_malicious_label_is_text(w)
    w.shot("malicious-label")
    w.check(LOCAL)


def test_static_export_opens_offline_from_disk(
    open_page: Callable[..., Watched], view_store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "village.html"
    out.write_text(
        viz.render_view(viz.village_view(view_store, "211322101200"), "zh", standalone=True), encoding="utf-8"
    )
    w = open_page(out.as_uri())
    assert node_count(w) == expected_nodes("/views/village/211322101200", view_store)
    assert w.requests == [out.as_uri()]  # nothing but the file itself
    assert_malicious_label_is_text(w)
    assert "离线文件" in (w.page.text_content(".dcpa-details-body") or "")
    w.shot("static-export-village")
    w.check(("file://",))


def test_an_exported_file_stays_in_the_language_it_was_written_in(
    open_page: Callable[..., Watched], view_store: Store, tmp_path: Path
) -> None:
    """An English file from ``dcpa viz --lang en`` offered 中文, which led to the file with ``?lang=zh``: the names,
    the legend and the details turned Chinese under the English heading, notes and search, in a page a screen
    reader took for English. A file is in one language (the other is another export): no switch, and no
    ``?lang=`` half changes it."""
    out = tmp_path / "village.html"
    out.write_text(viz.render_view(viz.village_view(view_store, "211322101200"), "en", standalone=True),
                   encoding="utf-8")
    w = open_page(out.as_uri())
    assert w.page.locator("nav.dcpa-lang").count() == 0
    w = open_page(out.as_uri() + "?lang=zh")
    assert w.page.evaluate("document.documentElement.lang") == "en"
    assert (w.page.text_content(".dcpa-legend li") or "").strip().startswith("Village")
    assert w.page.evaluate(f"window.dcpaNetwork.nodes.get('{area('211322101200')}').label") == "Zhuluke Cun"
    w.check(("file://",))


def charts(w: Watched) -> Any:
    return w.page.evaluate(
        "Object.fromEntries(Object.entries(window.dcpaCharts).map(([k, c]) => [k, c.data.labels]))"
    )


def test_dashboard_charts_and_drill_down(open_page: Callable[..., Watched]) -> None:
    w = open_page("/dashboard", wait="body[data-charts-ready='1']")
    assert charts(w)["area"] == ["朝阳市"]
    w.shot("dashboard-province")
    w.page.click("#card-area table a")  # 朝阳市 → its counties
    w.page.wait_for_selector("body[data-charts-ready='1']")
    assert charts(w)["area"] == ["建平县", "朝阳县"]  # every county; 朝阳县, without needs, last
    assert w.page.locator("#card-area tr.dcpa-zero").count() == 1
    w.page.click("#card-area table a")  # 建平县 → its townships
    w.page.wait_for_selector("body[data-charts-ready='1']")
    c = charts(w)
    assert set(c["area"]) == {"朱碌科镇", "建平镇"}
    assert "终端设备接入" in c["need_type"] and "数字终端配送" in c["category"]
    assert "示例数据" in (w.page.text_content(".dcpa-synthetic") or "")
    w.shot("dashboard-county")
    w.page.click("#card-area table a")  # 朱碌科镇 → its villages
    w.page.wait_for_selector("body[data-charts-ready='1']")
    assert set(charts(w)["area"]) == {"朱碌科村村民委员会", "西梁村村民委员会"}
    csv_href = w.page.get_attribute("#card-need_type a.dcpa-csv", "href")
    resp = w.page.request.get(w.page.url.split("/dashboard")[0] + csv_href)
    assert resp.ok and "终端设备接入" in resp.text()
    # Filtered to the severe needs: the filter stays on the page, in the CSV link and in the drill-down.
    w.page.select_option("form.dcpa-filters select[name=min_severity]", "4")
    w.page.click("form.dcpa-filters button[type=submit]")
    w.page.wait_for_url("**min_severity=4**")
    w.page.wait_for_selector("#dcpa-filtered")
    assert "min_severity=4" in (w.page.get_attribute("#card-need_type a.dcpa-csv", "href") or "")
    assert w.page.input_value("form.dcpa-filters select[name=min_severity]") == "4"
    w.check(LOCAL)


def test_village_dashboard_page(open_page: Callable[..., Watched], view_store: Store) -> None:
    w = open_page("/dashboard/village/211322101200")
    assert node_count(w) == expected_nodes("/views/village/211322101200", view_store)
    text = w.page.text_content("main") or ""
    assert "建档立卡贫困村" in text and "未满足" in text and "示例·电子阅读器" in text
    assert_malicious_label_is_text(w)
    w.page.set_viewport_size({"width": 1400, "height": 1600})
    w.page.screenshot(path=str(w.shot("dashboard-village")), full_page=True)
    w.check(LOCAL)


def test_search_box_finds_a_village_by_pinyin_and_opens_its_page(open_page: Callable[..., Watched]) -> None:
    w = open_page("/dashboard", wait="body[data-charts-ready='1']")
    w.page.fill("form.dcpa-area-search input[name=q]", "xiliang")
    w.page.press("form.dcpa-area-search input[name=q]", "Enter")
    w.page.wait_for_url("**/dashboard/search?*")
    w.page.wait_for_selector("table.dcpa-search-results")
    assert "朱碌科镇" in (w.page.text_content("table.dcpa-search-results") or "")  # its township, to tell it apart
    w.page.click("table.dcpa-search-results a:has-text('西梁村')")
    w.page.wait_for_url("**/dashboard/village/211322101*")
    assert "西梁村" in (w.page.text_content("h1") or "")
    w.check(LOCAL)


def test_the_home_page_leads_to_the_dashboard_and_finds_a_village(open_page: Callable[..., Watched]) -> None:
    """``/``, the address the server prints: what the graph holds, then the ways in."""
    w = open_page("/", wait="#dcpa-home-needs")
    assert int(w.page.get_attribute("#dcpa-home-needs", "data-needs") or 0) > 0
    w.page.fill("form.dcpa-area-search input[name=q]", "xiliang")
    w.page.press("form.dcpa-area-search input[name=q]", "Enter")
    w.page.wait_for_url("**/dashboard/search?*")
    w.page.wait_for_selector("table.dcpa-search-results")
    assert "西梁村" in (w.page.text_content("table.dcpa-search-results") or "")
    w.page.go_back()
    w.page.wait_for_selector("#dcpa-home-needs")
    w.page.click("ul.dcpa-ways a[href^='/dashboard']")
    w.page.wait_for_selector("body[data-charts-ready='1']")
    w.check(LOCAL)


def test_a_planner_makes_a_plan_in_the_form_and_prints_it(open_page: Callable[..., Watched]) -> None:
    """From the dashboard to a plan, in English; printed without the form, the navigation or the buttons."""
    w = open_page("/dashboard?area=211322&lang=en", wait="body[data-charts-ready='1']")
    w.page.click("header nav.dcpa-nav a:has-text('Plan a budget')")
    w.page.wait_for_selector("form.dcpa-plan-form")
    assert w.page.input_value("form.dcpa-plan-form input[name=area]") == "211322"  # the dashboard's area
    w.page.fill("form.dcpa-plan-form input[name=budget]", "20000")
    w.page.click("form.dcpa-plan-form button[type=submit]")
    w.page.wait_for_selector("#dcpa-plan-facts")
    assert w.page.locator(".dcpa-village-plan").count() == 3
    assert "This is the best plan possible" in (w.page.text_content("#dcpa-plan-facts") or "")
    assert "lang=en" in w.page.url and "budget=20000" in w.page.url  # a plan is a link
    w.page.wait_for_selector("body[data-print-ready='1']")
    w.page.emulate_media(media="print")
    assert not w.page.is_visible("form.dcpa-plan-form") and not w.page.is_visible("header nav.dcpa-nav")
    assert not w.page.is_visible(".dcpa-exports") and w.page.is_visible(".dcpa-village-plan table")
    w.shot("plan-print")
    w.check(LOCAL)


def test_a_plan_with_the_area_box_left_empty_is_for_everywhere(open_page: Callable[..., Watched]) -> None:
    """The box says empty means everywhere: the form sends ``area=``, and the plan covers every county."""
    w = open_page("/plan?lang=en", wait="form.dcpa-plan-form")
    assert w.page.input_value("form.dcpa-plan-form input[name=area]") == ""
    w.page.fill("form.dcpa-plan-form input[name=budget]", "20000")
    w.page.click("form.dcpa-plan-form button[type=submit]")
    w.page.wait_for_selector("#dcpa-plan-facts")
    assert "area=&" in w.page.url and w.page.locator(".dcpa-village-plan").count() >= 3
    w.check(LOCAL)


def test_the_sparql_editor_downloads_csv_a_spreadsheet_reads(open_page: Callable[..., Watched], tmp_path: Path) -> None:
    """"Download" gives the current tab's answer with a BOM (Excel on a Chinese system needs it)."""
    w = open_page("/sparql", wait=".yasqe .CodeMirror")
    w.page.wait_for_function("() => window.Yasgui && document.querySelector('.yasqe .CodeMirror')")
    with w.page.expect_download() as caught:
        w.page.click("#csv-download")
    path = tmp_path / "answer.csv"
    caught.value.save_as(str(path))
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and caught.value.suggested_filename == "sparql-results.csv"
    assert len(data.decode("utf-8-sig").splitlines()) > 1  # a header and rows
    w.check(LOCAL)


def test_a_link_from_the_editor_s_share_button_opens_its_query(open_page: Callable[..., Watched]) -> None:
    """The editor's share button gives /sparql#query=…; opened, the link showed the catalogue's examples and its query
    was lost. It opens in a tab of its own, ahead of the examples, and runs on this server whatever endpoint the link
    names."""
    query = "SELECT ?shared WHERE { ?s ?p ?shared } LIMIT 3"
    w = open_page("/sparql#" + urlencode({"query": query, "endpoint": "http://elsewhere.example/sparql"}),
                  wait=".yasqe .CodeMirror")
    assert w.page.locator(".yasqe_share").count() == 1  # the button that makes such links
    w.page.wait_for_function("q => [...document.querySelectorAll('.CodeMirror')]"
                             ".some(e => e.offsetParent && e.CodeMirror.getValue() === q)", arg=query)
    w.page.wait_for_selector(".yasr table th:has-text('shared')", timeout=15000)  # its answer, from this server
    assert w.page.locator(".tabsList .tab").count() > 2  # the examples follow
    w.check(LOCAL)


@pytest.mark.parametrize("path", ["/", "/dashboard?area=211322", "/dashboard/village/211322101201",
                                  "/plan?area=211322&budget=20000", "/data", "/dashboard/search?q=朱碌科",
                                  "/sparql", "/ontology?lang=en"])
def test_pages_fit_a_phone_and_chinese_cells_are_not_one_character_wide(
    open_page: Callable[..., Watched], path: str
) -> None:
    """At 320 px (a small phone, or 1280 px zoomed to 400%: WCAG's reflow width): the page never scrolls
    sideways (a wide table scrolls in its own box; the search results' did not), and no table cell holding
    Chinese is squeezed to a character a line."""
    w = open_page(path, wait="body", width=320, height=800)
    w.page.wait_for_load_state("load")
    wider = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert wider <= 0, f"{path} is {wider} px wider than the phone"
    squeezed = w.page.evaluate("""() => [...document.querySelectorAll('table td, table th')]
        .filter(c => /[\\u4e00-\\u9fff]{2}/.test(c.textContent) && c.getClientRects().length
                     && c.getBoundingClientRect().width < 2.5 * parseFloat(getComputedStyle(c).fontSize))
        .map(c => c.textContent.trim().slice(0, 12))""")
    assert not squeezed, f"cells squeezed on {path}: {squeezed}"
    w.check(LOCAL)


def test_the_area_map_is_worked_with_the_keyboard_alone_and_leads_down(open_page: Callable[..., Watched]) -> None:
    """Search, pick a result, follow the details' link to the village's page: keys only. The canvas takes
    the focus and pans with the arrow keys."""
    w = open_page("/views/area/211322")
    w.page.focus(".dcpa-canvas .vis-network")
    before = w.page.evaluate("window.dcpaNetwork.network.getViewPosition()")
    w.page.keyboard.down("ArrowRight")  # vis-network moves the view while the key is held
    w.page.wait_for_function("(x) => window.dcpaNetwork.network.getViewPosition().x !== x", arg=before["x"])
    w.page.keyboard.up("ArrowRight")
    w.page.focus(".dcpa-search input")
    w.page.keyboard.type("西梁")
    w.page.keyboard.press("Enter")
    w.page.wait_for_selector(".dcpa-results button")
    w.page.focus(".dcpa-results button")
    w.page.keyboard.press("Enter")
    w.page.wait_for_selector(".dcpa-details-body a.dcpa-open-link")
    w.page.focus(".dcpa-details-body a.dcpa-open-link")
    w.page.keyboard.press("Enter")
    w.page.wait_for_url("**/dashboard/village/211322101201?lang=zh")
    w.check(LOCAL)


@pytest.mark.parametrize("path,pages", [("/dashboard/village/211322101201", 3), ("/dashboard?area=211322", 3),
                                        ("/plan?area=211322&budget=20000", 2), ("/views/area/211322", 1)])
def test_printed_pages_hold_the_content_not_the_controls(open_page: Callable[..., Watched], path: str,
                                                         pages: int) -> None:
    """Printed (A4): no search box, language switch, filter form or graph filters, and no more pages than
    the content needs (a village page used to print four, ending in the filter checkboxes)."""
    w = open_page(path, wait="body")
    w.page.wait_for_load_state("load")
    w.page.emulate_media(media="print")
    for hidden in ("form.dcpa-area-search", "nav.dcpa-lang", "form.dcpa-filters", ".dcpa-legend input", ".dcpa-search",
                   "form.dcpa-plan-form", "a[download]"):  # a download link on paper: 下载数据（CSV） three times
        shown = [e.is_visible() for e in w.page.locator(hidden).all()]
        assert not any(shown), f"{hidden} is printed on {path}"
    pdf = w.page.pdf(format="A4")
    printed = pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page\r") + pdf.count(b"/Type /Page ")
    assert 1 <= printed <= pages, f"{path} prints {printed} pages"
    w.check(LOCAL)


def test_a_period_with_one_date_is_said_at_the_field_and_the_dashboard_stays(
        open_page: Callable[..., Watched]) -> None:
    """Only a start date (or an end before the start) sent the planner to an error page, the area and the other
    filters gone; the form now says what is missing at the field and is not sent."""
    w = open_page("/dashboard?area=211322&need_type=N1", wait="body[data-charts-ready='1']")
    start, end = "form.dcpa-filters input[name=start]", "form.dcpa-filters input[name=end]"
    w.page.fill(start, "2019-01-01")
    assert w.page.evaluate("document.querySelector('form.dcpa-filters').checkValidity()") is False
    assert w.page.eval_on_selector(end, "e => e.validationMessage") == "请同时填写开始和结束日期，或都不填。"
    w.page.click("form.dcpa-filters button[type=submit]")
    assert "start=" not in w.page.url and "area=211322" in w.page.url
    w.page.fill(end, "2018-12-31")
    assert w.page.eval_on_selector(end, "e => e.validationMessage") == "结束日期不能早于开始日期。"
    w.page.fill(end, "2019-12-31")
    assert w.page.evaluate("document.querySelector('form.dcpa-filters').checkValidity()") is True
    w.page.click("form.dcpa-filters button[type=submit]")
    w.page.wait_for_url("**/dashboard?*start=2019-01-01*")
    assert "need_type=N1" in w.page.url and "area=211322" in w.page.url
    w.check(LOCAL)


@contextmanager
def _without(browser: Any, script: str) -> Iterator[tuple[Any, list[str]]]:
    """A page whose ``script`` (a URL pattern) never arrives, as on a broken link, and the errors it throws."""
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = ctx.new_page()
        thrown: list[str] = []
        page.on("pageerror", lambda e: thrown.append(str(e)))
        page.route(script, lambda route: route.abort())
        yield page, thrown
    finally:
        ctx.close()


@pytest.mark.parametrize("lang,said", [("zh", "关系图没有载入"), ("en", "The graph did not load")])
def test_a_graph_whose_drawing_library_did_not_arrive_says_so(browser: Any, live: str, lang: str, said: str) -> None:
    """On a slow or broken link the drawing library (vis-network) may not arrive: the village page's graph stayed
    a blank box, its search and filters did nothing, and nothing said why. The graph's box now says so, in the
    page's language, and the page's tables stand."""
    with _without(browser, "**/vis-network.min.js*") as (page, thrown):
        page.goto(f"{live}/dashboard/village/211322101200?lang={lang}", wait_until="load")
        page.wait_for_selector(".dcpa-graph[data-ready='0']", state="attached")
        alert = page.locator(".dcpa-canvas [role=alert]")
        assert alert.count() == 1 and said in (alert.text_content() or "")
        assert page.locator("#needs table").is_visible()
        assert not thrown, thrown


@pytest.mark.parametrize("lang,said", [("zh", "图表没有载入"), ("en", "The chart did not load")])
def test_a_dashboard_whose_chart_library_did_not_arrive_says_so(browser: Any, live: str, lang: str,
                                                                said: str) -> None:
    """Without its chart library (a slow or broken link) each dashboard chart was a blank 300 px box: each now says
    the chart did not load and that its numbers are in the table below, in the page's language."""
    with _without(browser, "**/chart.umd.min.js*") as (page, thrown):
        page.goto(f"{live}/dashboard?area=211322&lang={lang}", wait_until="load")
        page.wait_for_selector("body[data-charts-ready='0']", state="attached")
        boxes = page.locator(".dcpa-chart")
        assert boxes.count() == 3
        assert all(said in (b.text_content() or "") and b.is_visible() for b in boxes.all())
        assert page.locator("#card-area table").is_visible()
        assert not thrown, thrown


def test_the_sparql_editor_downloads_a_construct_as_turtle(open_page: Callable[..., Watched], tmp_path: Path) -> None:
    """"Download CSV" on a CONSTRUCT downloaded the endpoint's 406 (a JSON error) as a .csv file: a graph has no
    table. It downloads the graph as Turtle now."""
    construct = "CONSTRUCT { ?v a <https://w3id.org/dcpa/ontology#Village> } WHERE { ?v a " \
                "<https://w3id.org/dcpa/ontology#Village> } LIMIT 3"
    w = open_page("/sparql", wait=".yasqe .CodeMirror")
    w.page.wait_for_function("() => window.Yasgui && document.querySelector('.yasqe .CodeMirror')")
    w.page.evaluate("q => [...document.querySelectorAll('.CodeMirror')].find(e => e.offsetParent).CodeMirror"
                    ".setValue(q)", construct)
    with w.page.expect_download() as caught:
        w.page.click("#csv-download")
    path = tmp_path / "answer"
    caught.value.save_as(str(path))
    assert caught.value.suggested_filename.endswith(".ttl")
    triples = list(ox.parse(path.read_bytes(), ox.RdfFormat.TURTLE))
    assert len(triples) == 3 and all(t.object.value.endswith("#Village") for t in triples)
    w.check(LOCAL)
