"""Fixtures of the hardening suite: the API fixture graph in memory and on disk, settings, dumps."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.derived import derive_all
from kg.namespaces import GRAPH_ONTOLOGY
from kg.resources import ontology_graph
from kg.settings import Settings, get_settings
from kg.store import Store

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "api" / "fixture.trig"
TOKEN = "hardening-token-7"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def load_fixture(store: Store) -> Store:
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.inner.load(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
    derive_all(store)
    return store


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store_path": tmp / "store",
        "imports_path": tmp / "imports",
        "sparql_endpoint": None,
        "api_token": TOKEN,
        "as_of": "2020-06-30",  # the fixture's date: need states do not depend on the day the tests run
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def nquads(store: Store) -> bytes:
    """The whole store as sorted N-Quads: equal bytes, equal store."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    return b"\n".join(sorted(buf.getvalue().splitlines()))


def kept_files(imports: Path) -> list[Path]:
    """Everything an import left under the imports directory (lock files aside)."""
    if not imports.exists():
        return []
    return sorted(p for p in imports.rglob("*") if p.is_file() and p.name != ".manifest.lock")


@pytest.fixture(scope="module")
def disk_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An on-disk store with the fixture for `dcpa import`; DCPA_* point at it for the module."""
    root = tmp_path_factory.mktemp("cli")
    s = load_fixture(Store.open(root / "store"))
    s.close()
    del s
    mp = pytest.MonkeyPatch()
    mp.setenv("DCPA_STORE_PATH", str(root / "store"))
    mp.setenv("DCPA_IMPORTS_PATH", str(root / "imports"))
    mp.setenv("DCPA_DEFAULT_USER", "测试员")
    get_settings.cache_clear()
    yield root
    mp.undo()
    get_settings.cache_clear()


def disk_nquads(root: Path) -> bytes:
    gc.collect()  # the CLI's store handle must be gone before the store opens again
    s = Store.open(root / "store", create=False)
    try:
        return nquads(s)
    finally:
        s.close()
