"""The task list as a translated table: the columns the screen shows and more, shared by CSV, XLSX and PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone

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
