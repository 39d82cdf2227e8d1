"""The accounts' clean-ups for `tryggahus purge`: login records that no longer do anything, past their retention.

Kept for `Settings.login_record_retention_days` (30 by default): failed-login counters whose last failure is older
(their backoff has long run out), login sessions that ended (logged out, revoked, or older than the longest a login
lasts, `audit.accounts.auth.LOGIN_MAX_AGE`), and password reset links that were used, replaced or ran out.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import or_
from sqlalchemy.orm import Session

from audit.accounts.auth import LOGIN_MAX_AGE
from audit.accounts.models import LoginSession, LoginThrottle, PasswordReset
from audit.purge import Removed, delete_in_batches


def _before(before: datetime) -> str:
    return f"before {before:%Y-%m-%d %H:%M} UTC"


def old_login_throttles(session: Session, *, before: datetime, dry_run: bool) -> Iterator[Removed]:
    yield from delete_in_batches(
        session,
        LoginThrottle.key,
        LoginThrottle.last_failure_at < before,
        what=f"%d with the last failure {_before(before)}",
        dry_run=dry_run,
    )


def ended_login_sessions(session: Session, *, before: datetime, dry_run: bool) -> Iterator[Removed]:
    ended = or_(LoginSession.revoked_at < before, LoginSession.created_at < before - LOGIN_MAX_AGE)
    yield from delete_in_batches(
        session, LoginSession.id, ended, what=f"%d ended {_before(before)}", dry_run=dry_run
    )


def spent_password_resets(session: Session, *, before: datetime, dry_run: bool) -> Iterator[Removed]:
    spent = or_(PasswordReset.used_at < before, PasswordReset.expires_at < before)
    yield from delete_in_batches(
        session, PasswordReset.id, spent, what=f"%d used or expired {_before(before)}", dry_run=dry_run
    )
