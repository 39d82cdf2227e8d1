"""The address each certificate's sign points to (certificates.public_base_url), and new files of signs
(certificate_sign_regenerations: who, when, why, the old and new sha256 and address).

Certificates issued before this revision printed `TRYGGAHUS_PUBLIC_BASE_URL`, or `http://127.0.0.1:5000` when it
was not set; they get that address, read from the environment the migration runs in (the same as the app's).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 10:00:00.000000+00:00
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: What the sign's QR code printed before this revision when the variable was not set.
EARLIER_DEFAULT = "http://127.0.0.1:5000"
#: The same rule as `audit.certificates.models.BASE_URL_RULE` on the day this revision was written.
BASE_URL_RULE = "({column} LIKE 'http://%' OR {column} LIKE 'https://%') AND {column} NOT LIKE '%/'"


def upgrade() -> None:
    earlier = (os.environ.get("TRYGGAHUS_PUBLIC_BASE_URL") or EARLIER_DEFAULT).rstrip("/")
    rule = BASE_URL_RULE.format(column="public_base_url")
    certificates = sa.table("certificates", sa.column("public_base_url", sa.String))
    if op.get_bind().dialect.name == "sqlite":
        # Added in place: a batch rebuild of `certificates` would drop the table, and with foreign keys on, SQLite
        # deletes the rows that cascade from it (revocations). A column added in place needs a default, which
        # SQLite cannot drop again without that rebuild; the app always writes the column.
        op.execute(
            f"ALTER TABLE certificates ADD COLUMN public_base_url VARCHAR(200) NOT NULL DEFAULT '{EARLIER_DEFAULT}' "
            f"CONSTRAINT ck_certificates_public_base_url_form CHECK ({rule})"
        )
        op.execute(certificates.update().values(public_base_url=earlier))
    else:
        op.add_column("certificates", sa.Column("public_base_url", sa.String(length=200), nullable=True))
        op.execute(certificates.update().values(public_base_url=earlier))
        op.alter_column("certificates", "public_base_url", existing_type=sa.String(length=200), nullable=False)
        op.create_check_constraint(op.f("ck_certificates_public_base_url_form"), "certificates", sa.text(rule))

    op.create_table(
        "certificate_sign_regenerations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("regenerated_by_id", sa.Integer(), nullable=False),
        sa.Column("regenerated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("old_sha256", sa.String(length=64), nullable=False),
        sa.Column("new_sha256", sa.String(length=64), nullable=False),
        sa.Column("old_base_url", sa.String(length=200), nullable=False),
        sa.Column("new_base_url", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "length(old_sha256) = 64 AND length(new_sha256) = 64",
            name=op.f("ck_certificate_sign_regenerations_sha256_length"),
        ),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_certificate_sign_regenerations_reason_given")),
        sa.CheckConstraint("old_sha256 <> new_sha256", name=op.f("ck_certificate_sign_regenerations_new_file")),
        sa.CheckConstraint(
            BASE_URL_RULE.format(column="old_base_url"),
            name=op.f("ck_certificate_sign_regenerations_old_base_url_form"),
        ),
        sa.CheckConstraint(
            BASE_URL_RULE.format(column="new_base_url"),
            name=op.f("ck_certificate_sign_regenerations_new_base_url_form"),
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_sign_regenerations_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["regenerated_by_id"],
            ["users.id"],
            name=op.f("fk_certificate_sign_regenerations_regenerated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_sign_regenerations")),
    )
    with op.batch_alter_table("certificate_sign_regenerations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certificate_sign_regenerations_certificate_id"), ["certificate_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("certificate_sign_regenerations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificate_sign_regenerations_certificate_id"))
    op.drop_table("certificate_sign_regenerations")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE certificates DROP COLUMN public_base_url")  # in place, as it was added
    else:
        op.drop_constraint(op.f("ck_certificates_public_base_url_form"), "certificates", type_="check")
        op.drop_column("certificates", "public_base_url")
