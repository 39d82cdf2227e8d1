"""Helpers for tests that act as a user through the Flask test client."""

from __future__ import annotations

import re
import secrets

from flask.testing import FlaskClient

from tests.conftest import TEST_PASSWORD

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
_VERIFICATION = re.compile(r'name="verification" type="hidden" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    match = _CSRF.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def offered_verification(page: str) -> str:
    """The signed verification URL in an inspection result page's issue form."""
    match = _VERIFICATION.search(page)
    assert match, "no certificate issue form on the page"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> None:
    token = csrf_token(client)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def api_headers(client: FlaskClient, key: str | None = None) -> dict[str, str]:
    """Headers the inspection page's own script sends: the CSRF token and a client-generated write id."""
    return {"X-CSRFToken": csrf_token(client, "/buildings/"), "Idempotency-Key": key or secrets.token_hex(8)}
