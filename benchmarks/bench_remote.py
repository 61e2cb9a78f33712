"""The whole system on an external SPARQL store: the embedded store, Oxigraph server and Virtuoso 7, in one run.

    .venv/bin/python -m benchmarks bench_remote --villages 2000
    .venv/bin/python -m benchmarks bench_remote --villages 128000 --engines embedded,oxigraph

Each engine gets the same build (``kg.build.build_into``: ontology, reference data, example data with a
fixed seed, the derived graph), loaded through the store contract: the embedded store bulk-loads on disk;
the remote stores (``kg.engines``: another process each, the HTTP protocols only) receive update requests
of ``RemoteStore.batch_bytes``. Then, on each: ``recommend`` for the same sample of villages (median and
p95), ``gaps`` of province 21, ``plan`` of one county, and every catalogue query with its defaults (the
median of ``--repeat`` runs). The ratios are against the embedded store, measured in the same run.
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

ENGINES = ("embedded", "oxigraph", "virtuoso")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


@contextmanager
def engine(name: str, root: Path) -> Iterator[StoreAPI]:
    if name == "embedded":
        store = Store.open(root / "store")
        try:
            yield store
        finally:
            store.close()
        return
    start = oxigraph_server if name == "oxigraph" else virtuoso_server
    with start(root) as server:
        remote = RemoteStore(server.query_url, update_endpoint=server.update_url, timeout=600)
        try:
            yield remote
        finally:
            remote.close()


def measure(store: StoreAPI, villages: int, seed: int, sample: int, repeat: int, settings: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["load"], _ = timed(lambda: build_into(store, example_villages=villages, seed=seed))
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
    args = ap.parse_args(argv)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    results: dict[str, dict[str, Any]] = {}
    for name in args.engines.split(","):
        with tempfile.TemporaryDirectory(prefix=f"dcpa-bench-{name}-") as tmp, engine(name, Path(tmp)) as store:
            print(f"{name}: building {args.villages:,} example villages…", file=sys.stderr)
            results[name] = measure(store, args.villages, args.seed, args.sample, args.repeat, settings)
            results[name]["quads"] = store.count()
    names = list(results)
    base = results.get("embedded")
    print(f"\n{args.villages:,} example villages, {results[names[0]]['quads']:,} quads; seconds "
          f"(ratio to the embedded store)")
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
