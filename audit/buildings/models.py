"""Areas and the buildings that are inspected and certified."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, lazyload, mapped_column, query_expression, relationship, with_expression

from audit.accounts.models import Organisation
from audit.buildings.features import Feature
from audit.database import Base, UTCDateTime, utcnow
from audit.enums import enum_column_type


class Area(Base):
    """A residential area (e.g. Fittja) grouping buildings."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    buildings: Mapped[list[Building]] = relationship(back_populates="area", order_by="Building.name")


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        CheckConstraint("year_built IS NULL OR (year_built >= 1600 AND year_built <= 2100)", name="year_built"),
        CheckConstraint("apartments IS NULL OR apartments >= 0", name="apartments"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the area so every query can be scoped to the organisation directly.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    street_address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    #: The land register's designation, e.g. "Fittja 3:12".
    property_designation: Mapped[str | None] = mapped_column(String(100))
    year_built: Mapped[int | None]
    apartments: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    area: Mapped[Area | None] = relationship(back_populates="buildings")
    feature_rows: Mapped[list[BuildingFeature]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    #: The features as one comma-separated column, when the query asked for it (`with_feature_list()`) instead of
    #: a row per feature: the walk and every autosave read a building's features.
    feature_list: Mapped[str | None] = query_expression()

    @property
    def features(self) -> frozenset[Feature]:
        """The features that decide which checklist sections and items apply."""
        if self.feature_list is not None:
            return frozenset(Feature(value) for value in self.feature_list.split(",") if value)
        return frozenset(row.feature for row in self.feature_rows)

    @features.setter
    def features(self, wanted: set[Feature] | frozenset[Feature]) -> None:
        wanted = {Feature(feature) for feature in wanted}
        current = frozenset(row.feature for row in self.feature_rows)
        self.feature_rows = [row for row in self.feature_rows if row.feature in wanted] + [
            BuildingFeature(feature=feature) for feature in sorted(wanted - current)
        ]
        self.feature_list = None  # read from the rows from now on

    @property
    def address(self) -> str:
        return f"{self.street_address}, {self.postcode} {self.city}"

    def __repr__(self) -> str:
        return f"<Building {self.name}>"


class BuildingFeature(Base):
    """One feature a building has; the set of these decides which checklist sections apply."""

    __tablename__ = "building_features"

    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), primary_key=True)
    feature: Mapped[Feature] = mapped_column(enum_column_type(Feature, "feature"), primary_key=True)


def with_feature_list() -> tuple[Any, ...]:
    """Loader options for Building (also under a joinedload): `feature_list` in the same query, no feature rows."""
    listed = func.coalesce(func.aggregate_strings(BuildingFeature.feature, ","), "")
    return (
        with_expression(
            Building.feature_list,
            select(listed).where(BuildingFeature.building_id == Building.id).scalar_subquery(),
        ),
        lazyload(Building.feature_rows),
    )
