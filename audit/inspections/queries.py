"""The inspection list and its filter's choices: a fixed number of statements, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from audit.accounts.models import User
from audit.buildings.models import Area, Building
from audit.buildings.services import BuildingChoices, building_choices
from audit.inspections.filters import InspectionFilter, Verdict
from audit.inspections.models import Inspection, InspectionStatus

#: Rows on a page of the list, newest first.
PAGE_SIZE = 50


def _filtered(statement: Select[Any], chosen: InspectionFilter) -> Select[Any]:
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


@dataclass(frozen=True)
class InspectionPage:
    rows: Sequence[Inspection]
    total: int
    page: int
    pages: int


def list_inspections(
    session: Session, organisation_id: int, chosen: InspectionFilter, page_size: int = PAGE_SIZE
) -> InspectionPage:
    """One page of the inspections that fit the filter, newest first, in two statements: their count, then the
    page's rows with building, area and inspector."""
    counting = select(func.count(Inspection.id)).where(Inspection.organisation_id == organisation_id)
    if chosen.area_id is not None:
        counting = counting.join(Inspection.building)
    total = session.scalar(_filtered(counting, chosen)) or 0
    pages = max(1, -(-total // page_size))
    page = min(chosen.page, pages)
    # The page's ids (the building joined only to filter by area) in a subquery, then those rows with what
    # they show: the ids are found from the organisation's index alone, without joining every inspection.
    choosing = select(Inspection.id).where(Inspection.organisation_id == organisation_id)
    if chosen.area_id is not None:
        choosing = choosing.join(Inspection.building)
    shown = (
        _filtered(choosing, chosen)
        .order_by(Inspection.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("shown")
    )
    statement = (
        select(Inspection)
        .join(shown, shown.c.id == Inspection.id)
        .join(Inspection.building)
        .options(
            contains_eager(Inspection.building).joinedload(Building.area),
            contains_eager(Inspection.building).lazyload(Building.feature_rows),
            joinedload(Inspection.inspector),
        )
        .order_by(Inspection.id.desc())
    )
    rows = session.scalars(statement).unique().all()
    return InspectionPage(rows, total, page, pages)


@dataclass(frozen=True)
class FilterChoices:
    areas: Sequence[Area]
    #: The buildings the select offers (all, or the chosen area's when there are many).
    buildings: BuildingChoices
    #: Everyone who has made an inspection in the organisation.
    inspectors: Sequence[User]


def filter_choices(session: Session, organisation_id: int, chosen: InspectionFilter) -> FilterChoices:
    return FilterChoices(
        areas=session.scalars(select(Area).where(Area.organisation_id == organisation_id).order_by(Area.name)).all(),
        buildings=building_choices(session, organisation_id, chosen.area_id, chosen.building_id),
        # Each user is looked up in the index on inspector and organisation, rather than every inspection read.
        inspectors=session.scalars(
            select(User)
            .where(
                select(Inspection.id)
                .where(Inspection.inspector_id == User.id, Inspection.organisation_id == organisation_id)
                .exists()
            )
            .order_by(User.name)
        ).all(),
    )
