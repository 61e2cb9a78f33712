"""Record lists (kg.records): pages in IRI order that add up to the total."""

from __future__ import annotations

import pytest

from kg.build import build_into
from kg.records import RECORD_KINDS, list_records
from kg.store import Store


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store.memory()
    build_into(store, example_villages=40, seed=7, workdir=tmp_path_factory.mktemp("build"))
    return store


@pytest.mark.parametrize("path", ["interventions", "libraries"])
def test_pages_walk_every_record_once_in_iri_order(built: Store, path: str) -> None:
    kind = RECORD_KINDS[path]
    every = [str(r["s"]) for r in built.select(
        f"SELECT DISTINCT ?s WHERE {{ ?s a/rdfs:subClassOf* {kind.root} }}")]
    assert len(every) >= 20
    walked: list[str] = []
    for offset in range(0, len(every) + 7, 7):
        page = list_records(built, kind, limit=7, offset=offset)
        assert page.total == len(every)
        walked += [r["iri"] for r in page.items]
    assert walked == sorted(every)


def test_a_page_of_real_records_only(built: Store) -> None:
    kind = RECORD_KINDS["libraries"]
    real = list_records(built, kind, limit=1000, real_only=True)
    assert real.total == len(real.items) > 0 and not any(r["synthetic"] for r in real.items)
    assert real.total < list_records(built, kind, limit=1).total


