"""The hot-spot rule: a place with reports in at least N of the last M ISO weeks is a hot spot; the flag clears
when the place has had no reports for M weeks in a row.

Pure module: the input is the set of week numbers (`weeks.parse_week`) in which a place had reports, the output
the periods it was a hot spot. The periods are derived from the reports every time, not stored: the history is
kept because the reports are, and a group that changes N or M sees its history under the new rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

DEFAULT_N = 3
DEFAULT_M = 4


@dataclass(frozen=True, slots=True)
class Period:
    #: The week the place became a hot spot (its N-th week with reports within M weeks).
    start: int
    #: The week the flag cleared (the M-th week in a row without reports), or None while it is still a hot spot.
    end: int | None

    def active(self, week: int) -> bool:
        return self.start <= week and (self.end is None or week < self.end)


def hot_periods(weeks_with_reports: Iterable[int], until: int, n: int = DEFAULT_N, m: int = DEFAULT_M) -> list[Period]:
    """The hot-spot periods up to and including week `until`."""
    if not 1 <= n <= m:
        raise ValueError("the rule needs 1 <= N <= M")
    weeks = sorted({week for week in weeks_with_reports if week <= until})
    if not weeks:
        return []
    present = set(weeks)
    periods: list[Period] = []
    start: int | None = None
    quiet = 0
    for week in range(weeks[0], until + 1):
        if start is None:
            if week in present and sum(1 for w in range(week - m + 1, week + 1) if w in present) >= n:
                start, quiet = week, 0
            continue
        quiet = 0 if week in present else quiet + 1
        if quiet >= m:
            periods.append(Period(start, week))
            start = None
    if start is not None:
        periods.append(Period(start, None))
    return periods


def state_at(periods: list[Period], week: int) -> str | None:
    """ "new" when the place became a hot spot in `week`, "continuing" when earlier and still is, else None."""
    for period in periods:
        if period.active(week):
            return "new" if period.start == week else "continuing"
    return None
