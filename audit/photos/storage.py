"""Photo files on disk under one root folder, under names nobody can guess or choose.

The root is the caller's choice and must not be a folder the web server publishes: photos are served by a view
that checks who may see them.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final

FILE_MODE: Final = 0o640
DIRECTORY_MODE: Final = 0o750
_SUFFIX: Final = re.compile(r"\.[a-z0-9]{1,8}")
_TEMPORARY_PREFIX: Final = ".upload-"
_TEMPORARY_SUFFIX: Final = ".part"
#: The names the store writes: stored files, and the temporary files a crash can leave before their rename.
_OWN_NAME: Final = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/(?:[0-9a-f]{32}\.[a-z0-9]{1,8}|\.upload-[^/]+\.part)")


class PhotoStore:
    """Files under ``root``, named ``ab/cd/<32 hex digits><suffix>`` and addressed by that relative path."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes, suffix: str = ".jpg") -> str:
        """Write data under a new random name, atomically, and return its relative path."""
        if not _SUFFIX.fullmatch(suffix):
            raise ValueError(f"invalid suffix {suffix!r}: use a dot and 1–8 lower-case letters or digits")
        token = secrets.token_hex(16)
        relative = PurePosixPath(token[:2], token[2:4], token + suffix).as_posix()
        target = self.path_for(relative)
        self._make_folders(target.parent)
        _write_atomically(target, data)
        return relative

    def path_for(self, relative: str) -> Path:
        """The absolute path of a stored file; ValueError for anything that would lead outside the root."""
        pure = PurePosixPath(relative)
        if not relative or "\x00" in relative or "\\" in relative or pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"not a path inside the photo store: {relative!r}")
        root = self.root.resolve()
        resolved = (root / pure).resolve()  # follows symbolic links, so one that points out is caught below
        if resolved == root or not resolved.is_relative_to(root):
            raise ValueError(f"not a path inside the photo store: {relative!r}")
        return resolved

    def read(self, relative: str) -> bytes:
        """The stored bytes; FileNotFoundError if there is no such file."""
        return self.path_for(relative).read_bytes()

    def delete(self, relative: str) -> None:
        """Remove a stored file; one that is already gone is fine."""
        self.path_for(relative).unlink(missing_ok=True)

    def listing(self) -> Iterator[tuple[str, float]]:
        """Every file the store wrote (a temporary one a crash left too), as relative path and modification time.

        Files of any other name, symbolic links and what one leads to outside the root are not the store's and
        are not listed.
        """
        if not self.root.is_dir():
            return
        root = self.root.resolve()
        for path in root.glob("*/*/*"):
            relative = path.relative_to(root).as_posix()
            if not _OWN_NAME.fullmatch(relative) or path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(ValueError):  # a shard folder that is a link out of the root
                yield relative, self.path_for(relative).stat().st_mtime

    def _make_folders(self, folder: Path) -> None:
        """Create the root (with its parents) and the shard folders below it."""
        self.root.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        root = self.root.resolve()
        current = root
        for part in folder.relative_to(root).parts:
            current = current / part
            current.mkdir(mode=DIRECTORY_MODE, exist_ok=True)


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temporary file beside the target, flush it to disk, then rename it into place."""
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=_TEMPORARY_PREFIX, suffix=_TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as file:
            os.fchmod(file.fileno(), FILE_MODE)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(target.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
