"""Storing checklist versions as immutable snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.checklists.loader import LoadedChecklist
from audit.checklists.models import ChecklistVersion
from audit.errors import DomainError


class VersionConflict(DomainError):
    """Different content under a checklist key and version that is already stored."""


class StoreOutcome(StrEnum):
    created = "created"
    unchanged = "unchanged"


@dataclass(frozen=True, slots=True)
class StoreResult:
    outcome: StoreOutcome
    version: ChecklistVersion


def store_checklist(session: Session, loaded: LoadedChecklist, actor: User | None = None) -> StoreResult:
    """Store a validated checklist; the same content again changes nothing, changed content must bump `version`."""
    checklist = loaded.checklist
    existing = session.scalar(
        select(ChecklistVersion).where(
            ChecklistVersion.key == checklist.key, ChecklistVersion.version == checklist.version
        )
    )
    if existing is not None:
        if existing.sha256 == loaded.sha256:
            return StoreResult(StoreOutcome.unchanged, existing)
        raise VersionConflict(
            f"{loaded.path}: checklist '{checklist.key}' version {checklist.version} is already stored with "
            f"different content (sha256 {existing.sha256[:12]}…, this file {loaded.sha256[:12]}…); "
            f"stored versions never change, so bump 'version' to {latest_version(session, checklist.key) + 1}"
        )
    version = ChecklistVersion(
        key=checklist.key,
        version=checklist.version,
        sha256=loaded.sha256,
        title_sv=checklist.title.sv,
        title_en=checklist.title.en,
        content=loaded.content,
        source_name=loaded.path.rsplit("/", 1)[-1],
        item_count=len(checklist.items()),
        loaded_by_id=actor.id if actor else None,
    )
    session.add(version)
    session.flush()
    return StoreResult(StoreOutcome.created, version)


def latest_version(session: Session, key: str) -> int:
    versions = session.scalars(select(ChecklistVersion.version).where(ChecklistVersion.key == key)).all()
    return max(versions, default=0)


def current_checklist(session: Session, key: str) -> ChecklistVersion | None:
    """The newest stored version of a checklist: what a new inspection pins."""
    return session.scalar(
        select(ChecklistVersion).where(ChecklistVersion.key == key).order_by(ChecklistVersion.version.desc()).limit(1)
    )
