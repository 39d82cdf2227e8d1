"""Password checks that guessing cannot run through, and that do not tell which accounts exist.

Every check of a password (logging in, confirming the current password when changing it) first takes the locks of
three counters — the account from this address, the account from anywhere, this address across accounts — and
is refused while any of them says to wait (`audit.accounts.backoff`). The locks are held until the request's
commit, so parallel tries take turns and each sees the failures of the ones before it: 40 tries at once are
evaluated no more often than 40 tries one after another. An unknown account costs the same Argon2 work as a known
one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from audit.accounts.backoff import ZERO, Backoff
from audit.accounts.models import LoginThrottle, ThrottleScope, User
from audit.database import utcnow
from audit.errors import DomainError
from audit.security import verify_password_or_dummy

_HOUR = timedelta(hours=1)

POLICIES: dict[ThrottleScope, Backoff] = {
    # The guesser's own counter: five tries, then 30 s, 1 min, 2 min … up to 15 minutes between tries.
    ThrottleScope.account_from_address: Backoff(5, timedelta(seconds=30), timedelta(minutes=15), _HOUR),
    # Guessing spread over many addresses; capped at a minute, so the real user elsewhere waits a minute at most.
    ThrottleScope.account: Backoff(10, timedelta(seconds=5), timedelta(minutes=1), _HOUR),
    # One address trying many accounts.
    ThrottleScope.address: Backoff(20, timedelta(seconds=5), timedelta(minutes=15), _HOUR),
}


class LoginThrottled(DomainError):
    def __init__(self, wait: timedelta) -> None:
        super().__init__("too many failed attempts")
        #: How long until the next try is evaluated.
        self.wait = wait


def _keys(email: str, address: str) -> list[tuple[ThrottleScope, str]]:
    return sorted(
        [
            (ThrottleScope.account_from_address, f"{email}|{address}"),
            (ThrottleScope.account, email),
            (ThrottleScope.address, address),
        ]
    )


def _locked_counters(session: Session, keys: list[tuple[ThrottleScope, str]]) -> list[LoginThrottle]:
    """The counters of these keys, created when missing and locked (in one order, so that no two wait on each
    other) until the transaction ends; on SQLite the insert takes the database's write lock instead."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle).values([{"scope": s, "key": k, "failures": 0} for s, k in keys]).on_conflict_do_nothing()
    )
    query = (
        select(LoginThrottle)
        .where(or_(*(and_(LoginThrottle.scope == s, LoginThrottle.key == k) for s, k in keys)))
        .order_by(LoginThrottle.scope, LoginThrottle.key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def _wait(counters: list[LoginThrottle], now: datetime) -> timedelta:
    return max((POLICIES[c.scope].wait(c.failures, c.last_failure_at, now) for c in counters), default=ZERO)


def check_password(session: Session, email: str, password: str, address: str | None) -> User | None:
    """The active user with this e-mail address and password, or None; raises `LoginThrottled` while guesses from
    here or for this account must wait. `email` is already normalised."""
    counters = _locked_counters(session, _keys(email[:254], (address or "unknown")[:64]))
    now = utcnow()
    wait = _wait(counters, now)
    if wait > ZERO:
        raise LoginThrottled(wait)
    user = session.scalar(select(User).where(User.email == email))
    matches = verify_password_or_dummy(user.password_hash if user is not None else None, password)
    for counter in counters:
        if matches and counter.scope is ThrottleScope.account_from_address:
            counter.failures, counter.last_failure_at = 0, None
        elif not matches:
            counter.failures = POLICIES[counter.scope].current(counter.failures, counter.last_failure_at, now) + 1
            counter.last_failure_at = now
    session.flush()
    return user if matches and user is not None and user.active else None
