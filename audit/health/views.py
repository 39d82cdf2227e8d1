"""`/healthz` (the process answers) and `/readyz` (it can serve: every readiness check passes).

Both are public and GET only (so no login and no CSRF token), exempt from rate limits (a probe every second must
never be refused), announce nothing (not in the audit log), use the database only as far as a check does, and
set no cookie.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from audit.access import public
from audit.extensions import limiter
from audit.health.checks import run_checks

bp = Blueprint("health", __name__)

#: Probes must see the answer of now, never a cached one.
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
@public
@limiter.exempt
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers. Nothing else is asked, so a database outage does not get it restarted."""
    return jsonify(status="ok"), 200, NO_STORE


@bp.get("/readyz")
@public
@limiter.exempt
def readyz() -> ResponseReturnValue:
    """Readiness: 200 when every check passes, else 503 naming the failed checks (the reasons are in the log)."""
    results = run_checks(current_app)
    checks = {name: "ok" if passed else "failed" for name, passed in results.items()}
    failed = [name for name, passed in results.items() if not passed]
    if failed:
        return jsonify(status="unavailable", checks=checks, failed=failed), 503, NO_STORE
    return jsonify(status="ok", checks=checks), 200, NO_STORE
