"""Adding photos to an inspection: check, clean, store the files, record them."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.errors import N_
from audit.inspections.models import Inspection
from audit.inspections.services import InvalidAnswer, check_editable, check_inspector
from audit.photos.models import Photo
from audit.photos.processing import process_photo
from audit.photos.storage import PhotoStore

#: Most photos an item can have; more is almost certainly a stuck upload loop.
MAX_PHOTOS_PER_ITEM = 20


def photo_store() -> PhotoStore:
    return PhotoStore(current_app.config["TRYGGAHUS"].photo_root)


def add_photo(session: Session, actor: User, inspection: Inspection, item_key: str, raw: bytes) -> Photo:
    """Store one photo for one item; raises PhotoRejected for content that is not a usable image."""
    check_editable(inspection)
    check_inspector(actor, inspection)
    if inspection.checklist_version.checklist.find_item(item_key) is None:
        raise InvalidAnswer(N_("%(key)s is not an item of this checklist."), key=item_key[:20])
    if sum(1 for photo in inspection.photos if photo.item_key == item_key) >= MAX_PHOTOS_PER_ITEM:
        raise InvalidAnswer(N_("%(key)s already has %(count)d photos."), key=item_key, count=MAX_PHOTOS_PER_ITEM)
    settings = current_app.config["TRYGGAHUS"]
    processed = process_photo(
        raw,
        max_bytes=settings.max_photo_bytes,
        max_dimension=settings.photo_max_dimension,
        keep_location=inspection.organisation.keep_photo_location,
    )
    store = photo_store()
    photo = Photo(
        organisation_id=inspection.organisation_id,
        inspection=inspection,
        item_key=item_key,
        file_path=store.save(processed.data),
        thumbnail_path=store.save(processed.thumbnail),
        sha256=processed.sha256,
        media_type=processed.media_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.data),
        uploaded_by=actor,
    )
    session.add(photo)
    session.flush()
    return photo
