"""API benchmark: requests/s and median/p99 latency of the service on loopback, against the library.

    python -m benchmarks bench_api                       # builds a province-scale store in a temp dir
    python -m benchmarks bench_api --store var/store     # an existing store (not in use by a server)
    python -m benchmarks bench_api --requests 200 --concurrency 1 32

Two calls, each with 1 and with 32 concurrent clients (httpx, async):
  * ``GET /api/villages/{code}/recommendations`` — against ``kg.matching.recommend`` directly;
  * the catalogue query ``needs_of_village`` sent as text to ``/sparql`` — against ``Store.select``
    of the same text.
The server runs in its own process (so client and server do not share a GIL); the library figures use
threads in this process. Every loop is bounded by ``--requests`` and ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PROVINCE_VILLAGES = 16_727
CATALOGUE_QUERY = "needs_of_village"


def _stats(latencies: list[float], wall: float) -> dict[str, float]:
    lat = sorted(latencies)
    p99 = statistics.quantiles(lat, n=100)[98] if len(lat) >= 2 else lat[0]
    return {
        "requests": len(lat),
        "rps": round(len(lat) / wall, 1) if wall else 0.0,
        "median_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
    }


def catalogue_text(village_iri: str) -> str:
    """The catalogue query's text with its parameters written in, as a SPARQL client would send it."""
    from api.sparql import inline_parameters
    from kg.catalogue import get_query
    from kg.namespaces import sparql_prefixes

    text = get_query(CATALOGUE_QUERY).text
    return sparql_prefixes() + inline_parameters(text, {"village": f"<{village_iri}>", "lang": '"zh"',
                                                          "real_only": "false"})


# -- library --------------------------------------------------------------------


def bench_library(fn: Callable[[int], Any], n: int, concurrency: int, max_seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + max_seconds

    def one(i: int) -> None:
        if time.perf_counter() > stop_at:
            return
        t = time.perf_counter()
        fn(i)
        latencies.append(time.perf_counter() - t)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one, range(n)))
    return _stats(latencies, time.perf_counter() - start)


# -- HTTP -----------------------------------------------------------------------


async def _bench_http(
    base: str, make: Callable[[int], tuple[str, str, dict[str, Any]]], n: int, concurrency: int, max_seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + max_seconds
    sem = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(i: int) -> None:
            nonlocal errors
            async with sem:
                if time.perf_counter() > stop_at:
                    return
                method, url, kwargs = make(i)
                t = time.perf_counter()
                r = await client.request(method, url, **kwargs)
                await r.aread()
                latencies.append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - start
    out = _stats(latencies, wall)
    out["errors"] = errors
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(store_path: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DCPA_STORE_PATH": str(store_path),
        "DCPA_SPARQL_ENDPOINT": "",
        "DCPA_MAX_ROWS": "100000",
        "DCPA_QUERY_TIMEOUT": "60",
    }
    code = (
        "import uvicorn; from api.app import create_app; from kg.settings import Settings; "
        f"uvicorn.run(create_app(Settings(_env_file=None)), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("the API server did not start")


# -- main -----------------------------------------------------------------------


def ensure_store(store: Path | None, workdir: Path) -> Path:
    if store is not None:
        return store
    from kg.build import build
    from kg.settings import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        store_path=workdir / "store",
        imports_path=workdir / "imports",
        example_villages=PROVINCE_VILLAGES,
    )
    print(f"building a province-scale store ({PROVINCE_VILLAGES} villages) in {workdir} …", file=sys.stderr)
    build(settings)
    return settings.store_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks bench_api", description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, help="an existing store (default: build one at province scale)")
    parser.add_argument("--requests", type=int, default=300, help="requests per measurement (default 300)")
    parser.add_argument("--villages", type=int, default=50, help="distinct villages to cycle through")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time cap of each measurement")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    from kg.matching import recommend
    from kg.store import Store

    with tempfile.TemporaryDirectory(prefix="dcpa-bench-api-") as tmp:
        store_path = ensure_store(args.store, Path(tmp))
        results: dict[str, Any] = {"store": str(store_path), "requests": args.requests}

        store = Store.open(store_path)
        rows = store.select(
            "SELECT DISTINCT ?v ?code WHERE { ?n dcpa:needOf ?v . ?v dcpa:areaCode ?code } "
            f"ORDER BY ?code LIMIT {args.villages}"
        )
        codes = [r["code"] for r in rows]
        iris = [r["v"] for r in rows]
        if not codes:
            print("the store has no needs: nothing to benchmark", file=sys.stderr)
            return 2
        texts = [catalogue_text(i) for i in iris]
        results["quads"] = store.count()
        for c in args.concurrency:
            results[f"library recommend c={c}"] = bench_library(
                lambda i: recommend(store, codes[i % len(codes)], limit=10), args.requests, c, args.max_seconds
            )
            results[f"library sparql c={c}"] = bench_library(
                lambda i: store.select(texts[i % len(texts)]), args.requests, c, args.max_seconds
            )
        store.close()

        port = _free_port()
        proc = start_server(store_path, port)
        try:
            base = f"http://127.0.0.1:{port}"

            def rec(i: int) -> tuple[str, str, dict[str, Any]]:
                return "GET", f"/api/villages/{codes[i % len(codes)]}/recommendations", {}

            def sparql(i: int) -> tuple[str, str, dict[str, Any]]:
                return (
                    "POST",
                    "/sparql",
                    {
                        "data": {"query": texts[i % len(texts)]},
                        "headers": {"Accept": "application/sparql-results+json"},
                    },
                )

            for c in args.concurrency:
                results[f"http recommend c={c}"] = asyncio.run(
                    _bench_http(base, rec, args.requests, c, args.max_seconds)
                )
                results[f"http sparql c={c}"] = asyncio.run(
                    _bench_http(base, sparql, args.requests, c, args.max_seconds)
                )
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(f"{'measurement':28} {'n':>5} {'req/s':>9} {'median ms':>10} {'p99 ms':>9} {'overhead':>9}")
    for key, r in results.items():
        if not isinstance(r, dict):
            continue
        overhead = ""
        if key.startswith("http "):
            lib = results.get("library " + key[5:])
            if lib and lib["median_ms"]:
                overhead = f"{r['median_ms'] / lib['median_ms']:.2f}x"
                r["overhead_median"] = round(r["median_ms"] / lib["median_ms"], 2)
        print(f"{key:28} {r['requests']:>5} {r['rps']:>9} {r['median_ms']:>10} {r['p99_ms']:>9} {overhead:>9}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
