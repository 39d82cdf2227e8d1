"""A failed measurement's value, unit and limits on its remediation task.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 16:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("measured_value", "measured_unit", "required_min", "required_max")


def upgrade() -> None:
    with op.batch_alter_table("remediation_tasks") as batch:
        batch.add_column(sa.Column("measured_value", sa.Numeric(precision=12, scale=3), nullable=True))
        batch.add_column(sa.Column("measured_unit", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("required_min", sa.Numeric(precision=12, scale=3), nullable=True))
        batch.add_column(sa.Column("required_max", sa.Numeric(precision=12, scale=3), nullable=True))
        batch.create_check_constraint("measured_value_has_unit", "measured_value IS NULL OR measured_unit IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("remediation_tasks") as batch:
        batch.drop_constraint("measured_value_has_unit", type_="check")
        for column in reversed(COLUMNS):
            batch.drop_column(column)
