"""Deny by default: every view declares who may call it, and a gate before every request enforces it.

    @bp.get("/buildings")
    @allow(Role.admin, Role.inspector, Role.manager, Role.viewer)
    def buildings(): ...

A view without a rule is refused (and a test walks the URL map to find any). `public` marks the few views that
need no login. Browser requests that change state must carry a CSRF token; API requests with a bearer token
carry no cookie and need none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from audit.accounts.models import Role
from audit.database import WRITE_METHODS
from audit.extensions import csrf

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

PUBLIC = "public"
ALL_ROLES = frozenset(Role)
STAFF = frozenset({Role.admin, Role.inspector, Role.manager, Role.viewer})
REVIEWERS = frozenset({Role.admin, Role.manager})
INSPECTORS = frozenset({Role.admin, Role.inspector})
ADMINS = frozenset({Role.admin})


def public(view: F) -> F:
    """No login needed (the login page, the health check, public verification)."""
    view.access_rule = PUBLIC  # type: ignore[attr-defined]
    return view


def allow(*roles: Role | frozenset[Role]) -> Callable[[F], F]:
    """Logged-in users with one of these roles in their current organisation."""
    allowed: set[Role] = set()
    for role in roles:
        allowed |= role if isinstance(role, frozenset) else {role}

    def decorate(view: F) -> F:
        view.access_rule = frozenset(allowed)  # type: ignore[attr-defined]
        return view

    return decorate


def access_rule(app: Flask, endpoint: str) -> str | frozenset[Role] | None:
    if endpoint == "static":
        return PUBLIC
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _unauthenticated() -> Any:
    if wants_json():
        return jsonify(error="unauthorized", message="Log in or send an API token."), 401
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def _gate() -> Any:
    if request.endpoint is None:
        return None  # 404 and 405 are answered by the error handlers
    rule = access_rule(current_app, request.endpoint)
    if rule is None:
        current_app.logger.error("view %s has no access rule; refused", request.endpoint)
        abort(403)
    if rule == PUBLIC:
        _protect_from_csrf()
        return None
    if not current_user.is_authenticated:
        return _unauthenticated()
    _protect_from_csrf()
    if current_user.role not in rule:
        abort(403)
    return None


def _protect_from_csrf() -> None:
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    # Decided by how the user was actually authenticated, not by the headers sent: a browser cookie plus any
    # "Authorization: Bearer …" header is still a cookie login and needs the token.
    by_api_token = current_user.is_authenticated and current_user.token is None
    if request.method in WRITE_METHODS and not by_api_token:
        csrf.protect()


def init_access(app: Flask) -> None:
    # CSRF is checked by the gate, after it knows whether the request comes with a cookie or a bearer token.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.before_request(_gate)


def get_scoped_or_404(model: type[T], ident: Any, options: tuple[Any, ...] = ()) -> T:
    """The object with this id in the current user's organisation; another organisation's answers 404 as well."""
    from audit.extensions import db
    from audit.urls import bounded_id

    key = bounded_id(ident)
    return own_or_404(None if key is None else db.session.get(model, key, options=options))


def own_or_404(obj: T | None) -> T:
    """The object when it belongs to the current user's organisation; 404 when it is missing or someone else's."""
    if obj is None or obj.organisation_id != current_user.organisation_id:  # type: ignore[attr-defined]
        abort(404)
    return obj
