"""`tryggahus purge`: photo files no row refers to and temporary upload files a crash left, older than a grace."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from audit.accounts.models import Role, User
from audit.demo import demo_photo
from audit.inspections.models import Inspection
from audit.photos.services import add_photo
from audit.remediation.models import RemediationTask
from audit.remediation.services import add_task_photo, start_task
from tests.test_auth_and_api import PF

DAY = 24 * 3600


@pytest.fixture
def photo_root(app: Flask, tmp_path: Path) -> Iterator[Path]:
    """A photo store of this test's own, so that only its files are there."""
    settings = app.config["TRYGGAHUS"]
    app.config["TRYGGAHUS"] = dataclasses.replace(settings, photo_dir=tmp_path / "photos")
    yield tmp_path / "photos"
    app.config["TRYGGAHUS"] = settings


def _age(root: Path, relative: str, seconds: float) -> None:
    os.utime(root / relative, (time.time() - seconds, time.time() - seconds))


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def test_purge_removes_old_files_no_row_refers_to_and_nothing_else(
    photo_root: Path,
    runner: FlaskCliRunner,
    session: Session,
    create_inspection: Callable[..., Inspection],
    create_member: Callable[..., User],
    create_task: Callable[..., RemediationTask],
) -> None:
    inspector = create_member(Role.inspector, email="purge@test.example")
    photo = add_photo(session, inspector, create_inspection(inspector=inspector), PF, demo_photo("kept"))
    contractor = create_member(Role.contractor, email="purge-contractor@test.example")
    task = create_task(assignee=contractor)
    start_task(session, contractor, task)
    evidence = add_task_photo(session, contractor, task, demo_photo("evidence"))
    kept = {photo.file_path, photo.thumbnail_path, evidence.file_path, evidence.thumbnail_path}
    shard = Path(photo.file_path).parent.as_posix()
    orphan, young_orphan = f"{shard}/{'a' * 32}.jpg", f"{shard}/{'b' * 32}.jpg"
    part, young_part = f"{shard}/.upload-k2j4_x.part", f"{shard}/.upload-9zzq1.part"
    foreign = ["notes.txt", f"{shard}/README.md", "ab/cd/readme.jpg"]
    for relative in [orphan, young_orphan, part, young_part, *foreign]:
        (photo_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (photo_root / relative).write_bytes(b"left behind")
    for relative in [*kept, orphan, part, *foreign]:
        _age(photo_root, relative, 2 * DAY)
    _age(photo_root, young_orphan, 2 * 3600)
    _age(photo_root, young_part, 2 * 3600)
    # A shard folder that is a link out of the store: what it leads to is never the store's to remove.
    outside = photo_root.parent / "outside"
    outside.mkdir()
    (outside / f"{'c' * 32}.jpg").write_bytes(b"not the store's")
    _age(outside, f"{'c' * 32}.jpg", 2 * DAY)
    link = photo_root / shard.split("/")[0] / ("fe" if shard.endswith("/ff") else "ff")
    link.symlink_to(outside, target_is_directory=True)
    before = _files(photo_root)

    dry = runner.invoke(args=["purge", "--dry-run"])

    assert dry.exit_code == 0, dry.output
    assert sorted(dry.output.splitlines()) == sorted(
        [f"photos: would remove {orphan}", f"photos: would remove {part}", "2 to remove (older than 24 h)"]
    )
    assert _files(photo_root) == before

    done = runner.invoke(args=["purge"])

    assert done.exit_code == 0, done.output
    assert f"photos: removed {orphan}" in done.output
    assert f"photos: removed {part}" in done.output
    assert done.output.splitlines()[-1] == "2 removed (older than 24 h)"
    assert _files(photo_root) == before - {orphan, part}
    assert kept <= _files(photo_root)
    assert (outside / f"{'c' * 32}.jpg").exists()

    # A shorter grace takes the young leftovers too; the referenced files stay whatever their age.
    shorter = runner.invoke(args=["purge", "--grace-hours", "1"])
    assert shorter.output.splitlines()[-1] == "2 removed (older than 1 h)"
    assert _files(photo_root) == before - {orphan, part, young_orphan, young_part}


def test_purge_of_an_empty_store_and_bad_grace(photo_root: Path, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["purge"]).output == "0 removed (older than 24 h)\n"
    bad = runner.invoke(args=["purge", "--grace-hours", "-1"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output
