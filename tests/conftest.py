"""Fixtures for every suite: independent SPARQL stores started on loopback for the remote-store tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from kg.engines import Server, oxigraph_server, virtuoso_server


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Virtuoso for the session; a test that writes starts by dropping the project's graphs."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Oxigraph server for the session; a test that writes starts by dropping the project's graphs."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def start_oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Server]]:
    """Start Oxigraph servers of one's own (stopped at the end of the session): for data that must stay put."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(oxigraph_server(tmp_path_factory.mktemp("oxigraph")))


@pytest.fixture(scope="session")
def start_virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Server]]:
    """Start Virtuoso servers of one's own (stopped at the end of the session)."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(virtuoso_server(tmp_path_factory.mktemp("virtuoso")))


def _zh_first(text: str | None, english: str) -> None:
    """``text`` is ``中文 / English``: Chinese before the separator, then the English as it was."""
    assert text, "no text"
    zh, sep, en = text.partition(" / ")
    assert sep and any("\u4e00" <= c <= "\u9fff" for c in zh), f"not Chinese first: {text!r}"
    assert english in en and not any("\u4e00" <= c <= "\u9fff" for c in english), text


def _lines_chinese_first(text: str) -> None:
    """Every line a command printed for its user says it in Chinese: a line without Chinese is the English twin of
    the line before it (the data basis, said in the answer's language, then in the other)."""
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines, "nothing said"
    for i, line in enumerate(lines):
        chinese = any("\u4e00" <= c <= "\u9fff" for c in line)
        assert chinese or (i > 0 and any("\u4e00" <= c <= "\u9fff" for c in lines[i - 1])), \
            f"English alone: {line!r} in\n{text}"


@pytest.fixture(scope="session")
def lines_chinese_first() -> Callable[[str], None]:
    """The check that what a command printed on stderr is said in Chinese, line by line."""
    return _lines_chinese_first


@pytest.fixture(scope="session")
def zh_first() -> Callable[..., None]:
    """The check that a message or hint is ``中文 / English``, its English part the one given (every message a user
    reads is Chinese first; scripts match the English)."""
    return _zh_first
