"""The app factory, settings, the first page, error pages and the one-commit-per-request rule."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from audit import create_app
from audit.access import public
from audit.accounts.models import Organisation, Role
from audit.extensions import db
from audit.security import TEST_HASHING, hash_password, verify_password_or_dummy
from audit.settings import Settings, SettingsError


def test_index_renders_the_base_layout_with_the_loaded_checklist(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "css/app.css" in page
    assert "Trygga hus" in page
    assert "version 2, 100 punkter" in page


def test_static_css_is_served(client: FlaskClient) -> None:
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert b"--brand" in response.data
    response.close()


def test_unknown_page_is_a_swedish_404_page(client: FlaskClient) -> None:
    response = client.get("/finns-inte")
    assert response.status_code == 404
    assert "Sidan finns inte" in response.get_data(as_text=True)


def test_unknown_api_path_answers_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_production_without_a_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TRYGGAHUS_SECRET_KEY is not set"):
        Settings.from_env({"TRYGGAHUS_ENV": "production", "TRYGGAHUS_INSTANCE_PATH": str(tmp_path)})
    assert not (tmp_path / "secret_key").exists()


def test_production_with_a_short_secret_refuses_to_start() -> None:
    with pytest.raises(SettingsError, match="at least 32"):
        Settings.from_env({"TRYGGAHUS_ENV": "production", "TRYGGAHUS_SECRET_KEY": "short"})


def test_passwords_are_hashed_at_full_cost_unless_the_test_suite_asks_otherwise(tmp_path: Path) -> None:
    """The test suite hashes cheaply through a Flask config key; nothing in the environment reaches it, and a
    production app refuses to start with it."""
    environ = {"TRYGGAHUS_INSTANCE_PATH": str(tmp_path), TEST_HASHING: "cheap"}
    app = create_app(Settings.from_env(environ))
    with app.app_context():
        assert hash_password("a long passphrase").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert not verify_password_or_dummy(None, "a long passphrase")
    cheap = create_app(Settings(instance_path=tmp_path, overrides={TEST_HASHING: CHEAPEST}))
    with cheap.app_context():
        assert hash_password("a long passphrase").startswith("$argon2id$v=19$m=8,t=1,p=1$")
    production = {"env": "production", "secret_key": "s" * 32, "public_base_url": "https://tryggahus.example.se"}
    with pytest.raises(SettingsError, match="never production"):
        create_app(Settings(instance_path=tmp_path, **production, overrides={TEST_HASHING: CHEAPEST}))


def test_development_secret_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRYGGAHUS_INSTANCE_PATH": str(tmp_path)})
    first = create_app(settings).config["SECRET_KEY"]
    second = create_app(settings).config["SECRET_KEY"]
    assert first == second
    assert len(first) == 64
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (tmp_path / "tryggahus.sqlite3").exists() is False  # nothing is created before it is used


def test_settings_come_from_prefixed_environment_variables(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TRYGGAHUS_INSTANCE_PATH": str(tmp_path),
            "TRYGGAHUS_DATABASE_URL": "postgresql+psycopg://db/x",
            "TRYGGAHUS_SQLITE_BUSY_TIMEOUT_MS": "1234",
            "TRYGGAHUS_SQL_ECHO": "yes",
            "OTHER_SECRET_KEY": "ignored",
        }
    )
    assert settings.sqlalchemy_url == "postgresql+psycopg://db/x"
    assert settings.sqlite_busy_timeout_ms == 1234
    assert settings.sql_echo is True
    assert settings.secret_key == ""


def test_embedded_default_is_sqlite_under_instance(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRYGGAHUS_INSTANCE_PATH": str(tmp_path)})
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'tryggahus.sqlite3'}"


@pytest.mark.parametrize(
    ("name", "value"), [("SQLITE_BUSY_TIMEOUT_MS", "soon"), ("SQL_ECHO", "maybe"), ("ENV", "staging")]
)
def test_bad_settings_fail_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"TRYGGAHUS_{name}"):
        Settings.from_env({f"TRYGGAHUS_{name}": value})


def _write_app(tmp_path: Path) -> Flask:
    app = create_app(
        Settings(instance_path=tmp_path, secret_key="k" * 32, overrides={"TESTING": True, "WTF_CSRF_ENABLED": False})
    )
    from audit.migrate import upgrade

    upgrade(app.extensions["tryggahus.database"].engine)

    @app.post("/_probe/<slug>")
    @public
    def probe(slug: str):  # type: ignore[no-untyped-def]
        db.session.add(Organisation(slug=slug, name=slug))
        db.session.flush()
        if slug == "boom":
            raise RuntimeError("the view failed after writing")
        if slug == "refused":
            return "refused", 422
        return "ok"

    return app


def test_a_request_commits_once_and_a_failing_request_changes_nothing(tmp_path: Path) -> None:
    app = _write_app(tmp_path)
    client = app.test_client()
    assert client.post("/_probe/kept").status_code == 200
    assert client.post("/_probe/refused").status_code == 422
    with pytest.raises(RuntimeError):
        client.post("/_probe/boom")
    with app.app_context():
        slugs = db.session.scalars(select(Organisation.slug)).all()
        assert slugs == ["kept"]
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_nothing_a_request_puts_in_g_reaches_the_next_request(
    client: FlaskClient, create_member: Any, create_test_building: Any, create_task: Any, create_inspection: Any
) -> None:
    """The test client reuses the test's application context (and its `g`) for every request, as a command that
    serves inside its own context would: the building's task count must still be counted per request."""
    from flask import g

    from tests.web_support import login

    building = create_test_building()
    login(client, create_member(Role.manager).email)
    assert "0 öppna åtgärder" in client.get(f"/buildings/{building.id}").get_data(as_text=True)
    create_task(create_inspection(building=building))
    assert "1 öppen åtgärd" in client.get(f"/buildings/{building.id}").get_data(as_text=True)
    assert "building_task_counts" not in g
    assert "_login_user" not in g
