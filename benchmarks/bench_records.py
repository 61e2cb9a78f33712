"""Benchmark of the record lists and their search (``/api/interventions`` …), served, as users send them.

    python -m benchmarks bench_records                          # a province-scale store built for the run
    python -m benchmarks bench_records --store /tmp/dcpa-national/store

For each kind of record with many (interventions, libraries, resources, evaluations): the first page after the
server starts (what the first request after a write pays: the server keeps each kind's record index until the
next write, ``kg.records.RecordIndex``), later pages deep in the list, ``real_only``, the first search (which
reads the labels) and later searches, words drawn from the records' own labels (seeded). Through HTTP, so that
what the server keeps between requests shows.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

import httpx

from kg.records import RECORD_KINDS, record_index

from .bench_answers import SCALES, open_store, pct
from .bench_api import _free_port, start_server

KINDS = ("interventions", "libraries", "resources", "evaluations")


def words(path: Path, n: int, seed: int) -> dict[str, list[str]]:
    """Per kind, ``n`` search words: two characters of a label of a record drawn at random."""
    from kg.store import Store

    rnd = random.Random(seed)
    store = Store.open(path, read_only=True, create=False)
    try:
        out = {}
        for kind in KINDS:
            texts = [t for t in (record_index(store, RECORD_KINDS[kind]).texts or ()) if t]
            picked = [rnd.choice(texts).split("\n")[0] for _ in range(n)]
            out[kind] = [(lambda s, i: s[i:i + 2])(p, rnd.randrange(max(1, len(p) - 1))) for p in picked]
        return out
    finally:
        store.close()


def served(path: Path, drawn: dict[str, list[str]]) -> None:
    port = _free_port()
    proc = start_server(path, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            def ms(**params: object) -> tuple[float, int]:
                t = time.perf_counter()
                r = client.get(f"/api/{params.pop('kind')}", params=params)  # type: ignore[arg-type]
                r.raise_for_status()
                return 1000 * (time.perf_counter() - t), int(r.json()["total"])

            print(f"{'kind':14} {'records':>8} {'1st page':>9} {'pages med':>10} {'p99':>7} {'real_only':>10} "
                  f"{'1st search':>11} {'search med':>11} {'p99':>7}   (ms, through HTTP)")
            for kind, qs in drawn.items():
                first, total = ms(kind=kind)
                pages = [ms(kind=kind, offset=random.Random(o).randrange(max(1, total)))[0] for o in range(len(qs))]
                real = ms(kind=kind, real_only="true")[0]
                first_search = ms(kind=kind, q=qs[0])[0]
                searches = [ms(kind=kind, q=q)[0] for q in qs[1:]]
                print(f"{kind:14} {total:8,} {first:9.0f} {statistics.median(pages):10.1f} {pct(pages, 0.99):7.1f} "
                      f"{real:10.1f} {first_search:11.0f} {statistics.median(searches):11.1f} "
                      f"{pct(searches, 0.99):7.1f}", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_records", description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=Path, help="an on-disk store (default: build one at province scale)")
    ap.add_argument("--queries", type=int, default=40, help="pages and searches of each kind")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    path = a.store
    if path is None:  # a province-scale store on disk, built for the run
        import tempfile

        path = Path(tempfile.mkdtemp(prefix="dcpa-bench-records-")) / "store"
        open_store("province", SCALES["province"], a.seed, path).close()
    drawn = words(path, a.queries, a.seed)
    print(f"== bench_records: {path}, {a.queries} pages and searches of each kind")
    served(path, drawn)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
