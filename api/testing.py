"""A live server for tests: the app under uvicorn in a thread, on a free loopback port; and the waits
the concurrency tests share (``wait_for`` a state, ``run_async`` a coroutine).

It runs exactly as `dcpa serve` does (``api.server.server_options``: the guarded protocol with the header
timeout of the app's settings).

Used by the API and browser test suites, which need real HTTP (SPARQLWrapper, Chromium).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from kg.settings import Settings
from kg.writer import server_file

from .server import server_options


def counted_quads(base_url: str, timeout: float = 60.0) -> int:
    """The quads ``/health`` says the served store holds, once it has counted them (``null`` meanwhile)."""
    said: list[int] = []

    def counted() -> bool:
        n = httpx.get(base_url + "/health", timeout=timeout).json()["quads"]
        said[:] = [] if n is None else [n]
        return bool(said)

    wait_for(counted, timeout, "/health to have counted the quads")
    return said[0]


def wait_for(ready: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for a state, polling it every 20 ms; AssertionError naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run`` in a thread of its own (another test may have left a loop running in this one)."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised below
            out["error"] = e

    t = threading.Thread(target=run)
    t.start()
    t.join(120)
    if "error" in out:
        raise out["error"]
    return out["result"]


class LiveServer:
    """uvicorn in a daemon thread on 127.0.0.1; ``url`` is its base URL, ``stop()`` ends it."""

    def __init__(self, app: Any, *, start_timeout: float = 20.0) -> None:
        self.app = app
        settings = getattr(getattr(app, "state", None), "settings", None) or Settings()
        options = server_options(settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + start_timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop serving, and stop the app's query workers (there is no lifespan to do it)."""
        self.server.should_exit = True
        runner = getattr(getattr(self.app, "state", None), "query_runner", None)
        if runner is not None:
            runner.close()
        self.thread.join(timeout=10)


class ServeProcess:
    """``dcpa serve`` in a subprocess on a free loopback port, found through the file it registers.

    ``env`` is added to this process's environment (``DCPA_STORE_PATH`` and friends; ``DCPA_FAULT``
    to kill it at a fault point). ``url`` is its base URL once it answers; ``stop()`` sends SIGINT
    (Ctrl+C) and waits; ``wait_killed()`` waits for a death by a fault point.
    """

    def __init__(self, env: dict[str, str], *, cwd: str | None = None, start_timeout: float = 60.0) -> None:
        self.env = {**os.environ, "DCPA_PORT": "0", "DCPA_HOST": "127.0.0.1", **env}
        registration = server_file(self.env["DCPA_STORE_PATH"])
        old = registration.read_text(encoding="utf-8") if registration.exists() else None
        self.log = tempfile.TemporaryFile()  # a file, not a pipe: a full pipe would block the server
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve"],
            env=self.env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + start_timeout
        while True:  # wait for the state "registered and answering", not for a time
            if self.proc.poll() is not None:
                raise RuntimeError(f"dcpa serve exited with {self.proc.returncode}: {self._stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"dcpa serve did not start: {self._stderr()}")
            text = registration.read_text(encoding="utf-8") if registration.exists() else None
            if text and text != old:
                info = json.loads(text)
                if info["pid"] == self.proc.pid:
                    try:
                        if httpx.get(info["url"] + "/health", timeout=5).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
            time.sleep(0.05)
        self.url: str = info["url"]
        self.registration = Path(registration)

    def output(self) -> str:
        """What the server wrote to stderr so far (its log)."""
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def _stderr(self) -> str:
        return self.output()[-2000:]

    def stop(self) -> int:
        """Ctrl+C, as a user stops the server; returns its exit code."""
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)

    def wait_killed(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout=timeout)
