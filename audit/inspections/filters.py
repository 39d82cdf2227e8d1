"""The inspection list's filter, read from a query string: pure (no database, no app), so it is tested alone.

Unknown or malformed values are ignored rather than refused, as in the task list: a bookmarked list still opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar

from audit.inspections.models import InspectionStatus
from audit.urls import bounded_id, page_number


class Verdict(StrEnum):
    """The scored result of a submitted inspection (drafts have none yet)."""

    passes = "passes"
    fails = "fails"


E = TypeVar("E", bound=StrEnum)


def _member(enum: type[E], raw: str | None) -> E | None:
    try:
        return enum(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class InspectionFilter:
    #: None lists every status except discarded drafts, which are shown only when asked for.
    status: InspectionStatus | None = None
    area_id: int | None = None
    building_id: int | None = None
    inspector_id: int | None = None
    verdict: Verdict | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InspectionFilter:
        return cls(
            status=_member(InspectionStatus, args.get("status")),
            area_id=bounded_id(args.get("area")),
            building_id=bounded_id(args.get("building")),
            inspector_id=bounded_id(args.get("inspector")),
            verdict=_member(Verdict, args.get("verdict")),
            page=page_number(args.get("page")),
        )

    @property
    def narrowed(self) -> bool:
        return replace(self, page=1) != InspectionFilter()

    def to_args(self, page: int) -> dict[str, str | int]:
        """The query string of this filter on another page."""
        values = {
            "status": self.status,
            "area": self.area_id,
            "building": self.building_id,
            "inspector": self.inspector_id,
            "verdict": self.verdict,
        }
        return {name: str(value) for name, value in values.items() if value is not None} | {"page": page}
