"""`dcpa … --help` as a data steward in a county library reads it: every command's and option's help in Chinese
first, then English (``中文 / English``, as every message), Typer's own frame too, and no word cut at 80 columns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kg.cli import app

runner = CliRunner()
_CJK = re.compile(r"[\u3400-\u9fff]")
_HALVES = re.compile(r"\s/\s")


def _commands(cmd: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    cmd = cmd or typer.main.get_command(app)
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = dict(_commands())


def _chinese_first(text: str) -> bool:
    """Chinese before the first " / ", English after it."""
    parts = _HALVES.split(text, maxsplit=1)
    return len(parts) == 2 and bool(_CJK.search(parts[0])) and bool(re.search(r"[A-Za-z]{3}", parts[1]))


def _flat(text: str) -> str:
    """Text without white space nor the frame Rich draws, so that a help wrapped over lines reads as one."""
    return re.sub(r"[\s│╭╮╰╯─]", "", text)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(("dcpa", *p)))
def test_every_help_is_chinese_first_and_drawn_whole(path: tuple[str, ...]) -> None:
    """The help was English alone (``Build the store from …``, ``Output format: table, json or csv.``), and so was
    the frame (``Usage:``, ``Options``, ``Show this message and exit.``); a Chinese help wider than its column
    lost its end to "…" (Rich breaks lines at spaces only)."""
    cmd = COMMANDS[path]
    summary = (cmd.help or "").split("\n\n")[0]
    assert _chinese_first(summary), summary
    result = runner.invoke(app, [*path, "--help"], terminal_width=80, env={"COLUMNS": "80", "NO_COLOR": ""})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "用法 / Usage:" in out
    assert "选项 / Options" in out
    assert "显示此帮助并退出 / Show" in out
    assert _flat(summary) in _flat(out), f"cut short: {summary!r}"
    helps = [getattr(param, "help", None) or "" for param in cmd.params
             if param.name not in ("install_completion", "show_completion")]  # Typer adds theirs as it draws them
    for help_text in helps:
        assert _chinese_first(help_text), help_text
    # a cell's text is cut with "…" (the options' cells wrap beside their types: not read whole as the summary is)
    summaries = [(sub.help or "").split("\n\n")[0] for sub in getattr(cmd, "commands", {}).values()]
    assert out.count("…") == sum(t.count("…") for t in [cmd.help or "", *helps, *summaries]), out
    if not path:
        assert _flat("为当前 shell 安装命令补全 / Install completion") in _flat(out)
        assert "命令 / Commands" in out


def test_a_mistake_is_drawn_in_a_chinese_first_frame() -> None:
    """The box around a usage mistake was titled "Error" and ended "Try 'dcpa plan --help' for help."."""
    result = runner.invoke(app, ["plan"], terminal_width=80)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert "错误 / Error" in said
    assert "查看帮助 / Try" in said
