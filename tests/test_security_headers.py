"""Security headers on every response: a policy that allows no inline script or style, no framing, no sniffing."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from audit import create_app
from audit.accounts.models import Role
from audit.settings import Settings
from tests.test_access import _requests, world  # noqa: F401  (world is the fixture the walk's ids come from)
from tests.web_support import login

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=", re.IGNORECASE)


def _directives(response: TestResponse) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in (p.strip() for p in policy.split(";")) if part}


def _assert_secure(response: TestResponse, where: object) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (where, name)
    assert response.headers.get("Referrer-Policy") in {"same-origin", "no-referrer"}, where
    assert "camera=()" in response.headers.get("Permissions-Policy", ""), where
    directives = _directives(response)
    assert directives.get("frame-ancestors") == "'none'", where
    for directive in ("default-src", "script-src", "style-src"):
        assert directives.get(directive) == "'self'", (where, directive)
    assert "Strict-Transport-Security" not in response.headers, where  # development serves plain http


@pytest.mark.parametrize("role", [Role.admin, Role.contractor, None], ids=lambda r: r.value if r else "anonymous")
def test_every_route_answers_with_the_security_headers(
    role: Role | None,
    app: Flask,
    world: dict[str, object],  # noqa: F811
) -> None:
    """Every rule and method of the URL map, whatever the answer (page, JSON, redirect, 403, 404, 405)."""
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        if role is not None:
            login(client, f"{role.value}@test.example")
        seen = 0
        for endpoint, method, url, _foreign in _requests(app, world):
            response = client.open(
                url,
                method=method,
                json={} if method in {"PUT", "POST"} and "/api/" in url else None,
                headers={"Idempotency-Key": secrets.token_hex(8)},
            )
            _assert_secure(response, (endpoint, method, response.status_code))
            if response.mimetype == "text/html":
                page = response.get_data(as_text=True)
                assert not _INLINE.search(page), (endpoint, _INLINE.search(page))
            seen += 1
        assert seen > 50
        for url in ("/static/css/app.css", "/static/js/walk.js", "/no-such-page", "/api/v1/no-such-thing"):
            _assert_secure(client.get(url), url)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_production_adds_strict_transport_security(tmp_path: Path) -> None:
    def headers(env: str) -> Headers:
        settings = Settings(
            env=env,
            instance_path=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'headers.sqlite3'}",
            secret_key=secrets.token_hex(32),
            public_base_url="https://tryggahus.example",
        )
        return create_app(settings).test_client().get("/login").headers

    assert headers("production")["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    assert "Strict-Transport-Security" not in headers("development")
