"""The pages' markup as assistive technology reads it: the language of each part."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

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
