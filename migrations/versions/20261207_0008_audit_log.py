"""The audit log: append-only entries, hash-chained per organisation, and each chain's head.

The database itself refuses to rewrite the log: triggers refuse every UPDATE and DELETE of an entry (and TRUNCATE
on PostgreSQL), and a chain's head may only move on by one entry at a time and never be deleted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 17:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ENTRIES_REFUSED = "audit_entries is append-only: UPDATE and DELETE are refused"
_HEAD_REFUSED = "audit_chain_heads only moves on by one entry at a time and is never deleted"

_POSTGRESQL = [
    f"""CREATE FUNCTION audit_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{_ENTRIES_REFUSED}' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_refuse_change()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_refuse_change()",
    f"""CREATE FUNCTION audit_chain_heads_only_advance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.chain = OLD.chain AND NEW.last_sequence = OLD.last_sequence + 1 THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{_HEAD_REFUSED}' USING ERRCODE = 'restrict_violation';
    END $$""",
    "CREATE TRIGGER audit_chain_heads_only_advance BEFORE UPDATE OR DELETE ON audit_chain_heads "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain_heads_only_advance()",
    "CREATE TRIGGER audit_chain_heads_no_truncate BEFORE TRUNCATE ON audit_chain_heads "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_heads_only_advance()",
]
_POSTGRESQL_DOWN = [
    "DROP TRIGGER audit_chain_heads_no_truncate ON audit_chain_heads",
    "DROP TRIGGER audit_chain_heads_only_advance ON audit_chain_heads",
    "DROP FUNCTION audit_chain_heads_only_advance()",
    "DROP TRIGGER audit_entries_no_truncate ON audit_entries",
    "DROP TRIGGER audit_entries_append_only ON audit_entries",
    "DROP FUNCTION audit_entries_refuse_change()",
]
_SQLITE = [
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{_ENTRIES_REFUSED}'); END",
    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
    f"BEGIN SELECT RAISE(ABORT, '{_ENTRIES_REFUSED}'); END",
    "CREATE TRIGGER audit_chain_heads_only_advance BEFORE UPDATE ON audit_chain_heads "
    "WHEN NEW.chain <> OLD.chain OR NEW.last_sequence <> OLD.last_sequence + 1 "
    f"BEGIN SELECT RAISE(ABORT, '{_HEAD_REFUSED}'); END",
    "CREATE TRIGGER audit_chain_heads_no_delete BEFORE DELETE ON audit_chain_heads "
    f"BEGIN SELECT RAISE(ABORT, '{_HEAD_REFUSED}'); END",
]
_SQLITE_DOWN = [
    "DROP TRIGGER audit_chain_heads_no_delete",
    "DROP TRIGGER audit_chain_heads_only_advance",
    "DROP TRIGGER audit_entries_no_delete",
    "DROP TRIGGER audit_entries_no_update",
]


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=254), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("chain = coalesce(organisation_id, 0)", name=op.f("ck_audit_entries_chain_is_organisation")),
        sa.CheckConstraint("sequence >= 1", name=op.f("ck_audit_entries_sequence_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("chain", "sequence", name=op.f("uq_audit_entries_chain_sequence")),
    )
    op.create_index(op.f("ix_audit_entries_action"), "audit_entries", ["action"])
    op.create_index(op.f("ix_audit_entries_organisation_id"), "audit_entries", ["organisation_id"])
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
    )
    for statement in _POSTGRESQL if _is_postgresql() else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    for statement in _POSTGRESQL_DOWN if _is_postgresql() else _SQLITE_DOWN:
        op.execute(statement)
    op.drop_table("audit_chain_heads")
    op.drop_index(op.f("ix_audit_entries_organisation_id"), table_name="audit_entries")
    op.drop_index(op.f("ix_audit_entries_action"), table_name="audit_entries")
    op.drop_table("audit_entries")
