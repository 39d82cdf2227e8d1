"""The malicious upload corpus through every upload route: the inspection photo API and the contractor's task form.

Every file gets either a clear refusal (413 or 415 with the reason in the user's language, nothing stored) or is
stored as a fresh JPEG of its pixels only: no EXIF (so no position), no comment, none of what it carried besides.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from audit.accounts.models import Role, User
from audit.api.views import PHOTO_PROBLEMS
from audit.inspections.models import Inspection
from audit.photos.models import Photo, StoredPhoto
from audit.photos.services import photo_store
from audit.remediation.models import RemediationTask, TaskPhoto
from tests.test_auth_and_api import PF
from tests.upload_corpus import Upload, corpus
from tests.web_support import api_headers, csrf_token, login

UPLOADS = {upload.name: upload for upload in corpus()}
STORED_NAME = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{32}\.jpg")


def test_the_corpus_is_large_and_covers_every_outcome() -> None:
    assert len(UPLOADS) >= 30
    outcomes = {upload.outcome for upload in UPLOADS.values()}
    assert outcomes == {"stored", "too_many_pixels", "too_large", "corrupt", "not_an_image", "unsupported_format"}


def _status(code: str) -> int:
    return 413 if code in ("too_large", "too_many_pixels") else 415


def _message(code: str) -> str:
    with force_locale("sv"):
        return str(PHOTO_PROBLEMS[code])


def _segments(jpeg: bytes) -> set[int]:
    """The markers of the JPEG's segments before its first scan."""
    found, at = set(), 2
    while jpeg[at + 1] != 0xDA:
        found.add(jpeg[at + 1])
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return found


def _assert_clean(photo: StoredPhoto, upload: Upload) -> None:
    store = photo_store()
    for relative in (photo.file_path, photo.thumbnail_path):
        assert STORED_NAME.fullmatch(relative)
        data = store.read(relative)
        assert data.startswith(b"\xff\xd8\xff")
        assert not _segments(data) & {0xE1, 0xFE}  # no EXIF or XMP (so no position), no comment
        if upload.payload:
            assert upload.payload not in data
    assert photo.media_type == "image/jpeg"


@pytest.mark.parametrize("name", UPLOADS)
def test_the_inspection_photo_api(
    name: str,
    client: FlaskClient,
    session: Session,
    create_inspection: Callable[..., Inspection],
    create_member: Callable[..., User],
) -> None:
    upload = UPLOADS[name]
    inspector = create_member(Role.inspector, email="corpus@test.example")
    inspection_id = create_inspection(inspector=inspector).id
    login(client, inspector.email)

    response = client.post(
        f"/api/v1/inspections/{inspection_id}/photos",
        data={"item_key": PF, "file": (io.BytesIO(upload.data), upload.filename)},
        headers=api_headers(client),
    )

    photos = session.scalars(select(Photo).where(Photo.inspection_id == inspection_id)).all()
    if upload.outcome == "stored":
        assert response.status_code == 201, response.json
        assert upload.filename not in response.get_data(as_text=True)
        (photo,) = photos
        _assert_clean(photo, upload)
    else:
        assert response.status_code == _status(upload.outcome), response.json
        assert response.json["error"] == upload.outcome
        assert response.json["message"] == _message(upload.outcome)
        assert photos == []


@pytest.mark.parametrize("name", UPLOADS)
def test_the_contractors_task_form(
    name: str,
    client: FlaskClient,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
) -> None:
    upload = UPLOADS[name]
    contractor = create_member(Role.contractor, email="corpus-contractor@test.example")
    task_id = create_task(assignee=contractor).id
    login(client, contractor.email)
    client.post(f"/tasks/{task_id}/start", data={"csrf_token": csrf_token(client, "/tasks/")})

    response: TestResponse = client.post(
        f"/tasks/{task_id}/work",
        data={
            "csrf_token": csrf_token(client, "/tasks/"),
            "action": "photo",
            "photo": (io.BytesIO(upload.data), upload.filename),
        },
        content_type="multipart/form-data",
    )

    photos = session.scalars(select(TaskPhoto).where(TaskPhoto.task_id == task_id)).all()
    if upload.outcome == "stored":
        assert response.status_code == 303
        (photo,) = photos
        _assert_clean(photo, upload)
    elif not upload.data:  # the form's file field left empty: no photo was chosen
        assert response.status_code == 422
        assert "Välj ett foto först." in response.get_data(as_text=True)
        assert photos == []
    else:
        assert response.status_code == _status(upload.outcome)
        assert _message(upload.outcome) in response.get_data(as_text=True)
        assert photos == []
