"""API benchmark: requests/s and median/p99 latency of the service on loopback, against the library.

    python -m benchmarks bench_api                       # builds a province-scale store in a temp dir
    python -m benchmarks bench_api --store var/store     # an existing store (not in use by a server)
    python -m benchmarks bench_api --requests 200 --concurrency 1 32
    python -m benchmarks bench_api --store var/store --soak 300   # also a 5-minute soak of 32 clients

Two calls, each with 1 and with 32 concurrent clients (httpx, async):
  * ``GET /api/villages/{code}/recommendations`` — against ``kg.matching.recommend`` directly;
  * the catalogue query ``needs_of_village`` sent as text to ``/sparql`` — against ``Store.select``
    of the same text.
Then the query workers (``kg.workers``) with a point lookup (the needs of one village: ``lookup``): its
bare cost in a worker process instead of in this one, a worker's start and its reopen after a write,
and the lookup over HTTP, alone and while ``--hostile`` (default 4) queries that never end keep
workers busy. ``--soak S`` adds a run of
32 clients for S seconds with the server's memory (server + workers) sampled every second.
The server runs in its own process (``dcpa serve``, so client and server do not share a GIL); the
library figures use threads in this process. Every loop is bounded by ``--requests`` and ``--max-seconds``.
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


def _progress(what: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {what}", file=sys.stderr, flush=True)


def _stats(latencies: list[float], wall: float) -> dict[str, float]:
    lat = sorted(latencies)
    if not lat:  # nothing answered in time
        return {"requests": 0, "rps": 0.0, "median_ms": 0.0, "p99_ms": 0.0}
    p99 = statistics.quantiles(lat, n=100)[98] if len(lat) >= 2 else lat[0]
    return {
        "requests": len(lat),
        "rps": round(len(lat) / wall, 1) if wall else 0.0,
        "median_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
    }


def catalogue_text(village_iri: str) -> str:
    """The catalogue query's text with its parameters written in, as a SPARQL client would send it."""
    from kg.catalogue import get_query
    from kg.inline import inline
    from kg.namespaces import sparql_prefixes

    text = get_query(CATALOGUE_QUERY).text
    return sparql_prefixes() + inline(text, {"village": f"<{village_iri}>", "lang": '"zh"',
                                                          "real_only": "false"})


def lookup_text(village_iri: str) -> str:
    """A point lookup (the needs of one village, with type and severity): the cheap query that must
    stay fast whatever else runs."""
    from kg.namespaces import sparql_prefixes

    return sparql_prefixes() + (
        f"SELECT ?need ?type ?severity WHERE {{ ?need dcpa:needOf <{village_iri}> ; dcpa:needType ?type ; "
        "dcpa:severity ?severity } ORDER BY ?need"
    )


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
                try:
                    r = await client.request(method, url, **kwargs)
                    await r.aread()
                except httpx.HTTPError:  # e.g. a client timeout: counted, the run goes on
                    errors += 1
                    return
                latencies.append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - start
    out = _stats(latencies, wall)
    out["errors"] = errors
    return out


async def _clients(
    base: str, make: Callable[[int], tuple[str, str, dict[str, Any]]], clients: int, seconds: float
) -> dict[str, float]:
    """``clients`` clients, each sending one request after another for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    end = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def loop(i: int) -> None:
            nonlocal errors
            while time.monotonic() < end:
                method, url, kwargs = make(i)
                i += clients
                t = time.perf_counter()
                try:
                    r = await client.request(method, url, **kwargs)
                    await r.aread()
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t)
                errors += r.status_code >= 400

        start = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(clients)))
        wall = time.perf_counter() - start
    out = _stats(latencies, wall)
    out["errors"] = errors
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _die_with_us() -> None:
    """In the server's process before it runs: end it if this benchmark dies (even by SIGKILL)."""
    from kg.workers import die_with_parent

    die_with_parent()


def start_server(store_path: Path, port: int, timeout: float = 60.0) -> subprocess.Popen[bytes]:
    """``dcpa serve`` on loopback, as a user runs it (query workers ready before the first request)."""
    env = {
        **os.environ,
        "DCPA_STORE_PATH": str(store_path),
        "DCPA_SPARQL_ENDPOINT": "",
        "DCPA_MAX_ROWS": "100000",
        "DCPA_QUERY_TIMEOUT": str(timeout),
        # its clients are all on loopback: one address, which the per-client limits would hold to 3 and 60 s a minute
        "DCPA_CLIENT_QUERIES": "0",
        "DCPA_CLIENT_QUERY_SECONDS": "0",
    }
    cmd = [sys.executable, "-m", "kg", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, preexec_fn=_die_with_us)
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


# -- query workers ----------------------------------------------------------------

#: Counting a three-way cross join of the store: one engine call that never returns by itself.
HOSTILE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _tree_rss(pid: int) -> int:
    from kg.procs import descendants, process_rss

    return process_rss(pid) + sum(process_rss(p) for p in descendants(pid))


def bench_workers(store_path: Path, texts: list[str], n: int, max_seconds: float) -> dict[str, Any]:
    """The pool in this process: a query in a worker vs in this process, start-up and reopen costs."""
    from kg.workers import WorkerPool

    out: dict[str, Any] = {}
    pool = WorkerPool(store_path, min_workers=2, max_workers=4, preload=("api.sparql",))
    try:
        t = time.perf_counter()
        pool.start(wait=120)
        out["pool start (fork server + 2 workers) s"] = round(time.perf_counter() - t, 3)
        out["worker lookup c=1"] = bench_library(
            lambda i: pool.run("kg.store:Store.select", texts[i % len(texts)], timeout=60), n, 1, max_seconds
        )
        starts = []
        for _ in range(5):  # replace both idle workers, as after a kill or a store switch
            t = time.perf_counter()
            pool.switch_store(store_path)
            pool.wait_until(lambda s: len(s.idle) >= 2 and not s.starting, timeout=120)
            starts.append(time.perf_counter() - t)
        out["replace 2 workers (median of 5) s"] = round(statistics.median(starts), 3)
        reopen = []
        for _ in range(20):  # the first query after a write reopens the store in the worker
            pool.data_changed()
            t = time.perf_counter()
            pool.run("kg.store:Store.select", texts[0], timeout=60)
            reopen.append(time.perf_counter() - t)
        out["first query after a write (reopen) median ms"] = round(statistics.median(reopen) * 1000, 2)
    finally:
        pool.close()
    return out


def bench_under_hostile(
    base: str, server_pid: int, make: Callable[[int], tuple[str, str, dict[str, Any]]], hostile: int, n: int,
    max_seconds: float,
) -> dict[str, Any]:
    """The point lookup over HTTP while ``hostile`` never-ending queries keep workers busy."""
    from kg.procs import cpu_seconds, descendants

    async def run() -> dict[str, Any]:
        client = httpx.AsyncClient(base_url=base, timeout=600)
        tasks = [asyncio.ensure_future(client.get("/sparql", params={"query": HOSTILE})) for _ in range(hostile)]
        end = time.monotonic() + 60
        while time.monotonic() < end:  # until that many workers are past 0.3 s of CPU: really busy
            busy = sum(cpu_seconds(w) > 0.3 for c in descendants(server_pid) for w in descendants(c))
            if busy >= hostile:
                break
            await asyncio.sleep(0.1)
        health = await _bench_http(base, lambda i: ("GET", "/health", {}), 20, 1, max_seconds)
        one = await _bench_http(base, make, n, 1, max_seconds)
        many = await _bench_http(base, make, n, 8, max_seconds)
        still = sum(not t.done() for t in tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.aclose()
        return {
            f"/health with {hostile} hostile": health,
            f"http lookup c=1 with {hostile} hostile": one,
            f"http lookup c=8 with {hostile} hostile": many,
            "hostile still running at the end": still,
        }

    return asyncio.run(run())


def soak(base: str, server_pid: int, make: Callable[[int], tuple[str, str, dict[str, Any]]], seconds: float) -> Any:
    """32 clients for ``seconds``; the server's memory (server + workers) sampled every second."""

    async def run() -> dict[str, Any]:
        samples = [_tree_rss(server_pid)]

        async def sample() -> None:
            while True:
                await asyncio.sleep(1)
                samples.append(_tree_rss(server_pid))

        sampler = asyncio.ensure_future(sample())
        stats = await _clients(base, make, 32, seconds)
        sampler.cancel()
        samples.append(_tree_rss(server_pid))
        mb = [x / 2**20 for x in samples]
        stats.update(rss_start_mb=round(mb[0]), rss_max_mb=round(max(mb)), rss_end_mb=round(mb[-1]))
        return stats

    return asyncio.run(run())


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
    parser.add_argument("--hostile", type=int, default=4, help="never-ending queries running during one measurement")
    parser.add_argument("--soak", type=float, default=0.0, help="also a soak run of 32 clients for this many seconds")
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
        lookups = [lookup_text(i) for i in iris]
        results["quads"] = store.count()
        _progress("library calls")
        results["library lookup c=1"] = bench_library(
            lambda i: store.select(lookups[i % len(lookups)]), args.requests, 1, args.max_seconds
        )
        _progress("query workers in this process")
        results.update(bench_workers(store_path, lookups, args.requests, args.max_seconds))
        for c in args.concurrency:
            results[f"library recommend c={c}"] = bench_library(
                lambda i: recommend(store, codes[i % len(codes)], limit=10), args.requests, c, args.max_seconds
            )
            results[f"library sparql c={c}"] = bench_library(
                lambda i: store.select(texts[i % len(texts)]), args.requests, c, args.max_seconds
            )
        store.close()

        port = _free_port()
        proc = start_server(store_path, port, timeout=600)  # the hostile queries must outlast the measurements
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

            def lookup(i: int) -> tuple[str, str, dict[str, Any]]:
                return "POST", "/sparql", {"data": {"query": lookups[i % len(lookups)]}}

            for c in args.concurrency:
                _progress(f"http c={c}")
                results[f"http lookup c={c}"] = asyncio.run(
                    _bench_http(base, lookup, args.requests, c, args.max_seconds)
                )
                results[f"http recommend c={c}"] = asyncio.run(
                    _bench_http(base, rec, args.requests, c, args.max_seconds)
                )
                results[f"http sparql c={c}"] = asyncio.run(
                    _bench_http(base, sparql, args.requests, c, args.max_seconds)
                )
            if args.soak:
                _progress(f"soak {args.soak:g} s")
                results[f"soak {args.soak:g} s, 32 clients"] = soak(base, proc.pid, lookup, args.soak)
            if args.hostile:
                _progress(f"point lookups with {args.hostile} hostile queries running")
                hostile = bench_under_hostile(base, proc.pid, lookup, args.hostile, args.requests, args.max_seconds)
                results.update(hostile)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    print(f"{'measurement':36} {'n':>5} {'req/s':>9} {'median ms':>10} {'p99 ms':>9} {'overhead':>9}")
    for key, r in results.items():
        if not isinstance(r, dict):
            print(f"{key:36} {r}")
            continue
        overhead = ""
        if key.startswith(("http ", "worker ")):
            lib = results.get("library " + key.split(" ", 1)[1].split(" with ")[0])
            if lib and lib["median_ms"]:
                overhead = f"{r['median_ms'] / lib['median_ms']:.2f}x"
                r["overhead_median"] = round(r["median_ms"] / lib["median_ms"], 2)
        extra = "  " + ", ".join(f"{k}={v}" for k, v in r.items() if k.startswith(("rss", "errors")) and v) if r else ""
        print(f"{key:36} {r['requests']:>5} {r['rps']:>9} {r['median_ms']:>10} {r['p99_ms']:>9} {overhead:>9}{extra}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
