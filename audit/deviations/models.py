"""Deviation reports ("avvikelser"): what staff see between inspections, at which place, and their follow-up.

A report belongs to an organisation and an area (later: the EST group that covers the area sees it); it may name
a building and a `Place`, a named spot in the area that later reports reuse, so recurrences can be counted. The
categories come from the stored catalogue version the report was made with. The triage is a state machine on
`DeviationReport` (see `audit.deviations.workflow`); every step is recorded as a `DeviationEvent`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.accounts.models import User
from audit.buildings.models import Area, Building
from audit.checklists.models import StoredVersion
from audit.database import Base, UTCDateTime, utcnow
from audit.deviations.catalogue import Catalogue, Category, Urgency, catalogue_from_content
from audit.deviations.workflow import DeviationAction, DeviationStatus, next_status
from audit.enums import enum_column_type
from audit.photos.models import StoredPhoto

#: Parsed catalogues by sha256 (stored versions never change).
_PARSED: dict[str, Catalogue] = {}
#: Longest description: a report is a short note, not a statement.
MAX_DESCRIPTION = 500
#: Longest name of a place.
MAX_PLACE_NAME = 120


class DeviationCatalogueVersion(StoredVersion, Base):
    """One version of the deviation catalogue, stored once and never changed (like a checklist version)."""

    __tablename__ = "deviation_catalogues"

    category_count: Mapped[int]

    @property
    def catalogue(self) -> Catalogue:
        catalogue = _PARSED.get(self.sha256)
        if catalogue is None:  # `content` is deferred: read only on the first use in this process
            catalogue = _PARSED[self.sha256] = catalogue_from_content(self.content)
        return catalogue

    def __repr__(self) -> str:
        return f"<DeviationCatalogueVersion {self.key} v{self.version}>"


class Place(Base):
    """A named spot in an area ("parkeringen vid Kyrkgatan 4"), reused by reports so recurrences can be counted."""

    __tablename__ = "places"
    __table_args__ = (
        #: Names differing only in case or spacing are the same place (see `services.place_key`).
        UniqueConstraint("area_id", "name_key"),
        CheckConstraint("length(name) >= 2", name="name_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the area so every query can be scoped to the organisation directly.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(MAX_PLACE_NAME))
    #: The name in lower case with single spaces, for finding a place typed again.
    name_key: Mapped[str] = mapped_column(String(MAX_PLACE_NAME))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    area: Mapped[Area] = relationship()

    def __repr__(self) -> str:
        return f"<Place {self.name!r}>"


class DeviationReport(Base):
    __tablename__ = "deviation_reports"
    __table_args__ = (
        Index("ix_deviation_reports_organisation_id_status_seen_at", "organisation_id", "status", "seen_at"),
        Index("ix_deviation_reports_area_id_seen_at", "area_id", "seen_at"),
        Index("ix_deviation_reports_place_id_seen_at", "place_id", "seen_at"),
        CheckConstraint("length(description) >= 1", name="description_given"),
        CheckConstraint(
            "status IN ('new') OR (acknowledged_at IS NOT NULL AND acknowledged_by_id IS NOT NULL)",
            name="triaged_has_acknowledgement",
        ),
        CheckConstraint("status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_closed_at"),
        CheckConstraint("status = 'closed' OR closed_at IS NULL", name="only_closed_has_closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    #: The catalogue version the category was chosen from.
    catalogue_id: Mapped[int] = mapped_column(ForeignKey("deviation_catalogues.id"))
    #: The category's stable key in that catalogue (e.g. ``broken_lighting``).
    category_key: Mapped[str] = mapped_column(String(40), index=True)
    #: Copied from the category when reported, so a later catalogue never uncovers or hides a report.
    sensitive: Mapped[bool] = mapped_column(default=False)
    police_tip: Mapped[bool] = mapped_column(default=False)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="SET NULL"), index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="SET NULL"))
    #: When the deviation was seen (on the reporter's device; may be before `reported_at` when sent later).
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(Text)
    urgency: Mapped[Urgency] = mapped_column(enum_column_type(Urgency, "deviation_urgency"))
    status: Mapped[DeviationStatus] = mapped_column(
        enum_column_type(DeviationStatus, "deviation_status"), default=DeviationStatus.new
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The coordinator who first looked at it.
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Shared by a coordinator with the partners of the EST groups covering its area (police, municipality…).
    shared_with_partners: Mapped[bool] = mapped_column(default=False, server_default=false())

    catalogue_version: Mapped[DeviationCatalogueVersion] = relationship()
    area: Mapped[Area] = relationship()
    building: Mapped[Building | None] = relationship()
    place: Mapped[Place | None] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    events: Mapped[list[DeviationEvent]] = relationship(
        back_populates="report",
        cascade="all, delete-orphan",
        order_by="DeviationEvent.id",
        foreign_keys="DeviationEvent.report_id",
    )
    photos: Mapped[list[DeviationPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="DeviationPhoto.id"
    )

    @property
    def category(self) -> Category | None:
        return self.catalogue_version.catalogue.category(self.category_key)

    def category_title(self, language: str) -> str:
        category = self.category
        return category.title.get(language) if category else self.category_key

    def place_label(self) -> str:
        """Where, from the most to the least precise: the named place, the building, the area."""
        parts = [self.area.name]
        if self.building is not None:
            parts.append(self.building.name)
        if self.place is not None:
            parts.append(self.place.name)
        return " · ".join(parts)

    # --- the triage ------------------------------------------------------------------------------------------

    def record(
        self, actor: User | None, action: DeviationAction, before: DeviationStatus | None, **details: Any
    ) -> None:
        self.events.append(
            DeviationEvent(actor=actor, action=action, from_status=before, to_status=self.status, **details)
        )

    def move(self, actor: User, action: DeviationAction, comment: str | None = None, **details: Any) -> None:
        """Change the status as the triage says (or refuse) and record the step."""
        before = self.status
        self.status = next_status(action, before)
        now = utcnow()
        if action is DeviationAction.acknowledged:
            self.acknowledged_at, self.acknowledged_by_id = now, actor.id
        elif action is DeviationAction.closed:
            self.closed_at = now
        self.record(actor, action, before, comment=comment, **details)

    def __repr__(self) -> str:
        return f"<DeviationReport {self.id} {self.category_key} {self.status}>"


class DeviationEvent(Base):
    """One step in a report's history: who did what, when, from which status to which; comments are steps too."""

    __tablename__ = "deviation_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("deviation_reports.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[DeviationAction] = mapped_column(enum_column_type(DeviationAction, "deviation_action"))
    from_status: Mapped[DeviationStatus | None] = mapped_column(enum_column_type(DeviationStatus, "deviation_from"))
    to_status: Mapped[DeviationStatus] = mapped_column(enum_column_type(DeviationStatus, "deviation_to"))
    comment: Mapped[str | None] = mapped_column(Text)
    #: The other report (linked) or the task made from this one (task_created).
    linked_report_id: Mapped[int | None] = mapped_column(ForeignKey("deviation_reports.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("remediation_tasks.id", ondelete="SET NULL"))

    report: Mapped[DeviationReport] = relationship(back_populates="events", foreign_keys=[report_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class DeviationLink(Base):
    """Two reports of the same event; stored once, the lower id first."""

    __tablename__ = "deviation_links"
    __table_args__ = (CheckConstraint("first_id < second_id", name="ordered_pair"),)

    first_id: Mapped[int] = mapped_column(ForeignKey("deviation_reports.id", ondelete="CASCADE"), primary_key=True)
    second_id: Mapped[int] = mapped_column(
        ForeignKey("deviation_reports.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DeviationPhoto(StoredPhoto, Base):
    """The reporter's photo of what was seen."""

    __tablename__ = "deviation_photos"

    report_id: Mapped[int] = mapped_column(ForeignKey("deviation_reports.id", ondelete="CASCADE"), index=True)

    report: Mapped[DeviationReport] = relationship(back_populates="photos")
