"""`/healthz` (the process answers, nothing else asked) and `/readyz` (named checks: database and storage)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from audit import create_app
from audit.accounts.models import Role, User
from audit.auditlog.models import AuditEntry
from audit.health.checks import add_readiness_check, readiness_checks
from audit.request_id import HEADER
from audit.settings import PROJECT_ROOT, Settings
from tests.conftest import make_test_app
from tests.web_support import login


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app's database is sent while the test runs."""
    engine = app.extensions["tryggahus.database"].engine
    sent: list[str] = []

    def count(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_healthz_answers_without_the_database_a_session_or_a_cookie(
    client: FlaskClient, statements: list[str], session: Session
) -> None:
    entries = session.scalar(select(func.count()).select_from(AuditEntry))
    statements.clear()
    response = client.get("/healthz?lang=en")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers[HEADER]
    assert "Set-Cookie" not in response.headers
    assert statements == []
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_healthz_and_readyz_need_no_login_even_for_a_logged_in_user(
    client: FlaskClient, create_member: Callable[..., User]
) -> None:
    anonymous = client.get("/readyz")
    assert anonymous.status_code == 200
    login(client, create_member(Role.contractor).email)
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers


def test_readyz_runs_every_named_check(client: FlaskClient, statements: list[str]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "storage": "ok", "queue": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    queries = [s.strip().upper() for s in statements if s.strip().upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}]
    assert queries == ["SELECT 1"]


def test_readyz_names_an_unreachable_database_with_503(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = make_test_app("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "checks": {"database": "failed", "storage": "ok", "queue": "ok"},
        "failed": ["database"],
    }
    assert "Traceback" not in response.get_data(as_text=True)
    # The reason is for the operator, in the server's log (one line), not for whoever asks.
    [warning] = [r for r in caplog.records if r.name == "audit.health.checks"]
    assert warning.getMessage().startswith("readiness check database failed: OperationalError")
    # Liveness does not depend on the database.
    assert app.test_client().get("/healthz").status_code == 200


def test_readyz_names_storage_that_takes_no_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the photo folder should be")
    app = create_app(
        Settings(
            instance_path=tmp_path,
            secret_key="s" * 32,
            photo_dir=blocker / "photos",
            overrides={"TESTING": True},
        )
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "storage": "failed", "queue": "ok"}
    assert response.json["failed"] == ["storage"]
    app.extensions["tryggahus.database"].engine.dispose()


def test_readyz_names_a_queue_that_does_not_answer(tmp_path: Path) -> None:
    from tests.served_support import free_port

    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app(
        Settings(instance_path=tmp_path, secret_key="s" * 32, queue_url=closed, overrides={"TESTING": True})
    )
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "storage": "ok", "queue": "failed"}
    assert response.json["failed"] == ["queue"]
    app.extensions["tryggahus.database"].engine.dispose()


def test_another_part_adds_or_replaces_a_named_check(tmp_path: Path) -> None:
    app = make_test_app(f"sqlite:///{tmp_path / 'ready.sqlite3'}", tmp_path)

    def queue_down(_app: Flask) -> None:
        raise ConnectionError("redis://queue:6379 refused")

    add_readiness_check(app, "queue", queue_down)
    add_readiness_check(app, "storage", lambda _app: None)  # e.g. object storage instead of the local folder
    assert list(readiness_checks(app)) == ["database", "storage", "queue"]
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {"database": "ok", "storage": "ok", "queue": "failed"}
    assert "redis://" not in response.get_data(as_text=True)
    app.extensions["tryggahus.database"].engine.dispose()


_RATE_LIMITED = """
import json, sys
from pathlib import Path
from audit import create_app
from audit.settings import Settings

folder = Path(sys.argv[1])
app = create_app(Settings(instance_path=folder, secret_key="s" * 32,
                          overrides={"TESTING": True, "RATELIMIT_DEFAULT": "2 per hour"}))
client = app.test_client()
paths = ["/healthz"] * 5 + ["/readyz"] * 5 + ["/api/v1/openapi.json"] * 3
print(json.dumps([client.get(path).status_code for path in paths]))
"""


def test_probes_are_never_rate_limited(tmp_path: Path) -> None:
    # In a process of its own: the limiter is one object per process, and a default limit would reach other tests.
    completed = subprocess.run(
        [sys.executable, "-c", _RATE_LIMITED, str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**os.environ, "TRYGGAHUS_LOG_LEVEL": "WARNING"},
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    statuses = json.loads(completed.stdout)
    assert statuses == [200] * 10 + [200, 200, 429], "the probes are exempt; a page without exemption is limited"
