"""Benchmark of area search (``kg.search``) at province and national scale.

    python -m benchmarks bench_search --scale province
    python -m benchmarks bench_search --scale national --store /tmp/dcpa-national/store

The queries are what planners type, drawn from the store's own areas (seeded): a whole short name
(新民村), two characters of a name, one character, pinyin in full and by initials, a code prefix of
a county and of a township, and a name narrowed by its county. For each: the median and p99 of
``kg.search.search`` and of ``search_villages`` (what ``/api/villages?q=`` runs: the search plus the
poverty status of the page of hits). Also: making the index from the store, and loading the saved one.
With ``--store`` (an on-disk store), the same queries again through a server (``dcpa serve``), as users
send them: ``/api/areas?q=`` and ``/api/villages?q=``. In one process search took 0.3 ms while the served
search took 1.9-2.3 s at national scale (each query worker loaded the index again): only this shows it.

Target (issue 14): median under 10 ms and p99 under 50 ms at national scale (128,000 villages).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from kg import search as ks
from kg.answers.villages import search_villages
from kg.store import Store

from .bench_answers import SCALES, open_store, pct
from .bench_api import _free_port, start_server


def queries(ix: ks.Index, n: int, seed: int) -> dict[str, list[str]]:
    rnd = random.Random(seed)
    # queries are drawn from the villages with Chinese names: at national scale most villages are the
    # benchmark's fictitious areas, named "Example: fictitious area <code>"
    villages = [p for p in ix.places if p.level == ks.AreaLevel.village and p.pinyin]
    counties = [p for p in ix.places if p.level == ks.AreaLevel.county]
    towns = [p for p in ix.places if p.level == ks.AreaLevel.township]
    picked = [rnd.choice(villages) for _ in range(n)]
    spelled = [ks.readings(p.short) for p in picked]

    def part(name: str, k: int) -> str:
        i = rnd.randrange(max(1, len(name) - k + 1))
        return name[i: i + k]

    return {
        "whole name (新民村)": [p.short for p in picked],
        "two characters": [part(p.short, 2) for p in picked],
        "one character": [part(p.short, 1) for p in picked],
        "pinyin, full": [full[0] for _, full, _ in spelled],
        "pinyin, initials": [ini[0] for _, _, ini in spelled],
        "code prefix, county": [rnd.choice(counties).code for _ in range(n)],
        "code prefix, township": [rnd.choice(towns).code for _ in range(n)],
        "name narrowed by county (新民 沈北)": [
            f"{p.short} {ix.within(ix.id_of[p.code])[2].short[:2]}" for p in picked[: max(5, n // 5)]],
    }


def run(store: Store, scale: str, n: int, seed: int) -> dict[str, list[str]]:
    t = time.perf_counter()
    made = ks.Index(ks._make_entries(store))
    make_s = time.perf_counter() - t
    ks._on_disk.clear()
    ks.index_of(store)  # saves the index when the store's version has none (or an older format)
    ks._on_disk.clear()
    t = time.perf_counter()
    ix = ks.index_of(store)  # what a process that opens the store pays at its first search
    load_s = time.perf_counter() - t
    print(f"\n== {scale}: {len(made):,} areas ({sum(p.level == ks.AreaLevel.village for p in made.places):,} "
          f"village-level, {sum(bool(p.pinyin) for p in made.places):,} with Chinese names); making the index "
          f"{make_s:.1f} s, loading it {load_s:.2f} s")
    print(f"{'query':40} {'search med':>10} {'p99':>8} {'villages med':>13} {'p99':>8}  (ms, {n} queries each)")
    qsets = queries(ix, n, seed)
    _table(qsets, lambda q: ks.search(store, q, limit=20), lambda q: search_villages(store, q, limit=20))
    return qsets


def _table(qsets: dict[str, list[str]], first: Callable[[str], Any], second: Callable[[str], Any]) -> None:
    """Each query of each kind timed through ``first`` and ``second``: median and p99 per kind and overall."""
    every: list[float] = []
    both: list[float] = []
    for kind, qs in qsets.items():
        a_t: list[float] = []
        b_t: list[float] = []
        for q in qs:
            for fn, times in ((first, a_t), (second, b_t)):
                t = time.perf_counter()
                fn(q)
                times.append((time.perf_counter() - t) * 1000)
        every += a_t
        both += b_t
        print(f"{kind:40} {statistics.median(a_t):10.2f} {pct(a_t, 0.99):8.2f} {statistics.median(b_t):13.2f} "
              f"{pct(b_t, 0.99):8.2f}")
    print(f"{'all':40} {statistics.median(every):10.2f} {pct(every, 0.99):8.2f} {statistics.median(both):13.2f} "
          f"{pct(both, 0.99):8.2f}")


def served(path: Path, qsets: dict[str, list[str]]) -> None:
    """The same queries through a server over the store at ``path`` (which no other process may have open)."""
    port = _free_port()
    t = time.perf_counter()
    proc = start_server(path, port)
    print(f"\n== served ({path}): server up in {time.perf_counter() - t:.1f} s")
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            t = time.perf_counter()
            client.get("/api/areas", params={"q": "新民"}).raise_for_status()
            print(f"first search {1000 * (time.perf_counter() - t):.1f} ms")
            print(f"{'query':40} {'areas med':>10} {'p99':>8} {'villages med':>13} {'p99':>8}  (ms, through HTTP)")
            _table(qsets, lambda q: client.get("/api/areas", params={"q": q, "limit": 20}).raise_for_status(),
                   lambda q: client.get("/api/villages", params={"q": q, "limit": 20}).raise_for_status())
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_search", description=__doc__.split("\n")[0])
    ap.add_argument("--scale", choices=["province", "national", "both"], default="province")
    ap.add_argument("--queries", type=int, default=200, help="queries of each kind")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--store", type=Path, help="on-disk store to build into or reuse (national)")
    a = ap.parse_args(argv)
    for scale in (["province", "national"] if a.scale == "both" else [a.scale]):
        path = a.store if scale == "national" else None
        store = open_store(scale, SCALES[scale], a.seed, path)
        try:
            qsets = run(store, scale, a.queries, a.seed)
        finally:
            store.close()
        if path is not None:
            served(path, qsets)
    print("target (national): median < 10 ms, p99 < 50 ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
