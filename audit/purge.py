"""`tryggahus purge`: the clean-ups that remove what crashes and time leave behind, each owned by its domain.

A clean-up is a function `(session, *, before, dry_run)` that removes (or with `dry_run` only names) what it finds
that is older than `before`, and yields a name for each; a new one is added to `cleanups()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

CleanupFunction = Callable[..., Iterator[str]]


@dataclass(frozen=True)
class Cleanup:
    #: Short name printed before each thing it removes.
    name: str
    run: CleanupFunction


def cleanups() -> list[Cleanup]:
    """Every clean-up, in the order they run; each domain keeps its own function, this only wires them."""
    from audit.photos.cleanup import orphan_photo_files

    return [Cleanup("photos", orphan_photo_files)]


def purge(session: Session, *, before: datetime, dry_run: bool) -> Iterator[tuple[str, str]]:
    """Run every clean-up; yields (clean-up, what it removed) as it goes."""
    for cleanup in cleanups():
        for removed in cleanup.run(session, before=before, dry_run=dry_run):
            yield cleanup.name, removed
