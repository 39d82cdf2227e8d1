"""EST groups: member and partner organisations, group areas mapped to the members' own areas, measures agreed
at meetings or in hot-spot analyses; a deviation report may be shared with the groups' partners.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 23:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "est_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("hot_n", sa.Integer(), nullable=False),
        sa.Column("hot_m", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("hot_n >= 1 AND hot_n <= hot_m AND hot_m <= 12", name=op.f("ck_est_groups_hot_spot_rule")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_est_groups_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_groups")),
        sa.UniqueConstraint("name", name=op.f("uq_est_groups_name")),
    )
    op.create_table(
        "est_group_areas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["est_groups.id"], name=op.f("fk_est_group_areas_group_id_est_groups"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_group_areas")),
        sa.UniqueConstraint("group_id", "name", name=op.f("uq_est_group_areas_group_id_name")),
    )
    with op.batch_alter_table("est_group_areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_est_group_areas_group_id"), ["group_id"], unique=False)

    op.create_table(
        "est_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum("member", "partner", name="est_party_role", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "landlord",
                "police",
                "municipality",
                "social_services",
                "night_walkers",
                "security_company",
                "other",
                name="est_party_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role = 'partner' OR kind = 'landlord'", name=op.f("ck_est_parties_members_are_landlords")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["est_groups.id"], name=op.f("fk_est_parties_group_id_est_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_est_parties_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_parties")),
        sa.UniqueConstraint("group_id", "organisation_id", name=op.f("uq_est_parties_group_id_organisation_id")),
    )
    with op.batch_alter_table("est_parties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_est_parties_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_est_parties_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "est_area_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("group_area_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["areas.id"], name=op.f("fk_est_area_links_area_id_areas"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["group_area_id"],
            ["est_group_areas.id"],
            name=op.f("fk_est_area_links_group_area_id_est_group_areas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["est_groups.id"], name=op.f("fk_est_area_links_group_id_est_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_est_area_links_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_area_links")),
        sa.UniqueConstraint("group_id", "area_id", name=op.f("uq_est_area_links_group_id_area_id")),
    )
    with op.batch_alter_table("est_area_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_est_area_links_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_est_area_links_group_area_id"), ["group_area_id"], unique=False)

    op.create_table(
        "est_hot_spot_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("spot", sa.String(length=40), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("causes", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(place_id IS NULL) <> (building_id IS NULL)", name=op.f("ck_est_hot_spot_analyses_place_or_building")
        ),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name=op.f("fk_est_hot_spot_analyses_building_id_buildings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["est_groups.id"],
            name=op.f("fk_est_hot_spot_analyses_group_id_est_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_est_hot_spot_analyses_place_id_places"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_est_hot_spot_analyses_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_hot_spot_analyses")),
        sa.UniqueConstraint("group_id", "spot", name=op.f("uq_est_hot_spot_analyses_group_id_spot")),
    )
    with op.batch_alter_table("est_hot_spot_analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_est_hot_spot_analyses_group_id"), ["group_id"], unique=False)

    op.create_table(
        "est_measures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "planned",
                "under_way",
                "done",
                "cancelled",
                name="est_measure_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("week LIKE '____-W__'", name=op.f("ck_est_measures_week_format")),
        sa.CheckConstraint("length(what) >= 2", name=op.f("ck_est_measures_what_given")),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["est_hot_spot_analyses.id"],
            name=op.f("fk_est_measures_analysis_id_est_hot_spot_analyses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_est_measures_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["est_groups.id"], name=op.f("fk_est_measures_group_id_est_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["est_parties.id"], name=op.f("fk_est_measures_party_id_est_parties"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_est_measures")),
    )
    with op.batch_alter_table("est_measures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_est_measures_analysis_id"), ["analysis_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_est_measures_group_id"), ["group_id"], unique=False)

    with op.batch_alter_table("deviation_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared_with_partners", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("deviation_reports", schema=None) as batch_op:
        batch_op.drop_column("shared_with_partners")

    with op.batch_alter_table("est_measures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_est_measures_group_id"))
        batch_op.drop_index(batch_op.f("ix_est_measures_analysis_id"))

    op.drop_table("est_measures")
    with op.batch_alter_table("est_hot_spot_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_est_hot_spot_analyses_group_id"))

    op.drop_table("est_hot_spot_analyses")
    with op.batch_alter_table("est_area_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_est_area_links_group_area_id"))
        batch_op.drop_index(batch_op.f("ix_est_area_links_area_id"))

    op.drop_table("est_area_links")
    with op.batch_alter_table("est_parties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_est_parties_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_est_parties_group_id"))

    op.drop_table("est_parties")
    with op.batch_alter_table("est_group_areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_est_group_areas_group_id"))

    op.drop_table("est_group_areas")
    op.drop_table("est_groups")
