"""The weekly situation picture ("lägesbild") of an EST group, computed from plain rows.

Pure module: `situation_picture()` takes the counts the database grouped (`services.picture_rows`) and returns
what the page and the PDF show, so every figure is tested without Flask or a database:

- reports per group area and category this week, against the average of the four weeks before;
- the places (or buildings) with most reports this week;
- the hot spots this week, new and continuing (`hotspots.hot_periods`);
- the measures agreed at the last meeting before this week, with their status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from audit.deviations.est.hotspots import hot_periods, state_at

#: How many weeks before the picture's week the comparison averages.
COMPARED_WEEKS = 4
#: How many places the picture lists.
TOP_PLACES = 10


@dataclass(frozen=True, slots=True)
class CountRow:
    """Reports of one group area and category in one week; `weeks_ago` 0 is the picture's week."""

    area: str
    category: str
    weeks_ago: int
    count: int


@dataclass(frozen=True, slots=True)
class SpotWeek:
    """A place (key "place:<id>") or building ("building:<id>") had `count` reports in week `week`."""

    spot: str
    label: str
    area: str
    week: int
    count: int


@dataclass(frozen=True, slots=True)
class MeasureRow:
    what: str
    place: str
    #: The party's organisation and its kind (`PartyKind` value).
    party: str
    party_kind: str
    responsible: str
    follow_up_on: date | None
    status: str


@dataclass(frozen=True, slots=True)
class Line:
    area: str
    category: str
    count: int
    average: float

    @property
    def change(self) -> float:
        return round(self.count - self.average, 2)


@dataclass(frozen=True, slots=True)
class Spot:
    spot: str
    label: str
    area: str
    count: int


@dataclass(frozen=True, slots=True)
class HotSpot:
    spot: str
    label: str
    area: str
    #: "new" (became a hot spot this week) or "continuing".
    state: str
    since: int
    #: Weeks with reports among the last M (the rule's window).
    weeks_with_reports: int


@dataclass(frozen=True, slots=True)
class Picture:
    week: int
    lines: list[Line]
    totals: list[Line]
    places: list[Spot]
    hot_spots: list[HotSpot]
    measures: list[MeasureRow] = field(default_factory=list)
    #: The week of the meeting whose measures are listed, or None when none was recorded before.
    measures_week: int | None = None

    @property
    def total(self) -> int:
        return sum(line.count for line in self.totals)


def _lines(counts: Iterable[CountRow]) -> tuple[list[Line], list[Line]]:
    by_line: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (COMPARED_WEEKS + 1))
    for row in counts:
        if 0 <= row.weeks_ago <= COMPARED_WEEKS:
            by_line[(row.area, row.category)][row.weeks_ago] += row.count
    by_area: dict[str, list[int]] = defaultdict(lambda: [0] * (COMPARED_WEEKS + 1))
    lines = []
    for (area, category), weekly in sorted(by_line.items()):
        lines.append(Line(area, category, weekly[0], round(sum(weekly[1:]) / COMPARED_WEEKS, 2)))
        by_area[area] = [a + b for a, b in zip(by_area[area], weekly, strict=True)]
    totals = [Line(area, "", w[0], round(sum(w[1:]) / COMPARED_WEEKS, 2)) for area, w in sorted(by_area.items())]
    return lines, totals


def situation_picture(
    week: int,
    counts: Iterable[CountRow],
    spot_weeks: Iterable[SpotWeek],
    n: int,
    m: int,
    measures: Iterable[MeasureRow] = (),
    measures_week: int | None = None,
) -> Picture:
    """The picture of `week`; `spot_weeks` must reach back far enough for the hot-spot rule (see services)."""
    lines, totals = _lines(counts)
    weeks: dict[str, set[int]] = defaultdict(set)
    names: dict[str, tuple[str, str]] = {}
    this_week: dict[str, int] = defaultdict(int)
    for row in spot_weeks:
        if row.count <= 0 or row.week > week:
            continue
        weeks[row.spot].add(row.week)
        names[row.spot] = (row.label, row.area)
        if row.week == week:
            this_week[row.spot] += row.count
    places = sorted(
        (Spot(spot, *names[spot], count) for spot, count in this_week.items()),
        key=lambda s: (-s.count, s.label, s.spot),
    )[:TOP_PLACES]
    hot = []
    for spot, present in weeks.items():
        periods = hot_periods(present, week, n, m)
        state = state_at(periods, week)
        if state is not None:
            since = periods[-1].start
            hot.append(HotSpot(spot, *names[spot], state, since, sum(1 for w in present if week - m < w <= week)))
    hot.sort(key=lambda h: (h.state != "new", h.label, h.spot))
    return Picture(week, lines, totals, places, hot, list(measures), measures_week)


def titles(lines: Iterable[Line], category_titles: Mapping[str, str]) -> dict[str, str]:
    """Category key → its title, for the categories the lines name (a key missing from the catalogue shows as is)."""
    return {line.category: category_titles.get(line.category, line.category) for line in lines}
