"""Remediation tasks from failed items, their history (task_events), evidence photos (task_photos), follow-ups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:25:08.709091+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "remediation_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("section_key", sa.String(length=8), nullable=False),
        sa.Column("item_key", sa.String(length=16), nullable=False),
        sa.Column("item_text_sv", sa.Text(), nullable=False),
        sa.Column("item_text_en", sa.Text(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "low", "medium", "high", "critical", name="task_severity", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open", "in_progress", "done", "verified", name="task_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by_id", sa.Integer(), nullable=True),
        sa.Column("completion_comment", sa.Text(), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("verified_by_inspection_id", sa.Integer(), nullable=True),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status <> 'done' OR (completion_comment IS NOT NULL AND completed_by_id IS NOT NULL)",
            name=op.f("ck_remediation_tasks_done_has_comment"),
        ),
        sa.CheckConstraint(
            "status <> 'verified' OR (verified_at IS NOT NULL AND verified_by_id IS NOT NULL)",
            name=op.f("ck_remediation_tasks_verified_has_verifier"),
        ),
        sa.CheckConstraint(
            "status = 'verified' OR verified_at IS NULL",
            name=op.f("ck_remediation_tasks_only_verified_has_verified_at"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('done', 'verified') OR completed_at IS NOT NULL OR verified_by_inspection_id IS NOT NULL",
            name=op.f("ck_remediation_tasks_done_has_completion"),
        ),
        sa.CheckConstraint("repeat_count >= 0", name=op.f("ck_remediation_tasks_repeat_count_positive")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_remediation_tasks_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_remediation_tasks_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["completed_by_id"],
            ["users.id"],
            name=op.f("fk_remediation_tasks_completed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_remediation_tasks_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_remediation_tasks_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["users.id"],
            name=op.f("fk_remediation_tasks_verified_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_inspection_id"],
            ["inspections.id"],
            name=op.f("fk_remediation_tasks_verified_by_inspection_id_inspections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_tasks")),
        sa.UniqueConstraint("inspection_id", "item_key", name=op.f("uq_remediation_tasks_inspection_id_item_key")),
    )
    with op.batch_alter_table("remediation_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_remediation_tasks_assignee_id"), ["assignee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_inspection_id"), ["inspection_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(
            "ix_remediation_tasks_organisation_id_status_due_date",
            ["organisation_id", "status", "due_date"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_remediation_tasks_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_verified_at"), ["verified_at"], unique=False)
        batch_op.create_index(
            "uq_remediation_tasks_unverified_item",
            ["building_id", "item_key"],
            unique=True,
            sqlite_where=sa.text("status <> 'verified'"),
            postgresql_where=sa.text("status <> 'verified'"),
        )

    op.create_table(
        "follow_ups",
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=False),
        sa.Column("item_keys", sa.JSON(), nullable=False),
        sa.CheckConstraint("previous_id <> inspection_id", name=op.f("ck_follow_ups_previous_is_another")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_follow_ups_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["previous_id"], ["inspections.id"], name=op.f("fk_follow_ups_previous_id_inspections"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inspection_id", name=op.f("pk_follow_ups")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_previous_id"), ["previous_id"], unique=False)

    op.create_table(
        "task_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "created",
                "assigned",
                "due_date_changed",
                "started",
                "completed",
                "verified",
                "reopened",
                "verified_by_inspection",
                "failed_again",
                name="task_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "open",
                "in_progress",
                "done",
                "verified",
                name="task_event_from",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "open",
                "in_progress",
                "done",
                "verified",
                name="task_event_to",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("previous_due_date", sa.Date(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_task_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_task_events_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_task_events_inspection_id_inspections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["remediation_tasks.id"],
            name=op.f("fk_task_events_task_id_remediation_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_events")),
    )
    with op.batch_alter_table("task_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_events_task_id"), ["task_id"], unique=False)

    op.create_table(
        "task_photos",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("file_path", sa.String(length=255), nullable=False),
        sa.Column("thumbnail_path", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_task_photos_size_positive")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_task_photos_dimensions_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_task_photos_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["remediation_tasks.id"],
            name=op.f("fk_task_photos_task_id_remediation_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_task_photos_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_photos")),
        sa.UniqueConstraint("file_path", name=op.f("uq_task_photos_file_path")),
        sa.UniqueConstraint("thumbnail_path", name=op.f("uq_task_photos_thumbnail_path")),
    )
    with op.batch_alter_table("task_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_photos_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_photos_task_id"), ["task_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_photos_task_id"))
        batch_op.drop_index(batch_op.f("ix_task_photos_organisation_id"))

    op.drop_table("task_photos")
    with op.batch_alter_table("task_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_task_events_task_id"))

    op.drop_table("task_events")
    with op.batch_alter_table("remediation_tasks", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_remediation_tasks_unverified_item",
            sqlite_where=sa.text("status <> 'verified'"),
            postgresql_where=sa.text("status <> 'verified'"),
        )
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_verified_at"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_status"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_severity"))
        batch_op.drop_index("ix_remediation_tasks_organisation_id_status_due_date")
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_inspection_id"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_created_at"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_building_id"))
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_assignee_id"))

    op.drop_table("remediation_tasks")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_previous_id"))

    op.drop_table("follow_ups")
