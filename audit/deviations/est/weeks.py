"""ISO weeks as text ("2026-W53") and as consecutive numbers, so week arithmetic crosses years and week 53.

Pure module: no app, no database. A week's number counts weeks from the first Monday of the proleptic calendar
(ordinal 1 is a Monday), so the week after 2026-W53 is 2027-W01 and "the last four weeks" is plain subtraction.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> int | None:
    """The week's number for "YYYY-Www", or None when the text is no ISO week (week 53 only in long years)."""
    match = _WEEK.match(text or "")
    if match is None:
        return None
    year, week = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        return None
    return (monday.toordinal() - 1) // 7


def monday(week: int) -> date:
    return date.fromordinal(week * 7 + 1)


def week_of(day: date) -> int:
    return (day.toordinal() - 1) // 7


def week_text(week: int) -> str:
    year, number, _ = monday(week).isocalendar()
    return f"{year}-W{number:02d}"


def week_start(week: int, zone: ZoneInfo) -> datetime:
    """The moment the week begins (Monday 00:00) in `zone`, as an aware datetime."""
    return datetime.combine(monday(week), time(), tzinfo=zone)
