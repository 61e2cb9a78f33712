"""Which store the settings name: a remote SPARQL 1.1 store when ``DCPA_SPARQL_ENDPOINT`` is set, else
the embedded store at ``DCPA_STORE_PATH``; and what a writer of it must hold. The one place that decides
it, for the commands and the service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, TypeGuard

from .contract import StoreAPI
from .errors import StoreError
from .lease import StoreLease
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


def lease_for(store: StoreAPI, what: str, on_wait: Callable[[str], None] | None = None) -> AbstractContextManager[Any]:
    """The write lease a write on ``store`` must hold besides the local writer lock: a remote store's own
    (``kg.lease``: writers on other machines see it), nothing for the embedded store (its file lock is
    the rule)."""
    if is_shared_writable(store):
        return StoreLease(store, what, on_wait=on_wait)
    return nullcontext()


def is_shared_writable(store: StoreAPI) -> TypeGuard[RemoteStore]:
    """Whether ``store`` is a remote store this process may write: other processes, on other machines
    too, may write it as well (under the lease)."""
    return isinstance(store, RemoteStore) and not store.read_only


@contextmanager
def writer_lease(settings: Settings, what: str, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """``lease_for`` the configured store, for a command that opens the store itself."""
    if not is_remote(settings):
        yield
        return
    store = RemoteStore.from_settings(settings)
    try:
        with lease_for(store, what, on_wait):
            yield
    finally:
        store.close()
