"""The job queue's clean-up for `tryggahus purge`: finished jobs past their retention, with the files they made.

A job's row shows its progress and outcome, and its file (a batch of signs, an export) waits to be downloaded, for
`Settings.job_retention_days` (14 by default) after it finished or failed; then both go, in bounded batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit import purge
from audit.jobs.models import FINAL, Job
from audit.jobs.results import remove_result


def finished_jobs(session: Session, *, before: datetime, dry_run: bool) -> Iterator[purge.Removed]:
    ended = select(Job.id, Job.result_name).where(Job.status.in_(FINAL), Job.finished_at < before)
    last = 0
    while True:
        rows = session.execute(ended.where(Job.id > last).order_by(Job.id).limit(purge.ROW_BATCH)).all()
        if not rows:
            return
        if not dry_run:
            # The files first: a row whose file is gone shows "not found", a file without its row would stay for ever.
            for _id, name in rows:
                if name:
                    remove_result(name)
            session.execute(delete(Job).where(Job.id.in_([row.id for row in rows])))
        last = rows[-1].id
        files = sum(1 for row in rows if row.result_name)
        yield purge.Removed(f"{len(rows)} ended before {before:%Y-%m-%d %H:%M} UTC, {files} with a file", len(rows))
        if len(rows) < purge.ROW_BATCH:
            return
