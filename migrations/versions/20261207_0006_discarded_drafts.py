"""Discarded drafts: the status `discarded` and who discarded an inspection, when and why.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 09:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = ("draft", "submitted", "approved", "returned")
_SCORED = "(submitted_at IS NOT NULL AND score_passed IS NOT NULL AND score_card IS NOT NULL)"


def _status_check(statuses: Sequence[str]) -> str:
    return "status IN ({})".format(", ".join(f"'{status}'" for status in statuses))


def upgrade() -> None:
    # Batch mode: SQLite changes CHECK constraints by copying the table.
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("discarded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("discarded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("discard_reason", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inspections_discarded_by_id_users"), "users", ["discarded_by_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("ck_inspections_inspection_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_inspections_inspection_status"), _status_check((*_STATUSES, "discarded"))
        )
        batch_op.drop_constraint(batch_op.f("ck_inspections_submitted_has_score"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_inspections_submitted_has_score"),
            f"status IN ('draft', 'returned', 'discarded') OR {_SCORED}",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_inspections_discarded_has_reason"),
            "status <> 'discarded' OR (submitted_at IS NULL AND reviewed_at IS NULL AND discarded_by_id IS NOT NULL "
            "AND discarded_at IS NOT NULL AND length(trim(discard_reason)) > 0)",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_inspections_only_discarded_has_discard"),
            "status = 'discarded' OR (discarded_by_id IS NULL AND discarded_at IS NULL AND discard_reason IS NULL)",
        )


def downgrade() -> None:
    # The earlier schema has no place for a discarded draft's record: such inspections are removed with it.
    op.execute("DELETE FROM inspections WHERE status = 'discarded'")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_inspections_only_discarded_has_discard"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_inspections_discarded_has_reason"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_inspections_submitted_has_score"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_inspections_submitted_has_score"), f"status IN ('draft', 'returned') OR {_SCORED}"
        )
        batch_op.drop_constraint(batch_op.f("ck_inspections_inspection_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_inspections_inspection_status"), _status_check(_STATUSES))
        batch_op.drop_constraint(batch_op.f("fk_inspections_discarded_by_id_users"), type_="foreignkey")
        batch_op.drop_column("discard_reason")
        batch_op.drop_column("discarded_at")
        batch_op.drop_column("discarded_by_id")
