"""How long a login must wait after failed ones: a few free tries, then a delay that doubles with every failure.

A pure rule, used by `audit.accounts.auth` for each counter it keeps (an account from one address, an account
from anywhere, an address across accounts). Nothing is locked for good: the delay is capped, and failures are
forgotten a while after the last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class Backoff:
    #: Failures allowed before any wait.
    free: int
    #: The wait after the first failure beyond the free ones; each further failure doubles it.
    first_delay: timedelta
    #: The longest wait, however many failures.
    max_delay: timedelta
    #: Failures are forgotten this long after the last one.
    forget_after: timedelta

    def current(self, failures: int, last_failure_at: datetime | None, now: datetime) -> int:
        """The failures that still count now."""
        if last_failure_at is None or now - last_failure_at >= self.forget_after:
            return 0
        return failures

    def wait(self, failures: int, last_failure_at: datetime | None, now: datetime) -> timedelta:
        """How long until the next try may be evaluated; zero when it may be now."""
        counted = self.current(failures, last_failure_at, now)
        if counted < self.free or last_failure_at is None:
            return ZERO
        # Capped before doubling too far: 2**64 seconds would not fit a timedelta.
        steps = min(counted - self.free, 32)
        delay = min(self.first_delay * (1 << steps), self.max_delay)
        return max(last_failure_at + delay - now, ZERO)
