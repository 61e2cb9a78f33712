"""The pages as planners use them: on a phone, with the keyboard alone, with poor eyesight, on paper."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Watched

pytestmark = pytest.mark.browser

LOCAL = ("http://127.0.0.1:",)


def test_example_marks_in_table_cells_cover_no_text_on_a_phone(open_page: Callable[..., Watched]) -> None:
    """A cell's "示例" mark wrapped under its words at 360 px and its padding lay over them
    (终端设备接入 half hidden): every line of a cell's own text stays clear of its marks."""
    w = open_page("/dashboard/village/211322101200", wait="body", width=360, height=640)
    covered = w.page.evaluate("""() => {
        const hits = [];
        for (const mark of document.querySelectorAll('td .dcpa-synthetic')) {
            const m = mark.getBoundingClientRect(), cell = mark.closest('td');
            const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
            for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                if (mark.contains(n) || !n.textContent.trim()) continue;
                const range = document.createRange(); range.selectNodeContents(n);
                for (const r of range.getClientRects())
                    if (r.left < m.right - 1 && m.left < r.right - 1 && r.top < m.bottom - 1 && m.top < r.bottom - 1)
                        hits.push(n.textContent.trim().slice(0, 12) + ' / ' + mark.textContent.trim());
            }
        }
        return hits; }""")
    assert w.page.locator("td .dcpa-synthetic").count() >= 3
    assert not covered, f"example marks lie over text: {covered}"
    w.check(LOCAL)


def test_the_village_pages_graph_shows_its_search_filters_and_details_whole_on_a_netbook_and_a_phone(
    open_page: Callable[..., Watched],
) -> None:
    """Below 900 px the graph's panels stack, but the village page kept its graph 560 px high: the search and
    the filters were cut to a 70 px strip above the canvas, a node's details to another below it. Each panel
    now shows all it holds."""
    for width, height in ((360, 640), (800, 600)):
        w = open_page("/dashboard/village/211322101200", width=width, height=height)
        w.page.evaluate("window.dcpaNetwork.select(window.dcpaNetwork.nodes.getIds()[0])")
        w.page.wait_for_selector(".dcpa-details-body h3")
        cut = w.page.evaluate("""() => [...document.querySelectorAll('.dcpa-graph .dcpa-side')]
            .filter(e => e.scrollHeight > e.clientHeight + 1)
            .map(e => e.className + ': ' + e.clientHeight + ' of ' + e.scrollHeight + ' px shown')""")
        assert not cut, f"panels cut at {width} px: {cut}"
        w.page.uncheck(".dcpa-legend input[data-kind='candidate']")  # a tap reaches the filter
        assert w.page.evaluate("window.dcpaNetwork.nodes.get({filter: n => n.hidden}).length") == 1
        w.check(LOCAL)


#: WCAG 2.1 AA contrast of every piece of text shown (4.5:1; 3:1 from 24 px, or bold from 18.66 px), against
#: the first opaque background behind it; ``skip``: a selector of parts left out.
LOW_CONTRAST = """(skip) => {
    const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(v => { v /= 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const opaque = c => { const a = c.match(/[\\d.]+/g); return a.length < 4 || +a[3] === 1; };
    const back = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
        if (opaque(c)) return c; } return 'rgb(255, 255, 255)'; };
    const low = [];
    for (const e of document.querySelectorAll('body *')) {
        const own = [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('').trim();
        if (!own || !e.getClientRects().length || getComputedStyle(e).visibility === 'hidden') continue;
        if (skip && e.closest(skip)) continue;
        const s = getComputedStyle(e), f = lum(s.color), b = lum(back(e));
        const ratio = (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05), px = parseFloat(s.fontSize);
        const need = px >= 24 || (+s.fontWeight >= 700 && px >= 18.66) ? 3 : 4.5;
        if (ratio < need) low.push(`${own.slice(0, 12)}: ${s.color} on ${back(e)} = ${ratio.toFixed(2)}`);
    }
    return [...new Set(low)]; }"""


@pytest.mark.parametrize("path", ["/dashboard/village/211322101200", "/views/model/211322",
                                  "/plan?area=211322&budget=20000"])
def test_text_and_example_marks_have_the_contrast_poor_eyes_need(open_page: Callable[..., Watched], path: str) -> None:
    """The orange "示例" marks were 3.5:1 on their pale ground, hard to read for a planner with poor eyesight."""
    w = open_page(path, wait="body")
    w.page.wait_for_load_state("load")
    low = w.page.evaluate(LOW_CONTRAST)
    assert not low, f"{path}: {low}"
    w.check(LOCAL)


def test_every_kind_badge_of_a_graphs_details_is_readable(open_page: Callable[..., Watched]) -> None:
    """A node's details open with its kind on the kind's colour: white text on yellow, light blue or light green
    (已满足需求, 推荐候选, 区域) was 1.5–2:1."""
    w = open_page("/views/village/211322101200")
    low = []
    for iri in w.page.evaluate("window.dcpaNetwork.nodes.getIds()"):
        w.page.evaluate("(id) => window.dcpaNetwork.select(id)", iri)
        low += w.page.evaluate(LOW_CONTRAST)
    assert not low, sorted(set(low))
    w.check(LOCAL)


@pytest.mark.parametrize("path,first", [("/dashboard?area=211322", "nav.dcpa-crumbs a"),
                                        ("/views/area/211322", ".dcpa-search input")])
def test_a_keyboard_user_skips_the_header_to_the_content(open_page: Callable[..., Watched], path: str,
                                                         first: str) -> None:
    """Eleven tab stops (navigation, search, language) stood before a dashboard's first area link, on every
    page: the first Tab now shows a "跳到正文" link, and Enter on it brings the next Tab into the content."""
    w = open_page(path, wait="body")
    w.page.keyboard.press("Tab")
    skip = w.page.locator(":focus")
    assert skip.text_content() == "跳到正文"
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0 and box["width"] > 20  # on screen while it has the focus
    w.page.keyboard.press("Enter")
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("(sel) => document.activeElement === document.querySelector(sel)", first)
    w.check(LOCAL)


def test_a_printed_village_page_says_why_each_candidate_is_recommended(open_page: Callable[..., Watched]) -> None:
    """Each recommendation's reasons sit in a folded "依据 (8)": on paper only the fold's title came out, the
    reasons never. They are unfolded for printing (what is printed is the page as the print starts) and folded
    again after."""
    w = open_page("/dashboard/village/211322101200", wait="body[data-print-ready='1']")
    w.page.evaluate("""() => window.addEventListener('beforeprint', () => { window.printedSteps =
        [...document.querySelectorAll('ol.dcpa-steps')].map(o => o.checkVisibility()); })""")
    w.page.pdf(format="A4")
    assert w.page.evaluate("window.printedSteps") == [True]
    assert w.page.evaluate("[...document.querySelectorAll('details')].map(d => d.open)") == [False]  # on screen
    w.check(LOCAL)


@pytest.mark.parametrize("path", ["/dashboard?area=211322", "/dashboard/village/211322101201",
                                  "/plan?area=211322&budget=20000"])
def test_printed_tables_fit_the_page(open_page: Callable[..., Watched], path: str) -> None:
    """Paper does not scroll: a dashboard's tables ran 100 px past the edge of A4 (their one-line headers and
    4em cells), and what lay beyond it was not printed. At A4's printable width (190 mm, 718 px) each table fits."""
    w = open_page(path, wait="body", width=718, height=1000)
    w.page.wait_for_load_state("load")
    w.page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")  # as printing starts
    w.page.emulate_media(media="print")
    wide = w.page.evaluate("""() => [...document.querySelectorAll('table')].filter(t => t.getClientRects().length)
        .filter(t => t.getBoundingClientRect().right > document.documentElement.clientWidth + 1
                     || t.scrollWidth > t.parentElement.clientWidth + 1)
        .map(t => t.rows[0].textContent.trim().slice(0, 20) + ': ' + t.scrollWidth + ' px')""")
    assert not wide, f"{path}: tables past the page: {wide}"
    w.check(LOCAL)


def test_the_sparql_pages_example_tabs_are_readable(open_page: Callable[..., Watched]) -> None:
    """The example queries' tab titles were light grey (#888, 3.5:1). (The editor's syntax colours are left to
    YASGUI's theme.)"""
    w = open_page("/sparql", wait=".yasqe .CodeMirror")
    low = w.page.evaluate(LOW_CONTRAST, ".CodeMirror")
    assert not low, low[:5]
    w.check(LOCAL)


def test_the_sparql_editor_is_named_and_says_how_to_leave_it(open_page: Callable[..., Watched]) -> None:
    """The page opens in the query editor, where Tab indents: a keyboard user pressing Tab to move on changed the
    query and stayed in the editor, and nothing said that Esc leaves it; the editor had no name either. It is now
    named, its description says Esc then Tab, and Esc then Tab reach the next control."""
    w = open_page("/sparql", wait=".yasqe .CodeMirror textarea[aria-describedby]")
    editor = w.page.get_by_role("textbox", name="SPARQL 查询编辑器")
    assert editor.count() == 1
    said = w.page.eval_on_selector(".yasqe .CodeMirror textarea", "e => document.getElementById("
                                   "e.getAttribute('aria-describedby')).textContent")
    assert "Esc" in said and w.page.is_visible("#dcpa-editor-keys")
    assert w.page.get_by_role("textbox", name="SPARQL 端点").count() == 1
    editor.focus()
    w.page.keyboard.press("Escape")
    w.page.keyboard.press("Tab")
    assert w.page.evaluate("document.activeElement.tagName") == "BUTTON"  # the editor's share button
    w.check(LOCAL)


def test_a_keyboard_user_lists_every_node_and_opens_one_without_knowing_its_name(
    open_page: Callable[..., Watched],
) -> None:
    """Without a mouse a node's details were reached only by typing part of its name (an empty search did
    nothing): on the ontology view, whose class names a planner does not know, no node could be opened. An
    empty search now lists every node, in order, and Enter on one opens it."""
    w = open_page("/views/ontology")
    w.page.focus(".dcpa-search input")
    w.page.keyboard.press("Enter")
    total = w.page.evaluate("window.dcpaNetwork.nodes.length")
    assert w.page.locator(".dcpa-results button").count() == total
    assert w.page.text_content(".dcpa-status") == f"共 {total} 个节点"
    w.page.keyboard.press("Tab")  # past the search button
    w.page.keyboard.press("Tab")  # to the first of them
    first = w.page.evaluate("document.activeElement.closest('.dcpa-results') && document.activeElement.textContent")
    assert first
    w.page.keyboard.press("Enter")
    w.page.wait_for_selector(".dcpa-details-body h3")
    assert w.page.text_content(".dcpa-details-body h3") == first
    w.check(LOCAL)


def test_a_node_tapped_on_a_phone_shows_its_details_on_screen(open_page: Callable[..., Watched]) -> None:
    """On a phone the details panel sits below the canvas: a planner tapped a node and saw nothing happen (its
    details opened 70 px under the bottom edge). The page now scrolls them into view."""
    from kg.namespaces import node

    from .test_pages import click_node

    w = open_page("/views/village/211322101200", width=360, height=640)
    w.page.locator(".dcpa-canvas").scroll_into_view_if_needed()
    click_node(w, node("need", "200-b"))
    w.page.wait_for_selector(".dcpa-details-body h3")
    w.page.wait_for_function("""() => { const r = document.querySelector('.dcpa-details-body h3')
        .getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=5000)
    w.check(LOCAL)


def test_the_legend_tells_kinds_apart_by_shape_as_well_as_colour(open_page: Callable[..., Watched]) -> None:
    """Every legend swatch was the same rounded square, so a colour-blind planner could not tell which of the
    red diamond and the amber dot was 未满足需求 (a gap) and which 已满足需求: each swatch now has its nodes' shape."""
    w = open_page("/views/village/211322101200")
    looks = w.page.evaluate("""() => Object.fromEntries(window.dcpaNetwork.data.legend.map(k => {
        const sel = `.dcpa-legend input[data-kind='${k.kind}'] + label .dcpa-swatch`, s = getComputedStyle(
            document.querySelector(sel));
        const look = [s.borderTopLeftRadius, s.transform, s.clipPath, s.width, s.height].join(' ');
        return [k.kind, [k.shape, look]]; }))""")
    assert looks["gap"][1] != looks["need"][1], looks
    by_shape: dict[str, set[str]] = {}
    for shape, look in looks.values():
        by_shape.setdefault(look, set()).add(shape)
    assert all(len(shapes) == 1 for shapes in by_shape.values()), looks  # one look, one shape
    w.check(LOCAL)


@pytest.mark.parametrize("width,height", [(1366, 768), (1024, 600)])
def test_a_laptop_shows_the_dashboards_tables_whole(open_page: Callable[..., Watched], width: int,
                                                    height: int) -> None:
    """Three cards abreast and one-line headers cut every dashboard table by 200–400 px, on a laptop as on a
    wide screen: 未满足的严重需求 and the shares lay hidden behind each card's scroll bar. Cards now take the room
    their tables need and headers wrap as cells do (the village page's needs alike)."""
    for path in ("/dashboard?area=211322", "/dashboard/village/211322101200"):
        w = open_page(path, wait="body", width=width, height=height)
        w.page.wait_for_load_state("load")
        cut = w.page.evaluate("""() => [...document.querySelectorAll('.dcpa-card')]
            .filter(c => c.scrollWidth > c.clientWidth + 1 && c.querySelector('table:not(.dcpa-recs)'))
            .map(c => c.id + ': ' + (c.scrollWidth - c.clientWidth) + ' px hidden')""")
        assert not cut, f"{path} at {width} px: {cut}"
        w.check(LOCAL)


def test_node_names_in_the_result_and_neighbour_lists_are_shown_whole(open_page: Callable[..., Watched]) -> None:
    """The lists of found and connected nodes cut each name to one line: "“十三五”时期文化扶贫工作实施…",
    "示例·建平村电子阅读器配送（计…" (whether it is planned was the part cut). Names now wrap."""
    w = open_page("/views/policy/P02?area=211322")
    w.page.press(".dcpa-search input", "Enter")
    w.page.wait_for_selector(".dcpa-results button")
    w.page.click(".dcpa-results button:has-text('十三五')")
    w.page.wait_for_selector(".dcpa-neighbours button")
    cut = w.page.evaluate("""() => [...document.querySelectorAll('.dcpa-results button, .dcpa-neighbours button')]
        .filter(b => b.scrollWidth > b.clientWidth + 1).map(b => b.textContent)""")
    assert not cut, cut
    w.check(LOCAL)


def test_the_pages_text_grows_with_the_browsers_font_size(open_page: Callable[..., Watched]) -> None:
    """A planner with poor eyesight sets the browser's font size to "very large" (24 px): the pages kept their
    14 px text, headings and tables alike (sizes in px). Sizes are now relative to the reader's setting."""
    w = open_page("/dashboard/village/211322101200", wait="body", width=1366, height=768)
    w.page.add_style_tag(content="html { font-size: 24px; }")  # what the browser's setting does
    sizes = w.page.evaluate("""() => Object.fromEntries(['body', 'h1', '.dcpa-card h2', 'table.dcpa-table td',
        '.dcpa-synthetic', 'form.dcpa-area-search button', '.dcpa-search input']
        .map(s => [s, parseFloat(getComputedStyle(document.querySelector(s)).fontSize)]))""")
    assert sizes["body"] == 21 and sizes["h1"] == 27 and sizes["table.dcpa-table td"] == 21, sizes
    assert all(px >= 18 for px in sizes.values()), sizes
    w.check(LOCAL)


def test_a_printed_graph_leaves_out_an_empty_details_panel(open_page: Callable[..., Watched]) -> None:
    """Printed with no node chosen, the village page ended in a "详情 / 点击节点查看详情" panel: an instruction to
    click, on paper. It is left out then, and printed with the chosen node's details."""
    w = open_page("/dashboard/village/211322101200", width=1000, height=1000)
    w.page.emulate_media(media="print")
    assert not w.page.is_visible(".dcpa-details")
    w.page.evaluate("window.dcpaNetwork.select(window.dcpaNetwork.nodes.getIds()[0])")
    w.page.wait_for_selector(".dcpa-details-body h3")
    assert w.page.is_visible(".dcpa-details")
    w.check(LOCAL)


#: Each legend entry as printed: its text, whether it is shown, whether its colour is printed, where it sits.
PRINTED_KEY = """() => ({
    canvasBottom: document.querySelector('.dcpa-canvas').getBoundingClientRect().bottom,
    keyTop: document.querySelector('.dcpa-legend').getBoundingClientRect().top,
    entries: [...document.querySelectorAll('.dcpa-legend li, .dcpa-marks li')].map(li => {
        const sw = li.querySelector('.dcpa-swatch, .dcpa-mark');
        return [li.textContent.replace(/\\s+/g, ' ').trim(), li.checkVisibility(),
                getComputedStyle(sw).printColorAdjust]; }),
    gradient: [...document.querySelectorAll('.dcpa-gradient')].map(g => [g.checkVisibility(),
        getComputedStyle(g).printColorAdjust]) })"""


@pytest.mark.parametrize("path,dropped,marks", [
    ("/dashboard/village/211322101200", "status", ["虚线箭头：可满足", "虚线边框：示例数据"]),
    ("/views/area/211322", "area", []),
])
def test_a_printed_graph_carries_its_legend(open_page: Callable[..., Watched], path: str, dropped: str,
                                            marks: list[str]) -> None:
    """On paper a graph's colours, shapes and dashes meant nothing: its legend sat in the side panel that printing
    leaves out (with the search and the filters), and a browser prints no background colours, the swatches'
    and the area map's scale among them. The legend now prints below the graph, colours and all, with the
    kinds still drawn (a kind filtered out is not), what a dashed arrow and a dashed border mean, and the
    village colours' scale; on screen it stays in the side panel."""
    w = open_page(path)
    kinds = w.page.evaluate("window.dcpaNetwork.data.legend.map(k => [k.kind, k.zh])")
    assert dropped in dict(kinds)
    w.page.uncheck(f".dcpa-legend input[data-kind='{dropped}']")
    on_screen = w.page.evaluate(PRINTED_KEY)
    assert all(shown for _, shown, _ in on_screen["entries"])
    w.page.emulate_media(media="print")
    printed = w.page.evaluate(PRINTED_KEY)
    shown = [text for text, visible, _ in printed["entries"] if visible]
    for kind, name in kinds:
        assert any(text.startswith(name) for text in shown) == (kind != dropped), (name, shown)
    assert [m for m in marks if m in shown] == marks, shown
    assert all(colour == "exact" for _, visible, colour in printed["entries"] if visible), printed
    assert all(g == [True, "exact"] for g in printed["gradient"]), printed["gradient"]
    assert (path == "/views/area/211322") == bool(printed["gradient"])
    assert printed["keyTop"] >= printed["canvasBottom"] - 1, printed  # the graph first, then what it means
    w.check(LOCAL)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("width", [320, 360])
def test_a_phone_shows_each_dashboard_chart_s_bars(open_page: Callable[..., Watched], lang: str, width: int) -> None:
    """On a phone the English category chart was its tilted names alone: "Digital culture foundation and platform
    construction" and its neighbours took the canvas, and the bars were 7 px wide (55 px at 360 px). Names now
    break into lines under their bars, and each chart keeps most of its canvas for the bars."""
    w = open_page(f"/dashboard?area=211322&lang={lang}", wait="body[data-charts-ready='1']", width=width, height=700)
    small = w.page.evaluate("""() => Object.entries(window.dcpaCharts).filter(([, c]) =>
        c.chartArea.width < 0.7 * c.width || c.chartArea.height < 0.5 * c.height)
        .map(([name, c]) => `${name}: bars in ${Math.round(c.chartArea.width)} × ${Math.round(c.chartArea.height)} px`
                            + ` of ${c.width} × ${c.height}`)""")
    assert not small, small
    w.check(LOCAL)


def test_a_keyboard_user_walks_from_node_to_connected_node(open_page: Callable[..., Watched]) -> None:
    """Enter on one of the details' connected nodes opened that node, but the button pressed went with the old
    details: the focus fell back to the top of the page, and the next Tab started again at "跳到正文". The focus now
    lands on the new node's name, and the next Tab reaches its own connected nodes."""
    w = open_page("/views/village/211322101200")
    w.page.evaluate("window.dcpaNetwork.select(window.dcpaNetwork.data.center)")
    w.page.wait_for_selector(".dcpa-neighbours button")
    w.page.focus(".dcpa-neighbours button")
    name = w.page.evaluate("document.activeElement.textContent")
    w.page.keyboard.press("Enter")
    w.page.wait_for_function("(n) => document.querySelector('.dcpa-details-body h3').textContent === n", arg=name)
    assert w.page.evaluate("document.activeElement === document.querySelector('.dcpa-details-body h3')")
    for _ in range(6):  # past its links, to its connected nodes
        w.page.keyboard.press("Tab")
        if w.page.evaluate("!!document.activeElement.closest('.dcpa-neighbours')"):
            break
    assert w.page.evaluate("!!document.activeElement.closest('.dcpa-neighbours')")
    w.check(LOCAL)


def test_a_dashboard_printed_from_a_laptop_keeps_its_charts_on_the_paper(open_page: Callable[..., Watched]) -> None:
    """Chart.js fixes a chart's width in px as drawn on screen, and printing redraws nothing: printed from a 1024 px
    laptop, each chart (966 px) ran 250 px past the edge of A4 (718 px), its right-hand bars cut off. Printed,
    a chart now shrinks to the page, its proportions kept."""
    w = open_page("/dashboard?area=211322", wait="body[data-charts-ready='1']", width=1024, height=800)
    # as printing does: no chart is redrawn for the paper's width
    w.page.evaluate("Object.values(window.dcpaCharts).forEach(c => { c.options.responsive = false; c.update(); })")
    w.page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    w.page.emulate_media(media="print")
    w.page.set_viewport_size({"width": 718, "height": 1000})
    looks = w.page.evaluate("""() => [...document.querySelectorAll('.dcpa-chart canvas')].map(c => {
        const r = c.getBoundingClientRect();
        return [c.id, Math.round(r.right), Math.round(r.width / r.height * 100) / 100,
                Math.round(c.width / c.height * 100) / 100]; })""")
    assert len(looks) == 3
    wide = [x for x in looks if x[1] > w.page.evaluate("document.documentElement.clientWidth") + 1]
    assert not wide, f"charts past the page: {wide}"
    assert all(abs(shown - drawn) < 0.05 for _, _, shown, drawn in looks), looks  # not squeezed
    w.check(LOCAL)


@pytest.mark.parametrize("path,width", [("/views/village/211322101200", 1400),
                                        ("/dashboard/village/211322101200", 1024)])
def test_a_printed_graph_keeps_its_proportions(open_page: Callable[..., Watched], path: str, width: int) -> None:
    """The graph is a picture drawn for the screen, and printing redraws nothing: on A4 it was stretched to the
    paper's box, dots printed as ellipses, words squashed. Printed, it keeps its proportions."""
    w = open_page(path, width=width, height=900)
    w.page.evaluate("window.dcpaNetwork.network.setOptions({autoResize: false})")  # as printing: no redraw
    w.page.emulate_media(media="print")
    w.page.set_viewport_size({"width": 718, "height": 1000})
    shown, drawn, fit = w.page.evaluate("""() => { const c = document.querySelector('.dcpa-canvas canvas'),
        r = c.getBoundingClientRect();
        return [r.width / r.height, c.width / c.height, getComputedStyle(c).objectFit]; }""")
    assert fit == "contain" or abs(shown / drawn - 1) < 0.03, (shown, drawn, fit)
    w.check(LOCAL)


def test_a_search_finds_only_what_the_filter_leaves_on_the_graph(open_page: Callable[..., Watched]) -> None:
    """With the candidates filtered out, a search for the e-readers (a candidate) chose them and showed their
    details, for a node not on the graph. The search now finds among the nodes drawn, and says how many the
    filter hides."""
    w = open_page("/views/village/211322101200")
    w.page.uncheck(".dcpa-legend input[data-kind='candidate']")
    w.page.fill(".dcpa-search input", "电子阅读器")
    w.page.press(".dcpa-search input", "Enter")
    w.page.wait_for_function("document.querySelector('.dcpa-status').textContent !== ''")
    assert w.page.text_content(".dcpa-status") == "没有找到（另有 1 个被筛选隐藏）"
    assert w.page.locator(".dcpa-results button").count() == 0
    assert w.page.evaluate("window.dcpaNetwork.selected") in (None, "")
    w.page.check(".dcpa-legend input[data-kind='candidate']")
    w.page.press(".dcpa-search input", "Enter")
    w.page.wait_for_selector(".dcpa-results button")
    assert w.page.text_content(".dcpa-status") == "找到 1 个节点"
    w.check(LOCAL)


def test_everything_the_village_page_shows_lies_in_one_of_its_landmarks(open_page: Callable[..., Watched]) -> None:
    """The village page's graph came after its <main>: a screen-reader user who went to the main content and read
    on, or moved from landmark to landmark, never met the graph and its keys. Everything shown now lies in the
    header, the main content or the navigation."""
    path = "/dashboard/village/211322101200"
    w = open_page(path)
    outside = w.page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getClientRects().length && !e.closest('header, main, nav, aside, footer, [role=region]')
                     && !e.matches('a.dcpa-skip, script')
                     && ([...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
                         || e.matches('canvas, input, button, select')))
        .map(e => e.tagName + '.' + e.className)""")
    assert not outside, f"{path}: outside every landmark: {outside}"
    w.check(LOCAL)


def test_the_legend_keeps_its_colours_in_a_high_contrast_mode(open_page: Callable[..., Watched]) -> None:
    """A planner with low vision working in Windows' high-contrast mode (forced colours) saw every legend swatch,
    and the area map's colour scale, blanked to the page's background: the graph kept its colours, the legend
    lost what tells them apart. Swatches and scale keep their colours."""
    w = open_page("/views/area/211322")
    w.page.emulate_media(forced_colors="active")
    lost = w.page.evaluate("""() => window.dcpaNetwork.data.legend.filter(k => {
        const sw = document.querySelector(`.dcpa-legend input[data-kind='${k.kind}'] + label .dcpa-swatch`);
        const want = 'rgb(' + [1, 3, 5].map(i => parseInt(k.color.slice(i, i + 2), 16)).join(', ') + ')';
        return getComputedStyle(sw).backgroundColor !== want;
    }).map(k => k.kind)""")
    assert not lost, lost
    assert w.page.evaluate("getComputedStyle(document.querySelector('.dcpa-gradient')).backgroundImage") != "none"
    w.check(LOCAL)


def test_a_chosen_node_filtered_off_the_graph_leaves_the_details(open_page: Callable[..., Watched]) -> None:
    """The e-readers chosen, then the candidates filtered out: the details still showed the e-readers, the rest of
    the graph faded around a node no longer drawn, and a print carried the details of a node not on the paper.
    Filtering the chosen node out now lets it go."""
    from kg.namespaces import node

    w = open_page("/views/village/211322101200")
    w.page.evaluate("(id) => window.dcpaNetwork.select(id)", node("resource", "R2"))
    w.page.wait_for_selector(".dcpa-details-body h3")
    w.page.uncheck(".dcpa-legend input[data-kind='candidate']")  # (the filter acts within the click)
    assert w.page.locator(".dcpa-details-body h3").count() == 0
    assert w.page.locator(".dcpa-details-body .dcpa-empty").count() == 1
    assert w.page.evaluate("window.dcpaNetwork.network.getSelectedNodes()") == []
    w.page.emulate_media(media="print")
    assert not w.page.is_visible(".dcpa-details")
    w.check(LOCAL)
