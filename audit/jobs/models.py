"""The job row: what to do, its progress, and who holds it for how long.

huey carries only a job's id; this row says what the job is and how far it got, so every web server shows its
progress and a job whose worker was killed is found (its lease expired) and run again. States:
queued → running → finished or failed, and running → queued again when its worker stopped before it ended.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from audit.database import Base, UTCDateTime, utcnow
from audit.enums import enum_column_type


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    finished = "finished"
    failed = "failed"


#: The states a job ends in; nothing changes it afterwards.
FINAL = frozenset({JobStatus.finished, JobStatus.failed})
#: How many times a job is started before a worker that stops under it makes it fail (a kind may say otherwise).
DEFAULT_MAX_ATTEMPTS = 3


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("length(kind) > 0", name="kind_given"),
        CheckConstraint("total >= 0 AND done >= 0 AND done <= total", name="progress_range"),
        CheckConstraint("status <> 'finished' OR (finished_at IS NOT NULL AND done = total)", name="finished_done"),
        CheckConstraint("status <> 'failed' OR finished_at IS NOT NULL", name="failed_finished_at"),
        CheckConstraint("status NOT IN ('running', 'finished') OR started_at IS NOT NULL", name="started"),
        CheckConstraint(
            "status <> 'running' OR (worker IS NOT NULL AND lease_expires_at IS NOT NULL)", name="running_leased"
        ),
        CheckConstraint("max_attempts >= 1 AND attempts >= 0 AND attempts <= max_attempts", name="attempts_range"),
        # The recovery's question: which unfinished jobs have a lease that ran out?
        Index("ix_jobs_status_lease_expires_at", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the job does: a name in `audit.jobs.kinds` (e.g. ``certificates.print_signs``).
    kind: Mapped[str] = mapped_column(String(60))
    #: The organisation whose data it works on; none for the app's own housekeeping.
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[JobStatus] = mapped_column(enum_column_type(JobStatus, "job_status"), default=JobStatus.queued)
    #: The job's input, as its kind defines it (plain JSON: ids, choices, never objects).
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(default=0)
    #: Items handled so far (failed ones included); counted again from 0 by every attempt.
    done: Mapped[int] = mapped_column(default=0)
    #: Items that failed while the job as a whole went on, as its kind reports them (a sign: number and error).
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    #: Why the job as a whole failed, in one line.
    failure: Mapped[str | None] = mapped_column(Text)
    #: What a finished job reports beside its file (e.g. how many files a clean-up removed).
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The file it made, a name in the job results folder (see `audit.jobs.results`).
    result_name: Mapped[str | None] = mapped_column(String(100))
    #: How many times a worker has started it, and the limit after which a worker stopping under it fails it.
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=DEFAULT_MAX_ATTEMPTS)
    #: The worker that holds (or last held) it: ``name/host/pid/thread``.
    worker: Mapped[str | None] = mapped_column(String(200))
    #: Running: the worker's hold, renewed by its heartbeat; once past, the worker is taken for gone. Queued: when
    #: its message is sent again if no worker has taken it by then (a message can be lost with a worker).
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Set for a job that must exist at most once (the daily clean-up: ``cleanup:2026-12-07``).
    unique_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def finished(self) -> bool:
        return self.status in FINAL

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.status.value}>"
