"""The files jobs make (a batch of signs, an export): the one place that writes, finds and removes them.

They live in the instance folder's `batches/` (the name predates other job kinds; kept so earlier results stay
downloadable), under a random name that a job row records. Moving them to other storage changes only this module.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import current_app

FOLDER = "batches"


def _folder() -> Path:
    return Path(current_app.config["TRYGGAHUS"].instance_path) / FOLDER


def store_result(data: bytes, extension: str) -> str:
    """Keep `data` and return the name to record on the job."""
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{extension}"
    temporary = folder / f".{name}.part"
    temporary.write_bytes(data)
    temporary.replace(folder / name)  # whole or not at all
    return name


def result_path(name: str) -> Path | None:
    """The stored file of that name, or None when there is none (never a path outside the folder)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = _folder() / name
    return path if path.is_file() else None


def remove_result(name: str) -> None:
    path = result_path(name)
    if path is not None:
        path.unlink(missing_ok=True)
