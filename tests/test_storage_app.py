"""The app on S3 (a real moto server): photos uploaded and served, the report PDF with photos, batch outputs,
the sweeper, a rolled-back upload, and `tryggahus storage migrate` with its SHA-256 checks."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.certificates.jobs import PRINT_SIGNS
from audit.certificates.models import BatchFormat
from audit.checklists.models import ChecklistVersion
from audit.database import utcnow
from audit.demo import demo_photo
from audit.inspections.models import Inspection, InspectionKind
from audit.inspections.services import start_inspection, submit_inspection
from audit.jobs.models import Job, JobStatus
from audit.jobs.results import read_result, store_result
from audit.photos.services import add_photo, photo_store
from audit.settings import Settings, SettingsError
from audit.storage.base import new_key
from audit.storage.services import app_store
from tests.pdf_support import pdf_image_count
from tests.remediation_support import walk
from tests.s3_support import BUCKET, S3Server, s3_storage
from tests.test_auth_and_api import PF
from tests.web_support import api_headers, login


@pytest.fixture
def on_s3(app: Flask, s3_server: S3Server, tmp_path: Path) -> Iterator[Settings]:
    """The app keeps its files on S3 under a fresh prefix; its local folders are empty ones of this test."""
    settings = app.config["TRYGGAHUS"]
    app.config["TRYGGAHUS"] = dataclasses.replace(settings, photo_dir=tmp_path / "local-photos")
    try:
        with s3_storage(app, s3_server) as s3_settings:
            yield s3_settings
    finally:
        app.config["TRYGGAHUS"] = settings


def _local_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_photo_is_uploaded_to_s3_and_served_through_the_access_checks(
    app: Flask,
    client: FlaskClient,
    on_s3: Settings,
    s3_server: S3Server,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    create_org: Callable[..., Organisation],
) -> None:
    inspector = create_member(Role.inspector, email="s3-inspector@test.example")
    draft_id = create_inspection(inspector=inspector).id
    stranger = create_member(Role.manager, organisation=create_org("s3-strangers"), email="s3-stranger@test.example")
    login(client, inspector.email)

    uploaded = client.post(
        f"/api/v1/inspections/{draft_id}/photos",
        data={"item_key": PF, "file": (io.BytesIO(demo_photo("s3")), "x.jpg")},
        headers=api_headers(client),
    )

    assert uploaded.status_code == 201, uploaded.json
    objects = s3_server.keys(on_s3.s3_prefix + "photos/")
    assert len(objects) == 2  # the photo and its thumbnail, and nothing on the local disk
    assert _local_files(on_s3.photo_root) == []
    full, thumb = client.get(uploaded.json["url"]), client.get(uploaded.json["thumbnail_url"])
    assert full.status_code == thumb.status_code == 200
    assert full.mimetype == "image/jpeg"
    assert {full.data, thumb.data} == set(objects.values())
    assert hashlib.sha256(full.data).hexdigest() == full.headers["ETag"].strip('"')
    assert full.headers["Cache-Control"] == "private, max-age=3600"
    again = client.get(uploaded.json["url"], headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    other = app.test_client()
    login(other, stranger.email)
    assert other.get(uploaded.json["url"]).status_code == 404


def test_a_photo_whose_object_is_gone_is_404(
    client: FlaskClient,
    session: Session,
    on_s3: Settings,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    inspector = create_member(Role.inspector, email="s3-gone@test.example")
    inspection = create_inspection(inspector=inspector)
    photo = add_photo(session, inspector, inspection, PF, demo_photo("gone"))
    photo_store().delete(photo.file_path)
    login(client, inspector.email)

    url = f"/inspections/{inspection.id}/photos/{photo.id}"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/thumb").status_code == 200


def test_the_objects_of_a_rolled_back_upload_are_removed(
    session: Session,
    on_s3: Settings,
    s3_server: S3Server,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    inspector = create_member(Role.inspector, email="s3-rollback@test.example")
    photo = add_photo(session, inspector, create_inspection(inspector=inspector), PF, demo_photo("rolled back"))
    assert set(s3_server.keys(on_s3.s3_prefix + "photos/")) == {photo.file_path, photo.thumbnail_path}

    session.rollback()

    assert s3_server.keys(on_s3.s3_prefix + "photos/") == {}


def test_the_report_pdf_shows_the_photos_stored_on_s3(
    client: FlaskClient,
    session: Session,
    on_s3: Settings,
    create_member: Callable[..., User],
    create_test_building: Callable[..., object],
    checklist_version: ChecklistVersion,
    tmp_path: Path,
) -> None:
    """Laid out in the helper process, which opens its own S3 store from the settings it is handed."""
    inspector = create_member(Role.inspector, email="s3-report@test.example")
    inspection = start_inspection(
        session, inspector, create_test_building(name="Molnhuset"), InspectionKind.certification, checklist_version
    )
    walk(session, inspector, inspection, failing=("BEL-01", "UTE-01"))
    submit_inspection(session, inspector, inspection)
    photos = len(inspection.photos)
    viewer = create_member(Role.viewer, email="s3-viewer@test.example")
    session.commit()
    login(client, viewer.email)

    response = client.get(f"/inspections/{inspection.id}/report.pdf")

    assert response.status_code == 200
    assert photos >= 1
    assert pdf_image_count(response.data, tmp_path) == photos
    assert _local_files(on_s3.photo_root) == []


def test_a_batch_output_is_kept_on_s3_and_downloaded_through_the_app(
    client: FlaskClient,
    session: Session,
    on_s3: Settings,
    s3_server: S3Server,
    org: Organisation,
    create_member: Callable[..., User],
) -> None:
    manager = create_member(Role.manager, email="s3-batch@test.example")
    name = store_result(b"%PDF-1.7 signs", "pdf")
    now = utcnow()
    job = Job(
        kind=PRINT_SIGNS.name,
        organisation_id=org.id,
        created_by_id=manager.id,
        status=JobStatus.finished,
        params={"format": BatchFormat.pdf.value},
        result_name=name,
        started_at=now,
        finished_at=now,
    )
    session.add(job)
    session.flush()
    login(client, manager.email)

    download = client.get(f"/certificates/batch/{job.id}/download")

    assert s3_server.keys(on_s3.s3_prefix + "batches/") == {name: b"%PDF-1.7 signs"}
    assert name.endswith(".pdf")
    assert download.status_code == 200
    assert download.data == b"%PDF-1.7 signs"
    assert read_result(name) == b"%PDF-1.7 signs"
    app_store("batches").delete(name)
    assert client.get(f"/certificates/batch/{job.id}/download").status_code == 404


def test_the_sweeper_removes_old_objects_no_row_refers_to(
    runner: FlaskCliRunner,
    session: Session,
    on_s3: Settings,
    s3_server: S3Server,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    inspector = create_member(Role.inspector, email="s3-purge@test.example")
    photo = add_photo(session, inspector, create_inspection(inspector=inspector), PF, demo_photo("kept"))
    orphan = new_key(".jpg")
    store = photo_store()
    store.put(orphan, b"left behind")
    store.put("ab/cd/readme.jpg", b"not the store's")

    young = runner.invoke(args=["purge"])  # everything was written just now: within the grace

    assert young.stdout.splitlines()[-1].startswith("0 removed (files older than 24 h,")
    done = runner.invoke(args=["purge", "--grace-hours", "0"])
    assert done.exit_code == 0, done.output
    assert [line for line in done.stdout.splitlines() if line.startswith("photos:")] == [f"photos: removed {orphan}"]
    assert done.stdout.splitlines()[-1].startswith("1 removed (files older than 0 h,")
    left = set(s3_server.keys(on_s3.s3_prefix + "photos/"))
    assert left == {photo.file_path, photo.thumbnail_path, "ab/cd/readme.jpg"}


def test_storage_migrate_copies_verifies_and_finds_a_corrupted_copy(
    app: Flask,
    client: FlaskClient,
    runner: FlaskCliRunner,
    session: Session,
    s3_server: S3Server,
    tmp_path: Path,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    settings = app.config["TRYGGAHUS"]
    local = dataclasses.replace(settings, photo_dir=tmp_path / "photos", instance_path=tmp_path / "instance")
    # Still the local backend, but with the S3 settings the copy goes to.
    app.config["TRYGGAHUS"] = dataclasses.replace(s3_server.settings(local), storage="local")
    try:
        prefix = app.config["TRYGGAHUS"].s3_prefix
        inspector = create_member(Role.inspector, email="s3-migrate@test.example")
        photo = add_photo(session, inspector, create_inspection(inspector=inspector), PF, demo_photo("moved"))
        batch = store_result(b"PK zip of signs", "zip")
        (tmp_path / "instance" / "batches" / batch).with_name(".upload-x.part").write_bytes(b"half")
        local_files = {
            "photos/" + key: photo_store().read(key) for key in (photo.file_path, photo.thumbnail_path)
        } | {"batches/" + batch: b"PK zip of signs"}

        first = runner.invoke(args=["storage", "migrate", "--to", "s3"])

        assert first.exit_code == 0, first.output
        assert "photos: " in first.output
        assert "2 copied, 0 already there, 0 replaced, 0 mismatch, 0 vanished" in first.output
        assert "1 copied, 0 already there" in first.output  # the batch output; the temporary file is not copied
        copied = s3_server.keys(prefix)
        assert copied == local_files
        assert {hashlib.sha256(data).hexdigest() for data in copied.values()} == {
            hashlib.sha256(data).hexdigest() for data in local_files.values()
        }

        second = runner.invoke(args=["storage", "migrate", "--to", "s3"])

        assert second.exit_code == 0, second.output
        assert "0 copied, 2 already there" in second.output
        assert "0 copied, 1 already there" in second.output

        s3_server.client().put_object(Bucket=BUCKET, Key=f"{prefix}photos/{photo.file_path}", Body=b"bit rot")
        corrupted = runner.invoke(args=["storage", "migrate", "--to", "s3", "--area", "photos"])

        assert corrupted.exit_code == 1
        assert f"photos: SHA-256 mismatch {photo.file_path} in s3://{BUCKET}/{prefix}photos/" in corrupted.output
        assert "0 copied, 1 already there, 0 replaced, 1 mismatch" in corrupted.output
        assert s3_server.keys(prefix)[f"photos/{photo.file_path}"] == b"bit rot"  # left as it was

        repaired = runner.invoke(args=["storage", "migrate", "--to", "s3", "--replace-mismatched"])

        assert repaired.exit_code == 0, repaired.output
        assert "0 copied, 1 already there, 1 replaced, 0 mismatch" in repaired.output
        assert s3_server.keys(prefix) == local_files

        # Switched over, the app serves the copy; and back again into an empty folder, everything arrives.
        app.config["TRYGGAHUS"] = dataclasses.replace(app.config["TRYGGAHUS"], storage="s3")
        login(client, inspector.email)
        photo_url = f"/inspections/{photo.inspection_id}/photos/{photo.id}"
        assert client.get(photo_url).data == local_files[f"photos/{photo.file_path}"]
        app.config["TRYGGAHUS"] = dataclasses.replace(app.config["TRYGGAHUS"], photo_dir=tmp_path / "back")
        back = runner.invoke(args=["storage", "migrate", "--to", "local"])
        assert back.exit_code == 0, back.output
        assert "2 copied" in back.output
        assert {path.read_bytes() for path in _local_files(tmp_path / "back")} == {
            data for key, data in local_files.items() if key.startswith("photos/")
        }
    finally:
        app.config["TRYGGAHUS"] = settings


def test_storage_migrate_refuses_what_cannot_work(
    app: Flask, runner: FlaskCliRunner, s3_server: S3Server, tmp_path: Path
) -> None:
    settings = app.config["TRYGGAHUS"]
    try:
        unset = runner.invoke(args=["storage", "migrate", "--to", "s3"])
        assert unset.exit_code == 1
        assert "set TRYGGAHUS_S3_BUCKET" in unset.output
        same = runner.invoke(args=["storage", "migrate", "--from", "local", "--to", "local"])
        assert same.exit_code == 1
        assert "the same backend" in same.output
        missing = dataclasses.replace(s3_server.settings(settings), storage="local", s3_bucket="no-such-bucket")
        app.config["TRYGGAHUS"] = missing
        no_bucket = runner.invoke(args=["storage", "migrate", "--to", "s3"])
        assert no_bucket.exit_code == 1
        assert no_bucket.output.startswith("Error: storage: ")
        assert len(no_bucket.output.strip().splitlines()) == 1
        assert "Traceback" not in no_bucket.output
    finally:
        app.config["TRYGGAHUS"] = settings


def test_storage_check(app: Flask, runner: FlaskCliRunner, s3_server: S3Server) -> None:
    settings = app.config["TRYGGAHUS"]
    try:
        app.config["TRYGGAHUS"] = s3_server.settings(settings)
        ok = runner.invoke(args=["storage", "check"])
        assert ok.exit_code == 0, ok.output
        assert f"photos: s3://{BUCKET}/" in ok.output
        app.config["TRYGGAHUS"] = dataclasses.replace(app.config["TRYGGAHUS"], s3_bucket="no-such-bucket")
        failed = runner.invoke(args=["storage", "check"])
        assert failed.exit_code == 1
        assert "photos: s3://no-such-bucket/" in failed.output
    finally:
        app.config["TRYGGAHUS"] = settings


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"TRYGGAHUS_STORAGE": "ftp"}, "must be 'local' or 's3'"),
        ({"TRYGGAHUS_STORAGE": "s3"}, "S3_BUCKET must name the bucket"),
        ({"TRYGGAHUS_STORAGE": "s3", "TRYGGAHUS_S3_BUCKET": "b", "TRYGGAHUS_S3_PREFIX": "x"}, "must end with '/'"),
        ({"TRYGGAHUS_S3_ADDRESSING_STYLE": "sideways"}, "'auto', 'path' or 'virtual'"),
        ({"TRYGGAHUS_S3_ENDPOINT_URL": "s3.example.se"}, "http:// or https://"),
        ({"TRYGGAHUS_S3_MAX_ATTEMPTS": "0"}, "between 1 and 10"),
    ],
)
def test_storage_settings_are_checked(environment: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environment)


def test_storage_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "TRYGGAHUS_STORAGE": "s3",
            "TRYGGAHUS_S3_BUCKET": "tryggahus",
            "TRYGGAHUS_S3_PREFIX": "prod/",
            "TRYGGAHUS_S3_ENDPOINT_URL": "https://s3.example.se",
            "TRYGGAHUS_S3_SECRET_ACCESS_KEY": "hemlig",
        }
    )
    assert (settings.storage, settings.s3_bucket, settings.s3_prefix) == ("s3", "tryggahus", "prod/")
    assert "hemlig" not in repr(settings)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_stored_files_out_of_reach_are_503_in_the_users_language(
    app: Flask,
    client: FlaskClient,
    session: Session,
    on_s3: Settings,
    create_member: Callable[..., User],
    create_test_building: Callable[..., object],
    create_inspection: Callable[..., Inspection],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = create_member(Role.inspector, email="s3-down@test.example")
    inspection = start_inspection(
        session, inspector, create_test_building(name="Stormhuset"), InspectionKind.certification, checklist_version
    )
    walk(session, inspector, inspection, failing=("BEL-01",))
    submit_inspection(session, inspector, inspection)
    photo = inspection.photos[0]
    draft = create_inspection(inspector=inspector)
    session.commit()
    login(client, inspector.email)
    dead = f"http://127.0.0.1:{_closed_port()}"  # tried once: retries would only make the test slow
    app.config["TRYGGAHUS"] = dataclasses.replace(on_s3, s3_endpoint_url=dead, s3_max_attempts=1)

    url = f"/inspections/{inspection.id}/photos/{photo.id}"
    swedish, english = client.get(url), client.get(f"{url}?lang=en")
    report = client.get(f"/inspections/{inspection.id}/report.pdf?lang=en")
    upload = client.post(
        f"/api/v1/inspections/{draft.id}/photos",
        data={"item_key": "BEL-01", "file": (io.BytesIO(demo_photo("down")), "x.jpg")},
        headers=api_headers(client),
    )

    assert swedish.status_code == english.status_code == report.status_code == upload.status_code == 503
    assert swedish.headers["Retry-After"] == "10"
    assert "De sparade filerna går inte att nå just nu" in swedish.get_data(as_text=True)
    assert "The stored files cannot be reached just now" in english.get_data(as_text=True)
    assert "The stored files cannot be reached just now" in report.get_data(as_text=True)
    assert upload.json["error"] == "service_unavailable"
    assert draft.photos == []
