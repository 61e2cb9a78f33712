"""A live server for tests: the app under uvicorn in a thread, on a free loopback port.

Used by the API and browser test suites, which need real HTTP (SPARQLWrapper, Chromium).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


class LiveServer:
    """uvicorn in a daemon thread on 127.0.0.1; ``url`` is its base URL, ``stop()`` ends it."""

    def __init__(self, app: Any, *, start_timeout: float = 20.0) -> None:
        self.app = app
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
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
