"""Which store holds what: plain, picklable descriptions of stores, and the stores made from them.

A `StoreConfig` is data only, so it can travel to the helper process that lays out PDFs (`audit.bounded`), which
opens its own store from it. Each process keeps one store per description (an S3 client is thread-safe and keeps
its connections).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final

from audit.storage.base import BATCH_NAME, OWN_NAME, FileStore

if TYPE_CHECKING:
    from audit.settings import Settings

BACKENDS: Final = ("local", "s3")
#: What is stored, each in a folder (local) or under a key prefix (S3) of its own.
AREAS: Final = ("photos", "batches")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    backend: str
    area: str
    #: local: the folder.
    root: Path | None = None
    #: s3: the bucket, and the prefix of this area's keys (ends with "/").
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str = ""
    region: str = ""
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    addressing_style: str = "auto"
    max_attempts: int = 3

    @property
    def description(self) -> str:
        return f"{self.root}" if self.backend == "local" else f"s3://{self.bucket}/{self.prefix}"


def store_config(settings: Settings, area: str, backend: str | None = None) -> StoreConfig:
    """The store of `area` on `backend` (by default the configured `TRYGGAHUS_STORAGE`)."""
    backend = backend or settings.storage
    if area not in AREAS:
        raise ValueError(f"no storage area {area!r}")
    if backend == "local":
        root = settings.photo_root if area == "photos" else settings.instance_path / "batches"
        return StoreConfig("local", area, root=Path(root))
    if backend == "s3":
        return StoreConfig(
            "s3",
            area,
            bucket=settings.s3_bucket,
            prefix=f"{settings.s3_prefix}{area}/",
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
            addressing_style=settings.s3_addressing_style,
            max_attempts=settings.s3_max_attempts,
        )
    raise ValueError(f"no storage backend {backend!r}: use one of {', '.join(BACKENDS)}")


@lru_cache(maxsize=32)
def open_store(config: StoreConfig) -> FileStore:
    """This process's store for the description (made once)."""
    # Batch outputs written before the stores came lie flat in their folder; they are still the store's own.
    own_name = BATCH_NAME if config.area == "batches" else OWN_NAME
    if config.backend == "local":
        from audit.storage.local import LocalStore

        if config.root is None:
            raise ValueError("a local store needs its folder")
        return LocalStore(config.root, own_name=own_name)
    from audit.storage.s3 import S3Store

    return S3Store(
        config.bucket,
        config.prefix,
        own_name=own_name,
        endpoint_url=config.endpoint_url,
        region=config.region,
        access_key_id=config.access_key_id,
        secret_access_key=config.secret_access_key,
        addressing_style=config.addressing_style,
        max_attempts=config.max_attempts,
    )
