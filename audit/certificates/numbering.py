"""Certificate numbers and validity dates (pure: no Flask, no database).

Numbers read like ``TH-2026-000123``: the year of issue and a sequence that starts again at 1 every year.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

PREFIX = "TH"
_NUMBER = re.compile(rf"{PREFIX}-(\d{{4}})-(\d{{6}})")
#: The longest a number can be (a year has at most 999,999 certificates).
NUMBER_LENGTH = len(f"{PREFIX}-2026-000000")


def format_number(year: int, sequence: int) -> str:
    if not 1 <= sequence <= 999_999 or not 2000 <= year <= 9999:
        raise ValueError(f"no certificate number for year {year}, sequence {sequence}")
    return f"{PREFIX}-{year:04d}-{sequence:06d}"


def parse_number(number: str) -> tuple[int, int] | None:
    """(year, sequence) of a well-formed number, else None."""
    match = _NUMBER.fullmatch(number.strip().upper())
    return (int(match[1]), int(match[2])) if match else None


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it is shorter (31 January + 1 → 28/29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def valid_until(issued_on: date, validity_months: int) -> date:
    """The last day a certificate is valid: the day before the same date `validity_months` later."""
    if validity_months < 1:
        raise ValueError("a certificate is valid for at least one month")
    return add_months(issued_on, validity_months) - timedelta(days=1)
