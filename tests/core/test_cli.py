"""The command line shell: help, version, exit codes, output formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kg import __version__
from kg.cli import app
from kg.cli._app import render_table

runner = CliRunner()


def _said(output: str) -> str:
    """What a command said, out of typer's error box: its lines joined, the box's frame and padding gone."""
    return " ".join(" ".join(line.strip(" │╭╮╰╯─") for line in output.splitlines()).split())


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"dcpa {__version__}"


def test_help_leads_with_examples() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Examples" in result.output
    assert "ontology" in result.output


def test_python_dash_m_kg_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kg", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == f"dcpa {__version__}"


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["no-such-command"])
    assert result.exit_code == 2


def test_ontology_show_prints_turtle_with_chinese() -> None:
    result = runner.invoke(app, ["ontology", "show", "--format", "ttl"])
    assert result.exit_code == 0
    assert "需求类型" in result.output
    assert "owl:Ontology" in result.output


def test_table_aligns_chinese_columns() -> None:
    text = render_table([{"name": "水源地社区", "n": 1}, {"name": "ab", "n": 22}], ["name", "n"])
    lines = text.splitlines()
    # "水源地社区" is 5 characters but 10 terminal columns wide: the second column lines up.
    assert lines[2] == "水源地社区  1"
    assert lines[3] == "ab          22"
    assert json.dumps({"x": "水"}, ensure_ascii=False) == '{"x": "水"}'


@pytest.mark.parametrize("q", ["", "   ", "\u200b", "，"])  # a zero-width space or a comma pasted alone, too
def test_an_empty_search_is_a_usage_error_not_every_area(q: str) -> None:
    result = runner.invoke(app, ["search", q])
    assert result.exit_code == 2 and "give a name, pinyin or the start of a code" in _said(result.output)


def _with_lang(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command (its path of names) that has a --lang option, in the command groups under ``group``."""
    found: list[tuple[str, ...]] = []
    for name, cmd in group.commands.items():
        if hasattr(cmd, "commands"):  # a group (typer's own click, not the click package)
            found += _with_lang(cmd, (*path, name))
        elif any("--lang" in getattr(p, "opts", ()) for p in cmd.params):
            found.append((*path, name))
    return found


def test_every_lang_option_takes_zh_or_en_and_refuses_anything_else() -> None:
    """`dcpa gaps --lang fr` answered in Chinese, exit 0; the README says a wrong option value exits 2."""
    commands = _with_lang(typer.main.get_command(app))
    assert {"recommend", "gaps", "plan", "similar"} <= {c[-1] for c in commands} and ("ontology", "docs") in commands
    for path in commands:  # --lang first: checked before any other parameter, so none is needed
        result = runner.invoke(app, [*path, "--lang", "fr"])
        assert result.exit_code == 2, (path, result.output)
        assert "unknown language 'fr'; use zh or en" in _said(result.output), path


#: a command called wrongly (no store needed to refuse it) → the English its refusal keeps after the Chinese
USAGE_MISTAKES = {
    ("derive", "--as-of", "2020-02-30"): "--as-of '2020-02-30' is not a date YYYY-MM-DD",
    ("export", "--format", "xml"): "unknown format 'xml'; use one of: nq, trig",
    ("template", "--format", "pdf"): "unknown format 'pdf'; use xlsx or csv",
    ("template", "--kind", "needz"): "unknown kind 'needz'; use one of needs",
    ("ontology", "show", "--format", "owl"): "unknown format 'owl'; use one of ttl",
    ("ontology", "docs", "-o", "x.html", "--lang", "fr"): "unknown language 'fr'; use zh or en",
    ("query", "--list", "--format", "xml"): "unknown format 'xml'; use table, json or csv",
    ("search", " "): "give a name, pinyin or the start of a code to search for",
}


@pytest.mark.parametrize("args", USAGE_MISTAKES, ids=" ".join)
def test_a_usage_mistake_is_said_chinese_first(args: tuple[str, ...], zh_first: Any) -> None:
    """`dcpa derive --as-of 2020-02-30`, `dcpa export --format xml`… were refused in English alone."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    said = _said(result.output)
    zh_first(said[said.index(":") + 1:].strip() if said.startswith("Invalid value") else said,
             USAGE_MISTAKES[args])


@pytest.mark.parametrize("name,value,english", [
    ("DCPA_AS_OF", "2020-13-01", "DCPA_AS_OF ('2020-13-01')"),
    ("DCPA_PORT", "eighty", "DCPA_PORT ('eighty')"),
    ("DCPA_VALIDITY_MONTHS", "C1=two", "DCPA_VALIDITY_MONTHS ('C1=two')"),
    ("DCPA_VALIDITY_MONTHS", "C9=12", "unknown category in validity windows: C9"),
])
def test_a_wrong_setting_is_named_and_exits_2(tmp_path: Path, name: str, value: str, english: str,
                                             zh_first: Any) -> None:
    """A mistyped DCPA_AS_OF or DCPA_PORT printed a Python traceback and exited 1 (invalid data), a mistyped
    DCPA_VALIDITY_MONTHS was taken without a word; kg.errors says a bad setting is a ConfigurationError, exit 2."""
    env = {**os.environ, "DCPA_STORE_PATH": str(tmp_path / "store"), name: value}
    out = subprocess.run([sys.executable, "-m", "kg", "stats"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    message, hint = out.stderr.splitlines()[:2]
    zh_first(message, english)
    zh_first(hint, "correct or unset")
    assert message.startswith("错误：") and " / error: " in message  # the labels too, each in its half
    assert hint.startswith("提示：") and " / hint: " in hint


def test_csv_sent_to_a_file_by_a_command_without_o_is_not_told_to_use_o(tmp_path: Path) -> None:
    """`dcpa history --format csv > history.csv` was told to write it with -o FILE.csv instead, an option
    history does not take ("No such option: -o"); only the commands that take -o say so."""
    env = {**os.environ, "DCPA_STORE_PATH": str(tmp_path / "store"), "DCPA_IMPORTS_PATH": str(tmp_path / "imports")}
    with (tmp_path / "history.csv").open("w", encoding="utf-8") as f:
        out = subprocess.run([sys.executable, "-m", "kg", "history", "--format", "csv"], stdout=f,
                             stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "history.csv").read_text(encoding="utf-8").startswith("batch,time,user")
    assert "-o" not in out.stderr and "no imports yet" in out.stderr


#: a mistake Click finds before a command runs → the English Click says it in, kept after the Chinese
CLICK_MISTAKES = {
    ("plan",): ("缺少选项 '--budget'", "Missing option '--budget'."),
    ("query", "needs_by_type", "--limit", "abc"): ("'--limit' 的值无效", "Invalid value for '--limit': "),
    ("plan", "--budgt", "3"): ("没有选项 --budgt", "No such option: --budgt"),
    ("gaps", "--min-severity", "9"): ("'--min-severity' 的值无效", "Invalid value for '--min-severity'"),
    ("nosuch",): ("没有命令 'nosuch'", "No such command 'nosuch'."),
    ("derive", "--as-of", "2020-02-30"): ("值无效：--as-of '2020-02-30' 不是 YYYY-MM-DD 格式的日期",
                                          "Invalid value: --as-of '2020-02-30' is not a date YYYY-MM-DD"),
}


@pytest.mark.parametrize("args", CLICK_MISTAKES, ids=" ".join)
def test_a_mistake_click_finds_is_said_chinese_first(args: tuple[str, ...], zh_first: Any) -> None:
    """`dcpa plan` without --budget said "Missing option '--budget'." alone, `--budget abc` "Invalid value for
    '--budget': …", an unknown option or command the same; a message of ours came after Click's English
    ("Invalid value: --as-of … 不是 … / …")."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    said = _said(result.output).partition(" Error ")[2]
    chinese, english = CLICK_MISTAKES[args]
    assert said.startswith(chinese), said
    zh_first(said, english)
