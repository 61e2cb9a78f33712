"""Every page works under the Content-Security-Policy, and the policy really stops injected script."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Watched

pytestmark = pytest.mark.browser

#: Records every CSP violation of a page (an init script runs outside the page's CSP).
RECORD_VIOLATIONS = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline')));"
)

#: page → an element that exists only once its scripts have run.
PAGES = {
    "/docs": "#swagger-ui .opblock",  # Swagger UI rendered the operations from /openapi.json
    "/sparql": ".yasqe .CodeMirror",  # YASGUI's editor
    "/ontology.html": "main, body",
    "/dashboard": "body[data-charts-ready='1']",
    "/views/village/211322101200": ".dcpa-graph[data-ready='1']",
    "/dashboard/village/211322101200": ".dcpa-graph[data-ready='1']",
    "/data": "body[data-entry-ready='1']",
    "/": "#dcpa-home-needs",
    "/plan?area=211322&budget=20000": "body[data-print-ready='1']",
}


@pytest.fixture
def csp_page(open_page: Callable[..., Watched]) -> Callable[[str], Watched]:
    def _open_with_recorder(path: str) -> Watched:
        w = open_page("/health", wait=None)  # a context to hang the recorder on before the page loads
        w.page.add_init_script(RECORD_VIOLATIONS)
        w.page.goto(w.page.url.split("/health")[0] + path, wait_until="load")
        w.page.wait_for_selector(PAGES[path], state="attached", timeout=15000)
        return w

    return _open_with_recorder


@pytest.mark.parametrize("path", list(PAGES))
def test_page_runs_without_a_single_csp_violation(csp_page: Callable[[str], Watched], path: str) -> None:
    w = csp_page(path)
    assert w.page.evaluate("window.__csp") == []
    csp_errors = [e for e in w.errors if "Content Security Policy" in e]
    assert csp_errors == []


def test_the_policy_blocks_an_injected_inline_script(csp_page: Callable[[str], Watched]) -> None:
    w = csp_page("/views/village/211322101200")
    ran = w.page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.__injected = 1';"
        " document.body.appendChild(s); return window.__injected === 1; }"
    )
    assert ran is False
    w.page.wait_for_function("window.__csp.length > 0")
    assert w.page.evaluate("window.__csp")[0].startswith("script-src")
