"""The audit log listens to every domain event (`audit.events`) and appends one entry per event.

The domains' signal modules are imported here, so their events exist before the log subscribes to all of them;
the domains themselves never import the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blinker import NamedSignal
from sqlalchemy.orm import Session

from audit.accounts import signals as _accounts  # noqa: F401  (declares its events)
from audit.auditlog import signals as _auditlog  # noqa: F401
from audit.auditlog.services import append
from audit.certificates import signals as _certificates  # noqa: F401
from audit.deviations import signals as _deviations  # noqa: F401
from audit.events import EVENTS
from audit.inspections import signals as _inspections  # noqa: F401
from audit.remediation import signals as _remediation  # noqa: F401


def _recorder(signal: NamedSignal) -> Callable[..., None]:
    def record(_sender: object, *, session: Session, **change: Any) -> None:
        append(session, action=signal.name, **change)

    return record


#: One recorder per event, however many apps the process builds (connecting it again changes nothing).
_RECORDERS: dict[str, Callable[..., None]] = {}


def subscribe() -> None:
    """Record every declared event."""
    for signal in EVENTS.values():
        recorder = _RECORDERS.setdefault(signal.name, _recorder(signal))
        signal.connect(recorder, weak=False)  # held strongly: the closure has no other owner
