"""Fixtures for every suite: independent SPARQL stores started on loopback for the remote-store tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


@dataclass(frozen=True)
class Server:
    """A running SPARQL 1.1 store: where to query and where to update."""

    query_url: str
    update_url: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _oxigraph_binary() -> str:
    found = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if found is None:
        pytest.fail("the `oxigraph` server is not installed: run `make setup` (it comes with the dev extra)")
    return found


@contextmanager
def oxigraph_server(location: Path) -> Iterator[Server]:
    """Oxigraph server (the `oxigraph` package: another process, the HTTP protocols only) on a free
    loopback port, its default graph the union of the named graphs, as ``docs/DEPLOYMENT.md`` says."""
    port = _free_port()
    proc = subprocess.Popen(
        [_oxigraph_binary(), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
         "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # wait for the state "answers a query"
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"oxigraph serve exited with {proc.returncode}: {err}")
            try:
                if httpx.post(f"{base}/query", data={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield Server(f"{base}/query", f"{base}/update")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One Oxigraph server for the session; a test that writes starts from ``DROP ALL``."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def start_oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Server]]:
    """Start servers of one's own (stopped at the end of the session): for data that must stay put."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(oxigraph_server(tmp_path_factory.mktemp("oxigraph")))
