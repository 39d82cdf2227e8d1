"""The files jobs make (a batch of signs, an export): the one place that writes, finds and removes them.

They go to the file store of the area "batches" (`audit.storage`: the instance folder's `batches/` by default, the
S3 bucket when `TRYGGAHUS_STORAGE=s3`, so every web server can hand out what any worker made), under a new random
key that the job row records. Results written flat into the folder before the stores came are still found.
"""

from __future__ import annotations

from audit.storage.base import NotStored
from audit.storage.services import app_store

AREA = "batches"


def store_result(data: bytes, extension: str) -> str:
    """Keep `data` (whole or not at all) and return the name to record on the job."""
    return app_store(AREA).save(data, f".{extension}")


def read_result(name: str) -> bytes | None:
    """The stored file of that name, or None when there is none (never anything outside the store)."""
    if not name:
        return None
    try:
        return app_store(AREA).read(name)
    except (NotStored, ValueError):
        return None


def remove_result(name: str) -> None:
    try:
        app_store(AREA).delete(name)
    except ValueError:  # a name no store wrote: nothing of ours to remove
        return
