"""The audit log's tables: the entries (append-only) and the head of each organisation's chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from audit.auditlog.chain import HASHED_FIELDS
from audit.database import Base, UTCDateTime


class AuditEntry(Base):
    """One state change or security event: who, in which organisation, what, on which object, before and after.

    Append-only: a database trigger refuses every UPDATE and DELETE (see the migration). No foreign keys either,
    so that nothing deleted elsewhere can reach into the log; the actor's e-mail address is kept as it was.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("chain", "sequence"),
        CheckConstraint("chain = coalesce(organisation_id, 0)", name="chain_is_organisation"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The hash chain: the organisation's id, or 0 for events outside any organisation.
    chain: Mapped[int]
    #: The entry's place in its chain, from 1 without gaps.
    sequence: Mapped[int]
    organisation_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Who acted: None for the command line and for anonymous events (a failed login).
    actor_id: Mapped[int | None]
    actor_email: Mapped[str | None] = mapped_column(String(254))
    #: ``<object type>.<what happened>``, e.g. ``inspection.approved``.
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The request that made the change (its X-Request-Id); None on the command line.
    request_id: Mapped[str | None] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))

    def content(self) -> dict[str, Any]:
        """What the entry's hash covers."""
        return {name: getattr(self, name) for name in HASHED_FIELDS}


class AuditChainHead(Base):
    """The last sequence and hash of a chain: appending locks this row, so writers of one chain take turns."""

    __tablename__ = "audit_chain_heads"

    chain: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_sequence: Mapped[int]
    last_hash: Mapped[str] = mapped_column(String(64))
