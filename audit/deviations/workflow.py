"""The triage of a deviation report as a table: which move is allowed from which status, and where it leads.

Pure module (no database, no app): `DeviationReport` calls `next_status()` for every move, and the tests walk the
whole table, including every refused move.

    new ──acknowledge──▶ acknowledged ──take action──▶ action_taken ──close──▶ closed
                              └────────────────close───────────────────────────▲

A report closed straight from "acknowledged" needs a comment (a duplicate, nothing to do). Comments, links to other
reports and a remediation task keep the status and are allowed until the report is closed (comments always).
"""

from __future__ import annotations

from enum import StrEnum

from audit.errors import N_, InvalidTransition


class DeviationStatus(StrEnum):
    new = "new"
    acknowledged = "acknowledged"
    action_taken = "action_taken"
    closed = "closed"

    @property
    def open(self) -> bool:
        return self is not DeviationStatus.closed


class DeviationAction(StrEnum):
    reported = "reported"
    acknowledged = "acknowledged"
    action_taken = "action_taken"
    closed = "closed"
    commented = "commented"
    linked = "linked"
    task_created = "task_created"


_S = DeviationStatus
_OPEN = (_S.new, _S.acknowledged, _S.action_taken)

#: action → (the statuses it is allowed from, the status it leads to; None keeps the status).
TRANSITIONS: dict[DeviationAction, tuple[tuple[DeviationStatus, ...], DeviationStatus | None]] = {
    DeviationAction.acknowledged: ((_S.new,), _S.acknowledged),
    DeviationAction.action_taken: ((_S.acknowledged,), _S.action_taken),
    DeviationAction.closed: ((_S.acknowledged, _S.action_taken), _S.closed),
    DeviationAction.commented: (tuple(DeviationStatus), None),
    DeviationAction.linked: (_OPEN, None),
    DeviationAction.task_created: (_OPEN, None),
}
#: The moves a coordinator makes on the report's page, in the order its buttons are shown.
TRIAGE_ACTIONS = (DeviationAction.acknowledged, DeviationAction.action_taken, DeviationAction.closed)

_REFUSALS = {
    DeviationAction.acknowledged: N_("Only a new report can be acknowledged; this one is %(status)s."),
    DeviationAction.action_taken: N_("Only an acknowledged report can be marked as acted on; this one is %(status)s."),
    DeviationAction.closed: N_("Only an acknowledged report or one acted on can be closed; this one is %(status)s."),
    DeviationAction.linked: N_("A closed report can no longer be linked."),
    DeviationAction.task_created: N_("A closed report can no longer become a task."),
}


class DeviationTransitionRefused(InvalidTransition):
    """A move the triage does not allow from the report's status."""

    def __init__(self, action: DeviationAction, current: DeviationStatus) -> None:
        super().__init__("deviation", current.value, action.value)
        self.message = _REFUSALS[action]
        self.params = {"status": current.value}
        self.args = (self.message % self.params,)

    def translated(self) -> str:
        from flask_babel import gettext

        from audit.labels import label

        translated: str = gettext(self.message, status=label(DeviationStatus(self.current)).lower())
        return translated


def next_status(action: DeviationAction, current: DeviationStatus) -> DeviationStatus:
    """The status after `action`, or DeviationTransitionRefused when the triage does not allow it from `current`."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise DeviationTransitionRefused(action, current)
    return target or current


def allowed_triage(current: DeviationStatus) -> list[DeviationAction]:
    return [action for action in TRIAGE_ACTIONS if current in TRANSITIONS[action][0]]
