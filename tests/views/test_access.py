"""The pages' markup as assistive technology reads it: the language of each part."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .test_data_entry import AUTH, NEED, writer  # noqa: F401 - writer: a fixture

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HAN = re.compile(r"[\u4e00-\u9fff]")
PAGE = {"Accept": "text/html"}  # as a browser asks (/sparql answers a program in Turtle)


class Languages(HTMLParser):
    """Each piece of text with the language it is marked in (the nearest ``lang``), scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if data.strip() and not any(t in ("script", "style") for t, _ in self.open):
            marked = [lang for _, lang in self.open if lang]
            self.texts.append((marked[-1] if marked else "", data.strip()))


def texts(html: str) -> list[tuple[str, str]]:
    p = Languages()
    p.feed(html)
    return p.texts


@pytest.mark.parametrize("path", ["/?lang=en", "/dashboard?area=211322&lang=en",
                                  "/plan?area=211322&budget=20000&lang=en", "/data?lang=en",
                                  "/views/model/211322?lang=en", "/views/area/211322?lang=en",
                                  "/dashboard/search?q=zhuluke&lang=en", "/sparql?lang=en"])
def test_chinese_on_an_english_page_is_marked_chinese(client: TestClient, path: str) -> None:
    """A screen reader reads an English page's Chinese (the language switch's 中文, "example data (示例数据)", a
    village's own name beside its pinyin) with English sounds, or not at all, unless it is marked zh-CN."""
    unmarked = [text for lang, text in texts(client.get(path, headers=PAGE).text) if lang == "en" and HAN.search(text)]
    assert not unmarked, f"{path}: {unmarked}"


@pytest.mark.parametrize("path", ["/", "/dashboard?area=211322", "/plan?area=211322&budget=20000", "/data",
                                  "/views/model/211322", "/views/area/211322", "/sparql"])
def test_english_on_a_chinese_page_is_marked_english(client: TestClient, path: str) -> None:
    """The language switch's "English" and the mark "示例数据 / example data" were read as Chinese."""
    unmarked = [text for lang, text in texts(client.get(path, headers=PAGE).text)
                if lang == "zh-CN" and (text == "English" or "example data" in text)]
    assert not unmarked, f"{path}: {unmarked}"


class Tables(HTMLParser):
    """Each table: its name (caption, aria-label or the text of aria-labelledby's element), its header cells
    (scope and text) and whether each body row has a header cell or the table a header row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.ids: dict[str, str] = {}
        self.open_ids: list[tuple[str, list[str]]] = []
        self.cell: dict[str, Any] | None = None
        self.in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id") and tag not in VOID:
            self.open_ids.append((tag, [a["id"] or "", ""]))
        if tag == "table":
            self.tables.append({"label": a.get("aria-label") or "", "labelledby": a.get("aria-labelledby"),
                                "caption": "", "th": [], "head": False})
        elif tag == "caption" and self.tables:
            self.in_caption = True
        elif tag == "thead" and self.tables:
            self.tables[-1]["head"] = True
        elif tag == "th" and self.tables:
            self.cell = {"scope": a.get("scope"), "text": ""}
            self.tables[-1]["th"].append(self.cell)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self.in_caption = False
        elif tag == "th":
            self.cell = None
        if self.open_ids and self.open_ids[-1][0] == tag:
            ident, text = self.open_ids.pop()[1]
            self.ids[ident] = text

    def handle_data(self, data: str) -> None:
        for _, entry in self.open_ids:
            entry[1] += data
        if self.in_caption:
            self.tables[-1]["caption"] += data
        if self.cell is not None:
            self.cell["text"] += data


TABLE_PAGES = ["/dashboard?area=211322", "/dashboard/village/211322101200", "/dashboard/search?q=朱碌科",
               "/views/model/211322", "/plan?area=211322&budget=20000", "/plan?area=211322&budget=20000&lang=en"]


def assert_tables_named_with_headers(path: str, html: str) -> None:
    p = Tables()
    p.feed(html)
    assert p.tables
    for i, t in enumerate(p.tables):
        name = t["caption"].strip() or t["label"] or " ".join(p.ids.get(x, "") for x in (t["labelledby"] or "").split())
        assert name.strip(), f"{path}: table {i} has no name"
        assert t["th"], f"{path}: table {i} ({name.strip()}) has no header cells"
        assert all(c["text"].strip() for c in t["th"]), f"{path}: table {i} ({name.strip()}) has an empty header"


@pytest.mark.parametrize("path", TABLE_PAGES)
def test_every_table_has_a_name_and_header_cells(client: TestClient, path: str) -> None:
    """A screen reader announces a table by its name and reads each cell with its headers: the model page's
    tables had no header cell at all, and no table said what it was (its heading stood apart, above it)."""
    assert_tables_named_with_headers(path, client.get(path).text)


def test_the_import_history_is_a_named_table_with_a_header_on_every_column(writer: TestClient) -> None:  # noqa: F811
    """The history's last column (the withdraw form) had an empty header."""
    assert writer.post("/api/needs", json=NEED, headers=AUTH).status_code == 201
    assert_tables_named_with_headers("/data", writer.get("/data").text)


class Canvases(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.canvases: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "canvas":
            self.canvases.append(dict(attrs))


@pytest.mark.parametrize("path", ["/dashboard?area=211322", "/dashboard?area=211322&lang=en"])
def test_each_chart_is_an_image_with_a_text_alternative_that_leads_to_its_table(client: TestClient,
                                                                                   path: str) -> None:
    """A chart's canvas had a label but no role, and a screen reader passes over a bare canvas: each chart is
    now an image named by its title, which says the same numbers are in the table below it."""
    p = Canvases()
    p.feed(client.get(path).text)
    assert len(p.canvases) == 3
    below = "数字见下表" if "lang=en" not in path else "the numbers are in the table below"
    for c in p.canvases:
        assert c.get("role") == "img" and below in (c.get("aria-label") or ""), c


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.text = dict(attrs).get("aria-label") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.text is not None:
            self.links.append(self.text.strip())
            self.text = None

    def handle_data(self, data: str) -> None:
        if self.text is not None:
            self.text += data


@pytest.mark.parametrize("path", ["/dashboard/village/211322101200", "/views/model/211322",
                                  "/dashboard/village/211322101200?lang=en", "/views/model/211322?lang=en"])
def test_each_link_says_what_it_leads_to(client: TestClient, path: str) -> None:
    """A link read alone (a screen reader's list of links) said only "JSON": of what?"""
    p = Links()
    p.feed(client.get(path).text)
    bare = [text for text in p.links if text.upper() in {"JSON", "CSV", "XLSX", "TTL", ""}]
    assert not bare, f"{path}: {bare}"


class Navs(HTMLParser):
    """The names of the regions of one kind (``nav``, ``aside``): aria-label, or aria-labelledby's ids."""

    def __init__(self, tag: str = "nav") -> None:
        super().__init__()
        self.tag = tag
        self.names: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            self.names.append(dict(attrs).get("aria-label") or dict(attrs).get("aria-labelledby"))


@pytest.mark.parametrize("path", ["/dashboard?area=211322", "/dashboard/village/211322101200", "/views/model/211322",
                                  "/dashboard/search?q=朱碌科", "/views/area/211322", "/nowhere", "/sparql"])
def test_each_navigation_is_named_apart_from_the_others(client: TestClient, path: str) -> None:
    """A screen reader lists a page's navigation regions by name: the links to other pages were an unnamed one
    beside the named language switch and area levels."""
    p = Navs()
    p.feed(client.get(path, headers=PAGE).text)
    assert p.names and all(p.names) and len(set(p.names)) == len(p.names), f"{path}: {p.names}"


@pytest.mark.parametrize("lang,name", [("zh", "认定日期到"), ("en", "Identified to")])
def test_the_end_of_the_period_is_named_for_what_it_ends(client: TestClient, lang: str, name: str) -> None:
    """The dashboard's end date was labelled only "到" (to): read alone, a date field "to" of nothing."""
    html = client.get(f"/dashboard?area=211322&lang={lang}").text
    field = re.search(r'<input type="date" name="end"[^>]*>', html)
    assert field and f'aria-label="{name}"' in field.group(0)


@pytest.mark.parametrize("path", ["/views/area/211322", "/dashboard/village/211322101200", "/views/ontology?lang=en"])
def test_a_graphs_side_panels_are_named_apart(client: TestClient, path: str) -> None:
    """A graph's two side panels (search with legend, details) were two unnamed complementary regions."""
    p = Navs("aside")
    p.feed(client.get(path).text)
    assert len(p.names) == 2 and all(p.names) and len(set(p.names)) == 2, f"{path}: {p.names}"


def test_the_graphs_keys_are_written_for_every_keyboard_user(client: TestClient) -> None:
    """How to work the graph with keys (arrows pan, +/- zoom, nodes by the search) was an aria-label on a plain
    div: unseen by a sighted keyboard user, and a name a div may not carry. It is now a note on the page, which
    the canvas (a named application once drawn) is described by."""
    html = client.get("/views/area/211322").text
    canvas = re.search(r'<div class="dcpa-canvas"[^>]*>', html)
    assert canvas and "aria-label" not in canvas.group(0) and 'data-label="关系图"' in canvas.group(0)
    note = re.search(r'<p class="dcpa-keys" id="dcpa-graph-keys">([^<]+)</p>', html)
    assert note and "方向键" in note.group(1) and 'data-describedby="dcpa-graph-keys"' in canvas.group(0)
