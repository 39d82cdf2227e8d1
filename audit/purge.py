"""`tryggahus purge`: the clean-ups that remove what crashes and time leave behind, each owned by its domain.

Run by hand (`tryggahus purge`) or daily by the job queue (the `cleanup` job, see `audit/jobs/queue.py`).
A clean-up is a function `(session, *, before, dry_run)` that removes (or with `dry_run` only names) what it finds
that is older than `before`, and yields what it removed: a name (one thing, such as a file) or a `Removed` (a
batch of rows). `before` is the clean-up's own horizon: its `Cleanup.keep` read from the settings (how long an
offline tablet may still retry with an idempotency key, how long login records are kept) or, for files, the
grace that protects uploads still in flight. Rows go in bounded batches, each committed on its own, so a purge of
millions of rows never holds one long transaction. A new clean-up is added to `cleanups()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from audit.database import utcnow
from audit.jobs.context import JobContext, JobKind, JobOutcome

if TYPE_CHECKING:
    from audit.settings import Settings

CleanupFunction = Callable[..., Iterator["str | Removed"]]
#: Rows removed in one statement and one transaction.
ROW_BATCH = 1000


@dataclass(frozen=True)
class Removed:
    """What one step of a clean-up removed: `count` things, described by `what`."""

    what: str
    count: int = 1


@dataclass(frozen=True)
class Cleanup:
    #: Short name printed before each thing it removes.
    name: str
    run: CleanupFunction
    #: How long what it removes is kept: from the settings, or the grace given on the command line.
    keep: Callable[[Settings, timedelta], timedelta]


def _grace(_settings: Settings, grace: timedelta) -> timedelta:
    return grace


def cleanups() -> list[Cleanup]:
    """Every clean-up, in the order they run; each domain keeps its own function, this only wires them."""
    from audit.accounts.cleanup import ended_login_sessions, old_login_throttles, spent_password_resets
    from audit.api.cleanup import expired_idempotency_records
    from audit.jobs.cleanup import finished_jobs
    from audit.photos.cleanup import orphan_photo_files

    def idempotency(settings: Settings, _grace: timedelta) -> timedelta:
        return timedelta(days=settings.idempotency_retention_days)

    def login_records(settings: Settings, _grace: timedelta) -> timedelta:
        return timedelta(days=settings.login_record_retention_days)

    def jobs(settings: Settings, _grace: timedelta) -> timedelta:
        return timedelta(days=settings.job_retention_days)

    return [
        Cleanup("photos", orphan_photo_files, _grace),
        Cleanup("idempotency records", expired_idempotency_records, idempotency),
        Cleanup("login throttles", old_login_throttles, login_records),
        Cleanup("login sessions", ended_login_sessions, login_records),
        Cleanup("password reset links", spent_password_resets, login_records),
        Cleanup("jobs", finished_jobs, jobs),
    ]


def purge(
    session: Session, settings: Settings, *, now: datetime, grace: timedelta, dry_run: bool
) -> Iterator[tuple[str, Removed]]:
    """Run every clean-up; yields (clean-up, what it removed) as it goes, committing after each step."""
    for cleanup in cleanups():
        for removed in cleanup.run(session, before=now - cleanup.keep(settings, grace), dry_run=dry_run):
            if not dry_run:
                session.commit()
            yield cleanup.name, removed if isinstance(removed, Removed) else Removed(removed)


def delete_in_batches(
    session: Session,
    key: InstrumentedAttribute[Any],
    condition: ColumnElement[bool],
    *,
    what: str,
    dry_run: bool,
    before_delete: Callable[[list[Any]], str] | None = None,
) -> Iterator[Removed]:
    """Delete the rows of `key`'s table that meet `condition`, ROW_BATCH keys at a time (or with `dry_run` count
    them); yields one `Removed` per batch, described as `what` (a %d for the count). `key` need not be unique: the
    rows of a key that meet the condition go together. `before_delete` gets each batch's keys before its rows go
    (also in a dry run, told by the caller's own flag) and returns what to add to the batch's description."""
    chosen = select(key).where(condition).group_by(key).order_by(key).limit(ROW_BATCH)
    last = None
    while True:
        page = chosen if last is None else chosen.where(key > last)
        ids = list(session.scalars(page))
        if not ids:
            return
        count = len(ids)
        also = before_delete(ids) if before_delete else ""
        if not dry_run:
            result = session.execute(
                delete(key.class_).where(key.in_(ids), condition), execution_options={"synchronize_session": False}
            )
            count = result.rowcount  # type: ignore[attr-defined]  # a DML result has one
        last = ids[-1]
        yield Removed(what % count + also, count)
        if len(ids) < ROW_BATCH:
            return


#: The most removals a clean-up job lists in its summary (the count is always whole).
SUMMARY_LIMIT = 100


def run_cleanup(context: JobContext) -> JobOutcome:
    """The daily clean-up as a job: what `tryggahus purge --grace-hours N` does, with the count as progress."""
    from flask import current_app

    grace = timedelta(hours=int(context.params.get("grace_hours", 24)))
    settings = current_app.config["TRYGGAHUS"]
    removed: list[str] = []
    count = 0
    for cleanup, what in purge(context.session, settings, now=utcnow(), grace=grace, dry_run=False):
        removed.append(f"{cleanup}: {what.what}")
        count += what.count
        context.progress(count, count)
    context.session.rollback()
    return JobOutcome(summary={"removed": count, "items": removed[:SUMMARY_LIMIT]})


CLEANUP = JobKind("cleanup", run_cleanup)
