"""EST groups: member organisations (landlords) and partners (police, municipality, …) that share a weekly
situation picture for the areas the group covers, the measures they agree on, and hot-spot analyses.

A group area ("Fittja") is the group's own name for a neighbourhood; each member maps its own `Area` rows to it
(`EstAreaLink`), because every area belongs to one organisation and two landlords in Fittja each have their own.
The group's reports are the members' reports in mapped areas.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.accounts.models import Organisation
from audit.buildings.models import Area, Building
from audit.database import Base, UTCDateTime, utcnow
from audit.deviations.est.hotspots import DEFAULT_M, DEFAULT_N
from audit.deviations.models import Place
from audit.enums import enum_column_type
from audit.inspections.models import Inspection

#: Longest text of a measure or a responsible person's name.
MAX_MEASURE = 300


class PartyRole(StrEnum):
    #: A landlord: reports into the group and sees every member's reports (others' sensitive details excepted).
    member = "member"
    #: Police, municipality, night walkers…: sees the picture and the reports shared with partners, nothing else.
    partner = "partner"


class PartyKind(StrEnum):
    landlord = "landlord"
    police = "police"
    municipality = "municipality"
    social_services = "social_services"
    night_walkers = "night_walkers"
    security_company = "security_company"
    other = "other"


class MeasureStatus(StrEnum):
    planned = "planned"
    under_way = "under_way"
    done = "done"
    cancelled = "cancelled"


class Cause(StrEnum):
    """The causes a hot-spot analysis ticks; free text adds others."""

    poor_lighting = "poor_lighting"
    dense_vegetation = "dense_vegetation"
    unlocked_doors = "unlocked_doors"
    meeting_place_without_activity = "meeting_place_without_activity"
    hidden_corners = "hidden_corners"
    litter_and_decay = "litter_and_decay"
    open_drug_scene = "open_drug_scene"


class EstGroup(Base):
    __tablename__ = "est_groups"
    __table_args__ = (CheckConstraint("hot_n >= 1 AND hot_n <= hot_m AND hot_m <= 12", name="hot_spot_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    #: The hot-spot rule: reports in at least `hot_n` of the last `hot_m` ISO weeks.
    hot_n: Mapped[int] = mapped_column(default=DEFAULT_N)
    hot_m: Mapped[int] = mapped_column(default=DEFAULT_M)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    parties: Mapped[list[EstParty]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="EstParty.id"
    )
    areas: Mapped[list[EstGroupArea]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="EstGroupArea.name"
    )

    def __repr__(self) -> str:
        return f"<EstGroup {self.name!r}>"


class EstParty(Base):
    """An organisation's place in a group: member or partner, and what kind of party it is."""

    __tablename__ = "est_parties"
    __table_args__ = (
        UniqueConstraint("group_id", "organisation_id"),
        CheckConstraint("role = 'partner' OR kind = 'landlord'", name="members_are_landlords"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    role: Mapped[PartyRole] = mapped_column(enum_column_type(PartyRole, "est_party_role"))
    kind: Mapped[PartyKind] = mapped_column(enum_column_type(PartyKind, "est_party_kind"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[EstGroup] = relationship(back_populates="parties")
    organisation: Mapped[Organisation] = relationship()


class EstGroupArea(Base):
    """A neighbourhood the group covers, by the group's name for it; members map their own areas to it."""

    __tablename__ = "est_group_areas"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))

    group: Mapped[EstGroup] = relationship(back_populates="areas")
    links: Mapped[list[EstAreaLink]] = relationship(back_populates="group_area", cascade="all, delete-orphan")


class EstAreaLink(Base):
    """A member's own area counted in a group area; an area is in at most one group area of a group."""

    __tablename__ = "est_area_links"
    __table_args__ = (UniqueConstraint("group_id", "area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the group area so the group's reports are found with one join.
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"))
    group_area_id: Mapped[int] = mapped_column(ForeignKey("est_group_areas.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"), index=True)
    #: The area's organisation, repeated so leaving the group removes its links in one statement.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))

    group_area: Mapped[EstGroupArea] = relationship(back_populates="links")
    area: Mapped[Area] = relationship()


class HotSpotAnalysis(Base):
    """The deeper look at a hot spot: ticked causes, free text; its measures are `EstMeasure` rows."""

    __tablename__ = "est_hot_spot_analyses"
    __table_args__ = (
        UniqueConstraint("group_id", "spot"),
        CheckConstraint("(place_id IS NULL) <> (building_id IS NULL)", name="place_or_building"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"), index=True)
    #: "place:<id>" or "building:<id>", as the picture names spots.
    spot: Mapped[str] = mapped_column(String(40))
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"))
    #: `Cause` values.
    causes: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    place: Mapped[Place | None] = relationship()
    building: Mapped[Building | None] = relationship()


class EstMeasure(Base):
    """A measure the group agreed on: at a meeting (its ISO week) for a prioritised place, or in a hot spot's
    analysis; which party sends what, who is responsible, when it is followed up, and how far it has come."""

    __tablename__ = "est_measures"
    __table_args__ = (
        CheckConstraint("length(what) >= 2", name="what_given"),
        CheckConstraint("week LIKE '____-W__'", name="week_format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"), index=True)
    #: The meeting's ISO week ("2026-W49").
    week: Mapped[str] = mapped_column(String(8))
    analysis_id: Mapped[int | None] = mapped_column(
        ForeignKey("est_hot_spot_analyses.id", ondelete="CASCADE"), index=True
    )
    #: The prioritised place, as the group calls it (a place's or building's name, or typed).
    place: Mapped[str] = mapped_column(String(MAX_MEASURE), default="")
    what: Mapped[str] = mapped_column(String(MAX_MEASURE))
    party_id: Mapped[int] = mapped_column(ForeignKey("est_parties.id", ondelete="CASCADE"))
    responsible: Mapped[str] = mapped_column(String(200), default="")
    follow_up_on: Mapped[date | None]
    status: Mapped[MeasureStatus] = mapped_column(
        enum_column_type(MeasureStatus, "est_measure_status"), default=MeasureStatus.planned
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    party: Mapped[EstParty] = relationship()


class EstSpotCheck(Base):
    """A spot-check inspection started from a hot spot: the link both pages show."""

    __tablename__ = "est_spot_checks"
    __table_args__ = (Index("ix_est_spot_checks_group_id_spot", "group_id", "spot"),)

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("est_groups.id", ondelete="CASCADE"))
    #: The hot spot's key, as `HotSpotAnalysis.spot` ("place:12" or "building:7").
    spot: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    inspection: Mapped[Inspection] = relationship()
    group: Mapped[EstGroup] = relationship()
