"""EST groups for tests: a group with one member organisation, one of its areas counted, and a measure."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from audit.accounts.models import Organisation
from audit.buildings.models import Area
from audit.deviations.est import services
from audit.deviations.est.weeks import parse_week


def area_of(report: Any) -> Area:
    area: Area = report.area
    return area


def est_group(session: Session, name: str, member: Organisation, area: Area) -> dict[str, int]:
    """The ids a route of the group names: group_id, group_area_id, measure_id."""
    group = services.create_group(session, None, member, name)
    group_area = services.add_group_area(session, None, group, "Fittja")
    services.link_area(session, None, group_area, area)
    party = group.parties[0]
    week = parse_week("2026-W48")
    assert week is not None
    creator = _any_user(session, member)
    measure = services.record_measure(
        session, creator, group, week, services.MeasureInput(what="Väktare kvällstid", party_id=party.id)
    )
    return {"group_id": group.id, "group_area_id": group_area.id, "measure_id": measure.id}


def _any_user(session: Session, organisation: Organisation) -> Any:
    return organisation.memberships[0].user
