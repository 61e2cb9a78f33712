"""`dcpa serve` as a user runs it, in its own process over an on-disk store: a bounded load run is
error-free with flat memory, and one SIGINT stops the server and every worker, also mid-query."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from api.testing import run_async, wait_for
from kg.procs import alive, cpu_seconds, descendants, process_rss
from kg.store import Store

from .conftest import load_fixture
from .test_sparql_workers import HOSTILE_COUNT, Request, needs, point_lookup

pytestmark = pytest.mark.timeout(180)

DCPA = str(Path(sys.executable).parent / "dcpa")
SYNTHETIC = "https://w3id.org/dcpa/graph/synthetic"
#: Memory the server and its workers may gain over a load run once warm (measured: 0–2 MB).
RSS_BOUND = 64 * 2**20


def workers_of(pid: int) -> set[int]:
    """The query workers of a server: children of its fork server, so grandchildren of it."""
    return {w for child in descendants(pid) for w in descendants(child)}


def tree_rss(pid: int) -> int:
    return sum(rss_by_process(pid).values())


def rss_by_process(pid: int) -> dict[int, int]:
    """The resident memory of a server and of each process below it, by pid."""
    return {p: process_rss(p) for p in (pid, *descendants(pid))}


def growth(before: dict[int, int], after: dict[int, int]) -> str:
    """Which processes came, went or grew between two samples (MB): what a failed memory check needs."""
    mb = 2**20
    parts = [f"{p}: {before.get(p, 0) // mb} -> {after.get(p, 0) // mb}" for p in sorted({*before, *after})]
    return "; ".join(parts)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "store"
    load_fixture(Store.open(path)).close()
    return path


@contextmanager
def dcpa_serve(store_dir: Path, tmp: Path, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environ = {
        **os.environ,
        "DCPA_STORE_PATH": str(store_dir),
        "DCPA_IMPORTS_PATH": str(tmp / "imports"),
        "DCPA_SPARQL_ENDPOINT": "",
        "DCPA_HOST": "127.0.0.1",
        "DCPA_PORT": str(port),
        **env,
    }
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen([DCPA, "serve"], cwd=tmp, env=environ, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"dcpa serve exited: {(tmp / 'serve.log').read_text(errors='replace')}")
        try:
            return httpx.get(base + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, 90, "dcpa serve to answer /health")
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()


def test_one_sigint_stops_the_server_and_its_workers_while_queries_run(store_dir: Path, tmp_path: Path) -> None:
    with dcpa_serve(store_dir, tmp_path, DCPA_QUERY_TIMEOUT="120", DCPA_QUERY_WORKERS="2") as (proc, base):
        hostile = [Request(base + "/sparql", HOSTILE_COUNT) for _ in range(3)]
        # three workers (the fork server's children) busy, each past 0.3 s of CPU: a query, not a start-up
        wait_for(lambda: sum(cpu_seconds(p) > 0.3 for p in workers_of(proc.pid)) >= 3, 60, "three queries running")
        workers = descendants(proc.pid)  # the fork server, the three busy workers, the idle ones kept ready
        assert len(workers) >= 6
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)  # the queries' limit is 120 s: exiting now means nothing waited for them
        wait_for(lambda: not any(alive(p) for p in workers), 10, "every worker and the fork server to end")
    for h in hostile:
        r = h.join()
        assert r.status_code == 503 and "shutting down" in r.json()["error"]["message"]


def test_a_killed_server_leaves_no_worker_behind(store_dir: Path, tmp_path: Path) -> None:
    """SIGKILL gives the server no chance to stop its workers: a worker deep in a query must still
    end (and with it the fork server, which lives as long as any of its children)."""
    with dcpa_serve(store_dir, tmp_path, DCPA_QUERY_TIMEOUT="120") as (proc, base):
        hostile = [Request(base + "/sparql", HOSTILE_COUNT) for _ in range(2)]
        wait_for(lambda: sum(cpu_seconds(p) > 0.3 for p in workers_of(proc.pid)) >= 2, 60, "two queries running")
        processes = descendants(proc.pid)
        proc.kill()
        proc.wait(30)
        wait_for(lambda: not any(alive(p) for p in processes), 30, "every worker and the fork server to end")
    for h in hostile:
        h.thread.join(30)
        assert h.response is None  # the connection died with the server


@dataclass
class LoadStats:
    requests: int = 0
    errors: list[str] = field(default_factory=list)


async def load(base: str, clients: int, seconds: float) -> LoadStats:
    """``clients`` clients, each sending requests one after another for ``seconds``; every answer checked."""
    stats = LoadStats()
    lookup = point_lookup()
    count_from = needs(f"FROM <{SYNTHETIC}>")
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        first = await client.post("/sparql", data={"query": lookup})
        assert first.status_code == 200 and first.json()["results"]["bindings"], first.text
        expected = first.json()  # every answer under load must be this one
        end = time.monotonic() + seconds

        async def one_client(i: int) -> None:
            n = i
            while time.monotonic() < end:
                n += 1
                kind = n % 4
                try:
                    if kind == 0:
                        r = await client.get("/health")
                        ok = r.status_code == 200 and r.json()["status"] == "ok"
                    elif kind == 1:
                        r = await client.post("/sparql", data={"query": lookup})
                        ok = r.status_code == 200 and r.json() == expected
                    elif kind == 2:
                        r = await client.get("/sparql", params={"query": count_from})
                        ok = r.status_code == 200 and r.json()["results"]["bindings"][0]["c"]["value"] == "3"
                    else:
                        r = await client.get("/sparql", params={"query": "ASK { ?n a dcpa:Need }", "format": "xml"})
                        ok = r.status_code == 200 and "<boolean>true</boolean>" in r.text
                except httpx.HTTPError as e:
                    stats.errors.append(f"{kind}: {e!r}")
                    continue
                stats.requests += 1
                if not ok:
                    stats.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")

        await asyncio.gather(*(one_client(i) for i in range(clients)))
    return stats


def test_a_bounded_load_run_has_no_errors_and_flat_memory(store_dir: Path, tmp_path: Path) -> None:
    """Every worker is started from the beginning (DCPA_QUERY_WORKERS = the maximum), so that the
    pool growing to what 32 clients need (~97 MB a worker) is not mistaken for a leak."""
    with dcpa_serve(store_dir, tmp_path, DCPA_QUERY_WORKERS="6", DCPA_QUERY_WORKERS_MAX="6") as (proc, base):
        warm = run_async(load(base, clients=32, seconds=2))  # the pool grows to what the load needs
        before = rss_by_process(proc.pid)
        run = run_async(load(base, clients=32, seconds=6))
        after = rss_by_process(proc.pid)
    assert warm.errors == [] and run.errors == []
    assert run.requests > 32
    grown = sum(after.values()) - sum(before.values())
    assert grown < RSS_BOUND, f"memory grew by {grown >> 20} MB (pid: MB before -> after: {growth(before, after)})"
