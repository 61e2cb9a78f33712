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
