"""Photos taken during an inspection, one item each; the files live outside `static/` under generated names."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from audit.accounts.models import User
from audit.database import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from audit.inspections.models import Inspection


class StoredPhoto:
    """What every stored photo has: the cleaned file and its thumbnail in the photo store, and who uploaded it.

    Shared by the inspector's photos of findings (`Photo`) and the evidence photos of remediation tasks.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the owner so every query can be scoped to the organisation directly.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: Keys in the photo store (see `audit.storage`): paths relative to its folder, or object names under its prefix.
    file_path: Mapped[str] = mapped_column(String(255), unique=True)
    thumbnail_path: Mapped[str] = mapped_column(String(255), unique=True)
    #: sha256 of the stored (re-encoded) file.
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[CheckConstraint, ...]:  # noqa: N805 (declared_attr receives the class)
        return (
            CheckConstraint("size_bytes > 0", name="size_positive"),
            CheckConstraint("width > 0 AND height > 0", name="dimensions_positive"),
        )

    @declared_attr
    def uploaded_by(cls) -> Mapped[User]:  # noqa: N805
        return relationship(User)


class Photo(StoredPhoto, Base):
    """A photo the inspector took of one item during an inspection."""

    __tablename__ = "photos"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    item_key: Mapped[str] = mapped_column(String(16))

    inspection: Mapped[Inspection] = relationship(back_populates="photos")
