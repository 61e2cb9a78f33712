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
