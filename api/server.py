"""Run the app under uvicorn so that one signal stops everything, also while queries run.

uvicorn answers Ctrl+C / SIGTERM by waiting for the requests in flight; a query past the reach
of Python would hold it for its whole time limit. Here the signal also stops the query workers
at once (``runner.close()``): their requests end with 503 and uvicorn exits promptly.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import uvicorn

from kg.workers import START_TIMEOUT, WorkerPool


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        runner = getattr(self._app.state, "query_runner", None)
        if runner is not None:
            runner.close()


def serve(app: Any, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` (from ``create_app``) until Ctrl+C or SIGTERM; the query workers are ready
    before the first request is taken (about a second: the fork server imports the parser once)."""
    runner = getattr(app.state, "query_runner", None)
    if isinstance(runner, WorkerPool):
        runner.start(wait=START_TIMEOUT)
    _Server(uvicorn.Config(app, host=host, port=port, log_level=log_level), app).run()
