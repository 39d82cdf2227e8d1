"""Behind a proxy (`TRYGGAHUS_PROXY_HOPS`): the app sees the client's address, scheme and host as the trusted proxy
reports them; without the setting, forwarded headers are ignored, so nobody picks the address they are counted by."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, jsonify, request, url_for
from flask.testing import FlaskClient
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import create_app
from audit.access import public
from audit.accounts.models import LoginThrottle, Role, ThrottleScope, User
from audit.settings import Settings, SettingsError
from tests.web_support import csrf_token

FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "tryggahus.example.se",
}


def _echo() -> ResponseReturnValue:
    return jsonify(
        remote_addr=request.remote_addr,
        scheme=request.scheme,
        host=request.host,
        url=url_for("main.index", _external=True),
    )


def _with_echo(app: Flask) -> Flask:
    """The app with a page that shows what it sees of the client (added before the app's first request)."""
    app.add_url_rule("/_test/echo", "test_echo", public(_echo))
    return app


def _app_on_the_tests_database(app: Flask, tmp_path: Path, **settings: object) -> Flask:
    """A second app on the same database, joined to the test's transaction (rolled back afterwards)."""
    state = app.extensions["tryggahus.database"]
    url = state.engine.url.render_as_string(hide_password=False)
    other = create_app(
        Settings(
            instance_path=tmp_path,
            database_url=url,
            secret_key=secrets.token_hex(32),
            overrides={"TESTING": True},
            **settings,  # type: ignore[arg-type]
        )
    )
    other.extensions["tryggahus.database"].connection = state.connection
    return other


@pytest.fixture
def proxied(app: Flask, session: Session, tmp_path: Path) -> Iterator[Flask]:
    other = _with_echo(_app_on_the_tests_database(app, tmp_path, proxy_hops=1))
    yield other
    other.extensions["tryggahus.database"].engine.dispose()


@pytest.fixture
def direct(app: Flask, session: Session, tmp_path: Path) -> Iterator[Flask]:
    other = _with_echo(_app_on_the_tests_database(app, tmp_path))
    yield other
    other.extensions["tryggahus.database"].engine.dispose()


def _failed_login(client: FlaskClient, email: str, headers: dict[str, str]) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login", data={"email": email, "password": "not the password", "csrf_token": token}, headers=headers
    )
    assert response.status_code == 200
    assert "Fel e-postadress eller lösenord" in response.get_data(as_text=True)


def _address_failures(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(LoginThrottle.key, LoginThrottle.failures).where(LoginThrottle.scope == ThrottleScope.address)
    )
    return {row.key: row.failures for row in rows}


def _counted(before: dict[str, int], after: dict[str, int]) -> set[str]:
    """The addresses whose failures these requests counted (other tests may have counted others before)."""
    return {key for key, failures in after.items() if failures > before.get(key, 0)}


def test_behind_a_proxy_the_login_throttle_counts_the_forwarded_address(
    proxied: Flask, session: Session, create_member: Callable[..., User]
) -> None:
    user = create_member(Role.inspector)
    client = proxied.test_client()
    before = _address_failures(session)
    _failed_login(client, user.email, {"X-Forwarded-For": "203.0.113.7"})
    # A client that sends its own X-Forwarded-For: the proxy appends the address it sees, and only that one is
    # taken (one hop), so the forged part is ignored.
    _failed_login(client, user.email, {"X-Forwarded-For": "10.9.8.7, 198.51.100.2"})
    assert _counted(before, _address_failures(session)) == {"203.0.113.7", "198.51.100.2"}
    failures = session.scalar(
        select(LoginThrottle.failures).where(
            LoginThrottle.scope == ThrottleScope.account_from_address,
            LoginThrottle.key == f"{user.email}|203.0.113.7",
        )
    )
    assert failures == 1


def test_without_the_setting_a_forged_forwarded_address_is_ignored(
    direct: Flask, session: Session, create_member: Callable[..., User]
) -> None:
    user = create_member(Role.inspector)
    client = direct.test_client()
    before = _address_failures(session)
    _failed_login(client, user.email, {"X-Forwarded-For": "203.0.113.7"})
    assert _counted(before, _address_failures(session)) == {"127.0.0.1"}


def test_behind_a_proxy_the_app_sees_the_clients_scheme_and_host(proxied: Flask) -> None:
    seen = proxied.test_client().get("/_test/echo", headers=FORWARDED).json
    assert seen == {
        "remote_addr": "203.0.113.7",
        "scheme": "https",
        "host": "tryggahus.example.se",
        "url": "https://tryggahus.example.se/",
    }


def test_without_the_setting_the_forwarded_headers_change_nothing(direct: Flask) -> None:
    seen = direct.test_client().get("/_test/echo", headers=FORWARDED).json
    assert seen == {"remote_addr": "127.0.0.1", "scheme": "http", "host": "localhost", "url": "http://localhost/"}


@pytest.mark.parametrize("value", ["-1", "6", "two"])
def test_the_number_of_hops_is_checked(value: str) -> None:
    with pytest.raises(SettingsError, match="PROXY_HOPS"):
        Settings.from_env({"TRYGGAHUS_PROXY_HOPS": value})
    assert Settings.from_env({"TRYGGAHUS_PROXY_HOPS": "2"}).proxy_hops == 2
