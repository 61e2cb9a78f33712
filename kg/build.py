"""Build the knowledge graph: ontology, reference data, example data, retained imports, derived facts → one store.

A build never touches the store it replaces: it loads everything into a new *version* beside it
(``kg.versions``) with Oxigraph's fast bulk loader, flushes and closes it, marks it complete, and only
then moves the store's pointer to it (one atomic rename). If anything fails or the process is killed on
the way, the pointer still names the old store, and the next build removes the unfinished version.
Processes that have the old version open keep reading it; it is removed once none does.

A build is a writer: it holds the writer lock (``kg.writer``), first settles what interrupted writes
left (``kg.importer.journal.recover``), and while ``dcpa serve`` runs it is the server that builds
(``current`` and ``switch`` below), so that imports cannot land in between.

A build is idempotent: it records a fingerprint of its inputs (ontology files, reference files, the
generator's code and parameters, the retained import files, the package version) in the version's
completion record and does nothing when they have not changed — unless forced, or unless the current
store is missing, damaged, incomplete or of the old single-directory layout.

User imports survive rebuilds because the importer retains every accepted file under
``settings.imports_path`` and ``kg.importer.replay_retained`` loads them again into the new store.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, faults, search, stamp, versions
from .connect import is_remote, open_store
from .contract import StoreAPI
from .derived import derive_all
from .errors import DcpaError, StoreBusy, StoreError, halves
from .importer import replay_retained
from .importer.journal import recover
from .namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE, GRAPH_SYNTHETIC
from .reference import reference_files, reference_ntriples
from .resources import ONTOLOGY_FILE, VOCAB_FILE, ontology_graph
from .settings import Settings
from .stats import graph_counts
from .store import Store, graph_to_ntriples
from .synthetic import GENERATOR_VERSION, generate
from .writer import WriterLock

log = logging.getLogger(__name__)

#: ``progress(step, done, total)``: called as the build advances (the CLI draws a bar from it).
ProgressFn = Callable[[str, int, int], None]
STEPS = ("ontology", "reference", "synthetic", "imports", "derived")
#: The code whose change makes a build's graph another (the rule and what it reads included: a corrected rule
#: must not leave a store "up to date" with the old states).
_CODE_FILES = ("build.py", "reference.py", "synthetic.py", "derived.py", "rule.py", "facts.py")


@dataclass
class BuildReport:
    """What a build did (or why it did nothing)."""

    store_path: str | None
    skipped: bool
    fingerprint: str
    example_villages: int
    seed: int
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI → triples
    seconds: float = 0.0
    imports_replayed: int | None = None  # None: the build was skipped
    notes: list[str] = field(default_factory=list)
    version: str | None = None  # the directory of the version built (None when skipped)

    @property
    def triples(self) -> int:
        return sum(self.graphs.values())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["triples"] = self.triples
        return d


# ---------------------------------------------------------------------------
# Fingerprint
# ---------------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def imports_manifest(imports_path: Path) -> list[tuple[str, int, str]]:
    """(relative path, size, sha256) of every retained import file, sorted."""
    if not imports_path.is_dir():
        return []
    out = []
    for p in sorted(imports_path.rglob("*")):
        if p.is_file():
            out.append((p.relative_to(imports_path).as_posix(), p.stat().st_size, _file_digest(p)))
    return out


def fingerprint(settings: Settings, example_villages: int, seed: int) -> str:
    """A hash of everything a build reads: same fingerprint, same store."""
    here = Path(__file__).resolve().parent
    inputs: dict[str, Any] = {
        "version": __version__,
        "generator": GENERATOR_VERSION,
        "example_villages": example_villages,
        "seed": seed,
        "files": {p.name: _file_digest(p) for p in (ONTOLOGY_FILE, VOCAB_FILE, *reference_files())},
        "code": {name: _file_digest(here / name) for name in _CODE_FILES},
        "imports": imports_manifest(Path(settings.imports_path)),
        # the derived graph is made with them: a store built with other windows would answer with its old states
        "validity": settings.validity_windows(),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _replay_imports(store: StoreAPI, imports_path: Path | None) -> int:
    """Load the retained user imports again."""
    if imports_path is None:
        return 0
    return replay_retained(store, Path(imports_path))


def _load_synthetic(
    store: StoreAPI, villages: int, seed: int, workdir: Path | None, progress: ProgressFn | None
) -> None:
    """Generate the example data and bulk-load it (through a file in ``workdir`` when given)."""

    def tick(done: int, total: int) -> None:
        if progress:
            progress("synthetic", done, total)

    if villages <= 0:
        return
    if workdir is None:
        import io

        buf = io.BytesIO()
        generate(buf, villages=villages, seed=seed, progress=tick)
        store.bulk_load(buf.getvalue(), "nt", GRAPH_SYNTHETIC)
        return
    path = workdir / "synthetic.nt"
    with path.open("wb") as f:
        generate(f, villages=villages, seed=seed, progress=tick)
    store.bulk_load(path, "nt", GRAPH_SYNTHETIC)
    path.unlink()


def build_into(
    store: StoreAPI,
    *,
    example_villages: int,
    seed: int,
    imports_path: Path | None = None,
    progress: ProgressFn | None = None,
    workdir: Path | None = None,
    settings: Settings | None = None,
) -> tuple[dict[str, int], int | None]:
    """Load every part of the graph into ``store`` (which should be empty).

    Returns the triples per named graph and how many retained imports were replayed (``None`` when
    the importer is not available).

    Tests use it with ``Store.memory()``; ``build`` uses it on a fresh directory.
    """

    def step(name: str, done: int = 0, total: int = 1) -> None:
        if progress:
            progress(name, done, total)

    step("ontology")
    store.bulk_load(graph_to_ntriples(ontology_graph()), "nt", str(GRAPH_ONTOLOGY))
    step("ontology", 1)
    step("reference")
    store.bulk_load(reference_ntriples(), "nt", str(GRAPH_REFERENCE))
    step("reference", 1)
    _load_synthetic(store, example_villages, seed, workdir, progress)
    step("imports")
    replayed = _replay_imports(store, imports_path)
    step("imports", 1)
    step("derived")
    derive_all(store, bulk=True, workdir=workdir, settings=settings)  # the build's day and windows, not the process's
    step("derived", 1)
    return graph_counts(store), replayed


def build(
    settings: Settings,
    *,
    example_villages: int | None = None,
    seed: int | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    current: StoreAPI | None = None,
    switch: Callable[[Path], None] | None = None,
) -> BuildReport:
    """Build a new version of the store at ``settings.store_path`` and switch to it (skipped when its
    inputs have not changed and the current store is sound).

    The caller may hold the writer lock (it is re-entrant); otherwise ``StoreBusy`` says who does.
    A server passes its open store as ``current`` (recovery runs on it) and a ``switch`` that moves
    the pointer and reopens; by default ``kg.versions.switch`` just moves the pointer.
    """
    villages = settings.example_villages if example_villages is None else example_villages
    seed = settings.example_seed if seed is None else seed
    if is_remote(settings):
        return build_remote(settings, villages, seed, progress)
    target = versions.pointer(settings.store_path)
    with WriterLock(target, "build"):
        notes = versions.prepare(target)
        if versions.is_old_layout(target):
            raise StoreBusy(
                f"{target} 的存储（旧版 dcpa 建的单个目录）正被另一个进程打开 / "
                f"the store at {target} (a single directory, as older dcpa made it) is open in another process",
                hint="构建要先把它移入按版本存放的布局，这只能在没有进程打开它时进行："
                "请停止读取它的进程（或打开它的服务器）后再构建 / "
                "the build moves it into the versioned layout first, which it can only do while no process "
                "has it open: stop the readers (or the server that opened it) and build again",
            )
        sound = _recover(settings, current, notes)
        fp = fingerprint(settings, villages, seed)
        now = versions.current(target)
        record = versions.completion(now) if now is not None and versions.is_version(now, target) else None
        if not force and sound and record is not None and record.get("fingerprint") == fp:
            log.info("the store at %s is up to date; nothing to build", target)
            versions.collect(target)
            return BuildReport(str(target), True, fp, villages, seed, graphs=dict(record.get("graphs", {})),
                               notes=notes)
        versions.collect(target)  # what killed builds left, before making more
        report = _build_version(settings, target, fp, villages, seed, progress)
        report.notes[:0] = notes
        faults.point("build:completed")
        built = Path(str(report.version))
        if switch is not None:
            switch(built)
        else:
            versions.switch(target, built)
        versions.collect(target)
    return report


def build_remote(settings: Settings, villages: int, seed: int, progress: ProgressFn | None) -> BuildReport:
    """Load the whole graph into the configured remote store, which must hold nothing yet.

    The SPARQL protocols offer no second dataset to load aside and switch to (every named graph is in
    the union that readers query), so a remote build loads an empty store only: in update requests of
    ``RemoteStore.batch_bytes``, and on failure it drops every graph it made, leaving the store empty,
    as it was. To rebuild, empty the store with its own tools first (``docs/DEPLOYMENT.md``).
    """
    started = time.perf_counter()
    fp = fingerprint(settings, villages, seed)
    store = open_store(settings)
    try:
        if store.read_only:
            raise StoreError("远程存储在这里是只读的：无法构建 / "
                             "the remote store is read-only here: it cannot be built",
                             hint="请把 DCPA_SPARQL_UPDATE_ENDPOINT 设为该存储的更新端点 / "
                                  "set DCPA_SPARQL_UPDATE_ENDPOINT to the store's update endpoint")
        held = store.graphs()
        if held:
            raise StoreError(
                f"{settings.sparql_endpoint} 的远程存储已有 {len(held)} 个图；构建只载入空的存储，什么都没有写入 / "
                f"the remote store at {settings.sparql_endpoint} already holds {len(held)} graph(s); "
                "a build loads an empty store only, and nothing was written",
                hint="请用该存储自己的工具清空它（docs/DEPLOYMENT.md），再构建 / "
                     "empty it with the store's own tools (docs/DEPLOYMENT.md), then build again",
            )
        recover(None, settings)  # interrupted writes of an earlier store: their files are settled
        stamp.clear(store)  # services over the store see a build under way (their search index follows it)
        try:
            with tempfile.TemporaryDirectory(prefix="dcpa-build-") as work:
                graphs, replayed = build_into(store, example_villages=villages, seed=seed,
                                              imports_path=Path(settings.imports_path), progress=progress,
                                              workdir=Path(work), settings=settings)
            stamp.write(store, fp)
        except BaseException:
            for g in store.graphs():  # what this build loaded: the store was empty
                store.remove_graph(g)
            raise
    finally:
        store.close()
    return BuildReport(settings.sparql_endpoint, False, fp, villages, seed, graphs, time.perf_counter() - started,
                       replayed)


def _recover(settings: Settings, current: StoreAPI | None, notes: list[str]) -> bool:
    """Settle interrupted writes against the current store; returns whether that store is sound.

    A store that does not open (missing, damaged) cannot say which interrupted writes landed: they
    are rolled back, and the build replaces the store.
    """
    if current is not None:
        recover(current, settings)
        return True
    try:
        store = Store.open(settings.store_path, create=False)
    except StoreBusy:
        raise  # open elsewhere: not ours to judge, nor to rebuild under
    except DcpaError as e:
        recover(None, settings)
        if versions.current(settings.store_path) is not None:  # there is a store, and it is not sound
            zh, en = halves(e.message)
            notes.append(f"重建：{zh} / rebuilding: {en}")
        return False
    try:
        recover(store, settings)
    finally:
        store.close()
    return True


def _build_version(
    settings: Settings, target: Path, fp: str, villages: int, seed: int, progress: ProgressFn | None
) -> BuildReport:
    """Load a new, complete version beside the current one; returns its report (``version`` set)."""
    started = time.perf_counter()
    version = versions.new_version(target)
    try:
        store = Store.open(version)
        try:
            graphs, replayed = build_into(
                store,
                example_villages=villages,
                seed=seed,
                imports_path=Path(settings.imports_path),
                progress=progress,
                workdir=versions.scratch(version),
                settings=settings,
            )
            faults.point("build:loaded")
            if progress:
                progress("optimize", 0, 1)
            # Bulk loads leave many small files; compacting them made national-scale lookups
            # 3–6× faster (recommend median 50 ms → 8–15 ms), for ~2 s at province scale. It also
            # makes the store larger (compaction writes uncompressed files: 859 MB → 1,257 MB at
            # province scale) for recommend 1.6× faster there: docs/PERFORMANCE.md#store-size.
            store.optimize()
            if progress:
                progress("optimize", 1, 1)
                progress("search index", 0, 1)
            search.save(store, version)  # areas change only here: every process of this version loads it
            if progress:
                progress("search index", 1, 1)
            store.flush()
        finally:
            store.close()
        report = BuildReport(str(target), False, fp, villages, seed, graphs, time.perf_counter() - started, replayed,
                             version=str(version))
        versions.mark_complete(version, report.to_dict())
    except OSError as e:
        versions.discard(version)
        raise StoreError(f"构建存储失败，原来的存储没有改变 / "
                         f"building the store failed; the previous store is unchanged: {e}") from e
    except BaseException:
        versions.discard(version)
        raise
    shutil.rmtree(version.parent / f".{version.name}.work", ignore_errors=True)
    return report
