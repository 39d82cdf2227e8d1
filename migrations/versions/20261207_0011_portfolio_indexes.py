"""Indexes for the pages of a portfolio of 10,000 buildings, chosen with EXPLAIN ANALYZE on PostgreSQL.

- inspections (organisation_id, id) and (organisation_id, status, id): the inspection list's page, newest first,
  of all statuses or one, and its count, without sorting the organisation's inspections;
- remediation_tasks (organisation_id, due_date, id): the task list in its default order (by due date) as a walk
  of the index;
- remediation_tasks (organisation_id, status, building_id, due_date): open, overdue and done tasks per building
  and per area (the dashboard, the buildings list) from the index alone;
- remediation_tasks (organisation_id, created_at) and (organisation_id, verified_at): the dashboard's trend
  counts the tasks made and verified before twelve weeks ago from these, and reads only the recent rows.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_inspections_organisation_id_id", "inspections", ["organisation_id", "id"]),
    ("ix_inspections_organisation_id_status_id", "inspections", ["organisation_id", "status", "id"]),
    ("ix_remediation_tasks_organisation_id_due_date", "remediation_tasks", ["organisation_id", "due_date", "id"]),
    (
        "ix_remediation_tasks_organisation_id_status_building_id",
        "remediation_tasks",
        ["organisation_id", "status", "building_id", "due_date"],
    ),
    ("ix_remediation_tasks_organisation_id_created_at", "remediation_tasks", ["organisation_id", "created_at"]),
    ("ix_remediation_tasks_organisation_id_verified_at", "remediation_tasks", ["organisation_id", "verified_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
