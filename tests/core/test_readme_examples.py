"""The README's example links point at places that have something to show in the default build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.build import build_into
from kg.matching import gaps
from kg.namespaces import area
from kg.settings import Settings
from kg.store import Store

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def default_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Settings()
    store = Store.memory()
    build_into(
        store, example_villages=s.example_villages, seed=s.example_seed, workdir=tmp_path_factory.mktemp("build")
    )
    return store


def test_readme_village_example_has_needs_and_gaps(default_store: Store) -> None:
    code = re.search(r"/views/village/(\d{12})", README)
    assert code, "README should link an example village view"
    village = area(code.group(1))
    rows = default_store.select(f"SELECT (COUNT(?n) AS ?c) WHERE {{ ?n dcpa:needOf <{village}> }}")
    assert rows[0]["c"] > 0, f"village {code.group(1)} has no example needs in the default build"


def test_readme_area_example_has_villages_with_needs(default_store: Store) -> None:
    code = re.search(r"/views/area/(\d{6})", README)
    assert code, "README should link an example county view"
    report = gaps(default_store, code.group(1)).to_dict()
    assert report["totals"]["needs"] > 0


def _help_examples() -> dict[str, str]:
    """command → the example line of its --help (``Example: dcpa …``)."""
    from kg.cli import app

    out = {}
    for cmd in app.registered_commands:
        found = re.search(r"Example: (dcpa [^\n]+)", (cmd.callback.__doc__ or "") if cmd.callback else "")
        if found:
            out[(cmd.name or cmd.callback.__name__).replace("_cmd", "")] = found.group(1)  # type: ignore[union-attr]
    return out


def test_the_help_examples_show_something_in_the_default_build(default_store: Store) -> None:
    """`dcpa recommend`, `similar` and `plan --help` point at places with needs, candidates and a plan."""
    from kg.matching import recommend, similar
    from kg.planning import plan, read_budget

    examples = _help_examples()
    village = re.search(r"\d{12}", examples["recommend"]).group(0)  # type: ignore[union-attr]
    assert sum(len(n.candidates) for n in recommend(default_store, village).needs) > 0
    village = re.search(r"\d{12}", examples["similar"]).group(0)  # type: ignore[union-attr]
    assert similar(default_store, village).items
    budget, area_code = re.search(r"--budget (\S+) --area (\d+)", examples["plan"]).groups()  # type: ignore[union-attr]
    made = plan(default_store, read_budget(budget), area_code)  # as dcpa plan reads it (20万)
    assert made.allocations and made.spent > 0


def test_every_catalogue_query_has_rows_with_its_defaults_in_the_default_build(default_store: Store) -> None:
    """A researcher who runs a query as the catalogue offers it sees an answer, not `(no rows)`."""
    from kg.catalogue import answer, load_catalogue

    empty = {name for name in load_catalogue() if not answer(default_store, name).rows}
    assert empty == set(), f"no rows with their defaults: {sorted(empty)}"


def test_the_model_page_of_the_example_county_shows_its_documented_case(default_store: Store) -> None:
    """北票市, the README's county, has a real case in a township of it: the model page lists it with its words
    and its source."""
    from kg.answers.model import model_view

    code = re.search(r"/views/area/(\d{6})", README).group(1)  # type: ignore[union-attr]
    rep = model_view(default_store, code)
    assert rep.cases, f"no documented case in {code}"
    case = rep.cases[0]
    assert case["quote"] and case["seen_at"].startswith("http") and case["confidence"] in ("high", "medium", "low")
    assert case["area"].rsplit("/", 1)[1].startswith(code)


def test_the_viz_help_examples_draw_a_village_with_needs(default_store: Store) -> None:
    """`dcpa viz --help` offered village 211322101200, which has no needs in the default build: a view of one node."""
    import typer.main

    from kg.cli import app

    group = typer.main.get_command(app).commands["viz"]  # type: ignore[attr-defined]
    helps = [group.help or "", *(cmd.help or "" for cmd in group.commands.values())]
    villages = {code for text in helps for code in re.findall(r"dcpa viz village (\d{12})", text)}
    assert villages
    for code in villages:
        rows = default_store.select(f"SELECT (COUNT(?n) AS ?c) WHERE {{ ?n dcpa:needOf <{area(code)}> }}")
        assert rows[0]["c"] > 0, f"`dcpa viz village {code}` draws a village without needs in the default build"
