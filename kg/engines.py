"""Independent SPARQL 1.1 stores started on loopback: Oxigraph server (the ``oxigraph`` package) and
Virtuoso 7 (Debian's ``virtuoso-opensource-7``), each a process of its own reached through the HTTP
protocols only. The tests prove ``kg.remote.RemoteStore`` on them; the benchmarks measure it.

Each is started with the settings ``docs/DEPLOYMENT.md`` asks of a store: the default graph is the
union of the named graphs, updates are allowed, the result row cap is above what the project asks for.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Server:
    """A running SPARQL 1.1 store: where to query, where to update, and its Graph Store Protocol service."""

    query_url: str
    update_url: str
    graph_store_url: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _oxigraph_binary() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        raise RuntimeError("the `oxigraph` server is not installed: run `make setup` (it comes with the dev extra)")
    return found


@contextmanager
def oxigraph_server(location: Path) -> Iterator[Server]:
    """Oxigraph server (the `oxigraph` package: another process, the HTTP protocols only) on a free
    loopback port, its default graph the union of the named graphs, as ``docs/DEPLOYMENT.md`` says."""
    port = free_port()
    proc = subprocess.Popen(
        [_oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(proc, f"{base}/query", "oxigraph serve")
        yield Server(f"{base}/query", f"{base}/update", f"{base}/store")
    finally:
        stop(proc)


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
ServerThreads = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {d}

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


@contextmanager
def virtuoso_server(location: Path, *, memory_gb: float = 0.16, max_rows: int = 1_000_000) -> Iterator[Server]:
    """Virtuoso 7 (Debian's ``virtuoso-opensource-7``) on free loopback ports, with a fresh database whose
    anonymous SPARQL user may update (``docs/DEPLOYMENT.md``: the settings that matter).

    ``memory_gb``: its page buffers (8 KiB each; Virtuoso's guide gives about two thirds of the machine's
    memory to them); ``max_rows``: its result row cap (``ResultSetMaxRows``), above the largest read."""
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        raise RuntimeError("Virtuoso 7 is not installed: run `make virtuoso` (Debian's virtuoso-opensource-7-bin)")
    sql, http = free_port(), free_port()
    ini = location / "virtuoso.ini"
    buffers = max(2000, int(memory_gb * 1024 ** 3 / 8192))
    ini.write_text(VIRTUOSO_INI.format(d=location, sql=sql, http=http, buffers=buffers, dirty=buffers * 3 // 4,
                                       max_rows=max_rows), encoding="utf-8")
    proc = subprocess.Popen([binary, "+foreground", "+configfile", str(ini)], cwd=location,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http}/sparql"
    try:
        _wait_for(proc, url, "virtuoso-t", location / "virtuoso.log")
        subprocess.run([isql, f"127.0.0.1:{sql}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                       check=True, capture_output=True, timeout=60)
        yield Server(url, url, f"http://127.0.0.1:{http}/sparql-graph-crud")
    finally:
        stop(proc)


def _wait_for(proc: subprocess.Popen[bytes], url: str, what: str, log: Path | None = None) -> None:
    """Wait for the state "answers a query" (or fail with the server's own words when it exits)."""
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            said = log.read_text(errors="replace")[-2000:] if log is not None and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {said}")
        try:
            if httpx.post(url, data={"query": "ASK {}"}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 30 s."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
