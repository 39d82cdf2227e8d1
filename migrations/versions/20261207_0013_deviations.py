"""Deviation reports (EST): the stored catalogue versions, places, reports with their history, photos and links;
a remediation task may come from a report instead of an inspection.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:00:00+00:00
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tasks' generated severity rank and its index, as revision 0012 made them.
RANK = "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
RANK_INDEX = "ix_remediation_tasks_organisation_id_severity_rank"


@contextmanager
def _tasks_batch() -> Iterator[BatchOperations]:
    """Changes to `remediation_tasks`. SQLite makes them by copying the rows into a new table, and it cannot copy
    into a generated column: there the severity rank leaves with the copy and is added again (VIRTUAL, as 0012
    adds it) with its index afterwards."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.drop_index(RANK_INDEX, table_name="remediation_tasks")
    with op.batch_alter_table("remediation_tasks", schema=None) as batch_op:
        if sqlite:
            batch_op.drop_column("severity_rank")
        yield batch_op
    if sqlite:
        op.add_column("remediation_tasks", sa.Column("severity_rank", sa.SmallInteger(), sa.Computed(RANK)))
        op.create_index(RANK_INDEX, "remediation_tasks", ["organisation_id", "severity_rank", "due_date", "id"])


def upgrade() -> None:
    op.create_table(
        "deviation_catalogues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("category_count", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_deviation_catalogues_sha256_length")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_deviation_catalogues_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_catalogues")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_deviation_catalogues_key_version")),
    )
    with op.batch_alter_table("deviation_catalogues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviation_catalogues_sha256"), ["sha256"], unique=False)

    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(name) >= 2", name=op.f("ck_places_name_length")),
        sa.ForeignKeyConstraint(["area_id"], ["areas.id"], name=op.f("fk_places_area_id_areas"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_places_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_places_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("area_id", "name_key", name=op.f("uq_places_area_id_name_key")),
    )
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_places_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_places_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "deviation_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("catalogue_id", sa.Integer(), nullable=False),
        sa.Column("category_key", sa.String(length=40), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.Column("police_tip", sa.Boolean(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum(
                "low", "normal", "high", "urgent", name="deviation_urgency", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "new",
                "acknowledged",
                "action_taken",
                "closed",
                name="deviation_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status <> 'closed' OR closed_at IS NOT NULL", name=op.f("ck_deviation_reports_closed_has_closed_at")
        ),
        sa.CheckConstraint(
            "status = 'closed' OR closed_at IS NULL", name=op.f("ck_deviation_reports_only_closed_has_closed_at")
        ),
        sa.CheckConstraint(
            "status IN ('new') OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name=op.f("ck_deviation_reports_triaged_has_acknowledgement"),
        ),
        sa.CheckConstraint("length(description) >= 1", name=op.f("ck_deviation_reports_description_given")),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["users.id"],
            name=op.f("fk_deviation_reports_acknowledged_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_deviation_reports_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_deviation_reports_building_id_buildings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["catalogue_id"],
            ["deviation_catalogues.id"],
            name=op.f("fk_deviation_reports_catalogue_id_deviation_catalogues"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deviation_reports_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_deviation_reports_place_id_places"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["users.id"],
            name=op.f("fk_deviation_reports_reported_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_reports")),
    )
    with op.batch_alter_table("deviation_reports", schema=None) as batch_op:
        batch_op.create_index("ix_deviation_reports_area_id_seen_at", ["area_id", "seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_reports_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_reports_category_key"), ["category_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_reports_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(
            "ix_deviation_reports_organisation_id_status_seen_at",
            ["organisation_id", "status", "seen_at"],
            unique=False,
        )
        batch_op.create_index("ix_deviation_reports_place_id_seen_at", ["place_id", "seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_reports_reported_by_id"), ["reported_by_id"], unique=False)

    op.create_table(
        "deviation_links",
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("linked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("first_id < second_id", name=op.f("ck_deviation_links_ordered_pair")),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["deviation_reports.id"],
            name=op.f("fk_deviation_links_first_id_deviation_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["linked_by_id"], ["users.id"], name=op.f("fk_deviation_links_linked_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["deviation_reports.id"],
            name=op.f("fk_deviation_links_second_id_deviation_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("first_id", "second_id", name=op.f("pk_deviation_links")),
    )
    with op.batch_alter_table("deviation_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviation_links_second_id"), ["second_id"], unique=False)

    op.create_table(
        "deviation_photos",
        sa.Column("report_id", sa.Integer(), nullable=False),
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
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_deviation_photos_size_positive")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_deviation_photos_dimensions_positive")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_deviation_photos_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["deviation_reports.id"],
            name=op.f("fk_deviation_photos_report_id_deviation_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_deviation_photos_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_photos")),
        sa.UniqueConstraint("file_path", name=op.f("uq_deviation_photos_file_path")),
        sa.UniqueConstraint("thumbnail_path", name=op.f("uq_deviation_photos_thumbnail_path")),
    )
    with op.batch_alter_table("deviation_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviation_photos_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deviation_photos_report_id"), ["report_id"], unique=False)

    op.create_table(
        "deviation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "reported",
                "acknowledged",
                "action_taken",
                "closed",
                "commented",
                "linked",
                "task_created",
                name="deviation_action",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "from_status",
            sa.Enum(
                "new",
                "acknowledged",
                "action_taken",
                "closed",
                name="deviation_from",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column(
            "to_status",
            sa.Enum(
                "new",
                "acknowledged",
                "action_taken",
                "closed",
                name="deviation_to",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("linked_report_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_deviation_events_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["linked_report_id"],
            ["deviation_reports.id"],
            name=op.f("fk_deviation_events_linked_report_id_deviation_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["deviation_reports.id"],
            name=op.f("fk_deviation_events_report_id_deviation_reports"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["remediation_tasks.id"],
            name=op.f("fk_deviation_events_task_id_remediation_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deviation_events")),
    )
    with op.batch_alter_table("deviation_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deviation_events_report_id"), ["report_id"], unique=False)

    with _tasks_batch() as batch_op:
        batch_op.add_column(sa.Column("deviation_id", sa.Integer(), nullable=True))
        batch_op.alter_column("inspection_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.create_index(batch_op.f("ix_remediation_tasks_deviation_id"), ["deviation_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_remediation_tasks_deviation_id_deviation_reports"),
            "deviation_reports",
            ["deviation_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint("has_source", "inspection_id IS NOT NULL OR deviation_id IS NOT NULL")


def downgrade() -> None:
    # Tasks made from reports have no inspection, which the older schema requires: they go with the reports (their
    # history and photos first, as SQLite runs the migrations with foreign keys off).
    from_reports = sa.text("SELECT id FROM remediation_tasks WHERE deviation_id IS NOT NULL")
    for table in ("task_events", "task_photos"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE task_id IN ({from_reports.text})"))  # noqa: S608
    op.execute(sa.text("DELETE FROM remediation_tasks WHERE deviation_id IS NOT NULL"))
    with _tasks_batch() as batch_op:
        batch_op.drop_constraint("has_source", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_remediation_tasks_deviation_id_deviation_reports"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_remediation_tasks_deviation_id"))
        batch_op.alter_column("inspection_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("deviation_id")

    with op.batch_alter_table("deviation_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_events_report_id"))

    op.drop_table("deviation_events")
    with op.batch_alter_table("deviation_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_photos_report_id"))
        batch_op.drop_index(batch_op.f("ix_deviation_photos_organisation_id"))

    op.drop_table("deviation_photos")
    with op.batch_alter_table("deviation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_links_second_id"))

    op.drop_table("deviation_links")
    with op.batch_alter_table("deviation_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_reports_reported_by_id"))
        batch_op.drop_index("ix_deviation_reports_place_id_seen_at")
        batch_op.drop_index("ix_deviation_reports_organisation_id_status_seen_at")
        batch_op.drop_index(batch_op.f("ix_deviation_reports_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_deviation_reports_category_key"))
        batch_op.drop_index(batch_op.f("ix_deviation_reports_building_id"))
        batch_op.drop_index("ix_deviation_reports_area_id_seen_at")

    op.drop_table("deviation_reports")
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_places_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_places_area_id"))

    op.drop_table("places")
    with op.batch_alter_table("deviation_catalogues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deviation_catalogues_sha256"))

    op.drop_table("deviation_catalogues")
