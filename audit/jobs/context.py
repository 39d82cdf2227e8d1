"""What a job function gets and gives back: its claim, a way to report progress, and its outcome.

A job kind is a name and a function `run(context) -> JobOutcome`, kept by the domain it belongs to
(`audit/certificates/jobs.py`) and wired by name in `audit/jobs/kinds.py`. The function reads its input from
`context.params`, works with `context.session` (the worker's own session: end its transaction before long work),
calls `context.progress(done, total)` as it goes, keeps files with `audit.jobs.results.store_result`, and returns
what it made. An exception fails the job with its message; a worker that stops under it makes it run again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audit.jobs import services
from audit.jobs.models import DEFAULT_MAX_ATTEMPTS
from audit.jobs.services import Claim


class LeaseLost(Exception):
    """The job's lease expired and another worker took it (this one was paused too long): stop, write nothing."""


@dataclass
class JobOutcome:
    #: The file the job made (a name from `store_result`), if any.
    result_name: str | None = None
    #: Items that failed while the rest went on, in the shape the kind's page shows.
    errors: list[dict[str, str]] = field(default_factory=list)
    #: Anything else worth keeping about the run (plain JSON).
    summary: dict[str, Any] | None = None


@dataclass(frozen=True)
class JobKind:
    #: Stored in `Job.kind`; never renamed once jobs of it exist.
    name: str
    run: Callable[[JobContext], JobOutcome]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


class JobContext:
    def __init__(self, engine: Engine, session: Session, claim: Claim, lease: timedelta) -> None:
        self.engine = engine
        self.session = session
        self.claim = claim
        self.lease = lease
        #: Set by the heartbeat when the lease could not be renewed.
        self.lost = threading.Event()

    @property
    def job_id(self) -> int:
        return self.claim.job_id

    @property
    def params(self) -> dict[str, Any]:
        return self.claim.params

    @property
    def organisation_id(self) -> int | None:
        return self.claim.organisation_id

    def progress(self, done: int, total: int | None = None) -> None:
        """Record how far the job got (it renews the lease too); raises LeaseLost when the job is no longer ours."""
        if self.lost.is_set() or not services.record_progress(self.engine, self.claim, self.lease, done, total):
            self.lost.set()
            raise LeaseLost(f"job {self.job_id} was taken over by another worker")
