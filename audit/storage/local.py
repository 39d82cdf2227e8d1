"""The embedded default: files under one folder on this machine's disk.

The root must not be a folder the web server publishes. Writes are atomic (a temporary `.upload-*.part` file
beside the target, flushed, then renamed), files are readable by the owner and the group only, and no key
leads outside the root, not even through a symbolic link.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Final

from audit.storage.base import OWN_NAME, TEMPORARY_PREFIX, TEMPORARY_SUFFIX, FileStore, NotStored, StoredFile, check_key

FILE_MODE: Final = 0o640
DIRECTORY_MODE: Final = 0o750


class LocalStore(FileStore):
    """Files under ``root``, addressed by their path relative to it."""

    def __init__(self, root: Path, *, own_name: re.Pattern[str] = OWN_NAME) -> None:
        super().__init__(own_name=own_name)
        self.root = Path(root)
        self.location = f"folder {self.root}"

    def put(self, key: str, data: bytes) -> None:
        target = self.path_for(key)
        self._make_folders(target.parent)
        _write_atomically(target, data)

    def path_for(self, key: str) -> Path:
        """The absolute path of a stored file; ValueError for anything that would lead outside the root."""
        check_key(key)
        root = self.root.resolve()
        resolved = (root / PurePosixPath(key)).resolve()  # follows symbolic links, so one that points out is caught
        if resolved == root or not resolved.is_relative_to(root):
            raise ValueError(f"not a path inside the store: {key!r}")
        return resolved

    def read(self, key: str) -> bytes:
        try:
            return self.path_for(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise NotStored(key) from None

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def size(self, key: str) -> int:
        path = self.path_for(key)
        if not path.is_file():
            raise NotStored(key)
        return path.stat().st_size

    def listing(self) -> Iterator[StoredFile]:
        """Symbolic links, what one leads to outside the root and files of other names are not listed."""
        if not self.root.is_dir():
            return
        root = self.root.resolve()
        for path in itertools.chain(root.glob("*"), root.glob("*/*/*")):  # flat (old batch outputs) and sharded
            key = path.relative_to(root).as_posix()
            if not self.own_name.fullmatch(key) or path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(ValueError, FileNotFoundError):  # a link out of the root; removed meanwhile
                status = self.path_for(key).stat()
                yield StoredFile(key, status.st_mtime, status.st_size)

    def check(self) -> None:
        """The root (made if missing) must be a folder this process can write to."""
        self.root.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise PermissionError(f"cannot write to {self.root}")

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
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX)
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
