"""The command line shell: help, version, exit codes, output formats."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from kg import __version__
from kg.cli import app
from kg.cli._app import render_table

runner = CliRunner()


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


@pytest.mark.parametrize("q", ["", "   "])
def test_an_empty_search_is_a_usage_error_not_every_area(q: str) -> None:
    result = runner.invoke(app, ["search", q])
    assert result.exit_code == 2 and "give a name, pinyin or the start of a code" in result.output
