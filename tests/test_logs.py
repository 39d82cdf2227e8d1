"""Structured logs: JSON lines in production and readable lines in development, each with its request id (and who is
logged in), one line per committed domain event with ids only, gunicorn's access lines with the request id too."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import create_app
from audit.accounts.models import Organisation, Role, User
from audit.auditlog.models import AuditEntry
from audit.auditlog.subscriptions import _RECORDERS
from audit.event_log import subscribed
from audit.events import EVENTS
from audit.inspections.models import Inspection
from audit.logs import JsonFormatter, TextFormatter, app_handler, current_context, log_context
from audit.migrate import upgrade
from audit.request_id import HEADER
from audit.settings import PROJECT_ROOT, Settings, SettingsError
from tests.conftest import TEST_PASSWORD, fresh_database, make_test_app
from tests.web_support import login


def _json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the output, each of which must be one JSON object."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def json_logs() -> Iterator[None]:
    """The app's handler writes JSON (as in production) for this test, then what it wrote before."""
    handler = app_handler()
    assert handler is not None, "create_app() adds the handler"
    before = handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        yield
    finally:
        handler.setFormatter(before)


def _events(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [line for line in lines if line.get("event") == name]


# --- the format and where it is set -------------------------------------------------------------------------------


def test_production_logs_json_and_development_text_through_one_handler(app: Flask, tmp_path: Path) -> None:
    handler = app_handler()
    assert handler is not None
    before = handler.formatter
    try:
        create_app(
            Settings(
                env="production",
                instance_path=tmp_path,
                secret_key="s" * 32,
                public_base_url="https://tryggahus.example.se",
            )
        )
        assert isinstance(handler.formatter, JsonFormatter)
        create_app(Settings(instance_path=tmp_path, secret_key="s" * 32))
        assert isinstance(handler.formatter, TextFormatter)
        create_app(Settings(instance_path=tmp_path, secret_key="s" * 32, log_format="json"))
        assert isinstance(handler.formatter, JsonFormatter)
        # However many apps the process builds: one handler, and Flask's own is not added beside it.
        assert [h for h in logging.getLogger().handlers if h.get_name() == handler.get_name()] == [handler]
        assert logging.getLogger("audit").handlers == []
    finally:
        handler.setFormatter(before)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRYGGAHUS_LOG_FORMAT", "xml", "LOG_FORMAT must be 'json' or 'text'"),
        ("TRYGGAHUS_LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR"),
    ],
)
def test_log_settings_are_checked(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({variable: value})
    assert Settings.from_env({"TRYGGAHUS_LOG_LEVEL": "warning"}).log_level == "warning"


def test_caplog_still_sees_the_apps_lines(
    session: Session, create_inspection: Callable[..., Inspection], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit.events")
    inspection = create_inspection()
    session.commit()
    started = [r for r in caplog.records if getattr(r, "event", None) == "inspection.started"]
    assert [r.object_id for r in started] == [inspection.id]


# --- lines of a request -------------------------------------------------------------------------------------------


def test_json_lines_carry_the_request_id_of_the_response(
    client: FlaskClient,
    create_member: Callable[..., User],
    org: Organisation,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = create_member(Role.inspector, email="anna.lind@example.org")
    capsys.readouterr()
    response = client.post(
        "/login",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": _csrf(client)},
    )
    assert response.status_code == 302
    output = capsys.readouterr().err
    lines = _json_lines(output)
    [line] = _events(lines, "user.logged_in")
    assert line["request_id"] == response.headers[HEADER]
    assert line["level"] == "INFO"
    assert line["logger"] == "audit.events"
    assert line["time"].endswith("+00:00")
    assert (line["actor_id"], line["organisation_id"], line["object_type"], line["object_id"]) == (
        user.id,
        org.id,
        "user",
        user.id,
    )
    # The user has just logged in: the line knows who.
    assert line["user_id"] == user.id
    # Ids only: not the e-mail address, the name or the client's address that the audit entry keeps.
    assert "anna.lind" not in output
    assert user.name not in output
    assert "127.0.0.1" not in output


def test_a_logged_in_users_change_names_the_user_and_the_request(
    client: FlaskClient,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Any],
    org: Organisation,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inspector = create_member(Role.inspector)
    building = create_test_building()
    login(client, inspector.email)
    page = client.get(f"/inspections/start/{building.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    capsys.readouterr()
    response = client.post(
        f"/inspections/start/{building.id}",
        data={"kind": "certification", "checklist": "trygga-hus", "csrf_token": token},
    )
    assert response.status_code == 302
    [line] = _events(_json_lines(capsys.readouterr().err), "inspection.started")
    inspection_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    assert line["request_id"] == response.headers[HEADER]
    assert (line["user_id"], line["actor_id"], line["organisation_id"]) == (inspector.id, inspector.id, org.id)
    assert (line["object_type"], line["object_id"]) == ("inspection", inspection_id)


def test_development_lines_are_single_readable_lines_with_the_context(
    client: FlaskClient, create_member: Callable[..., User], capsys: pytest.CaptureFixture[str]
) -> None:
    user = create_member(Role.manager)
    capsys.readouterr()
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": _csrf(client)})
    [line] = [line for line in capsys.readouterr().err.splitlines() if "user.logged_in" in line]
    assert " INFO audit.events: user.logged_in user=" in line
    assert f"request={response.headers[HEADER]}" in line
    assert f"user={user.id}" in line
    assert user.email not in line


def test_a_request_that_is_rolled_back_logs_no_event(
    client: FlaskClient,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Any],
    create_inspection: Callable[..., Inspection],
    session: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inspector = create_member(Role.inspector)
    building = create_test_building()
    create_inspection(building=building, inspector=inspector)
    session.commit()
    login(client, inspector.email)
    page = client.get(f"/inspections/start/{building.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
    caplog.clear()
    caplog.set_level(logging.INFO, logger="audit.events")
    # A second draft of the same kind is refused (409) and the request rolls back: nothing happened, nothing logged.
    response = client.post(
        f"/inspections/start/{building.id}",
        data={"kind": "certification", "checklist": "trygga-hus", "csrf_token": token},
    )
    assert response.status_code == 409
    assert [r for r in caplog.records if r.name == "audit.events"] == []


# --- one line per state change ------------------------------------------------------------------------------------


def test_a_service_state_change_logs_one_line_when_committed(
    session: Session,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    org: Organisation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    inspector = create_member(Role.inspector)
    caplog.set_level(logging.INFO, logger="audit.events")
    inspection = create_inspection(inspector=inspector)
    assert not [r for r in caplog.records if getattr(r, "event", None) == "inspection.started"], "not before commit"
    session.commit()
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "inspection.started"]
    assert (record.actor_id, record.organisation_id, record.object_type, record.object_id) == (  # type: ignore[attr-defined]
        inspector.id,
        org.id,
        "inspection",
        inspection.id,
    )
    assert (
        record.getMessage()
        == f"inspection.started inspection={inspection.id} actor={inspector.id} organisation={org.id}"
    )
    caplog.clear()
    session.commit()
    assert [r for r in caplog.records if r.name == "audit.events"] == [], "each line once"


def test_a_change_that_is_rolled_back_logs_nothing(
    session: Session, create_inspection: Callable[..., Inspection], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="audit.events")
    create_inspection()
    session.rollback()
    session.commit()
    assert [r for r in caplog.records if r.name == "audit.events"] == []


def test_every_event_the_audit_log_records_is_logged() -> None:
    assert EVENTS, "the domains declare their events"
    for declared in EVENTS.values():
        assert declared.name in _RECORDERS, f"{declared.name} is not recorded"
        assert subscribed(declared), f"{declared.name} is recorded in the audit log but not logged"


def test_log_lines_match_the_audit_entries_one_to_one(
    app: Flask,
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    org: Organisation,
    json_logs: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = create_member(Role.admin)
    session.commit()
    first = (session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0) + 1
    capsys.readouterr()
    wrong = client.post("/login", data={"email": admin.email, "password": "wrong" * 3, "csrf_token": _csrf(client)})
    assert wrong.status_code == 200
    login(client, admin.email)
    assert client.get("/audit/export.csv").status_code == 200  # exporting the log is itself recorded
    assert client.get("/tasks/export.csv").status_code == 200
    assert client.post("/logout", data={"csrf_token": _csrf(client, "/buildings/")}).status_code == 302
    lines = [line for line in _json_lines(capsys.readouterr().err) if "event" in line]
    entries = session.scalars(select(AuditEntry).where(AuditEntry.id >= first).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.organisation_id, e.object_id, e.request_id) for e in entries] == [
        (line["event"], line["actor_id"], line["organisation_id"], line["object_id"], line["request_id"])
        for line in lines
    ]
    assert [e.action for e in entries] == [
        "user.login_failed",
        "user.logged_in",
        "audit_log.exported",
        "task_list.exported",
        "user.logged_out",
    ]


# --- outside requests ---------------------------------------------------------------------------------------------


def test_outside_requests_a_line_carries_what_was_bound_or_nothing(
    app: Flask, json_logs: None, capsys: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger("audit.jobs")
    capsys.readouterr()
    with log_context(job_id="batch-7"):
        logger.info("printing signs")
        assert current_context()["job_id"] == "batch-7"
    logger.info("done")
    bound, unbound = _json_lines(capsys.readouterr().err)
    assert (bound["message"], bound["job_id"], bound["request_id"], bound["user_id"]) == (
        "printing signs",
        "batch-7",
        None,
        None,
    )
    assert unbound["message"] == "done"
    assert "job_id" not in unbound


def test_a_background_jobs_lines_carry_its_id(
    app: Flask,
    session: Session,
    create_member: Callable[..., User],
    org: Organisation,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from audit.certificates.batch import run_job
    from audit.certificates.models import BatchFormat, BatchJob, BatchStatus

    manager = create_member(Role.manager)
    # A paper size that does not exist: the job fails, and says so in the log.
    job = BatchJob(
        organisation_id=org.id,
        created_by_id=manager.id,
        format=BatchFormat.pdf,
        params={"certificate_ids": [], "size": "A9", "language": "sv"},
        errors=[],
    )
    session.add(job)
    session.commit()
    run_job(app, job.id)
    [failed] = [r for r in caplog.records if r.getMessage() == f"batch job {job.id} failed"]
    assert failed.job_id == f"batch-{job.id}"  # type: ignore[attr-defined]
    assert failed.request_id is None  # type: ignore[attr-defined]
    session.refresh(job)
    assert job.status is BatchStatus.failed


def test_an_exception_is_one_json_line(app: Flask, json_logs: None, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    try:
        raise ValueError("broken\nacross lines")
    except ValueError:
        logging.getLogger("audit.test").exception("it failed")
    [line] = _json_lines(capsys.readouterr().err)
    assert line["message"] == "it failed"
    assert "ValueError: broken" in line["exception"]


def test_a_command_logs_json_with_its_command_id(database_kind: str, tmp_path: Path) -> None:
    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        upgrade(app.extensions["tryggahus.database"].engine)
        app.extensions["tryggahus.database"].engine.dispose()
        env = {
            **os.environ,
            "TRYGGAHUS_DATABASE_URL": url,
            "TRYGGAHUS_INSTANCE_PATH": str(tmp_path),
            "TRYGGAHUS_LOG_FORMAT": "json",
        }
        tryggahus = str(Path(sys.executable).parent / "tryggahus")
        org = subprocess.run(
            [tryggahus, "org", "create", "--slug", "loggar", "--name", "Loggar AB"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert org.returncode == 0, org.stderr
        created = subprocess.run(
            [tryggahus, "user", "create", "--org", "loggar", "--email", "eva@example.org", "--role", "admin"],
            input=TEST_PASSWORD + "\n",
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert created.returncode == 0, created.stderr
    [line] = _events(_json_lines(created.stderr), "membership.role_granted")
    assert line["request_id"] is None
    assert len(line["command_id"]) == 32
    assert line["actor_id"] is None
    assert "eva@" not in created.stderr


# --- gunicorn's access lines --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_serve_writes_access_lines_with_the_request_id(log_format: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "TRYGGAHUS_INSTANCE_PATH": str(tmp_path),
        "TRYGGAHUS_SECRET_KEY": secrets.token_hex(32),
        "TRYGGAHUS_LOG_FORMAT": log_format,
    }
    errors = tmp_path / "stderr.log"
    with errors.open("w") as stderr:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "tryggahus"), "serve", "--port", str(port), "--workers", "1"],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        request_id = _request_id_of(f"http://127.0.0.1:{port}/healthz?email=eva@example.org", server)
        for secret_path in ("/password/reset/reset-secret-4711", "/v/check-secret-4711"):
            with contextlib.suppress(urllib.error.HTTPError):  # whatever it answers, its access line is written
                urllib.request.urlopen(f"http://127.0.0.1:{port}{secret_path}", timeout=10).close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    output = errors.read_text()
    if log_format == "json":
        lines = _json_lines(output)  # gunicorn's own lines too: every line is JSON
        access = next(line for line in lines if line["logger"] == "gunicorn.access")
        assert access["request_id"] == request_id
        assert (access["method"], access["path"], access["status"]) == ("GET", "/healthz", 200)
        assert access["message"].startswith('"GET /healthz" 200 ')
        assert any(line["logger"] == "gunicorn.error" for line in lines)
        paths = {line["path"] for line in lines if line["logger"] == "gunicorn.access"}
        assert {"/password/reset/…", "/v/…"} <= paths
    else:
        access = next(line for line in output.splitlines() if "gunicorn.access" in line)
        assert f"[request={request_id}]" in access
        assert '"GET /healthz" 200' in access
        assert "/password/reset/…" in output
        assert "/v/…" in output
    assert "eva@example.org" not in output, "no query strings in the access log"
    assert "secret-4711" not in output, "no secret from a path in the log"


def test_the_secret_of_a_reset_link_or_a_check_token_is_masked_in_access_lines() -> None:
    from audit.gunicorn_logger import masked_path

    assert masked_path("/password/reset/abc123") == "/password/reset/…"
    assert masked_path("/v/Zx9_token") == "/v/…"
    assert masked_path("/v/Zx9_token/extra") == "/v/…/extra"
    assert masked_path("/inspections/12/sections/UTE") == "/inspections/12/sections/UTE"
    assert masked_path("/api/v1/inspections") == "/api/v1/inspections"


def _request_id_of(url: str, server: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                request_id: str = response.headers[HEADER]
                return request_id
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer")


def _csrf(client: FlaskClient, path: str = "/login") -> str:
    from tests.web_support import csrf_token

    return csrf_token(client, path)
