"""Adding photos to an inspection: check, clean, store the files, record them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response, abort, current_app, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, User
from audit.checklists.schema import is_applicable
from audit.errors import N_
from audit.inspections.models import Inspection
from audit.inspections.services import InvalidAnswer, check_editable, check_inspector, lock_inspection
from audit.photos.models import Photo, StoredPhoto
from audit.photos.processing import PhotoRejected, process_photo
from audit.storage.base import FileStore, NotStored
from audit.storage.services import app_store

logger = logging.getLogger(__name__)

#: Most photos an item can have; more is almost certainly a stuck upload loop.
MAX_PHOTOS_PER_ITEM = 20


_UNCOMMITTED = "tryggahus.uncommitted_photo_files"
#: Photos decoded at once by one worker (each may take up to about 150 MB), and how long another one waits.
PARALLEL_DECODES = 2
DECODE_WAIT_SECONDS = 20.0
_decode_slots = threading.BoundedSemaphore(PARALLEL_DECODES)


@contextmanager
def _decoding_slot() -> Iterator[None]:
    """One of the worker's decoding slots; PhotoRejected("busy") if none comes free in time."""
    if not _decode_slots.acquire(timeout=DECODE_WAIT_SECONDS):
        raise PhotoRejected("busy")
    try:
        yield
    finally:
        _decode_slots.release()


@event.listens_for(Session, "after_commit")
def _keep_files(session: Session) -> None:
    session.info.pop(_UNCOMMITTED, None)


@event.listens_for(Session, "after_rollback")
def _remove_files(session: Session) -> None:
    store: FileStore
    for store, key in session.info.pop(_UNCOMMITTED, []):
        try:
            store.delete(key)
        except Exception:  # the store is out of reach: `tryggahus purge` removes the orphan later
            logger.warning("photo file %s of a rolled-back upload stays until the next purge", key, exc_info=True)


def photo_store() -> FileStore:
    """The store of photos and thumbnails (`TRYGGAHUS_STORAGE`)."""
    return app_store("photos")


def add_photo(session: Session, actor: User, inspection: Inspection, item_key: str, raw: bytes) -> Photo:
    """Store one photo for one item; raises PhotoRejected for content that is not a usable image."""
    check_editable(inspection)
    check_inspector(actor, inspection)
    found = inspection.checklist_version.checklist.find_item(item_key)
    if found is None:
        raise InvalidAnswer(N_("%(key)s is not an item of this checklist."), key=item_key[:20])
    if not is_applicable(*found, inspection.building.features):
        raise InvalidAnswer(N_("%(key)s does not apply to this building."), key=item_key)
    if sum(1 for photo in inspection.photos if photo.item_key == item_key) >= MAX_PHOTOS_PER_ITEM:
        raise InvalidAnswer(N_("%(key)s already has %(count)d photos."), key=item_key, count=MAX_PHOTOS_PER_ITEM)
    fields = stored_photo_fields(session, actor, raw, inspection.organisation)
    # Checked again under the lock (after the slow image work, which runs without it): it may have been submitted.
    lock_inspection(session, inspection, shared=True)
    check_editable(inspection)
    photo = Photo(inspection=inspection, item_key=item_key, **fields)
    session.add(photo)
    session.flush()
    return photo


def stored_photo_fields(session: Session, actor: User, raw: bytes, organisation: Organisation) -> dict[str, Any]:
    """Check and clean an upload, write it and its thumbnail to the store: the columns of a `StoredPhoto`.

    Raises PhotoRejected for content that is not a usable image. The files are written before the transaction
    commits: if it rolls back instead, they are removed again.
    """
    settings = current_app.config["TRYGGAHUS"]
    with _decoding_slot():
        processed = process_photo(
            raw,
            max_bytes=settings.max_photo_bytes,
            max_dimension=settings.photo_max_dimension,
            keep_location=organisation.keep_photo_location,
        )
    store = photo_store()
    uncommitted = session.info.setdefault(_UNCOMMITTED, [])
    written = []
    for data in (processed.data, processed.thumbnail):
        written.append(store.save(data))
        uncommitted.append((store, written[-1]))
    return {
        "organisation_id": organisation.id,
        "file_path": written[0],
        "thumbnail_path": written[1],
        "sha256": processed.sha256,
        "media_type": processed.media_type,
        "width": processed.width,
        "height": processed.height,
        "size_bytes": len(processed.data),
        "uploaded_by": actor,
    }


def photo_response(photo: StoredPhoto, variant: str) -> Response:
    """The photo's file (or its thumbnail) for a user already allowed to see it; 404 for anything else."""
    if variant not in ("full", "thumb"):
        abort(404)
    # Stored files never change, so a browser's copy with the photo's ETag is answered before reading anything.
    if photo.sha256 in request.if_none_match:
        response = Response(status=304)
    else:
        try:
            data = photo_store().read(photo.thumbnail_path if variant == "thumb" else photo.file_path)
        except (NotStored, ValueError):
            abort(404)
        response = Response(data, mimetype=photo.media_type)
    response.set_etag(photo.sha256)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
