"""Malformed input gets a 4xx that says what is wrong, and a database that fails gets a 503 with a retry hint.

Ids the database cannot hold, NUL characters, JSON nested without end: each once gave a 500 (issue 16, item 3).
"""

from __future__ import annotations

import io
import re
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from audit import create_app
from audit.accounts.models import Role, User
from audit.inspections.models import Inspection
from audit.migrate import upgrade
from audit.settings import Settings
from audit.urls import MAX_ID, same_site_path
from tests.conftest import make_test_app
from tests.web_support import api_headers, csrf_token, login

#: Ids no row can have: the database's limit + 1, SQLite's (2⁶³), and more digits than Python converts.
IMPOSSIBLE_IDS = (str(MAX_ID + 1), str(2**63), str(2**64 + 7), "9" * 5000)
#: The message of a refused NUL character, in Swedish (the default language).
NUL_MESSAGE_SV = "NUL-tecken"


def _rules_with_ids(app: Flask) -> list[tuple[str, str]]:
    """(path template, method) for every route with an `<int:…>` in it."""
    found = []
    for rule in app.url_map.iter_rules():
        if "int:" not in rule.rule:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method))
    return found


def _with_id(template: str, ident: str) -> str:
    return re.sub(r"<(?:int:)?\w+>", ident, template)


@pytest.fixture
def admin(create_member: Callable[..., User]) -> User:
    return create_member(Role.admin, email="admin@malformed.example")


@pytest.fixture
def inspector(create_member: Callable[..., User]) -> User:
    return create_member(Role.inspector, email="inspector@malformed.example")


def test_an_id_the_database_cannot_hold_is_404_on_every_route(app: Flask, client: FlaskClient, admin: User) -> None:
    routes = _rules_with_ids(app)
    assert len(routes) > 40
    login(client, admin.email)
    answers = {
        (template, method, ident[:24]): client.open(_with_id(template, ident), method=method).status_code
        for template, method in routes
        for ident in IMPOSSIBLE_IDS
    }
    assert {key: code for key, code in answers.items() if code != 404} == {}


def test_the_largest_id_reaches_the_database_and_is_not_found(app: Flask, client: FlaskClient, admin: User) -> None:
    login(client, admin.email)
    for template, method in _rules_with_ids(app):
        if method == "GET":
            assert client.get(_with_id(template, str(MAX_ID))).status_code == 404, template


def test_ids_in_json_and_query_strings_beyond_the_database_are_refused_or_ignored(
    client: FlaskClient, inspector: User, create_inspection: Callable[..., Inspection]
) -> None:
    draft = create_inspection(inspector=inspector)
    login(client, inspector.email)
    for building_id in (MAX_ID + 1, 2**63, 10**40):
        response = client.post("/api/v1/inspections", json={"building_id": building_id}, headers=api_headers(client))
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["details"][0]["field"] == "building_id"
    changed = client.put(
        f"/api/v1/inspections/{draft.id}/answers/UTE-01",
        json={"result": "pass", "base_revision": 2**63},
        headers=api_headers(client),
    )
    assert changed.status_code == 422
    for page in ("/inspections/", "/tasks/"):
        huge = "9" * 19
        assert client.get(f"{page}?building={huge}&area={huge}&inspector={huge}&assignee={huge}").status_code == 200


def test_a_nul_character_is_refused_even_by_the_login_form(client: FlaskClient, inspector: User) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": "a\x00@example.org", "password": "x", "csrf_token": token})
    assert response.status_code == 400
    assert NUL_MESSAGE_SV in response.get_data(as_text=True)
    english = client.post("/login?lang=en", data={"email": inspector.email, "password": "\x00", "csrf_token": token})
    assert english.status_code == 400
    assert "NUL character" in english.get_data(as_text=True)


def test_a_nul_character_is_refused_in_every_part_of_a_request(
    client: FlaskClient, inspector: User, create_inspection: Callable[..., Inspection]
) -> None:
    draft = create_inspection(inspector=inspector)
    login(client, inspector.email)
    token = csrf_token(client, "/buildings/")
    api = f"/api/v1/inspections/{draft.id}/answers"
    refused = [
        client.put(f"{api}/UTE-01", json={"comment": "ok\x00"}, headers=api_headers(client)),
        client.put(f"{api}/UTE-01", json={"result": "pass", "nested\x00": 1}, headers=api_headers(client)),
        client.put(f"{api}/UTE%00", json={"result": "pass"}, headers=api_headers(client)),
        client.get("/buildings/?q=a%00b"),
        client.post(
            f"/inspections/{draft.id}/sections/UTE", data={"csrf_token": token, "comment-UTE-01": "text\x00more"}
        ),
    ]
    assert [response.status_code for response in refused] == [400] * len(refused)
    assert refused[0].get_json()["error"] == "nul_character"
    assert NUL_MESSAGE_SV in refused[-1].get_data(as_text=True)
    assert not draft.answers


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
def test_deeply_nested_json_is_a_400(client: FlaskClient, inspector: User, depth: int) -> None:
    login(client, inspector.email)
    body = '{"building_id": ' + "[" * depth + "]" * depth + "}"
    response = client.post(
        "/api/v1/inspections", data=body, content_type="application/json", headers=api_headers(client)
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "json_too_deep"


def test_json_as_deep_as_allowed_is_the_view_s_to_judge(client: FlaskClient, inspector: User) -> None:
    login(client, inspector.email)
    body = '{"building_id": ' + "[" * 31 + "]" * 31 + "}"
    response = client.post(
        "/api/v1/inspections", data=body, content_type="application/json", headers=api_headers(client)
    )
    assert response.status_code == 422


def test_an_unreachable_database_is_a_503_with_a_retry_hint(tmp_path: Path) -> None:
    # Nothing listens on port 1: every query fails as when the database server is down or restarting.
    app = make_test_app("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=2", tmp_path)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    page = client.post("/login", data={"email": "someone@example.org", "password": "secret"})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "10"
    assert "Databasen går inte att nå just nu" in page.get_data(as_text=True)
    api = client.get("/api/v1/buildings", headers={"Authorization": f"Bearer {secrets.token_urlsafe(32)}"})
    assert api.status_code == 503
    assert api.headers["Retry-After"] == "10"
    assert api.get_json()["error"] == "service_unavailable"
    assert api.get_json()["message"]


def test_a_locked_sqlite_database_is_a_503(tmp_path: Path) -> None:
    """Another writer holds the lock longer than the busy timeout: the request did nothing wrong and may be retried."""
    path = tmp_path / "locked.sqlite3"
    settings = Settings(
        instance_path=tmp_path,
        database_url=f"sqlite:///{path}",
        secret_key=secrets.token_hex(32),
        sqlite_busy_timeout_ms=50,
        overrides={"TESTING": True, "WTF_CSRF_ENABLED": False},
    )
    app = create_app(settings)
    upgrade(app.extensions["tryggahus.database"].engine)
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        # A failed login is recorded: a write, which waits for the lock no longer than the busy timeout.
        response = app.test_client().post("/login", data={"email": "someone@example.org", "password": "wrong"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        app.extensions["tryggahus.database"].engine.dispose()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "10"


def test_same_site_path_refuses_every_way_out() -> None:
    for outside in (
        "https://evil.example/phish",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "",
        None,
        "evil.example",
    ):
        assert same_site_path(outside) is None, outside
    assert same_site_path("/tasks/?status=open&page=2") == "/tasks/?status=open&page=2"


def test_a_file_is_taken_only_in_a_field_that_takes_files(
    client: FlaskClient, inspector: User, create_inspection: Callable[..., Inspection]
) -> None:
    token = csrf_token(client)
    data = {"email": (io.BytesIO(b"x@example.org"), "email.txt"), "password": "x", "csrf_token": token}
    refused = client.post("/login", data=data, content_type="multipart/form-data")
    assert refused.status_code == 400
    assert "Fältet email tar inte emot någon fil." in refused.get_data(as_text=True)
    draft = create_inspection(inspector=inspector)
    login(client, inspector.email)
    upload = {"item_key": "UTE-01", "file": (io.BytesIO(b"not a photo"), "a.jpg"), "extra": (io.BytesIO(b""), "b")}
    response = client.post(f"/api/v1/inspections/{draft.id}/photos", data=upload, headers=api_headers(client))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unexpected_file"
    del upload["extra"]
    upload["file"] = (io.BytesIO(b"not a photo"), "a.jpg")
    taken = client.post(f"/api/v1/inspections/{draft.id}/photos", data=upload, headers=api_headers(client))
    assert taken.status_code == 415  # the photo field takes the file, and its own check refuses it
