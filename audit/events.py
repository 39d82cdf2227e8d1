"""Domain events: blinker signals that the package owning a change sends after writing it.

Each domain declares its events in its own `signals.py` (`inspections.signals.inspection_approved`); subscribers
(the audit log) import those, so no domain imports its subscribers and the import graph keeps flowing one way.
Every event is sent in the transaction of the change, after its writes, with the same keyword arguments:

- `session`: the session (and so the transaction) the change was written in;
- `actor`: who acted (anything with `id` and `email`), or None for the command line and anonymous events;
- `organisation_id`: the organisation the change belongs to, or None for events outside any organisation;
- `object_id`: the changed object's id (the event's name says its type: ``<object type>.<what happened>``);
- `before`, `after`: what changed, as plain JSON-able dictionaries (dates and decimals are allowed).
"""

from __future__ import annotations

from typing import Any, Protocol

from blinker import NamedSignal, Namespace
from sqlalchemy.orm import Session

#: Every domain event, by name.
EVENTS = Namespace()


class EventActor(Protocol):
    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


def event(name: str) -> NamedSignal:
    """Declare a domain event named ``<object type>.<what happened>``."""
    return EVENTS.signal(name)


def announce(
    signal: NamedSignal,
    session: Session,
    actor: EventActor | None,
    *,
    organisation_id: int | None,
    object_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Send a domain event with the keyword arguments every subscriber expects."""
    signal.send(
        None,
        session=session,
        actor=actor,
        organisation_id=organisation_id,
        object_id=object_id,
        before=before,
        after=after,
    )
