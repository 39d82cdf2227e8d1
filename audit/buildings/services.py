"""Creating areas and buildings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, or_, select, true
from sqlalchemy.orm import Session, joinedload, lazyload, selectinload

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


#: Buildings on a page of the buildings list.
PAGE_SIZE = 50
#: Buildings a filter's select lists at most; an organisation with more lists those of the chosen area.
BUILDING_CHOICES = 300


@dataclass(frozen=True)
class BuildingsPage:
    #: The page's buildings, each with its latest inspection (discarded drafts left out), by area and name.
    rows: list[tuple[Building, Inspection | None]]
    total: int
    page: int
    pages: int


def _matches(search: str) -> ColumnElement[bool]:
    """Buildings whose name or address contains `search` (everything when it is empty)."""
    if not search.strip():
        return true()
    # The user's % and _ are plain characters, not wildcards.
    escaped = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(
        func.lower(Building.name).like(pattern, escape="\\"),
        func.lower(Building.street_address).like(pattern, escape="\\"),
        func.lower(Building.city).like(pattern, escape="\\"),
    )


def buildings_page(
    session: Session,
    organisation_id: int,
    search: str = "",
    area_id: int | None = None,
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> BuildingsPage:
    """One page of the organisation's buildings (searched by name and address, of one area if chosen), sorted by
    area (buildings without one last) and name, in three statements whatever the number of buildings: the count,
    the page's ids, and those buildings with their area and latest inspection."""
    chosen = select(Building.id).where(Building.organisation_id == organisation_id, _matches(search))
    if area_id is not None:
        chosen = chosen.where(Building.area_id == area_id)
    total = session.scalar(select(func.count()).select_from(chosen.subquery())) or 0
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    ids = session.scalars(
        chosen.outerjoin(Area, Area.id == Building.area_id)
        .order_by(case((Area.name.is_(None), 1), else_=0), Area.name, Building.name, Building.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    if not ids:
        return BuildingsPage([], total, page, pages)
    latest = (
        select(func.max(Inspection.id))
        .where(Inspection.building_id.in_(ids), Inspection.status != InspectionStatus.discarded)
        .group_by(Inspection.building_id)
        .scalar_subquery()
    )
    loaded = {
        building.id: (building, inspection)
        for building, inspection in session.execute(
            select(Building, Inspection)
            .outerjoin(Inspection, (Inspection.building_id == Building.id) & Inspection.id.in_(latest))
            .where(Building.id.in_(ids))
            .options(joinedload(Building.area), lazyload(Building.feature_rows))
        ).all()
    }
    return BuildingsPage([loaded[building_id] for building_id in ids], total, page, pages)


@dataclass(frozen=True)
class BuildingChoices:
    #: (id, name) for a filter's select, by name.
    buildings: list[tuple[int, str]]
    #: False when the organisation (or area) has more than BUILDING_CHOICES: only the chosen building is listed.
    complete: bool


def building_choices(
    session: Session, organisation_id: int, area_id: int | None = None, chosen_id: int | None = None
) -> BuildingChoices:
    """The buildings a filter offers, in one statement: all of them (of the area, if one is chosen) up to
    BUILDING_CHOICES; beyond that only the chosen building, and the page asks to choose an area first."""
    query = select(Building.id, Building.name).where(Building.organisation_id == organisation_id)
    if area_id is not None:
        query = query.where(or_(Building.area_id == area_id, Building.id == chosen_id))
    rows = session.execute(
        query.order_by(case((Building.id == chosen_id, 0), else_=1), Building.name).limit(BUILDING_CHOICES + 1)
    ).all()
    if len(rows) <= BUILDING_CHOICES:
        return BuildingChoices(sorted(((r.id, r.name) for r in rows), key=lambda row: row[1]), True)
    return BuildingChoices([(r.id, r.name) for r in rows[:1] if r.id == chosen_id], False)


def buildings_overview(
    session: Session, organisation_id: int, search: str = ""
) -> list[tuple[Building, Inspection | None]]:
    """Every building of the organisation (optionally searched by name and address) with each one's latest
    inspection (discarded drafts left out), by name: the API's list."""
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
    return [(building, inspection) for building, inspection in session.execute(query.where(_matches(search))).all()]
