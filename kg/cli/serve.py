"""``dcpa serve``: run the API over the store."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import DcpaError
from ..settings import get_settings
from ._app import Command, app, fail


@app.command(cls=Command)
def serve(
    host: Annotated[str | None, typer.Option(help="监听地址（默认：DCPA_HOST 或 127.0.0.1） / "
                                             "Address to listen on (default: DCPA_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="监听端口（默认：DCPA_PORT 或 8000） / "
                                             "Port to listen on (default: DCPA_PORT or 8000).")] = None,
) -> None:
    """提供 SPARQL 端点、JSON API 和页面 / Serve the SPARQL endpoint, the JSON API and the pages.

    示例 / Example: dcpa serve --port 8080
    """
    from api.app import create_app
    from api.server import server_options
    from api.serving import run

    settings = get_settings()
    try:
        application = create_app(settings)
    except DcpaError as e:
        raise fail(e) from e
    run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        **server_options(settings),  # request-head deadline (slowloris)
    )
