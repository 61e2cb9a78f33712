"""Pages read aloud: a value in another language than the page's is marked with its own ``lang``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import rdflib

from api.testing import LiveServer
from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

from .conftest import AS_OF, FIXTURE

pytestmark = pytest.mark.browser

#: The view fixture with names in one language only, as real data has them: the training I1 and the e-readers
#: R2 named in Chinese alone (shown on English pages in Chinese), the county library L1 in English alone.
ONE_LANGUAGE = [(', "Example: digital-literacy training in Zhuluke"@en', ""), (', "Example: e-readers"@en', ""),
                ('"示例·建平县图书馆"@zh , ', "")]

#: Every shown piece of text in the other script than the page's, with no ``lang`` of that language around it
#: (Chinese on an English page; on a Chinese page, text with Latin letters and no Chinese, codes and IRIs
#: apart, in the content).
UNMARKED = """(lang) => { const out = []; const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const text = n.textContent.trim(), e = n.parentElement;
        if (!text || e.closest('script, style, code') || !e.getClientRects().length) continue;
        const said = (e.closest('[lang]') || document.documentElement).lang;
        const chinese = /[\\u4e00-\\u9fff]/.test(text);
        if (lang === 'en' ? chinese && !said.startsWith('zh')
                          : !chinese && /[A-Za-z]{3}/.test(text) && !/^https?:/.test(text) && !said.startsWith('en')
                            && e.closest('main, .dcpa-graph') && !e.closest('a[href*="json"], .dcpa-json-link'))
            out.push(e.tagName + ': ' + text.slice(0, 40));
    }
    return [...new Set(out)]; }"""


@pytest.fixture(scope="module")
def one_language_live() -> Iterator[str]:
    from api.app import create_app

    text = FIXTURE.read_text(encoding="utf-8")
    for old, new in ONE_LANGUAGE:
        assert old in text
        text = text.replace(old, new)
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.add_graph(str(GRAPH_SYNTHETIC), rdflib.Graph().parse(data=text, format="turtle"))
    derive_all(store, as_of=AS_OF)
    settings = Settings(_env_file=None, api_token=None, sparql_endpoint=None, as_of=AS_OF)  # type: ignore[call-arg]
    server = LiveServer(create_app(settings, store))
    yield server.url
    server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    p = ctx.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    ctx.close()
    assert not errors, errors


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("path", ["/dashboard/village/211322101200", "/views/policy/P02?area=211322",
                                  "/plan?area=211322&budget=20000"])
def test_names_in_the_other_language_are_read_in_their_own_voice(
    one_language_live: str, page: Any, path: str, lang: str
) -> None:
    """On an English page 示例·朱碌科村数字素养培训 (a training named only in Chinese) and the villages' Chinese names
    carried no lang="zh": a screen reader read them with its English voice, character codes or nothing. Likewise
    "Example: Jianping County Library" (named only in English) on a Chinese page. Each is now marked, in the page
    and in a graph's lists and details."""
    page.goto(one_language_live + path + ("&" if "?" in path else "?") + "lang=" + lang)
    page.wait_for_load_state("load")
    left = page.evaluate(UNMARKED, lang)
    if page.locator(".dcpa-graph").count():
        page.wait_for_selector(".dcpa-graph[data-ready='1']", state="attached")
        page.press(".dcpa-search input", "Enter")  # every node listed by name
        for iri in page.evaluate("window.dcpaNetwork.nodes.getIds()"):
            page.evaluate("(id) => window.dcpaNetwork.select(id)", iri)  # its details and its neighbours
            left += page.evaluate(UNMARKED, lang)
    assert not sorted(set(left)), f"{path} ({lang}): read in the wrong voice: {sorted(set(left))}"


def test_the_plan_names_what_it_gives_in_chinese_on_an_english_page(one_language_live: str, page: Any) -> None:
    """The cases above are there to be found: the e-readers named only in Chinese are planned, marked as Chinese."""
    page.goto(one_language_live + "/plan?area=211322&budget=20000&lang=en")
    assert page.locator("td span[lang='zh-CN']", has_text="示例·电子阅读器").count() >= 1
