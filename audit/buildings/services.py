"""Creating areas and buildings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from audit.accounts.models import Organisation
from audit.buildings.features import Feature
from audit.buildings.models import Area, Building
from audit.inspections.models import Inspection, InspectionStatus


def create_area(session: Session, organisation: Organisation, name: str) -> Area:
    area = Area(organisation=organisation, name=name.strip())
    session.add(area)
    session.flush()
    return area


def create_building(
    session: Session,
    organisation: Organisation,
    *,
    name: str,
    street_address: str,
    postcode: str,
    city: str,
    area: Area | None = None,
    features: Iterable[Feature | str] = (),
    property_designation: str | None = None,
    year_built: int | None = None,
    apartments: int | None = None,
) -> Building:
    building = Building(
        organisation=organisation,
        area=area,
        name=name.strip(),
        street_address=street_address.strip(),
        postcode=postcode.strip(),
        city=city.strip(),
        property_designation=property_designation,
        year_built=year_built,
        apartments=apartments,
    )
    building.features = {Feature(feature) for feature in features}
    session.add(building)
    session.flush()
    return building


def update_building(
    session: Session, building: Building, *, features: Iterable[Feature | str], **values: object
) -> None:
    for name, value in values.items():
        setattr(building, name, value.strip() if isinstance(value, str) else value)
    building.features = {Feature(feature) for feature in features}
    session.flush()


def buildings_overview(
    session: Session, organisation_id: int, search: str = ""
) -> list[tuple[Building, Inspection | None]]:
    """The organisation's buildings (optionally searched by name and address) with each one's latest inspection
    (discarded drafts left out)."""
    latest = (
        select(func.max(Inspection.id))
        .where(Inspection.organisation_id == organisation_id, Inspection.status != InspectionStatus.discarded)
        .group_by(Inspection.building_id)
        .scalar_subquery()
    )
    query = (
        select(Building, Inspection)
        .outerjoin(Inspection, (Inspection.building_id == Building.id) & Inspection.id.in_(latest))
        .where(Building.organisation_id == organisation_id)
        .options(selectinload(Building.area))
        .order_by(Building.name)
    )
    if search.strip():
        # The user's % and _ are plain characters, not wildcards.
        escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(
                func.lower(Building.name).like(pattern, escape="\\"),
                func.lower(Building.street_address).like(pattern, escape="\\"),
                func.lower(Building.city).like(pattern, escape="\\"),
            )
        )
    return [(building, inspection) for building, inspection in session.execute(query).all()]
