"""The job queue's clean-up for `tryggahus purge`: finished jobs past their retention, with the files they made.

A job's row shows its progress and outcome, and its file (a batch of signs, an export) waits to be downloaded, for
`Settings.job_retention_days` (14 by default) after it finished or failed; then both go, in bounded batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import purge
from audit.jobs.models import FINAL, Job
from audit.jobs.results import remove_result


def finished_jobs(session: Session, *, before: datetime, dry_run: bool) -> Iterator[purge.Removed]:
    def remove_files(ids: list[int]) -> str:
        # The files first: a row whose file is gone shows "not found", a file without its row would stay for ever.
        names = [name for name in session.scalars(select(Job.result_name).where(Job.id.in_(ids))) if name]
        if not dry_run:
            for name in names:
                remove_result(name)
        return f", {len(names)} with a file"

    return purge.delete_in_batches(
        session,
        Job.id,
        Job.status.in_(FINAL) & (Job.finished_at < before),
        what=f"%d ended before {before:%Y-%m-%d %H:%M} UTC",
        dry_run=dry_run,
        before_delete=remove_files,
    )
