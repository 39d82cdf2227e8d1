"""The inspection list and its filter's choices: a fixed number of statements, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from audit.accounts.models import User
from audit.buildings.models import Area, Building
from audit.inspections.filters import InspectionFilter, Verdict
from audit.inspections.models import Inspection, InspectionStatus

#: Rows the list shows at most, newest first.
LIST_LIMIT = 200


def _filtered(statement: Select[Inspection], chosen: InspectionFilter) -> Select[Inspection]:
    if chosen.status is None:
        statement = statement.where(Inspection.status != InspectionStatus.discarded)
    else:
        statement = statement.where(Inspection.status == chosen.status)
    if chosen.area_id is not None:
        statement = statement.where(Building.area_id == chosen.area_id)
    if chosen.building_id is not None:
        statement = statement.where(Inspection.building_id == chosen.building_id)
    if chosen.inspector_id is not None:
        statement = statement.where(Inspection.inspector_id == chosen.inspector_id)
    if chosen.verdict is not None:
        statement = statement.where(Inspection.score_passed.is_(chosen.verdict is Verdict.passes))
    return statement


def list_inspections(session: Session, organisation_id: int, chosen: InspectionFilter) -> Sequence[Inspection]:
    """The newest LIST_LIMIT inspections that fit the filter, with building, area and inspector in one statement."""
    statement = (
        select(Inspection)
        .join(Inspection.building)
        .where(Inspection.organisation_id == organisation_id)
        .options(
            contains_eager(Inspection.building).joinedload(Building.area),
            joinedload(Inspection.inspector),
        )
        .order_by(Inspection.id.desc())
        .limit(LIST_LIMIT)
    )
    return session.scalars(_filtered(statement, chosen)).unique().all()


@dataclass(frozen=True)
class FilterChoices:
    areas: Sequence[Area]
    #: (id, name) of every building.
    buildings: Sequence[tuple[int, str]]
    #: Everyone who has made an inspection in the organisation.
    inspectors: Sequence[User]


def filter_choices(session: Session, organisation_id: int) -> FilterChoices:
    return FilterChoices(
        areas=session.scalars(select(Area).where(Area.organisation_id == organisation_id).order_by(Area.name)).all(),
        buildings=[
            (row.id, row.name)
            for row in session.execute(
                select(Building.id, Building.name)
                .where(Building.organisation_id == organisation_id)
                .order_by(Building.name)
            )
        ],
        inspectors=session.scalars(
            select(User)
            .where(
                User.id.in_(
                    select(Inspection.inspector_id).where(Inspection.organisation_id == organisation_id).distinct()
                )
            )
            .order_by(User.name)
        ).all(),
    )
