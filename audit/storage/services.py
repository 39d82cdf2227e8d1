"""The app's stores, from its settings (needs an app context)."""

from __future__ import annotations

from flask import current_app

from audit.storage.base import FileStore
from audit.storage.config import AREAS, StoreConfig, open_store, store_config


def app_store_config(area: str, backend: str | None = None) -> StoreConfig:
    """The description of the app's store of `area` (for a helper process that opens its own store)."""
    return store_config(current_app.config["TRYGGAHUS"], area, backend)


def app_store(area: str, backend: str | None = None) -> FileStore:
    """The app's store of `area` ("photos" or "batches"), on the configured backend unless `backend` says."""
    return open_store(app_store_config(area, backend))


def check_stores() -> None:
    """Raise if a store cannot be used (for a readiness check): a missing bucket, refused credentials."""
    for area in AREAS:
        app_store(area).check()
