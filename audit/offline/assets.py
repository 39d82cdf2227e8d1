"""What the service worker keeps for the walk without signal: the static files, and a version that changes with them.

Pure: reads only the files under `audit/static/`. The version is part of the served worker, so a changed asset
makes a byte-different `/sw.js`, which the browser installs as an update with a fresh asset cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from audit.settings import PROJECT_ROOT

STATIC_ROOT = PROJECT_ROOT / "audit" / "static"
#: The folders the walk's pages load from; fonts are left out (only PDFs use them) and so is the worker itself.
OFFLINE_FOLDERS = ("css", "js", "vendor", "icons")
#: Worker-side source files that no page loads.
NOT_FOR_PAGES = frozenset({"js/sw.js"})
#: Files next to the assets that no page loads.
NOT_ASSETS = frozenset({"LICENSE", "README.md"})


@dataclass(frozen=True)
class OfflineAssets:
    #: Paths relative to the static folder, e.g. `js/walk.js`.
    paths: tuple[str, ...]
    #: The first 16 hex digits of the sha256 over every asset's path and content.
    version: str


def offline_assets(root: Path = STATIC_ROOT) -> OfflineAssets:
    digest = hashlib.sha256()
    paths = []
    for folder in OFFLINE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if not path.is_file() or path.name in NOT_ASSETS:
                continue
            digest.update(relative.encode() + b"\0" + path.read_bytes())
            if relative not in NOT_FOR_PAGES:
                paths.append(relative)
    return OfflineAssets(tuple(paths), digest.hexdigest()[:16])


@cache
def current_assets() -> OfflineAssets:
    """Read once per process: the static files change only with a deployment, which restarts it."""
    return offline_assets()
