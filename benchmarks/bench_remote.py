"""The whole system on an external SPARQL store: the embedded store, Oxigraph server and Virtuoso 7, in one run.

    .venv/bin/python -m benchmarks bench_remote --villages 2000
    .venv/bin/python -m benchmarks bench_remote --villages 16727 --engines embedded,oxigraph+gsp,virtuoso+gsp
    .venv/bin/python -m benchmarks bench_remote --from-store var/store --engines embedded,oxigraph+gsp

Each engine gets the same build (``kg.build.build_into``: ontology, reference data, example data with a
fixed seed, the derived graph), loaded through the store contract: the embedded store bulk-loads on disk;
the remote stores (``kg.engines``: another process each, the HTTP protocols only) receive update requests
of ``RemoteStore.batch_bytes``, or with ``+gsp`` Graph Store Protocol ``POST``s of whole graphs' batches.
``--from-store`` loads a copy of an existing embedded store instead of building (a national store takes a
quarter of an hour to build): its quads, streamed, into each remote store; the embedded column is that
store itself, read-only. Then, on each: ``recommend`` for the same sample of villages (median and p95),
``gaps`` of province 21, ``plan`` of one county, and every catalogue query with its defaults (the median
of ``--repeat`` runs). The ratios are against the embedded store, measured in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kg.build import build_into
from kg.catalogue import load_catalogue, run_query
from kg.contract import StoreAPI
from kg.engines import oxigraph_server, virtuoso_server
from kg.errors import DcpaError
from kg.matching import gaps, recommend
from kg.planning import plan
from kg.remote import RemoteStore
from kg.settings import Settings
from kg.store import Store

ENGINES = ("embedded", "oxigraph", "oxigraph+gsp", "virtuoso", "virtuoso+gsp")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


@contextmanager
def engine(name: str, root: Path, source: Path | None, memory_gb: float) -> Iterator[StoreAPI]:
    if name == "embedded":
        store = Store.open(source, read_only=True) if source is not None else Store.open(root / "store")
        try:
            yield store
        finally:
            store.close()
        return
    kind, _, gsp = name.partition("+")
    # Virtuoso with the memory and row cap DEPLOYMENT.md asks for (the test fixture's are minimal).
    start = oxigraph_server(root) if kind == "oxigraph" else virtuoso_server(root, memory_gb=memory_gb,
                                                                             max_rows=100_000_000)
    with start as server:
        remote = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=600,
                             graph_store=server.graph_store_url if gsp else None)
        try:
            yield remote
        finally:
            remote.close()


def load(store: StoreAPI, villages: int, seed: int, source: Path | None) -> None:
    if source is None:
        build_into(store, example_villages=villages, seed=seed)
        return
    copy = Store.open(source, read_only=True)
    try:
        store.bulk_extend(copy.quads())
    finally:
        copy.close()


def measure(store: StoreAPI, villages: int, seed: int, sample: int, repeat: int, settings: Settings,
            source: Path | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if source is not None and not isinstance(store, RemoteStore):
        out["load"] = "(the store itself)"  # the embedded column is the copied store, opened read-only
    else:
        out["load"], _ = timed(lambda: load(store, villages, seed, source))
        store.optimize()
    rows = store.select("SELECT DISTINCT ?c WHERE { ?v a dcpa:Village ; dcpa:areaCode ?c FILTER(STRSTARTS(?c, '21')) "
                        "FILTER EXISTS { ?n dcpa:needOf ?v } }")
    codes = random.Random(seed).sample(sorted(r["c"] for r in rows), min(sample, len(rows)))
    times = [timed(lambda c=c: recommend(store, c, settings=settings))[0] for c in codes]  # type: ignore[misc]
    out["recommend median"] = statistics.median(times)
    out["recommend p95"] = sorted(times)[int(0.95 * (len(times) - 1))]
    out["gaps 21"], _ = timed(lambda: gaps(store, "21", settings=settings))
    county = codes[0][:6]
    out[f"plan {county}"], _ = timed(lambda: plan(store, 100_000, county, settings=settings))
    for name in sorted(load_catalogue()):
        runs = []
        for _ in range(repeat):
            try:
                runs.append(timed(lambda n=name: run_query(store, n, {}))[0])  # type: ignore[misc]
            except DcpaError as e:
                runs = []
                out[f"query {name}"] = f"refused: {e.message[:60]}"
                break
        if runs:
            out[f"query {name}"] = statistics.median(runs)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_remote", description=__doc__.splitlines()[0])
    ap.add_argument("--villages", type=int, default=2000, help="example villages (128000: national scale)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--sample", type=int, default=20, help="villages for recommend")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--from-store", type=Path, default=None,
                    help="load a copy of this embedded store instead of building (e.g. a national one)")
    ap.add_argument("--virtuoso-memory-gb", type=float, default=4.0, help="Virtuoso's page buffers")
    args = ap.parse_args(argv)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    results: dict[str, dict[str, Any]] = {}
    for name in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix="dcpa-bench-remote-") as tmp, \
                engine(name, Path(tmp), args.from_store, args.virtuoso_memory_gb) as store:
            what = f"a copy of {args.from_store}" if args.from_store else f"{args.villages:,} example villages"
            print(f"{name}: loading {what}…", file=sys.stderr)
            results[name] = measure(store, args.villages, args.seed, args.sample, args.repeat, settings,
                                    args.from_store)
            results[name]["quads"] = store.count()
            print(f"{name}: {results[name]}", file=sys.stderr)
    names = list(results)
    base = results.get("embedded")
    scale = f"a copy of {args.from_store}" if args.from_store else f"{args.villages:,} example villages"
    print(f"\n{scale}, {results[names[0]]['quads']:,} quads; seconds (ratio to the embedded store)")
    print("| what | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for key in (k for k in results[names[0]] if k != "quads"):
        cells = []
        for n in names:
            v = results[n].get(key)
            if isinstance(v, float):
                ratio = f" ({v / base[key]:.1f}×)" if base and n != "embedded" and isinstance(base.get(key), float) \
                    and base[key] > 0 else ""
                cells.append(f"{v:.3f}{ratio}")
            else:
                cells.append(str(v))
        print(f"| {key} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
