"""Creating, claiming, renewing, finishing and recovering jobs.

The web side creates a job row in its request's transaction (`create_job`, flushed, committed by the request) and
sends its id after the commit. The worker side changes a job only with conditional UPDATEs, each in a short
transaction of its own: `claim` takes a job that is queued, or running under a lease that expired, and the
returned `Claim` (worker and attempt) is the condition of every later write, so a worker that lost its job (its
lease expired and another worker took it) can no longer change it. huey does not acknowledge messages: a worker
killed mid-job takes its message with it, so `recover` (every minute, and when a worker starts) finds the jobs
whose lease expired and sends them again, or fails them once they have used up their attempts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.database import utcnow
from audit.jobs.models import Job, JobStatus

logger = logging.getLogger(__name__)

_S = JobStatus
#: A queued job not taken by a worker within this time has its message sent again (it may have been lost with a
#: worker or never sent); a second message is harmless, since only one claim of a job can succeed.
RESEND_AFTER = timedelta(minutes=5)


class KindLike(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def max_attempts(self) -> int: ...


@dataclass(frozen=True)
class Claim:
    """A worker's hold on a job: the worker and the attempt are the condition of every write it makes."""

    job_id: int
    worker: str
    attempt: int
    kind: str
    params: dict[str, Any]
    organisation_id: int | None
    #: Who asked for the job (none for the app's own housekeeping).
    created_by_id: int | None


def create_job(
    session: Session,
    kind: KindLike,
    *,
    params: dict[str, Any],
    organisation_id: int | None = None,
    created_by_id: int | None = None,
    total: int = 0,
) -> Job:
    """A queued job in the session's transaction; send its id once that has committed (`queue.send_after_commit`)."""
    job = Job(
        kind=kind.name,
        organisation_id=organisation_id,
        created_by_id=created_by_id,
        params=params,
        total=total,
        errors=[],
        max_attempts=kind.max_attempts,
        lease_expires_at=utcnow() + RESEND_AFTER,
    )
    session.add(job)
    session.flush()
    return job


def create_unique_job(engine: Engine, kind: KindLike, unique_key: str, params: dict[str, Any]) -> int | None:
    """The job with this key, made now in its own transaction; None when it exists already (made elsewhere)."""
    values = {
        "kind": kind.name,
        "params": params,
        "errors": [],
        "max_attempts": kind.max_attempts,
        "lease_expires_at": utcnow() + RESEND_AFTER,
        "unique_key": unique_key,
        "status": _S.queued,
        "total": 0,
        "done": 0,
        "attempts": 0,
        "created_at": utcnow(),
    }
    try:
        with engine.begin() as connection:
            result = connection.execute(insert(Job).values(**values).returning(Job.id))
            return int(result.scalar_one())
    except IntegrityError:
        return None


def _owned(claim: Claim) -> Any:
    return and_(
        Job.id == claim.job_id,
        Job.status == _S.running,
        Job.worker == claim.worker,
        Job.attempts == claim.attempt,
    )


def claim(engine: Engine, job_id: int, worker: str, lease: timedelta) -> Claim | None:
    """Take the job for `worker` if it is queued, or running under an expired lease, and has attempts left.

    One conditional UPDATE: of two workers claiming at once, one changes the row and the other changes nothing.
    Every attempt counts its progress from zero and forgets the previous attempt's item errors.
    """
    now = utcnow()
    with engine.begin() as connection:
        changed = connection.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.attempts < Job.max_attempts,
                or_(Job.status == _S.queued, and_(Job.status == _S.running, Job.lease_expires_at < now)),
            )
            .values(
                status=_S.running,
                attempts=Job.attempts + 1,
                worker=worker,
                lease_expires_at=now + lease,
                started_at=now,
                done=0,
                errors=[],
            )
        ).rowcount
        if changed != 1:
            return None
        row = connection.execute(
            select(Job.attempts, Job.kind, Job.params, Job.organisation_id, Job.created_by_id).where(Job.id == job_id)
        ).one()
    return Claim(job_id, worker, row.attempts, row.kind, row.params, row.organisation_id, row.created_by_id)


def _write(engine: Engine, claim: Claim, **values: Any) -> bool:
    """Change the claimed job in a transaction of its own; False when the claim no longer holds it."""
    with engine.begin() as connection:
        return connection.execute(update(Job).where(_owned(claim)).values(**values)).rowcount == 1


def renew(engine: Engine, claim: Claim, lease: timedelta) -> bool:
    return _write(engine, claim, lease_expires_at=utcnow() + lease)


def record_progress(engine: Engine, claim: Claim, lease: timedelta, done: int, total: int | None = None) -> bool:
    values: dict[str, Any] = {"done": done, "lease_expires_at": utcnow() + lease}
    if total is not None:
        values["total"] = total
    return _write(engine, claim, **values)


def finish(
    engine: Engine,
    claim: Claim,
    *,
    result_name: str | None,
    errors: list[dict[str, str]],
    summary: dict[str, Any] | None,
) -> bool:
    return _write(
        engine,
        claim,
        status=_S.finished,
        done=Job.total,
        result_name=result_name,
        errors=errors,
        summary=summary,
        finished_at=utcnow(),
        lease_expires_at=None,
    )


def fail(engine: Engine, claim: Claim, reason: str) -> bool:
    return _write(
        engine, claim, status=_S.failed, failure=reason[:1000], finished_at=utcnow(), lease_expires_at=None
    )


def release(engine: Engine, claim: Claim) -> bool:
    """Give the job back unfinished (its worker is being stopped): queued again, this attempt not counted, with an
    expired lease so that the next recovery sends it."""
    return _write(engine, claim, status=_S.queued, attempts=Job.attempts - 1, done=0, lease_expires_at=utcnow())


def recover(engine: Engine, now: datetime | None = None, resend_after: timedelta = RESEND_AFTER) -> list[int]:
    """Deal with every unfinished job whose lease has expired; returns the ids whose message must be sent again.

    A running job's worker stopped without a word (killed, its machine lost): the job is queued again, or failed
    with the reason once it has used up its attempts. A queued job that no worker took may have lost its message.
    Each row is changed by a conditional UPDATE of its own, so recoveries running at once never both send a job.
    `resend_after` is how long the message sent now has before a later recovery sends another.
    """
    now = now or utcnow()
    with engine.connect() as connection:
        expired = connection.execute(
            select(Job.id, Job.status, Job.attempts, Job.max_attempts, Job.worker)
            .where(Job.status.in_([_S.queued, _S.running]), Job.lease_expires_at < now)
            .order_by(Job.id)
        ).all()
    to_send = []
    for row in expired:
        with engine.begin() as connection:
            if _recover_one(connection, row, now, resend_after):
                to_send.append(row.id)
    return to_send


def _recover_one(connection: Connection, row: Any, now: datetime, resend_after: timedelta) -> bool:
    still_expired = and_(Job.id == row.id, Job.status == row.status, Job.lease_expires_at < now)
    if row.status is _S.running and row.attempts >= row.max_attempts:
        reason = (
            f"The worker running it stopped during each of its {row.attempts} attempts (the last was {row.worker}); "
            "it is not tried again."
        )
        connection.execute(
            update(Job)
            .where(still_expired, Job.attempts == row.attempts)
            .values(status=_S.failed, failure=reason, finished_at=now, lease_expires_at=None)
        )
        logger.warning("job %s failed: %s", row.id, reason)
        return False
    changed = connection.execute(
        update(Job).where(still_expired).values(status=_S.queued, done=0, lease_expires_at=now + resend_after)
    ).rowcount
    if changed and row.status is _S.running:
        logger.warning("job %s: its worker %s stopped (lease expired); queued again", row.id, row.worker)
    return changed == 1
