"""``dcpa serve``: run the API over the store."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import DcpaError
from ..settings import get_settings
from ._app import app, fail


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: DCPA_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: DCPA_PORT or 8000).")] = None,
) -> None:
    """Serve the SPARQL endpoint, the JSON API and the pages.

    Example: dcpa serve --port 8080
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
