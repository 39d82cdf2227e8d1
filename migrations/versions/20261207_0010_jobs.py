"""A generic job table for the job queue, replacing the batch print jobs (which become jobs of one kind).

Every batch print job is copied with its id (so its page and download keep their addresses): its format moves into
its parameters, the reason a failed one failed into `failure`, and one that was queued or running in a thread of a
web process (gone with that process) is queued again with an expired lease, so the first recovery sends it to a
worker. The downgrade copies the print jobs back (the failure into their errors, as before); jobs of other kinds
(the daily clean-up's records) have no place there and are dropped.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:00:00+00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRINT_SIGNS = "certificates.print_signs"
STATUSES = ("queued", "running", "finished", "failed")


def _jobs_table() -> sa.Table:
    return sa.table(
        "jobs",
        *(sa.column(name) for name in ("id", "kind", "organisation_id", "created_by_id", "status", "total", "done")),
        *(sa.column(name) for name in ("result_name", "attempts", "max_attempts", "worker", "failure")),
        *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "started_at", "finished_at")),
        sa.column("lease_expires_at", sa.DateTime(timezone=True)),
        *(sa.column(name, sa.JSON()) for name in ("params", "errors", "summary")),
    )


def _batch_jobs_table() -> sa.Table:
    return sa.table(
        "batch_jobs",
        *(sa.column(name) for name in ("id", "organisation_id", "created_by_id", "status", "format", "total", "done")),
        sa.column("result_name"),
        *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "started_at", "finished_at")),
        *(sa.column(name, sa.JSON()) for name in ("params", "errors")),
    )


#: On PostgreSQL, rows copied with their ids leave the table's id sequence behind: move it past the largest.
RESTART_SEQUENCE = {
    "jobs": "SELECT setval(pg_get_serial_sequence('jobs', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM jobs",
    "batch_jobs": (
        "SELECT setval(pg_get_serial_sequence('batch_jobs', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM batch_jobs"
    ),
}


def _restart_sequence(table: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text(RESTART_SEQUENCE[table]))


def _create_batch_jobs() -> None:
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "status", sa.Enum(*STATUSES, name="batch_status", native_enum=False, create_constraint=True), nullable=False
        ),
        sa.Column(
            "format",
            sa.Enum("pdf", "zip", name="batch_format", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("result_name", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status <> 'finished' OR (finished_at IS NOT NULL AND done = total)",
            name=op.f("ck_batch_jobs_finished_done"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('running', 'finished', 'failed') OR started_at IS NOT NULL",
            name=op.f("ck_batch_jobs_started"),
        ),
        sa.CheckConstraint("total >= 0 AND done >= 0 AND done <= total", name=op.f("ck_batch_jobs_progress_range")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_batch_jobs_created_by_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_batch_jobs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_jobs")),
    )
    op.create_index(op.f("ix_batch_jobs_organisation_id"), "batch_jobs", ["organisation_id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "status", sa.Enum(*STATUSES, name="job_status", native_enum=False, create_constraint=True), nullable=False
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("result_name", sa.String(length=100), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unique_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(kind) > 0", name=op.f("ck_jobs_kind_given")),
        sa.CheckConstraint("total >= 0 AND done >= 0 AND done <= total", name=op.f("ck_jobs_progress_range")),
        sa.CheckConstraint(
            "status <> 'finished' OR (finished_at IS NOT NULL AND done = total)", name=op.f("ck_jobs_finished_done")
        ),
        sa.CheckConstraint("status <> 'failed' OR finished_at IS NOT NULL", name=op.f("ck_jobs_failed_finished_at")),
        sa.CheckConstraint(
            "status NOT IN ('running', 'finished') OR started_at IS NOT NULL", name=op.f("ck_jobs_started")
        ),
        sa.CheckConstraint(
            "status <> 'running' OR (worker IS NOT NULL AND lease_expires_at IS NOT NULL)",
            name=op.f("ck_jobs_running_leased"),
        ),
        sa.CheckConstraint(
            "max_attempts >= 1 AND attempts >= 0 AND attempts <= max_attempts", name=op.f("ck_jobs_attempts_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_jobs_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_jobs_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_jobs_unique_key")),
    )
    op.create_index(op.f("ix_jobs_organisation_id"), "jobs", ["organisation_id"], unique=False)
    op.create_index("ix_jobs_status_lease_expires_at", "jobs", ["status", "lease_expires_at"], unique=False)

    bind = op.get_bind()
    old, new = _batch_jobs_table(), _jobs_table()
    rows = [_as_job(row) for row in bind.execute(sa.select(old).order_by(old.c.id)).mappings()]
    if rows:
        bind.execute(new.insert(), rows)
    _restart_sequence("jobs")
    op.drop_index(op.f("ix_batch_jobs_organisation_id"), table_name="batch_jobs")
    op.drop_table("batch_jobs")


def _as_job(row: Any) -> dict[str, Any]:
    errors = list(row["errors"] or [])
    failure = "; ".join(e.get("error", "") for e in errors if not e.get("number")) or None
    unfinished = row["status"] in ("queued", "running")
    return {
        "id": row["id"],
        "kind": PRINT_SIGNS,
        "organisation_id": row["organisation_id"],
        "created_by_id": row["created_by_id"],
        "status": "queued" if unfinished else row["status"],
        "params": {**(row["params"] or {}), "format": row["format"]},
        "total": row["total"],
        "done": 0 if unfinished else row["done"],
        "errors": [e for e in errors if e.get("number")],
        "failure": failure if row["status"] == "failed" else None,
        "summary": None,
        "result_name": row["result_name"],
        "attempts": 0 if unfinished else 1,
        "max_attempts": 3,
        "worker": None,
        # Expired: the first recovery sends it to a worker.
        "lease_expires_at": row["created_at"] if unfinished else None,
        "created_at": row["created_at"],
        "started_at": row["started_at"],
        "finished_at": row["finished_at"],
    }


def downgrade() -> None:
    _create_batch_jobs()
    bind = op.get_bind()
    old, new = _batch_jobs_table(), _jobs_table()
    query = sa.select(new).where(
        new.c.kind == PRINT_SIGNS, new.c.organisation_id.is_not(None), new.c.created_by_id.is_not(None)
    )
    rows = [_as_batch_job(row) for row in bind.execute(query.order_by(new.c.id)).mappings()]
    if rows:
        bind.execute(old.insert(), rows)
    _restart_sequence("batch_jobs")
    op.drop_index("ix_jobs_status_lease_expires_at", table_name="jobs")
    op.drop_index(op.f("ix_jobs_organisation_id"), table_name="jobs")
    op.drop_table("jobs")


def _as_batch_job(row: Any) -> dict[str, Any]:
    params = dict(row["params"] or {})
    output_format = params.pop("format", "pdf")
    errors = list(row["errors"] or [])
    if row["failure"]:
        errors.append({"number": "", "error": row["failure"]})
    return {
        "id": row["id"],
        "organisation_id": row["organisation_id"],
        "created_by_id": row["created_by_id"],
        "status": row["status"],
        "format": output_format,
        "params": params,
        "total": row["total"],
        "done": row["done"],
        "errors": errors,
        "result_name": row["result_name"],
        "created_at": row["created_at"],
        # A queued job that ran before (and was queued again) had started; one that never ran had not.
        "started_at": row["started_at"] if row["status"] != "queued" else None,
        "finished_at": row["finished_at"],
    }
