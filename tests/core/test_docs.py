"""Docs that cannot drift: every setting, command and catalogue query is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from kg.cli import app
from kg.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"DCPA_{name.upper()}" in README, f"document DCPA_{name.upper()} in README.md's settings table"


def _commands() -> list[str]:
    group = typer.main.get_command(app)
    names = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in subs] if subs else [name]
    return sorted(names)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_in_the_readme(command: str) -> None:
    assert f"dcpa {command}" in README, f"document `dcpa {command}` in README.md"


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example(command: str) -> None:
    """The README: "Every command has `--help` with examples" (`dcpa viz village --help` had none)."""
    group = typer.main.get_command(app)
    cmd = group
    for name in command.split():
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    assert "Example" in (cmd.help or "") and f"dcpa {command}" in (cmd.help or ""), \
        f"give `dcpa {command} --help` an example (Example: dcpa {command} …)"


def test_quick_start_has_the_two_commands() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert "make serve" in quick and "make test" in quick


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_quick_start_names_every_system_package_make_installs() -> None:
    """`make test` installed Virtuoso 7 with apt-get, as root, on a machine the quick start said needed only Python,
    pip, make and Node/npm: every `command -v X || … apt-get install` of the Makefile is named there."""
    quick = " ".join(README.split("## Quick start", 1)[1].split("\nThen open:", 1)[0].split())
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = re.findall(r"command -v (\S+) .*apt-get install", makefile)
    assert {"java", "chromium", "virtuoso-t"} <= set(installs)
    named = {"java": "Java runtime", "chromium": "Chromium", "virtuoso-t": "Virtuoso 7"}
    for program in installs:
        assert named.get(program, program) in quick, f"the quick start does not say `make` installs {program}"
    assert "apt-get" in quick and "root" in quick, "say that these come from apt-get, which needs root"


def _readme_usages() -> list[str]:
    """Every `dcpa …` usage in the first column of the README's command table."""
    section = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `dcpa ")]
    return [usage for first in rows for usage in re.findall(r"`(dcpa [^`]+)`", first)]


@pytest.mark.parametrize("usage", _readme_usages())
def test_every_option_the_command_table_shows_exists(usage: str) -> None:
    """A renamed or dropped option would leave the README showing one that `dcpa` refuses (exit 2)."""
    cmd: Any = typer.main.get_command(app)
    for word in usage.split()[1:]:
        if word not in getattr(cmd, "commands", {}):
            break
        cmd = cmd.commands[word]
    options = {o for p in cmd.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))}
    shown = re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", usage)
    assert shown == [] or set(shown) <= options, f"{usage}: {sorted(set(shown) - options)} not options of it"


def _documented_defaults() -> dict[str, str]:
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return {m.group(1).lower(): m.group(2).strip().strip("`")
            for m in re.finditer(r"^\| `DCPA_([A-Z_]+)` \| ([^|]*) \|", section, re.MULTILINE)}


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_s_documented_default_is_its_default(name: str) -> None:
    """The Settings table's default column is what kg.settings gives when the variable is unset."""
    from kg.settings import PROJECT_ROOT

    documented = _documented_defaults()[name]
    default = Settings.model_fields[name].default
    if default is None:
        assert documented == "–", f"DCPA_{name.upper()} has no default; the README says {documented}"
    elif isinstance(default, Path):
        assert documented == default.relative_to(PROJECT_ROOT).as_posix()
    elif isinstance(default, int | float):
        assert float(documented) == default, f"DCPA_{name.upper()}: README {documented}, settings {default}"
    else:
        assert documented == str(default)
