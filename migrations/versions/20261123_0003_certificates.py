"""Certificates, their revocations, the yearly number counter and batch print jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:23:43.665957+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.CheckConstraint("last_sequence >= 0", name=op.f("ck_certificate_counters_last_sequence_positive")),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_certificate_counters")),
    )
    op.create_table(
        "batch_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "finished",
                "failed",
                name="batch_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
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
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_jobs_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=14), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("checklist_version_id", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("street_address", sa.String(length=200), nullable=False),
        sa.Column("postcode", sa.String(length=10), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("property_designation", sa.String(length=100), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Numeric(precision=7, scale=6), nullable=False),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=False),
        sa.Column("public_token", sa.String(length=64), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("sign_pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("inspected_on <= issued_on", name=op.f("ck_certificates_inspected_before_issue")),
        sa.CheckConstraint("length(pdf_sha256) = 64", name=op.f("ck_certificates_sha256_length")),
        sa.CheckConstraint("length(public_token) >= 22", name=op.f("ck_certificates_token_length")),
        sa.CheckConstraint("score >= 0 AND score <= 1", name=op.f("ck_certificates_score_range")),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_certificates_sequence_positive")),
        sa.CheckConstraint(
            "supersedes_id IS NULL OR supersedes_id <> id", name=op.f("ck_certificates_supersedes_other")
        ),
        sa.CheckConstraint("valid_until > issued_on", name=op.f("ck_certificates_valid_after_issue")),
        sa.ForeignKeyConstraint(
            ["building_id"], ["buildings.id"], name=op.f("fk_certificates_building_id_buildings"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["checklist_version_id"],
            ["checklist_versions.id"],
            name=op.f("fk_certificates_checklist_version_id_checklist_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspections.id"],
            name=op.f("fk_certificates_inspection_id_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name=op.f("fk_certificates_issued_by_id_users")),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_certificates_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["certificates.id"], name=op.f("fk_certificates_supersedes_id_certificates")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("inspection_id", name=op.f("uq_certificates_inspection_id")),
        sa.UniqueConstraint("number", name=op.f("uq_certificates_number")),
        sa.UniqueConstraint("public_token", name=op.f("uq_certificates_public_token")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_certificates_supersedes_id")),
        sa.UniqueConstraint("year", "sequence", name=op.f("uq_certificates_year_sequence")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_building_id"), ["building_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_organisation_id"), ["organisation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_certificates_valid_until"), ["valid_until"], unique=False)

    op.create_table(
        "certificate_revocations",
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("revoked_by_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_certificate_revocations_reason_given")),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_revocations_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["users.id"], name=op.f("fk_certificate_revocations_revoked_by_id_users")
        ),
        sa.PrimaryKeyConstraint("certificate_id", name=op.f("pk_certificate_revocations")),
    )


def downgrade() -> None:
    op.drop_table("certificate_revocations")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_valid_until"))
        batch_op.drop_index(batch_op.f("ix_certificates_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_certificates_building_id"))

    op.drop_table("certificates")
    with op.batch_alter_table("batch_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_jobs_organisation_id"))

    op.drop_table("batch_jobs")
    op.drop_table("certificate_counters")
