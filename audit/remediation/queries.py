"""Reading tasks for lists, counts, exports and the dashboard, each in a fixed number of queries.

The manager's list of an organisation with ten thousand tasks costs the same few statements as one with ten: a
grouped count for the status tabs, one page of rows with their building, area and assignee joined in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, lazyload

from audit.accounts.models import User
from audit.buildings.models import Area, Building
from audit.certificates.status import TIMEZONE
from audit.remediation.filters import PAGE_SIZE, UNASSIGNED, TaskFilter
from audit.remediation.models import RemediationTask, TaskEvent
from audit.remediation.workflow import TaskAction, TaskStatus

T = RemediationTask
ACTIVE = (TaskStatus.open, TaskStatus.in_progress)
STATUS_ORDER = tuple(TaskStatus)
#: A SELECT of any columns: the lists, counts and exports share the filters and the sort below.
_Query = Select[*tuple[Any, ...]]


def _rank(column: Any, order: tuple[Any, ...]) -> Any:
    return case({value.value: index for index, value in enumerate(order)}, value=column, else_=len(order))


def overdue_condition(today: date) -> Any:
    return and_(T.status.in_(ACTIVE), T.due_date < today)


def _filtered(query: _Query, organisation_id: int, chosen: TaskFilter, today: date, *, status: bool) -> _Query:
    query = query.where(T.organisation_id == organisation_id)
    if chosen.area_id:
        query = query.where(Building.area_id == chosen.area_id)
    if chosen.building_id:
        query = query.where(T.building_id == chosen.building_id)
    if chosen.severity:
        query = query.where(T.severity == chosen.severity)
    if chosen.assignee == UNASSIGNED:
        query = query.where(T.assignee_id.is_(None))
    elif chosen.assignee:
        query = query.where(T.assignee_id == chosen.assignee)
    if chosen.overdue:
        query = query.where(overdue_condition(today))
    if chosen.unverified:
        query = query.where(T.status != TaskStatus.verified)
    if status and chosen.status:
        query = query.where(T.status == chosen.status)
    return query


@dataclass(frozen=True)
class TaskPage:
    rows: list[RemediationTask]
    #: Tasks matching the filter, by status (before the status itself is chosen: the tabs' figures).
    by_status: dict[TaskStatus, int]
    overdue: int
    total: int
    page: int
    pages: int


_SORTER = aliased(User, name="sorter")


def _ordered(query: _Query, chosen: TaskFilter, *, has_building: bool = False) -> _Query:
    """The query sorted as chosen (ties broken by id), joined with what the sort needs (the building unless
    `has_building`, the assignee as `_SORTER`) and with what the filter needs (the building, for the area)."""
    sort_columns = {
        "due": (T.due_date,),
        "severity": (T.severity_rank, T.due_date),
        "status": (_rank(T.status, STATUS_ORDER), T.due_date),
        "building": (Building.name, T.item_key),
        "item": (T.item_key, Building.name),
        # Nobody sorts after everyone (on both databases: they disagree about where NULL goes).
        "assignee": (case((T.assignee_id.is_(None), 1), else_=0), _SORTER.name, T.due_date),
        "created": (T.created_at,),
    }[chosen.sort]
    if not has_building and (chosen.sort in ("building", "item") or chosen.area_id):
        query = query.join(Building, Building.id == T.building_id)
    if chosen.sort == "assignee":
        query = query.outerjoin(_SORTER, _SORTER.id == T.assignee_id)
    return query.order_by(*(column.desc() if chosen.descending else column for column in (*sort_columns, T.id)))


def _with_building_and_assignee(query: _Query) -> _Query:
    """Tasks loaded with their building, area and assignee in the same statement."""
    return (
        query.join(T.building)
        .outerjoin(Area, Area.id == Building.area_id)
        .outerjoin(User, User.id == T.assignee_id)
        .options(
            contains_eager(T.building).contains_eager(Building.area),
            contains_eager(T.building).lazyload(Building.feature_rows),
            contains_eager(T.assignee),
            lazyload(T.inspection),
        )
    )


def _page_rows(
    session: Session, organisation_id: int, chosen: TaskFilter, today: date, page: int, size: int
) -> list[RemediationTask]:
    """One page of tasks in two narrow statements: the page's ids (sorting only the columns the order needs, not
    ten thousand joined rows), then those tasks with their building, area and assignee."""
    ids = session.scalars(
        _ordered(_filtered(select(T.id).select_from(T), organisation_id, chosen, today, status=True), chosen)
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    if not ids:
        return []
    loaded = {task.id: task for task in session.scalars(_with_building_and_assignee(select(T)).where(T.id.in_(ids)))}
    return [loaded[task_id] for task_id in ids]


def task_page(
    session: Session, organisation_id: int, chosen: TaskFilter, today: date, page_size: int = PAGE_SIZE
) -> TaskPage:
    counting = select(T.status, func.count(), func.sum(case((overdue_condition(today), 1), else_=0))).select_from(T)
    if chosen.area_id:  # the only filter that needs the building
        counting = counting.join(T.building)
    counts = session.execute(_filtered(counting, organisation_id, chosen, today, status=False).group_by(T.status)).all()
    by_status = dict.fromkeys(TaskStatus, 0)
    overdue = 0
    for status, count, late in counts:
        by_status[TaskStatus(status)] = count
        if chosen.status is None or chosen.status == status:
            overdue += late or 0
    total = by_status[chosen.status] if chosen.status else sum(by_status.values())
    pages = max(1, -(-total // page_size))
    page = min(chosen.page, pages)
    rows = _page_rows(session, organisation_id, chosen, today, page, page_size)
    return TaskPage(rows, by_status, overdue, total, page, pages)


def all_tasks(
    session: Session, organisation_id: int, chosen: TaskFilter, today: date, limit: int = 50_000
) -> list[RemediationTask]:
    """Every task the filter matches, in its order, with building, area and assignee (for the exports)."""
    loading = _with_building_and_assignee(select(T))
    query = _ordered(_filtered(loading, organisation_id, chosen, today, status=True), chosen, has_building=True)
    return list(session.scalars(query.limit(limit)))


def building_task_counts(
    session: Session, organisation_id: int, today: date, building_ids: Sequence[int] | None = None
) -> dict[int, tuple[int, int]]:
    """building id → (open tasks, overdue tasks), open meaning not finished (open or in progress); of every
    building, or only of `building_ids`."""
    query = (
        select(T.building_id, func.count(), func.sum(case((T.due_date < today, 1), else_=0)))
        .where(T.organisation_id == organisation_id, T.status.in_(ACTIVE))
        .group_by(T.building_id)
    )
    if building_ids is not None:
        query = query.where(T.building_id.in_(building_ids))
    rows = session.execute(query).all()
    return {building_id: (count, late or 0) for building_id, count, late in rows}


@dataclass(frozen=True)
class AreaCount:
    name: str | None
    area_id: int | None
    open: int
    overdue: int
    done: int


def area_task_counts(session: Session, organisation_id: int, today: date) -> list[AreaCount]:
    """Open, overdue and done tasks per area: counted per building first (from the index on organisation,
    status, building and due date alone), then summed per area over the buildings."""
    per_building = (
        select(
            T.building_id,
            func.sum(case((T.status.in_(ACTIVE), 1), else_=0)).label("open"),
            func.sum(case((overdue_condition(today), 1), else_=0)).label("late"),
            func.sum(case((T.status == TaskStatus.done, 1), else_=0)).label("done"),
        )
        .where(T.organisation_id == organisation_id, T.status.in_((*ACTIVE, TaskStatus.done)))
        .group_by(T.building_id)
        .subquery("per_building")
    )
    rows = session.execute(
        select(
            Area.id,
            Area.name,
            func.sum(per_building.c.open),
            func.sum(per_building.c.late),
            func.sum(per_building.c.done),
        )
        .select_from(per_building)
        .join(Building, Building.id == per_building.c.building_id)
        .outerjoin(Area, Area.id == Building.area_id)
        .group_by(Area.id, Area.name)
        .order_by(Area.name)
    ).all()
    return [AreaCount(name, area_id, open_ or 0, late or 0, done or 0) for area_id, name, open_, late, done in rows]


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=TIMEZONE)


def open_task_trend(session: Session, organisation_id: int, today: date, weeks: int = 12) -> list[tuple[date, int]]:
    """Unverified tasks at the end of each of the last `weeks` weeks (today last), in one statement.

    Unverified at a moment = created before it, less verified before it (a task is verified after it is made).
    Both are counted up to the first week's end over the index on organisation and creation (or verification),
    and week by week only among the tasks made (or verified) since: a few weeks of rows, not every task.
    """
    days = [today - timedelta(weeks=weeks - 1 - index) for index in range(weeks)]
    first, later = _end_of_day(days[0]), [_end_of_day(day) for day in days[1:]]
    mine = T.organisation_id == organisation_id

    def before_first(column: Any) -> Any:
        return select(func.count()).where(mine, column < first).scalar_subquery()

    def since_first(column: Any) -> list[Any]:
        return [func.count().filter(column >= first, column < end) for end in later]

    row = session.execute(
        select(
            before_first(T.created_at),
            before_first(T.verified_at),
            *since_first(T.created_at),
            *since_first(T.verified_at),
        ).where(mine, or_(T.created_at >= first, T.verified_at >= first))
    ).one()
    made, verified = row[0], row[1]
    made_since, verified_since = row[2 : 2 + len(later)], row[2 + len(later) :]
    totals = [made - verified] + [made + m - verified - v for m, v in zip(made_since, verified_since, strict=True)]
    return [(day, total) for day, total in zip(days, totals, strict=True)]


def inspection_tasks(session: Session, inspection_id: int) -> dict[str, RemediationTask]:
    """The tasks an approved inspection's failed items stand for, by item: the ones its approval created, and
    earlier unverified ones it found failing again (which it did not duplicate)."""
    noted_again = select(TaskEvent.task_id).where(
        TaskEvent.inspection_id == inspection_id, TaskEvent.action == TaskAction.failed_again
    )
    tasks = session.scalars(
        select(RemediationTask).where(
            or_(RemediationTask.inspection_id == inspection_id, RemediationTask.id.in_(noted_again))
        )
    )
    return {task.item_key: task for task in tasks}
