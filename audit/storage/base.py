"""What every file store offers: bytes saved under new random keys, read, deleted, listed.

A key is a relative, slash-separated name such as `ab/cd/<32 hex digits>.jpg`; the store makes it up when it
saves, so nobody can guess or choose one. Stores never publish their files: the app serves them through views
that check who may see them.
"""

from __future__ import annotations

import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

_SUFFIX: Final = re.compile(r"\.[a-z0-9]{1,8}")
TEMPORARY_PREFIX: Final = ".upload-"
TEMPORARY_SUFFIX: Final = ".part"
#: The names a store writes: stored files, and the temporary files a crash can leave before their rename (local).
OWN_NAME: Final = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/(?:[0-9a-f]{32}\.[a-z0-9]{1,8}|\.upload-[^/]+\.part)")
#: Batch outputs written before they went through a store: `<32 hex digits>.<pdf|zip>` at the top.
FLAT_NAME: Final = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,8}")
#: The batch outputs' store: new outputs are sharded like photos, older ones lie flat.
BATCH_NAME: Final = re.compile(f"(?:{OWN_NAME.pattern})|(?:{FLAT_NAME.pattern})")


class NotStored(FileNotFoundError):
    """No file is stored under this key."""


class StoreUnavailable(OSError):
    """The store could not be used just now (no connection, refused credentials, a server error): not the
    request's fault, so users get 503 (`audit.errors`) and commands one line."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One entry of a store's listing."""

    key: str
    #: Last change, as a POSIX timestamp (the sweeper's grace period is measured against it).
    modified: float
    size: int

    @property
    def temporary(self) -> bool:
        """A half-written upload a crash left (only the local folder has them): never a whole file."""
        name = self.key.rsplit("/", 1)[-1]
        return name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX)


def new_key(suffix: str) -> str:
    """A fresh random key `ab/cd/<32 hex digits><suffix>`; ValueError for a suffix that is not `.` and 1–8 a–z/0–9."""
    if not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"invalid suffix {suffix!r}: use a dot and 1–8 lower-case letters or digits")
    token = secrets.token_hex(16)
    return PurePosixPath(token[:2], token[2:4], token + suffix).as_posix()


def check_key(key: str) -> str:
    """The key itself if it names something inside a store; ValueError for anything that could lead outside."""
    pure = PurePosixPath(key)
    if (
        not key
        or "\x00" in key
        or "\\" in key
        or key.startswith("/")
        or pure.is_absolute()
        or any(part in ("..", ".") for part in key.split("/"))
        or "//" in key
        or key.endswith("/")
    ):
        raise ValueError(f"not a key inside the store: {key!r}")
    return key


class FileStore(ABC):
    """The interface the app's photos, thumbnails and batch outputs go through (see `audit.storage`)."""

    #: A short description for messages ("folder /srv/photos", "s3://bucket/prefix/").
    location: str

    def __init__(self, *, own_name: re.Pattern[str] = OWN_NAME) -> None:
        #: Which keys `listing` reports as the store's own.
        self.own_name = own_name

    def save(self, data: bytes, suffix: str = ".jpg") -> str:
        """Write data under a new random key (atomically: whole or not at all) and return the key."""
        key = new_key(suffix)
        self.put(key, data)
        return key

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Write data under this key, replacing what is there (for copies between stores; the app uses `save`)."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """The stored bytes; NotStored if there is none, ValueError for a key that is not a store key."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove a stored file; one that is already gone is fine."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether a file is stored under this key."""

    @abstractmethod
    def size(self, key: str) -> int:
        """The stored file's length in bytes; NotStored if there is none."""

    @abstractmethod
    def listing(self) -> Iterator[StoredFile]:
        """Every file of the store's own names (`own_name`), temporary ones a crash left included."""

    @abstractmethod
    def check(self) -> None:
        """Raise if the store cannot be used (a readiness check): the folder or bucket is missing, no access."""
