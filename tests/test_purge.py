"""`tryggahus purge`: photo files no row refers to and temporary upload files a crash left, older than a grace; and
records past their retention, in bounded batches."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.demo import demo_photo
from audit.inspections.models import Inspection
from audit.photos.services import add_photo
from audit.remediation.models import RemediationTask
from audit.remediation.services import add_task_photo, start_task
from tests.test_auth_and_api import PF

DAY = 24 * 3600
_HORIZONS = (
    "files older than {hours} h, idempotency records older than 30 days, login records older than 30 days, "
    "jobs ended over 14 days ago"
)


def _counts(**counts: int) -> str:
    names = ["photos", "idempotency records", "login throttles", "login sessions", "password reset links", "jobs"]
    return ", ".join(f"{name} {counts.get(name.replace(' ', '_'), 0)}" for name in names)


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
    assert sorted(dry.stdout.splitlines()) == sorted(
        [
            f"photos: would remove {orphan}",
            f"photos: would remove {part}",
            _counts(photos=2),
            f"2 to remove ({_HORIZONS.format(hours=24)})",
        ]
    )
    assert _files(photo_root) == before

    done = runner.invoke(args=["purge"])

    assert done.exit_code == 0, done.output
    assert f"photos: removed {orphan}" in done.stdout
    assert f"photos: removed {part}" in done.stdout
    assert done.stdout.splitlines()[-1] == f"2 removed ({_HORIZONS.format(hours=24)})"
    assert _files(photo_root) == before - {orphan, part}
    assert kept <= _files(photo_root)
    assert (outside / f"{'c' * 32}.jpg").exists()

    # A shorter grace takes the young leftovers too; the referenced files stay whatever their age.
    shorter = runner.invoke(args=["purge", "--grace-hours", "1"])
    assert shorter.stdout.splitlines()[-1] == f"2 removed ({_HORIZONS.format(hours=1)})"
    assert _files(photo_root) == before - {orphan, part, young_orphan, young_part}


def test_purge_of_an_empty_store_and_bad_grace(photo_root: Path, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["purge"]).stdout.splitlines() == [_counts(), f"0 removed ({_HORIZONS.format(hours=24)})"]
    bad = runner.invoke(args=["purge", "--grace-hours", "-1"])
    assert bad.exit_code == 2
    assert "Traceback" not in bad.output


def test_records_past_their_retention_go_in_bounded_batches_and_the_rest_stay(
    app: Flask,
    session: Session,
    runner: FlaskCliRunner,
    photo_root: Path,
    create_member: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from audit.accounts.models import LoginSession, LoginThrottle, PasswordReset, ThrottleScope
    from audit.api.models import IdempotencyRecord
    from audit.database import utcnow

    user = create_member(Role.inspector, email="retention@test.example")
    now, day = utcnow(), timedelta(days=1)
    old, recent = now - 31 * day, now - 29 * day

    def record(key: str, made: datetime) -> IdempotencyRecord:
        return IdempotencyRecord(
            user_id=user.id, key=key, fingerprint="0" * 64, status_code=200, response={}, created_at=made
        )

    def login(digest: str, made: datetime, revoked: datetime | None = None) -> LoginSession:
        return LoginSession(
            user=user, organisation_id=user.memberships[0].organisation_id, token_digest=digest.ljust(64, "0"),
            created_at=made, revoked_at=revoked,
        )  # fmt: skip

    def reset(digest: str, expires: datetime, used: datetime | None = None) -> PasswordReset:
        return PasswordReset(user_id=user.id, token_digest=digest.ljust(64, "0"), expires_at=expires, used_at=used)

    session.add_all(
        [
            *(record(f"old-{n}", old) for n in range(5)),
            record("recent", recent),
            LoginThrottle(scope=ThrottleScope.account, key="someone@test.example", failures=3, last_failure_at=old),
            LoginThrottle(scope=ThrottleScope.address, key="someone@test.example", failures=9, last_failure_at=recent),
            LoginThrottle(scope=ThrottleScope.address, key="198.51.100.7", failures=2, last_failure_at=old),
            login("a1", now - 40 * day, revoked=old),  # logged out long ago
            login("a2", now - 40 * day, revoked=recent),  # logged out within the retention
            login("a3", now - 61 * day),  # never logged out, but 30 days past the longest a login lasts
            login("a4", now - 40 * day),  # past the longest a login lasts, not yet by the retention
            login("a5", now - day),  # live
            reset("b1", expires=old),
            reset("b2", expires=now + day, used=old),
            reset("b3", expires=recent),
            reset("b4", expires=now + day),
        ]
    )
    session.flush()
    monkeypatch.setattr("audit.purge.ROW_BATCH", 2)  # five old records: batches of 2, 2 and 1

    def remaining() -> dict[str, set[str]]:
        session.expire_all()
        return {
            "records": {r.key for r in session.query(IdempotencyRecord).filter_by(user_id=user.id)},
            "throttles": {
                f"{t.scope.value}:{t.key}"
                for t in session.query(LoginThrottle)
                if t.key in ("someone@test.example", "198.51.100.7")  # this test's own (others may exist)
            },
            "logins": {s.token_digest[:2] for s in session.query(LoginSession).filter_by(user_id=user.id)},
            "resets": {r.token_digest[:2] for r in session.query(PasswordReset).filter_by(user_id=user.id)},
        }

    before = remaining()
    dry = runner.invoke(args=["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert remaining() == before
    done = runner.invoke(args=["purge"])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    batches = [line for line in lines if line.startswith("idempotency records:")]
    assert [int(line.split()[3]) for line in batches] == [2, 2, 1]  # "idempotency records: removed 2 made before …"
    assert all(f"made before {now - 30 * day:%Y-%m-%d}" in line for line in batches)
    assert dry.stdout.splitlines()[-2] == lines[-2] == _counts(
        idempotency_records=5, login_throttles=2, login_sessions=2, password_reset_links=2
    )
    assert remaining() == {
        "records": {"recent"},
        "throttles": {"address:someone@test.example"},
        "logins": {"a2", "a4", "a5"},
        "resets": {"b3", "b4"},
    }


def test_a_login_ends_after_its_longest_age_however_busy(
    client: FlaskClient, session: Session, create_member: Callable[..., User]
) -> None:
    from audit.accounts.auth import LOGIN_MAX_AGE
    from audit.accounts.models import LoginSession
    from audit.database import utcnow
    from tests.web_support import login

    user = create_member(Role.manager, email="long-login@test.example")
    login(client, user.email)
    assert client.get("/buildings/").status_code == 200
    row = session.query(LoginSession).filter_by(user_id=user.id).one()
    row.created_at = utcnow() - LOGIN_MAX_AGE - timedelta(minutes=1)
    session.flush()
    assert client.get("/buildings/").status_code == 302  # to the login page


def test_jobs_ended_past_their_retention_go_with_their_files(
    session: Session, runner: FlaskCliRunner, photo_root: Path, org: Organisation, create_member: Callable[..., User]
) -> None:
    from audit.database import utcnow
    from audit.jobs.models import Job, JobStatus
    from audit.jobs.results import read_result, store_result

    manager = create_member(Role.manager, email="job-retention@test.example")
    now = utcnow()

    def ended(days_ago: int, status: JobStatus = JobStatus.finished, data: bytes | None = b"PK") -> Job:
        at = now - timedelta(days=days_ago)
        name = store_result(data, "zip") if data is not None else None
        job = Job(
            kind="remediation.export_tasks", organisation_id=org.id, created_by_id=manager.id, status=status,
            params={}, result_name=name, started_at=at, finished_at=at, failure="x" if name is None else None,
        )  # fmt: skip
        session.add(job)
        return job

    old, old_failed, recent = ended(15), ended(20, JobStatus.failed, data=None), ended(13)
    running = Job(kind="cleanup", organisation_id=None, params={}, status=JobStatus.queued)
    session.add(running)
    session.flush()
    names = {job.id: job.result_name for job in (old, recent)}
    old_id, old_failed_id = old.id, old_failed.id

    done = runner.invoke(args=["purge"])

    assert done.exit_code == 0, done.output
    assert [line for line in done.stdout.splitlines() if line.startswith("jobs:")] == [
        f"jobs: removed 2 ended before {now - timedelta(days=14):%Y-%m-%d %H:%M} UTC, 1 with a file"
    ]
    session.expire_all()
    assert {job.id for job in session.query(Job)} >= {recent.id, running.id}
    assert session.get(Job, old_id) is None
    assert session.get(Job, old_failed_id) is None
    assert read_result(names[old_id] or "") is None
    assert read_result(names[recent.id] or "") == b"PK"
