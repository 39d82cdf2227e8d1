"""Copying every stored file from one store to another, each verified by its SHA-256 (`tryggahus storage migrate`).

Idempotent: a file the target already holds with the same SHA-256 is left as it is, so a second run copies
nothing. A target copy that differs is a mismatch: reported, and replaced only when asked.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from audit.storage.base import FileStore, NotStored


class Outcome(enum.Enum):
    copied = "copied"
    #: The target already held the same bytes.
    present = "already there"
    #: A differing copy in the target was replaced (only with `replace`) and verified.
    replaced = "replaced"
    #: The target's copy differs from the source (before the copy and left, or after the copy was read back).
    mismatch = "mismatch"
    #: Listed by the source but removed before it could be read (the sweeper, a rolled-back upload).
    vanished = "vanished"


@dataclass(frozen=True, slots=True)
class Copied:
    key: str
    outcome: Outcome


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _target_digest(target: FileStore, key: str) -> str | None:
    try:
        return sha256(target.read(key))
    except NotStored:
        return None


def copy_all(source: FileStore, target: FileStore, *, replace: bool = False) -> Iterator[Copied]:
    """Copy every whole file of `source` (temporary upload files are skipped) and verify each copy's SHA-256."""
    for entry in source.listing():
        if entry.temporary:
            continue
        yield Copied(entry.key, _copy_one(source, target, entry.key, replace=replace))


def _copy_one(source: FileStore, target: FileStore, key: str, *, replace: bool) -> Outcome:
    try:
        data = source.read(key)
    except NotStored:
        return Outcome.vanished
    digest = sha256(data)
    existing = _target_digest(target, key)
    if existing == digest:
        return Outcome.present
    if existing is not None and not replace:
        return Outcome.mismatch
    target.put(key, data)
    if _target_digest(target, key) != digest:
        return Outcome.mismatch
    return Outcome.copied if existing is None else Outcome.replaced
