"""Stored checklist versions: immutable snapshots of validated YAML."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from audit.checklists.loader import checklist_from_content
from audit.checklists.schema import Checklist
from audit.database import Base, UTCDateTime, utcnow
from audit.errors import ImmutableError

#: Parsed checklists by sha256. Stored versions never change, so a parse can be reused by every request.
_PARSED: dict[str, Checklist] = {}


class StoredVersion:
    """What every stored version of a YAML definition has (a checklist, the deviation catalogue): a key and a
    version stored once, the validated content with its sha256, and where and when it was loaded. Never changed."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 (declared_attr receives the class)
        return (
            UniqueConstraint("key", "version"),
            CheckConstraint("version >= 1", name="version_positive"),
            CheckConstraint("length(sha256) = 64", name="sha256_length"),
        )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    #: sha256 of the canonical JSON of `content`; the same content always gives the same hash.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: The validated definition as JSON (`LoadedChecklist.content`, `LoadedCatalogue.content`); loaded only when
    #: the parsed definition is not cached yet.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    #: The file it was loaded from, for people reading the history.
    source_name: Mapped[str] = mapped_column(String(255))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChecklistVersion(StoredVersion, Base):
    """One version of one checklist, stored once and never changed (see `audit.checklists.services`)."""

    __tablename__ = "checklist_versions"

    title_sv: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    item_count: Mapped[int]
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def checklist(self) -> Checklist:
        checklist = _PARSED.get(self.sha256)
        if checklist is None:  # `content` is deferred: read only on the first use in this process
            checklist = _PARSED[self.sha256] = checklist_from_content(self.content)
        return checklist

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.key} v{self.version}>"


@event.listens_for(Session, "before_flush")
def _refuse_changed_versions(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, StoredVersion) and session.is_modified(obj, include_collections=False):
            raise ImmutableError(f"{obj!r} is stored and can no longer change; load a new version instead")
