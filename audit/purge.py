"""`tryggahus purge`: the clean-ups that remove what crashes and time leave behind, each owned by its domain.

Run by hand (`tryggahus purge`) or daily by the job queue (the `cleanup` job, see `audit/jobs/queue.py`).
A clean-up is a function `(session, *, before, dry_run)` that removes (or with `dry_run` only names) what it finds
that is older than `before`, and yields a name for each; a new one is added to `cleanups()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from audit.database import utcnow
from audit.jobs.context import JobContext, JobKind, JobOutcome

CleanupFunction = Callable[..., Iterator[str]]


@dataclass(frozen=True)
class Cleanup:
    #: Short name printed before each thing it removes.
    name: str
    run: CleanupFunction


def cleanups() -> list[Cleanup]:
    """Every clean-up, in the order they run; each domain keeps its own function, this only wires them."""
    from audit.photos.cleanup import orphan_photo_files

    return [Cleanup("photos", orphan_photo_files)]


def purge(session: Session, *, before: datetime, dry_run: bool) -> Iterator[tuple[str, str]]:
    """Run every clean-up; yields (clean-up, what it removed) as it goes."""
    for cleanup in cleanups():
        for removed in cleanup.run(session, before=before, dry_run=dry_run):
            yield cleanup.name, removed


#: The most removals a clean-up job lists in its summary (the count is always whole).
SUMMARY_LIMIT = 100


def run_cleanup(context: JobContext) -> JobOutcome:
    """The daily clean-up as a job: what `tryggahus purge --grace-hours N` does, with the count as progress."""
    before = utcnow() - timedelta(hours=int(context.params.get("grace_hours", 24)))
    removed: list[str] = []
    for cleanup, what in purge(context.session, before=before, dry_run=False):
        removed.append(f"{cleanup}: {what}")
        context.progress(len(removed), len(removed))
    context.session.rollback()
    return JobOutcome(summary={"removed": len(removed), "items": removed[:SUMMARY_LIMIT]})


CLEANUP = JobKind("cleanup", run_cleanup)
