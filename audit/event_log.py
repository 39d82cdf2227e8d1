"""One log line for every domain event (`audit.events`): who did what to which object, once it is committed.

The logger listens to the same signals as the audit log (every event any domain declares), so each change the
audit log records is also a line of the server's log, and no service writes log calls of its own. A line is kept
with its session until the transaction commits and then written; a change that is rolled back (and so left no
audit entry) leaves no line either. Lines carry ids only — the actor, the organisation, the object — never the
event's `before` and `after`, which can hold names, e-mail addresses, addresses and comments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blinker import NamedSignal
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from audit.accounts import signals as _accounts  # noqa: F401  (declares its events)
from audit.auditlog import signals as _auditlog  # noqa: F401
from audit.certificates import signals as _certificates  # noqa: F401
from audit.events import EVENTS, EventActor
from audit.inspections import signals as _inspections  # noqa: F401
from audit.remediation import signals as _remediation  # noqa: F401

logger = logging.getLogger("audit.events")

#: Key in `Session.info`: the lines of the session's transaction, written when it commits.
_PENDING = "tryggahus_event_log_lines"


@dataclass(frozen=True, slots=True)
class EventLine:
    event: str
    actor_id: int | None
    organisation_id: int | None
    object_type: str
    object_id: int | None

    def write(self) -> None:
        logger.info(
            "%s %s=%s actor=%s organisation=%s",
            self.event,
            self.object_type,
            self.object_id,
            self.actor_id,
            self.organisation_id,
            extra={
                "event": self.event,
                "actor_id": self.actor_id,
                "organisation_id": self.organisation_id,
                "object_type": self.object_type,
                "object_id": self.object_id,
            },
        )


def _keeper(signal: NamedSignal) -> Callable[..., None]:
    def keep(
        _sender: object,
        *,
        session: Session,
        actor: EventActor | None,
        organisation_id: int | None,
        object_id: int | None,
        **_change: Any,
    ) -> None:
        line = EventLine(
            event=signal.name,
            actor_id=None if actor is None else actor.id,
            organisation_id=organisation_id,
            object_type=signal.name.split(".", 1)[0],
            object_id=object_id,
        )
        session.info.setdefault(_PENDING, []).append(line)

    return keep


@event.listens_for(Session, "after_commit")
def _write_committed(session: Session) -> None:
    for line in session.info.pop(_PENDING, ()):
        line.write()


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # After a commit the lines are already written; after a rollback or a close they never happened.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


#: One keeper per event, however many apps the process builds (connecting it again changes nothing).
_KEEPERS: dict[str, Callable[..., None]] = {}


def subscribe() -> None:
    """Log every declared event."""
    for signal in EVENTS.values():
        keeper = _KEEPERS.setdefault(signal.name, _keeper(signal))
        signal.connect(keeper, weak=False)  # held strongly: the closure has no other owner


def subscribed(signal: NamedSignal) -> bool:
    """Whether the event is logged (the tests check every declared event)."""
    keeper = _KEEPERS.get(signal.name)
    return keeper is not None and any(receiver is keeper for receiver in signal.receivers.values())
