"""The task list sorted by severity through an index: a generated column with each task's rank.

Sorting the tasks of an organisation by `CASE severity …` made PostgreSQL read and sort every one of them (100,000
in a large portfolio) for a page of 50. `severity_rank` is kept by the database itself (a generated column: STORED
on PostgreSQL, VIRTUAL on SQLite, which can add only those to an existing table and index them all the same), and
(organisation_id, severity_rank, due_date, id) turns the sorted page into a walk of that index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 22:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RANK = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
INDEX = "ix_remediation_tasks_organisation_id_severity_rank"


def upgrade() -> None:
    # STORED on PostgreSQL; SQLite can add only a VIRTUAL generated column to an existing table (and indexes it).
    stored = True if op.get_bind().dialect.name == "postgresql" else None
    op.add_column(
        "remediation_tasks", sa.Column("severity_rank", sa.SmallInteger(), sa.Computed(RANK, persisted=stored))
    )
    op.create_index(INDEX, "remediation_tasks", ["organisation_id", "severity_rank", "due_date", "id"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="remediation_tasks")
    with op.batch_alter_table("remediation_tasks") as batch:
        batch.drop_column("severity_rank")
