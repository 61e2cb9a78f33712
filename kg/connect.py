"""Which store the settings name: a remote SPARQL 1.1 store when ``DCPA_SPARQL_ENDPOINT`` is set, else
the embedded store at ``DCPA_STORE_PATH``. The one place that decides it, for the commands and the service."""

from __future__ import annotations

from .contract import StoreAPI
from .errors import StoreError
from .remote import RemoteStore
from .settings import Settings
from .store import Store


def is_remote(settings: Settings) -> bool:
    return bool(settings.sparql_endpoint)


def open_store(settings: Settings, *, read_only: bool = False, create: bool = False) -> StoreAPI:
    """Open the configured store (``read_only`` and ``create`` concern the embedded one: a remote store
    is writable when an update endpoint is configured)."""
    if is_remote(settings):
        return RemoteStore.from_settings(settings)
    return Store.open(settings.store_path, read_only=read_only, create=create)


def read_only_or_writable(settings: Settings) -> StoreAPI:
    """The configured store for reading: read-only when Oxigraph allows it (so a running server is no
    obstacle), else opened for writing (a store whose files a read-only open cannot use yet)."""
    try:
        return open_store(settings, read_only=True)
    except StoreError:
        if is_remote(settings):
            raise
        return open_store(settings)
