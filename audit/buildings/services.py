"""Creating areas and buildings."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from audit.accounts.models import Organisation
from audit.buildings.features import Feature
from audit.buildings.models import Area, Building


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
