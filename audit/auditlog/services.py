"""Appending to the audit log, reading it (filtered, for an organisation's admins) and verifying its chains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from audit.auditlog import signals
from audit.auditlog.chain import GENESIS, ChainReport, Head, check_chain, entry_hash, normalise
from audit.auditlog.models import AuditChainHead, AuditEntry
from audit.certificates.status import TIMEZONE
from audit.database import lock_for_write, utcnow
from audit.events import announce
from audit.request_id import current_request_id

#: Entries per page of the log.
PAGE_SIZE = 100


class Actor(Protocol):
    """Who acted: a `User` or the request's signed-in user; only the id and e-mail address are kept."""

    @property
    def id(self) -> int: ...

    @property
    def email(self) -> str: ...


def append(
    session: Session,
    *,
    action: str,
    actor: Actor | None,
    organisation_id: int | None,
    object_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry to the end of its organisation's chain, in the session's transaction, and flush it.

    The chain's head row is locked (SQLite: the write lock is taken) before it is read, so concurrent writers of
    one chain take turns until their commits and never fork it. Call this after the change's own writes, so the
    head is always the last lock a transaction takes.
    """
    chain = organisation_id or 0
    lock_for_write(session)
    session.flush()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(AuditChainHead)
        .values(chain=chain, last_sequence=0, last_hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    head = session.execute(
        select(AuditChainHead.last_sequence, AuditChainHead.last_hash)
        .where(AuditChainHead.chain == chain)
        .with_for_update()
    ).one()
    entry = AuditEntry(
        chain=chain,
        sequence=head.last_sequence + 1,
        organisation_id=organisation_id,
        at=utcnow(),
        actor_id=None if actor is None else actor.id,
        actor_email=None if actor is None else actor.email,
        action=action,
        object_type=action.split(".", 1)[0],
        object_id=object_id,
        before=normalise(before),
        after=normalise(after),
        request_id=current_request_id(),
        previous_hash=head.last_hash,
    )
    entry.entry_hash = entry_hash(entry.content())
    session.add(entry)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.chain == chain)
        .values(last_sequence=entry.sequence, last_hash=entry.entry_hash)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return entry


# --- reading -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogFilter:
    """What the admin narrowed the log to; every field is optional."""

    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: int | None = None
    since: date | None = None
    until: date | None = None
    page: int = 1

    def to_args(self, **changes: object) -> dict[str, object]:
        """The filter as query-string arguments (for links), without the empty ones."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "page": self.page if self.page > 1 else None,
            **changes,
        }
        return {name: value for name, value in values.items() if value not in (None, "")}


def _start_of_day(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=TIMEZONE)


def _filtered(organisation_id: int, chosen: LogFilter) -> Select[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.organisation_id == organisation_id)
    if chosen.action:
        query = query.where(AuditEntry.action == chosen.action)
    if chosen.actor:
        query = query.where(func.lower(AuditEntry.actor_email).contains(chosen.actor.lower(), autoescape=True))
    if chosen.object_type:
        query = query.where(AuditEntry.object_type == chosen.object_type)
    if chosen.object_id is not None:
        query = query.where(AuditEntry.object_id == chosen.object_id)
    if chosen.since:
        query = query.where(AuditEntry.at >= _start_of_day(chosen.since))
    if chosen.until:
        query = query.where(AuditEntry.at < _start_of_day(chosen.until + timedelta(days=1)))
    return query


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int


def log_page(session: Session, organisation_id: int, chosen: LogFilter) -> LogPage:
    """One page of the organisation's log, newest first."""
    query = _filtered(organisation_id, chosen)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, chosen.page), pages)
    entries = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return LogPage(list(entries), total, page, pages)


def log_entries(session: Session, organisation_id: int, chosen: LogFilter) -> list[AuditEntry]:
    """Every entry the filter selects, oldest first (for the export)."""
    return list(session.scalars(_filtered(organisation_id, chosen).order_by(AuditEntry.id)))


def actions(session: Session, organisation_id: int) -> list[str]:
    """The actions that occur in the organisation's log (the filter's choices)."""
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.organisation_id == organisation_id)
            .distinct()
            .order_by(AuditEntry.action)
        )
    )


def record_export(session: Session, actor: Actor, organisation_id: int, rows: int, chosen: LogFilter) -> None:
    """An export of the log is itself an export of personal data (it names people): it is logged as well.

    Announced as an event like every other change, so whoever subscribes to events (this log, the server's log)
    sees it.
    """
    announce(
        signals.audit_log_exported,
        session,
        actor,
        organisation_id=organisation_id,
        object_id=None,
        after={"rows": rows, "filter": chosen.to_args()},
    )


# --- verifying -----------------------------------------------------------------------------------------------------


def verify_chains(session: Session) -> list[ChainReport]:
    """Walk every chain from its first entry and report, per chain, the first broken link (if any)."""
    heads = {row.chain: Head(row.last_sequence, row.last_hash) for row in session.scalars(select(AuditChainHead))}
    chains = set(heads) | set(session.scalars(select(AuditEntry.chain).distinct()))
    reports = []
    for chain in sorted(chains):
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.chain == chain)
            .order_by(AuditEntry.sequence)
            # In batches (the session holds entries only weakly), and as stored now, not as the session read them.
            .execution_options(yield_per=1000, populate_existing=True)
        )
        reports.append(check_chain(chain, entries, heads.get(chain)))
    return reports
