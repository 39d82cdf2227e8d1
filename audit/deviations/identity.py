"""Refusing Swedish personal identity numbers in free text (reports must not identify private persons).

Pure module. A personal identity number (personnummer) is a date of birth and four digits, the last a Luhn check
digit: YYMMDD-NNNN, YYMMDD+NNNN (over 100 years old), YYYYMMDD-NNNN, or the same without the separator. A
co-ordination number (samordningsnummer) adds 60 to the day. Only digit runs whose date exists and whose check digit
is right are refused, so ordinary numbers (a door code, a phone number, a date with a time) pass.
"""

from __future__ import annotations

import re
from datetime import date

#: Ten or twelve digits, optionally with "-", "+" or a space before the last four, not inside a longer number.
_CANDIDATE = re.compile(r"(?<![\d-])((?:\d{2})?\d{6})[-+ ]?(\d{4})(?![\d])")


def _luhn_ok(digits: str) -> bool:
    """The Luhn check over the ten digits YYMMDDNNNC."""
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def _date_exists(birth: str) -> bool:
    """Whether YYMMDD or YYYYMMDD (day + 60 for a co-ordination number) is a real date in some century."""
    year, month, day = int(birth[:-4]), int(birth[-4:-2]), int(birth[-2:])
    if day > 60:
        day -= 60
    years = [year] if len(birth) == 8 else [1900 + year, 2000 + year]
    for candidate in years:
        try:
            date(candidate, month, day)
        except ValueError:
            continue
        return True
    return False


def is_identity_number(birth: str, tail: str) -> bool:
    """Whether a date part and four digits form a valid personal identity or co-ordination number."""
    return _date_exists(birth) and _luhn_ok(birth[-6:] + tail)


def find_identity_numbers(text: str) -> list[str]:
    """The personal identity numbers written in `text`, as written."""
    return [match.group(0) for match in _CANDIDATE.finditer(text) if is_identity_number(match[1], match[2])]
