"""Addresses in and out: ids in paths that fit the database, and return addresses that stay on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

#: The largest id the database holds: every id column is an `Integer`, which is 32 bits on PostgreSQL. A larger
#: number can name no row, and sent to the database it fails the query (PostgreSQL: out of range; SQLite: ≥ 2⁶³).
MAX_ID = 2**31 - 1


def bounded_id(raw: object) -> int | None:
    """`raw` as an id that can exist (1 … MAX_ID), or None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw.isdecimal() or len(raw) > len(str(MAX_ID)):
            return None
    try:
        value = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


def _numbers_up_to(limit: int) -> str:
    """A regular expression for the decimal numbers from 0 to `limit`: shorter ones, then digit by digit below it."""
    digits = str(limit)
    alternatives = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for position, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - position - 1
            alternatives.append(f"{digits[:position]}[0-{int(digit) - 1}][0-9]{{{rest}}}")
    alternatives.append(digits)
    return f"(?:{'|'.join(alternatives)})"


class IdConverter(IntegerConverter):
    """Every `<int:…>` in the app's routes: an id beyond MAX_ID matches no route, so it is a plain 404.

    Bounded by the pattern, not by `max`: a number that matched the path but failed the converter would make a
    route that shares the path with another method answer 405 instead.
    """

    regex = _numbers_up_to(MAX_ID)


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None: a return address must never lead elsewhere.

    Browsers read `//host`, `/\\host` and paths with tabs or line breaks in them (which they drop) as another host.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


#: The highest page number a list accepts (a larger one shows the last page).
MAX_PAGE = 100_000


def page_number(raw: object) -> int:
    """A list's page from the query string: 1 for anything that is not a page number."""
    return min(bounded_id(raw) or 1, MAX_PAGE)
