"""The project's SPARQL endpoint against a bare Oxigraph server over a copy of the same store, in one run.

    python -m benchmarks bench_endpoint                                  # the built store (var/store)
    python -m benchmarks bench_endpoint --store /tmp/dcpa-national/store --requests 400

The baseline is the strongest one there is for this endpoint: ``oxigraph serve-read-only
--union-default-graph`` (the ``oxigraph`` package, the same Oxigraph version as pyoxigraph) over a copy of
the store's version directory. The project runs ``dcpa serve`` over another copy. Both on loopback.

Measured, with the same SPARQL text sent to both (catalogue queries with their parameters written in,
as the SPARQL page's examples do; results as ``application/sparql-results+json``):

  * throughput of a point lookup (``needs_of_village``, villages in turn) at each ``--clients`` count;
  * latency of every catalogue query with its defaults (median of ``--repeat``).

Target (issue 14): the project's throughput at 8 clients at least the bare server's, and its catalogue
latency within 1.1× of it, at province and national scale.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
ACCEPT = "application/sparql-results+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
    from api.sparql import inline_parameters
    from kg.catalogue import default_values, load_catalogue
    from kg.namespaces import sparql_prefixes
    from kg.store import Store

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
        points.append(sparql_prefixes() + inline_parameters(lookup.text, values))
    every = {name: sparql_prefixes() + inline_parameters(q.text, default_values(q)) for name, q in catalogue.items()}
    return points, every


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench_endpoint", description=__doc__.split("\n")[0])
    ap.add_argument("--store", default="var/store", help="the store to serve (copied; not modified)")
    ap.add_argument("--requests", type=int, default=400, help="point lookups per throughput measurement")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each catalogue query (the median counts)")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    oxigraph = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(oxigraph).exists():
        print("bench_endpoint needs the oxigraph server (pip install oxigraph, as `make setup` does)", file=sys.stderr)
        return 2
    real = Path(a.store).resolve()
    points, every = queries(a.store, 50, a.seed)
    with tempfile.TemporaryDirectory(prefix="dcpa-bench-endpoint-") as tmp:
        work = Path(tmp)
        shutil.copytree(real, work / "bare")
        shutil.copytree(real, work / "project" / "store")
        bare_port, project_port = free_port(), free_port()
        bare = subprocess.Popen([oxigraph, "serve-read-only", "--location", str(work / "bare"), "--bind",
                                 f"127.0.0.1:{bare_port}", "--union-default-graph"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {**os.environ, "DCPA_STORE_PATH": str(work / "project" / "store"),
               "DCPA_IMPORTS_PATH": str(work / "project" / "imports"), "DCPA_HOST": "127.0.0.1",
               "DCPA_PORT": str(project_port)}
        project = subprocess.Popen([sys.executable, "-m", "kg", "serve"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            bare_url, project_url = f"http://127.0.0.1:{bare_port}/query", f"http://127.0.0.1:{project_port}/sparql"
            wait_up(f"http://127.0.0.1:{bare_port}/", bare)
            wait_up(f"http://127.0.0.1:{project_port}/health", project)
            print(f"== store {a.store} ({real.name}); point lookups: needs_of_village over {len(points)} villages")
            for clients in a.clients:
                b = throughput(bare_url, points, a.requests, clients)
                p = throughput(project_url, points, a.requests, clients)
                print(f"point lookup, {clients:2d} client(s): project {p:7.1f} req/s, bare Oxigraph {b:7.1f} req/s "
                      f"({p / b:.2f}x)")
            print(f"{'catalogue query (defaults)':36} {'project':>9} {'bare':>9} {'ratio':>6}")
            ratios: list[float] = []
            with httpx.Client() as client:
                for name, text in sorted(every.items()):
                    times: dict[str, list[float]] = {"p": [], "b": []}
                    try:
                        for _ in range(a.repeat):
                            times["b"].append(ask(client, bare_url, text))
                            times["p"].append(ask(client, project_url, text))
                    except RuntimeError as e:  # e.g. the project's time limit (DCPA_QUERY_TIMEOUT): say so, go on
                        print(f"{name:36} refused: {str(e)[:150]}")
                        continue
                    pm, bm = statistics.median(times["p"]), statistics.median(times["b"])
                    ratios.append(pm / bm)
                    print(f"{name:36} {pm * 1000:7.1f}ms {bm * 1000:7.1f}ms {pm / bm:5.2f}x")
            print(f"catalogue latency ratio: median {statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x")
        finally:
            for proc in (project, bare):
                proc.terminate()
            for proc in (project, bare):
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print("target: 8-client throughput >= 1x the bare server, catalogue latency <= 1.1x", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
