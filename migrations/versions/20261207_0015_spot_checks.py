"""Spot checks limited to some checklist sections (inspection_scopes), and the spot checks started from an EST hot
spot (est_spot_checks).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_scopes",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("section_keys", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_inspection_scopes_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("inspection_id", name=op.f("pk_inspection_scopes")),
    )
    op.create_table(
        "est_spot_checks",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("spot", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_est_spot_checks_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["est_groups.id"], name=op.f("fk_est_spot_checks_group_id_est_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_est_spot_checks_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("inspection_id", name=op.f("pk_est_spot_checks")),
    )
    with op.batch_alter_table("est_spot_checks", schema=None) as batch_op:
        batch_op.create_index("ix_est_spot_checks_group_id_spot", ["group_id", "spot"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("est_spot_checks", schema=None) as batch_op:
        batch_op.drop_index("ix_est_spot_checks_group_id_spot")
    op.drop_table("est_spot_checks")
    op.drop_table("inspection_scopes")
