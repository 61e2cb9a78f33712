"""The project's SPARQL endpoint against a bare Oxigraph server over a copy of the same store, in one run.

    python -m benchmarks bench_endpoint                                  # the built store (var/store)
    python -m benchmarks bench_endpoint --store /tmp/dcpa-national/store --requests 400

The baseline is the strongest one there is for this endpoint: ``oxigraph serve-read-only
--union-default-graph`` (the ``oxigraph`` package, the same Oxigraph version as pyoxigraph) over a copy of
the store's version directory. The project runs ``dcpa serve`` over another copy. Both on loopback.

Measured, with the same SPARQL text sent to both (catalogue queries with their parameters written in,
as the SPARQL page's examples do; results as ``application/sparql-results+json``):

  * throughput of a point lookup (``needs_of_village``, 50 villages in turn) at each ``--clients`` count,
    then with a text never seen before in every request (the same lookups, each made new by a comment);
  * latency of every catalogue query with its defaults: its first request, and the median of ``--repeat``;
  * with new texts, the CPU time each request costs each side (Linux ``/proc``): the bare server's, the
    project's HTTP process and its query workers, and this load generator's (it shares the machine's cores).

The project is measured once per ``--result-cache-mb`` value (default: its default 64 MB, then 0, off),
each over its own copy of the store: with the cache, a repeated text is answered from memory (the 50
point lookups repeat, and so do the catalogue's repeats); without it, every request runs the query.

Target (issue 14): the project's throughput at 8 clients at least the bare server's, and its catalogue
latency within 1.1× of it, at province and national scale.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx

from kg.catalogue import default_values, load_catalogue
from kg.engines import free_port, stop
from kg.inline import inline
from kg.namespaces import sparql_prefixes
from kg.procs import cpu_seconds, descendants
from kg.store import Store

ROOT = Path(__file__).resolve().parent.parent
ACCEPT = "application/sparql-results+json"


def wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling for the state "answers", with a cap
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


def queries(store_path: str, villages: int, seed: int) -> tuple[list[str], dict[str, str]]:
    """(point lookups of ``needs_of_village`` for some villages, every catalogue query with its defaults)."""
    store = Store.open(store_path, read_only=True, create=False)
    try:
        codes = sorted(r["c"] for r in store.select(
            "SELECT DISTINCT ?c WHERE { ?n dcpa:needOf ?v . ?v dcpa:areaCode ?c FILTER(STRSTARTS(?c, '21')) }"))
    finally:
        store.close()
    catalogue = load_catalogue()
    lookup = catalogue["needs_of_village"]
    picked = random.Random(seed).sample(codes, min(villages, len(codes)))
    points = []
    for code in picked:
        values = default_values(lookup)
        values["village"] = f"<https://w3id.org/dcpa/id/area/{code}>"
        points.append(sparql_prefixes() + inline(lookup.text, values))
    every = {name: sparql_prefixes() + inline(q.text, default_values(q)) for name, q in catalogue.items()}
    return points, every


def cpu_per_request(pid: int, run: Callable[[], float], requests: int) -> tuple[float, float, float, float]:
    """``run()`` (a throughput measurement) with the CPU milliseconds per request it cost: the process ``pid``,
    its descendants, and this one (the load generator); its own result first."""
    before = {p: cpu_seconds(p) for p in (pid, *descendants(pid))}
    own = time.process_time()
    result = run()
    own = time.process_time() - own
    after = {p: cpu_seconds(p) for p in (pid, *descendants(pid))}
    spent = {p: after[p] - before.get(p, 0.0) for p in after}
    rest = sum(v for p, v in spent.items() if p != pid)
    return result, spent.get(pid, 0.0) * 1000 / requests, rest * 1000 / requests, own * 1000 / requests


def ask(client: httpx.Client, url: str, text: str) -> float:
    t = time.perf_counter()
    r = client.post(url, data={"query": text}, headers={"Accept": ACCEPT}, timeout=300.0)
    r.read()
    if r.status_code != 200:
        raise RuntimeError(f"{url} answered {r.status_code}: {r.text[:300]}")
    return time.perf_counter() - t


def throughput(url: str, texts: list[str], requests: int, clients: int) -> float:
    """Requests per second with ``clients`` concurrent clients, ``requests`` in all."""
    counter = iter(range(requests))
    lock = threading.Lock()

    def work() -> None:
        with httpx.Client() as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                ask(client, url, texts[i % len(texts)])

    with httpx.Client() as warm:
        for text in texts[:5]:
            ask(warm, url, text)
    threads = [threading.Thread(target=work) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return requests / (time.perf_counter() - t)


_CLIENTS: dict[str, httpx.Client] = {}


def ask_timed(url: str, text: str) -> float | None:
    """One request's time on a kept-alive connection to ``url``, or None when refused (e.g. the
    project's time limit)."""
    client = _CLIENTS.setdefault(url, httpx.Client())
    try:
        return ask(client, url, text)
    except RuntimeError as e:
        print(f"  refused by {url}: {str(e)[:150]}")
        return None


@contextmanager
def project_server(work: Path, cache_mb: int) -> Iterator[tuple[str, int]]:
    """``dcpa serve`` over a fresh copy of the store, with its result cache at ``cache_mb``: its endpoint's URL
    and its process id."""
    root = work / f"project-{cache_mb}"
    shutil.copytree(work / "bare", root / "store")
    port = free_port()
    env = {**os.environ, "DCPA_STORE_PATH": str(root / "store"), "DCPA_IMPORTS_PATH": str(root / "imports"),
           "DCPA_HOST": "127.0.0.1", "DCPA_PORT": str(port), "DCPA_RESULT_CACHE_MB": str(cache_mb),
           "DCPA_CLIENT_QUERIES": "0", "DCPA_CLIENT_QUERY_SECONDS": "0"}  # all its clients share one address
    proc = subprocess.Popen([sys.executable, "-m", "kg", "serve"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(f"http://127.0.0.1:{port}/health", proc)
        yield f"http://127.0.0.1:{port}/sparql", proc.pid
    finally:
        stop(proc)


def report_catalogue(url: str, every: dict[str, str], bare: dict[str, list[float | None]], repeat: int) -> None:
    """Each catalogue query's latency against the bare server's: its first request (computed) and the
    median of ``repeat`` (answered from the result cache when it is on)."""
    print(f"{'catalogue query (defaults)':36} {'first':>9} {'median':>9} {'bare':>9} {'first':>6} {'median':>6}")
    firsts: list[float] = []
    medians: list[float] = []
    for name, text in sorted(every.items()):
        if name not in bare:
            continue
        times = [ask_timed(url, text) for _ in range(repeat)]
        b = [t for t in bare[name] if t is not None]
        if None in times or not b:
            print(f"{name:36} refused (see above)")
            continue
        done = [t for t in times if t is not None]
        bm, first, med = statistics.median(b), done[0], statistics.median(done)
        firsts.append(first / bm)
        medians.append(med / bm)
        print(f"{name:36} {first * 1000:7.1f}ms {med * 1000:7.1f}ms {bm * 1000:7.1f}ms {first / bm:5.2f}x "
              f"{med / bm:5.2f}x")
    if firsts:
        print(f"catalogue latency ratio, first request: median {statistics.median(firsts):.2f}x, worst "
              f"{max(firsts):.2f}x; median of {repeat}: median {statistics.median(medians):.2f}x, worst "
              f"{max(medians):.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_endpoint", description=__doc__.split("\n")[0])
    ap.add_argument("--store", default="var/store", help="the store to serve (copied; not modified)")
    ap.add_argument("--requests", type=int, default=400, help="point lookups per throughput measurement")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each catalogue query (the median counts)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--result-cache-mb", type=int, nargs="+", default=[64, 0],
                    help="the project's DCPA_RESULT_CACHE_MB, one server each (0: off)")
    ap.add_argument("--skip", nargs="*", default=[], help="catalogue queries left out")
    a = ap.parse_args(argv)
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(oxigraph).exists():
        print("bench_endpoint needs the oxigraph server (pip install oxigraph, as `make setup` does)", file=sys.stderr)
        return 2
    real = Path(a.store).resolve()
    points, every = queries(a.store, 50, a.seed)
    runs = itertools.count()

    def fresh() -> list[str]:
        """Texts no server has seen (the lookups of 50 villages, each made new by a comment), new for every
        measurement: what a script looping over villages or a researcher editing a query sends."""
        run = next(runs)
        return [f"{points[i % len(points)]}\n# run {run}, request {i}" for i in range(a.requests)]

    with tempfile.TemporaryDirectory(prefix="dcpa-bench-endpoint-") as tmp:
        work = Path(tmp)
        shutil.copytree(real, work / "bare")
        bare_port = free_port()
        bare = subprocess.Popen([oxigraph, "serve-read-only", "--location", str(work / "bare"), "--bind",
                                 f"127.0.0.1:{bare_port}", "--union-default-graph"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            bare_url = f"http://127.0.0.1:{bare_port}/query"
            wait_up(f"http://127.0.0.1:{bare_port}/", bare)
            print(f"== store {a.store} ({real.name}); point lookups: needs_of_village over {len(points)} villages")
            throughput(bare_url, points, a.requests, 1)  # untimed: the engine warmed up, as the project's is below
            base = {c: throughput(bare_url, points, a.requests, c) for c in a.clients}
            base_fresh = {c: cpu_per_request(bare.pid, partial(throughput, bare_url, fresh(), a.requests, c),
                                             a.requests) for c in a.clients}
            bare_times = {name: [ask_timed(bare_url, text) for _ in range(a.repeat)] for name, text in every.items()
                          if name not in a.skip}
            for cache_mb in a.result_cache_mb:
                with project_server(work, cache_mb) as (project_url, pid):
                    label = f"result cache {cache_mb} MB" if cache_mb else "result cache off"
                    print(f"-- the project with its {label}")
                    throughput(project_url, points, a.requests, 1)  # untimed warm-up, as for the bare server
                    for clients in a.clients:
                        p = throughput(project_url, points, a.requests, clients)
                        b = base[clients]
                        print(f"point lookup, {clients:2d} client(s): project {p:7.1f} req/s, bare Oxigraph "
                              f"{b:7.1f} req/s ({p / b:.2f}x)")
                    for clients in a.clients:  # as a script over villages sends them: no text seen before
                        p, http, workers, load = cpu_per_request(
                            pid, partial(throughput, project_url, fresh(), a.requests, clients), a.requests)
                        b, bare_cpu, _, bare_load = base_fresh[clients]
                        print(f"point lookup, new text each, {clients:2d} client(s): project {p:7.1f} req/s, "
                              f"bare Oxigraph {b:7.1f} req/s ({p / b:.2f}x); CPU per request: project "
                              f"{http + workers:.2f} ms (HTTP process {http:.2f}, query workers {workers:.2f}), "
                              f"bare Oxigraph {bare_cpu:.2f} ms; load generator {load:.2f} / {bare_load:.2f} ms")
                    report_catalogue(project_url, every, bare_times, a.repeat)
        finally:
            stop(bare)
    print("target: 8-client throughput >= 1x the bare server, catalogue latency <= 1.1x", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
