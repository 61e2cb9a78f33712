"""Fixtures of the one-writer tests: stores on disk, dcpa in subprocesses, and a check that a store
is whole (every batch wholly in or wholly out, the derived graph as a full derivation makes it)."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

import kg.build
from kg.build import build
from kg.derived import derive_all
from kg.importer.journal import GRAPH_JOURNAL, recover
from kg.importer.retain import is_pending, is_withdrawn, orphans, read_manifest
from kg.namespaces import GRAPH_DERIVED, GRAPH_IMPORT_PREFIX, GRAPH_ONTOLOGY, GRAPH_WITHDRAWN_PREFIX
from kg.resources import ontology_graph
from kg.settings import Settings
from kg.store import Store

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "api" / "fixture.trig"
TOKEN = "crash-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HEADER = ["village_code", "need_type", "severity", "people_affected", "source", "identified_on", "surveyor"]
#: A need in the fixture's village 210123203200, which its intervention INT-1 reaches (N22 fits it).
NEED_ROW = ["210123203200", "N22", "3", "40", "survey", "2019-04-01", "张晓梅"]
#: The new version of the fixture's need N-1 (severity 4 → 2), for PUT /api/needs/N-1.
NEED_N1: dict[str, Any] = {
    "village_code": "210123203200",
    "need_type": "N22",
    "severity": 2,
    "people_affected": 120,
    "source": "survey",
    "source_title": "示例·复核调查",
    "identified_on": "2018-05-12",
    "surveyor": "示例·县图书馆",
}


def load_fixture(store: Store) -> Store:
    store.add_graph(str(GRAPH_ONTOLOGY), ontology_graph())
    store.inner.load(path=str(FIXTURE), format=ox.RdfFormat.TRIG)
    derive_all(store)
    return store


@dataclass
class Place:
    """A directory with a store (``store``), its kept imports (``imports``) and the settings for both."""

    root: Path

    @property
    def store_path(self) -> Path:
        return self.root / "store"

    @property
    def imports(self) -> Path:
        return self.root / "imports"

    @property
    def settings(self) -> Settings:
        return Settings(_env_file=None, store_path=self.store_path, imports_path=self.imports,  # type: ignore[call-arg]
                        example_villages=0, api_token=TOKEN)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DCPA_STORE_PATH": str(self.store_path),
            "DCPA_IMPORTS_PATH": str(self.imports),
            "DCPA_EXAMPLE_VILLAGES": "0",
            "DCPA_API_TOKEN": TOKEN,
            "DCPA_DEFAULT_USER": "张三",
            "NO_COLOR": "1",
            **extra,
        }

    def dcpa(self, *args: str, fault: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run ``dcpa ARGS`` in a subprocess (killed at ``fault`` if given; ``extra`` environment variables)."""
        env = {k: v for k, v in os.environ.items() if k not in ("DCPA_FAULT",)}
        env.update(self.env(**({"DCPA_FAULT": fault} if fault else {}), **extra))
        return subprocess.run([sys.executable, "-m", "kg", *args], env=env, cwd=self.root, capture_output=True,
                              text=True, timeout=300)

    def csv(self, name: str, rows: list[list[str]]) -> Path:
        path = self.root / name
        lines = [",".join(HEADER)] + [",".join(r) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
        return path

    def versions(self) -> list[str]:
        root = self.root / "store.versions"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))

    def current(self) -> str:
        return self.store_path.resolve().name


def derived_quads(store: Store) -> set[str]:
    return {str(q) for q in store.inner.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_DERIVED)))}


def fresh_derivation(store: Store) -> set[str]:
    """The derived graph a full derivation makes from the store's other graphs (on a copy)."""
    buf = io.BytesIO()
    store.dump(buf, "nq")
    copy = Store.memory()
    copy.inner.load(buf.getvalue(), format=ox.RdfFormat.N_QUADS)
    derive_all(copy)
    return derived_quads(copy)


def import_batches(store: Store) -> list[str]:
    return sorted(g[len(GRAPH_IMPORT_PREFIX):] for g in store.graphs() if g.startswith(GRAPH_IMPORT_PREFIX))


def whole(place: Place, *, recovering: bool = True) -> tuple[list[str], Any]:
    """Open the store as the next writer (running its recovery unless ``recovering=False``) and check
    that it is whole: every kept batch done and in the store, every batch in the store kept, no
    leftovers, no marker, and the derived graph equal to a fresh full derivation; a withdrawn batch
    out of the store, its withdrawal record in.

    Returns the batch ids and what the recovery did.
    """
    store = Store.open(place.store_path, create=False)
    try:
        done = recover(store, place.settings) if recovering else None
        entries = read_manifest(place.imports)["batches"] if place.imports.is_dir() else []
        assert not [e for e in entries if is_pending(e) or e.get("state")]
        kept = sorted(e["batch_id"] for e in entries if not is_withdrawn(e))
        assert import_batches(store) == kept
        withdrawn = sorted(e["batch_id"] for e in entries if is_withdrawn(e))
        assert sorted(g[len(GRAPH_WITHDRAWN_PREFIX):] for g in store.graphs()
                      if g.startswith(GRAPH_WITHDRAWN_PREFIX)) == withdrawn
        for e in entries:
            for f in e["files"]:
                assert (place.imports / e["batch_id"] / f["stored"]).is_file()
        assert orphans(place.imports) == []
        assert not [g for g in store.graphs() if g.startswith(GRAPH_JOURNAL)]
        assert derived_quads(store) == fresh_derivation(store)
        return kept, done
    finally:
        store.close()


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store directory (the old single-directory layout) holding the API test fixture."""
    path = tmp_path_factory.mktemp("fixture-store") / "store"
    load_fixture(Store.open(path)).close()
    return path


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The place of a store made by ``dcpa build`` (no example data), built once."""
    root = tmp_path_factory.mktemp("built")
    build(Place(root).settings)
    return root


@pytest.fixture()
def place(fixture_store: Path, tmp_path: Path) -> Iterator[Place]:
    """A copy of the fixture store, with no kept imports yet."""
    shutil.copytree(fixture_store, tmp_path / "store")
    yield Place(tmp_path)


@pytest.fixture()
def built(built_store: Path, tmp_path: Path) -> Iterator[Place]:
    """A copy of the built store (its pointer and versions)."""
    for p in built_store.iterdir():
        if p.is_dir() and not p.is_symlink():
            shutil.copytree(p, tmp_path / p.name, symlinks=True)
        else:
            shutil.copy2(p, tmp_path / p.name, follow_symlinks=False)
    yield Place(tmp_path)


@pytest.fixture()
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """Builds that load only the small API fixture (these tests are about versions, not content)."""

    def build_into(store: Store, **_: object) -> tuple[dict[str, int], int]:
        store.bulk_load(FIXTURE, "trig")
        return {"fixture": store.count()}, 0

    monkeypatch.setattr(kg.build, "build_into", build_into)


@contextlib.contextmanager
def writer_lock_held(store_path: Path, who: str = "build") -> Iterator[int]:
    """Another process holding the store's writer lock as ``who``, until the block ends: its pid."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from kg.writer import WriterLock\n"
         f"lock = WriterLock({str(store_path)!r}, {who!r}); assert lock.try_acquire()\n"
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
