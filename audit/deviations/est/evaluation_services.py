"""The database side of an EST group's evaluation (see `evaluation.py`): reports grouped per week and category in
SQL (a group may have 50,000 reports), and where each measure was taken.

A measure's place is its hot-spot analysis's place or building; a meeting's measure names its place as text, which
is matched to the places (and buildings) of that name in the group's areas. A measure whose place matches nothing
belongs to the whole group: it shows on every area's chart, and its comparison counts the area's reports only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from audit.buildings.models import Building
from audit.certificates.status import TIMEZONE
from audit.deviations.est import evaluation as pure
from audit.deviations.est.models import EstAreaLink, EstGroup, EstMeasure, HotSpotAnalysis, MeasureStatus
from audit.deviations.est.services import _in_group
from audit.deviations.est.weeks import parse_week, week_start
from audit.deviations.models import DeviationReport, Place
from audit.deviations.services import place_key


def _weeks_ago(first: int, last: int, lowest: int | None = None, highest: int | None = None) -> Any:
    """The report's week as weeks before `last`, for a report seen from week `first` to `last`: the weeks' starts in
    Swedish time bisected, so a row takes about log2(weeks) comparisons (6 for a year) instead of one per week."""
    low, high = first if lowest is None else lowest, last if highest is None else highest
    if low == high:
        return literal_column(str(last - low))
    middle = (low + high + 1) // 2
    return case(
        (DeviationReport.seen_at < week_start(middle, TIMEZONE), _weeks_ago(first, last, low, middle - 1)),
        else_=_weeks_ago(first, last, middle, high),
    )


def week_rows(
    session: Session,
    group: EstGroup,
    first: int,
    last: int,
    group_area_id: int | None = None,
    place_ids: frozenset[int] = frozenset(),
    building_ids: frozenset[int] = frozenset(),
) -> list[pure.WeekCount]:
    """Reports per week and category from week `first` to `last`, in one group area (or all), and at the given
    places or buildings when any are given: one query, grouped in SQL."""
    bucket = _weeks_ago(first, last).label("weeks_ago")
    query = _in_group(select(DeviationReport.category_key, bucket, func.count()), group.id).where(
        DeviationReport.seen_at >= week_start(first, TIMEZONE),
        DeviationReport.seen_at < week_start(last + 1, TIMEZONE),
    )
    if group_area_id is not None:
        query = query.where(EstAreaLink.group_area_id == group_area_id)
    if place_ids or building_ids:
        query = query.where(
            DeviationReport.place_id.in_(place_ids)
            | (DeviationReport.place_id.is_(None) & DeviationReport.building_id.in_(building_ids))
        )
    rows = session.execute(query.group_by(DeviationReport.category_key, bucket))
    return [pure.WeekCount(last - int(ago), category, n) for category, ago, n in rows]


@dataclass(frozen=True, slots=True)
class Located:
    """A measure as a mark, and the places, buildings and group areas it concerns (all empty: the whole group)."""

    mark: pure.Mark
    place_ids: frozenset[int] = field(default_factory=frozenset)
    building_ids: frozenset[int] = field(default_factory=frozenset)
    group_area_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def has_place(self) -> bool:
        return bool(self.place_ids or self.building_ids)


def measures(session: Session, group: EstGroup) -> list[Located]:
    """The group's measures that were not cancelled, oldest first, each with where it was taken."""
    links = dict(
        session.execute(
            select(EstAreaLink.area_id, EstAreaLink.group_area_id).where(EstAreaLink.group_id == group.id)
        ).all()
    )
    places = session.execute(select(Place.id, Place.name_key, Place.area_id).where(Place.area_id.in_(links))).all()
    buildings = session.execute(
        select(Building.id, Building.name, Building.area_id).where(Building.area_id.in_(links))
    ).all()
    place_areas = {ident: links[area] for ident, _key, area in places}
    building_areas = {ident: links[area] for ident, _name, area in buildings if area is not None}
    by_name: dict[str, tuple[set[int], set[int]]] = {}
    for ident, key, _area in places:
        by_name.setdefault(key, (set(), set()))[0].add(ident)
    for ident, name, _building_area in buildings:
        by_name.setdefault(place_key(name), (set(), set()))[1].add(ident)
    rows = session.execute(
        select(EstMeasure, HotSpotAnalysis.place_id, HotSpotAnalysis.building_id)
        .outerjoin(HotSpotAnalysis, HotSpotAnalysis.id == EstMeasure.analysis_id)
        .where(EstMeasure.group_id == group.id, EstMeasure.status != MeasureStatus.cancelled)
        .order_by(EstMeasure.week, EstMeasure.id)
    )
    located = []
    for measure, place_id, building_id in rows:
        week = parse_week(measure.week)
        if week is None:  # pragma: no cover - the table's check constraint keeps the format
            continue
        if place_id is not None or building_id is not None:
            place_ids = {place_id} if place_id is not None else set()
            building_ids = {building_id} if building_id is not None else set()
        else:
            place_ids, building_ids = by_name.get(place_key(measure.place), (set(), set()))
        areas = {place_areas[p] for p in place_ids if p in place_areas} | {
            building_areas[b] for b in building_ids if b in building_areas
        }
        mark = pure.Mark(measure.id, week, measure.what, measure.place, measure.status.value)
        located.append(Located(mark, frozenset(place_ids), frozenset(building_ids), frozenset(areas)))
    return located


def in_area(located: list[Located], group_area_id: int | None) -> list[Located]:
    """The measures an area's page shows: those taken in it and those of the whole group (all of them for None)."""
    if group_area_id is None:
        return located
    return [m for m in located if not m.group_area_ids or group_area_id in m.group_area_ids]


@dataclass(frozen=True, slots=True)
class Evaluation:
    year: pure.Year
    #: The chosen measure and its comparisons: in the page's area (or all), and at the measure's place.
    chosen: Located | None
    overall: pure.Comparison | None
    at_place: pure.Comparison | None


def evaluate(
    session: Session,
    group: EstGroup,
    last: int,
    group_area_id: int | None = None,
    measure_id: int | None = None,
    n: int = pure.DEFAULT_WINDOW,
) -> Evaluation:
    """The year up to week `last` in one group area (or all), and the before/after of the chosen measure."""
    located = in_area(measures(session, group), group_area_id)
    first = pure.first_week(last)
    rows = week_rows(session, group, first, last, group_area_id)
    year = pure.year_of(rows, last, [m.mark for m in located])
    chosen = next((m for m in located if m.mark.id == measure_id), None)
    if chosen is None:
        return Evaluation(year, None, None, None)
    week = chosen.mark.week
    start, end = pure.span(week, n)
    end = min(end, last)
    if start >= first and end <= last:
        overall = pure.compare(pure.per_week(rows), week, n, last)
    else:
        overall = pure.compare(pure.per_week(week_rows(session, group, start, end, group_area_id)), week, n, last)
    at_place = None
    if chosen.has_place:
        place_rows = week_rows(session, group, start, end, group_area_id, chosen.place_ids, chosen.building_ids)
        at_place = pure.compare(pure.per_week(place_rows), week, n, last)
    return Evaluation(year, chosen, overall, at_place)
