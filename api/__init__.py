"""``api``: the FastAPI service over the DCPA knowledge graph.

``create_app()`` builds the application; ``dcpa serve`` runs it with uvicorn.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
