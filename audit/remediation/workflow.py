"""The remediation task's workflow as a table: which move is allowed from which status, and where it leads.

Pure module (no database, no app): `RemediationTask` calls `next_status()` for every move, and the tests walk the
whole table, including every refused move.

    open ──start──▶ in_progress ──complete──▶ done ──verify──▶ verified
     ▲                                         │
     └───────────────reopen────────────────────┘

A later approved inspection in which the item passes verifies any unverified task (`verify_by_inspection`); one in
which it fails again leaves the status as it is (`failed_again`). Assigning and changing the due date keep the
status and are refused only for verified tasks.
"""

from __future__ import annotations

from enum import StrEnum

from audit.errors import N_, InvalidTransition


class TaskStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    verified = "verified"

    @property
    def active(self) -> bool:
        """Still to be worked on: counts as open work and can be late."""
        return self in (TaskStatus.open, TaskStatus.in_progress)


class TaskAction(StrEnum):
    created = "created"
    assigned = "assigned"
    due_date_changed = "due_date_changed"
    started = "started"
    completed = "completed"
    verified = "verified"
    reopened = "reopened"
    #: A later inspection found the item passing and closed the task.
    verified_by_inspection = "verified_by_inspection"
    #: A later inspection found the item failing again; the task stays as it is.
    failed_again = "failed_again"


_S = TaskStatus
#: Statuses of tasks that are not verified yet; a building has at most one such task per checklist item.
UNVERIFIED = (_S.open, _S.in_progress, _S.done)

#: action → (the statuses it is allowed from, the status it leads to; None keeps the status).
TRANSITIONS: dict[TaskAction, tuple[tuple[TaskStatus, ...], TaskStatus | None]] = {
    TaskAction.started: ((_S.open,), _S.in_progress),
    TaskAction.completed: ((_S.in_progress,), _S.done),
    TaskAction.verified: ((_S.done,), _S.verified),
    TaskAction.reopened: ((_S.done,), _S.open),
    TaskAction.verified_by_inspection: (UNVERIFIED, _S.verified),
    TaskAction.failed_again: (UNVERIFIED, None),
    TaskAction.assigned: (UNVERIFIED, None),
    TaskAction.due_date_changed: (UNVERIFIED, None),
}

_REFUSALS = {
    TaskAction.started: N_("Only an open task can be started; this one is %(status)s."),
    TaskAction.completed: N_("Only a task in progress can be marked done; this one is %(status)s."),
    TaskAction.verified: N_("Only a task marked done can be verified; this one is %(status)s."),
    TaskAction.reopened: N_("Only a task marked done can be reopened; this one is %(status)s."),
    TaskAction.verified_by_inspection: N_("This task is already verified."),
    TaskAction.failed_again: N_("This task is already verified."),
    TaskAction.assigned: N_("A verified task can no longer be assigned."),
    TaskAction.due_date_changed: N_("A verified task has no due date to change."),
}


class TaskTransitionRefused(InvalidTransition):
    """A move the workflow does not allow from the task's status; the message names the move and the status."""

    def __init__(self, action: TaskAction, current: TaskStatus) -> None:
        super().__init__("task", current.value, action.value)
        self.message = _REFUSALS[action]
        self.params = {"status": current.value}
        self.args = (self.message % self.params,)

    def translated(self) -> str:
        from flask_babel import gettext

        from audit.labels import label

        translated: str = gettext(self.message, status=label(self.current).lower())
        return translated


class TaskCheckFailed(InvalidTransition):
    """A move allowed from this status that lacks what it needs (a comment, a photo, a reason)."""

    def __init__(self, message: str, action: TaskAction, current: TaskStatus) -> None:
        super().__init__("task", current.value, action.value)
        self.message = message
        self.params = {}
        self.args = (message,)


def next_status(action: TaskAction, current: TaskStatus) -> TaskStatus:
    """The status after `action`, or TaskTransitionRefused when the workflow does not allow it from `current`."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise TaskTransitionRefused(action, current)
    return target or current


def allowed_actions(current: TaskStatus) -> frozenset[TaskAction]:
    return frozenset(action for action, (allowed, _target) in TRANSITIONS.items() if current in allowed)
