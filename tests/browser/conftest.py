"""A live server over the view fixture, and headless Chromium (Debian's) driven by Playwright.

Every page a test opens records its requests and console errors; ``open_page`` fails the
test if anything left the loopback server or the page logged an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import rdflib

from api.testing import LiveServer
from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY, GRAPH_SYNTHETIC
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

CHROMIUM = Path("/usr/bin/chromium")
#: The date the pages' answers are for (as in tests/views).
AS_OF = date(2020, 6, 30)
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "data" / "views" / "fixture.ttl"
ARTIFACTS = ROOT / "_artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason="/usr/bin/chromium is missing (run `make chromium`)"))


@pytest.fixture(scope="session")
def view_store() -> Store:
    return view_store_graph()


def view_store_graph() -> Store:
    """A new in-memory store with the ontology and the view fixture, derived as a build does."""
    store = Store.memory()
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.add_graph(str(GRAPH_SYNTHETIC), rdflib.Graph().parse(FIXTURE, format="turtle"))
    derive_all(store, as_of=AS_OF)  # as a build does
    return store


@pytest.fixture(scope="session")
def live(view_store: Store) -> Iterator[str]:
    from api.app import create_app

    settings = Settings(_env_file=None, api_token=None, sparql_endpoint=None, as_of=AS_OF)  # type: ignore[call-arg]
    server = LiveServer(create_app(settings, view_store))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Watched:
    """A page with everything it requested, logged as an error, or tried to pop up."""

    page: Any
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def check(self, allowed: tuple[str, ...]) -> None:
        outside = [u for u in self.requests if not u.startswith(allowed)]
        assert not outside, f"requests left the server: {outside}"
        assert not self.errors, f"console errors: {self.errors}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def open_page(browser: Any, live: str) -> Iterator[Callable[..., Watched]]:
    """Open a URL (relative to the live server, or a file:// URL) and watch it."""
    contexts: list[Any] = []

    def _open(
        url: str, *, wait: str | None = ".dcpa-graph[data-ready='1']", width: int = 1400, height: int = 900
    ) -> Watched:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(ctx)
        page = ctx.new_page()
        w = Watched(page)
        page.on("request", lambda r: w.requests.append(r.url))
        page.on("console", lambda m: w.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: w.errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            w.dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        full = url if url.startswith("file://") else live + url
        page.goto(full, wait_until="load")
        if wait:
            page.wait_for_selector(wait, state="attached", timeout=15000)
        return w

    yield _open
    for ctx in contexts:
        ctx.close()
