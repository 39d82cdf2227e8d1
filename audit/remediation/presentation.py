"""The task list as a translated table: the columns the screen shows and more, shared by CSV, XLSX and PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from flask_babel import format_decimal, gettext, to_user_timezone
from flask_babel import lazy_gettext as _l

from audit.labels import label
from audit.remediation.export import Cell
from audit.remediation.models import RemediationTask

#: Column titles, in order; every column of the on-screen list is among them.
COLUMNS = (
    _l("Task"),
    _l("Area"),
    _l("Building"),
    _l("Address"),
    _l("Section"),
    _l("Item"),
    _l("Checklist point"),
    _l("Measured"),
    _l("Severity"),
    _l("Status"),
    _l("Overdue"),
    _l("Assignee"),
    _l("Due date"),
    _l("Created"),
    _l("Inspector's comment"),
    _l("What was done"),
    _l("Not met again"),
)


def header() -> list[str]:
    return [str(title) for title in COLUMNS]


def measurement(task: RemediationTask) -> str:
    """A failed measurement as the task shows it: "1,4 m (krav: högst 1 m)"; empty for other items."""
    if task.measured_value is None:
        return ""
    unit = task.measured_unit or ""
    low, high = task.required_min, task.required_max
    if low is not None and high is not None:
        required = gettext("%(min)s–%(max)s %(unit)s", min=_number(low), max=_number(high), unit=unit)
    elif low is not None:
        required = gettext("at least %(min)s %(unit)s", min=_number(low), unit=unit)
    else:
        required = gettext("at most %(max)s %(unit)s", max=_number(high), unit=unit)
    return str(
        gettext(
            "%(value)s %(unit)s (required: %(required)s)",
            value=_number(task.measured_value),
            unit=unit,
            required=required,
        )
    )


def _number(value: Decimal | None) -> str:
    return "" if value is None else format_decimal(value, format="#,##0.###")


def task_row(task: RemediationTask, today: date, language: str) -> list[Cell]:
    building = task.building
    return [
        task.id,
        building.area.name if building.area else "",
        building.name,
        building.address,
        task.section_key,
        task.item_key,
        task.item_text(language),
        measurement(task),
        label(task.severity),
        label(task.status),
        str(_l("Yes")) if task.is_overdue(today) else "",
        task.assignee.name if task.assignee else "",
        task.due_date,
        to_user_timezone(task.created_at).replace(tzinfo=None),
        task.finding or "",
        task.completion_comment or "",
        task.repeat_count,
    ]


def task_table(tasks: Sequence[RemediationTask], today: date, language: str) -> tuple[list[str], list[list[Cell]]]:
    return header(), [task_row(task, today, language) for task in tasks]
