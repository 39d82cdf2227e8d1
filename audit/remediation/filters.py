"""The manager's task list filter, read from a query string: pure (no database, no app), so it is tested alone.

Unknown or malformed values are ignored rather than refused: a bookmarked list whose building is gone still opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Final, Literal

from audit.checklists.schema import Severity
from audit.remediation.workflow import TaskStatus
from audit.urls import bounded_id

#: Columns the list can be sorted by; a leading "-" sorts in descending order.
SORTS = ("due", "severity", "status", "building", "item", "assignee", "created")
DEFAULT_SORT = "due"
PAGE_SIZE = 50
#: `assignee=none` lists the tasks nobody has been given yet.
UNASSIGNED: Final = "none"


@dataclass(frozen=True, slots=True)
class TaskFilter:
    area_id: int | None = None
    building_id: int | None = None
    severity: Severity | None = None
    status: TaskStatus | None = None
    #: A user's id, UNASSIGNED, or None for everyone.
    assignee: int | Literal["none"] | None = None
    overdue: bool = False
    #: Unverified tasks only (open, in progress and done); the default view of work still to follow up.
    unverified: bool = False
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1

    @property
    def sort_arg(self) -> str:
        return f"-{self.sort}" if self.descending else self.sort

    def to_args(self, **changes: Any) -> dict[str, str]:
        """The filter as query arguments (defaults left out), with some fields changed: for links and exports."""
        changed = replace(self, **changes) if changes else self
        args: dict[str, str] = {}
        for name, value in (
            ("area", changed.area_id),
            ("building", changed.building_id),
            ("severity", changed.severity.value if changed.severity else None),
            ("status", changed.status.value if changed.status else None),
            ("assignee", changed.assignee),
            ("overdue", "1" if changed.overdue else None),
            ("unverified", "1" if changed.unverified else None),
            ("sort", changed.sort_arg if changed.sort_arg != DEFAULT_SORT else None),
            ("page", changed.page if changed.page > 1 else None),
        ):
            if value is not None:
                args[name] = str(value)
        return args

    def sorted_by(self, column: str) -> dict[str, str]:
        """Arguments for sorting by `column`: ascending first, descending when it is already ascending."""
        descending = self.sort == column and not self.descending
        return self.to_args(sort=column, descending=descending, page=1)

    @property
    def narrowed(self) -> bool:
        """Whether anything other than sorting and the page is chosen."""
        return any(
            getattr(self, f.name) != f.default for f in fields(self) if f.name not in ("sort", "descending", "page")
        )


def parse_filter(args: Mapping[str, str]) -> TaskFilter:
    """The filter a query string asks for."""
    sort = args.get("sort", DEFAULT_SORT)
    descending = sort.startswith("-")
    sort = sort.removeprefix("-")
    if sort not in SORTS:
        sort, descending = DEFAULT_SORT, False
    raw_assignee = args.get("assignee")
    assignee: int | Literal["none"] | None = UNASSIGNED if raw_assignee == UNASSIGNED else bounded_id(raw_assignee)
    return TaskFilter(
        area_id=bounded_id(args.get("area")),
        building_id=bounded_id(args.get("building")),
        severity=next((s for s in Severity if s.value == args.get("severity")), None),
        status=next((s for s in TaskStatus if s.value == args.get("status")), None),
        assignee=assignee,
        overdue=args.get("overdue") in ("1", "true", "on"),
        unverified=args.get("unverified") in ("1", "true", "on"),
        sort=sort,
        descending=descending,
        page=min(bounded_id(args.get("page")) or 1, 100_000),
    )
