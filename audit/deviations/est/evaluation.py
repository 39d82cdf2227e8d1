"""The year's evaluation of an EST group: reports per category per week, the measures taken, and before/after.

Pure module: the database groups the reports (`evaluation_services`); this module turns the plain rows into what
the page, the chart and the CSV show, so every figure is tested without Flask or a database. Weeks are the
consecutive numbers of `weeks.py`, so 52 weeks back from a week after a year with week 53 is plain subtraction.

Everything here is a count of reports. A comparison before and after a measure says how the counts changed, never
why: how much people report changes the counts as well (see the page's text).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: How many ISO weeks the chart and the table show, ending with the chosen week.
WEEKS = 52
#: The before/after windows: N weeks on each side of the measure's week.
DEFAULT_WINDOW, MIN_WINDOW, MAX_WINDOW = 12, 4, 26
#: The chart draws the categories with most reports and sums the rest as one line.
SHOWN_CATEGORIES = 5
#: The key of the summed line (no catalogue key is empty).
REST = ""


@dataclass(frozen=True, slots=True)
class WeekCount:
    """`count` reports of `category` were seen in week `week`."""

    week: int
    category: str
    count: int


@dataclass(frozen=True, slots=True)
class Mark:
    """A measure on the chart: the week it was agreed, what, and where (as the group named the place)."""

    id: int
    week: int
    what: str
    place: str
    status: str


@dataclass(frozen=True, slots=True)
class Series:
    category: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Year:
    """The weeks shown (oldest first), a series per category with reports (most reports first), the totals."""

    weeks: tuple[int, ...]
    series: tuple[Series, ...]
    totals: tuple[int, ...]
    marks: tuple[Mark, ...]

    @property
    def total(self) -> int:
        return sum(self.totals)


def first_week(last: int, weeks: int = WEEKS) -> int:
    return last - weeks + 1


def year_of(rows: Iterable[WeekCount], last: int, marks: Iterable[Mark] = (), weeks: int = WEEKS) -> Year:
    """The `weeks` weeks ending with `last`: zeros where nothing was reported; rows and marks outside are left out."""
    first = first_week(last, weeks)
    by_category: dict[str, list[int]] = defaultdict(lambda: [0] * weeks)
    for row in rows:
        if first <= row.week <= last and row.count:
            by_category[row.category][row.week - first] += row.count
    series = tuple(
        sorted(
            (Series(key, tuple(counts)) for key, counts in by_category.items()), key=lambda s: (-s.total, s.category)
        )
    )
    totals = tuple(sum(s.counts[i] for s in series) for i in range(weeks))
    shown = tuple(sorted((m for m in marks if first <= m.week <= last), key=lambda m: (m.week, m.id)))
    return Year(tuple(range(first, last + 1)), series, totals, shown)


def chart_series(year: Year, keep: int = SHOWN_CATEGORIES) -> list[Series]:
    """The `keep` categories with most reports, then the others summed as one series keyed `REST` (if any)."""
    shown = list(year.series[:keep])
    rest = year.series[keep:]
    if rest:
        shown.append(Series(REST, tuple(sum(s.counts[i] for s in rest) for i in range(len(year.weeks)))))
    return shown


@dataclass(frozen=True, slots=True)
class Window:
    first: int
    last: int
    count: int
    #: Weeks of the window that have ended by the evaluation's last week.
    weeks_past: int

    @property
    def weeks(self) -> int:
        return self.last - self.first + 1

    @property
    def complete(self) -> bool:
        return self.weeks_past == self.weeks


@dataclass(frozen=True, slots=True)
class Comparison:
    week: int
    n: int
    before: Window
    after: Window

    @property
    def change(self) -> int:
        return self.after.count - self.before.count

    @property
    def percent(self) -> float | None:
        """The change in per cent of the count before; None with nothing before or an after window not yet over."""
        if self.before.count == 0 or not self.after.complete:
            return None
        return round(100 * self.change / self.before.count, 1)


def marks_by_week(year: Year) -> list[tuple[int, list[tuple[int, Mark]]]]:
    """The year's marks numbered from 1 (oldest first), grouped by week: one marker per week on the chart."""
    weeks: dict[int, list[tuple[int, Mark]]] = defaultdict(list)
    for number, mark in enumerate(year.marks, 1):
        weeks[mark.week].append((number, mark))
    return sorted(weeks.items())


def numbers_text(numbers: list[int]) -> str:
    """1, 2, 3 and 5 as "1–3, 5": the marker's text."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)


def clamp_window(n: int | None) -> int:
    if n is None:
        return DEFAULT_WINDOW
    return min(MAX_WINDOW, max(MIN_WINDOW, n))


def span(week: int, n: int) -> tuple[int, int]:
    """The first and last week a comparison around `week` counts (the database reads only these)."""
    return week - n, week + n


def compare(weekly: Mapping[int, int], week: int, n: int, until: int) -> Comparison:
    """Reports in the `n` weeks before `week` against the `n` weeks after it; the measure's own week is in
    neither (the measure took effect some time in it). Weeks after `until` have not happened yet."""

    def window(first: int, last: int) -> Window:
        counted = range(first, min(last, until) + 1)
        return Window(first, last, sum(weekly.get(w, 0) for w in counted), len(counted))

    return Comparison(week, n, window(week - n, week - 1), window(week + 1, week + n))


def per_week(rows: Iterable[WeekCount]) -> dict[int, int]:
    """All categories together, week by week."""
    totals: dict[int, int] = defaultdict(int)
    for row in rows:
        totals[row.week] += row.count
    return dict(totals)


def table_rows(year: Year, keys: Iterable[str]) -> list[tuple[int, list[int], int, list[Mark]]]:
    """Week by week: the counts of `keys` (the catalogue's categories, in its order; a key without reports
    counts 0), the week's total and the measures agreed that week: what the table and the CSV show."""
    by_key = {s.category: s.counts for s in year.series}
    zeros = (0,) * len(year.weeks)
    columns = [by_key.get(key, zeros) for key in keys]
    marks: dict[int, list[Mark]] = defaultdict(list)
    for mark in year.marks:
        marks[mark.week].append(mark)
    return [
        (week, [column[index] for column in columns], year.totals[index], marks.get(week, []))
        for index, week in enumerate(year.weeks)
    ]
