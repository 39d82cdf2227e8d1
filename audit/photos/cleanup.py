"""The photo store's clean-up for `tryggahus purge`: files that no row refers to.

A crash between writing a photo's files and committing its row (or during the write itself, which leaves a
`.upload-*.part` file) leaves files behind that nothing will ever serve or remove.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from audit.database import Base
from audit.photos.models import StoredPhoto
from audit.photos.services import photo_store

#: Paths checked against the database in one query.
BATCH = 500


def orphan_photo_files(session: Session, *, before: datetime, dry_run: bool) -> Iterator[str]:
    """Remove (or with `dry_run` only name) every file of the photo store last changed before `before` that no
    stored photo or thumbnail of any kind refers to; yields the relative path of each.

    `before` leaves alone the files of uploads still in flight, whose rows are not committed yet.
    """
    store = photo_store()
    old = (entry.key for entry in store.listing() if entry.modified < before.timestamp())
    for batch in _batches(old):
        referenced = _referenced(session, batch)
        for relative in batch:
            if relative in referenced:
                continue
            if not dry_run:
                store.delete(relative)
            yield relative


def _batches(paths: Iterable[str]) -> Iterator[list[str]]:
    iterator = iter(paths)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def _referenced(session: Session, paths: list[str]) -> set[str]:
    """Those of `paths` that a photo (of an inspection, a task or any later kind) stores as file or thumbnail."""
    kinds = [mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, StoredPhoto)]
    queries = [
        select(column).where(column.in_(paths)) for kind in kinds for column in (kind.file_path, kind.thumbnail_path)
    ]
    return set(session.scalars(select(union(*queries).subquery().c[0])))
