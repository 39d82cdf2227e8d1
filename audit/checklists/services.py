"""Storing checklist versions as immutable snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.checklists.loader import LoadedChecklist
from audit.checklists.models import ChecklistVersion, StoredVersion
from audit.errors import DomainError

V = TypeVar("V", bound=StoredVersion)


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
    existing = stored_version(session, ChecklistVersion, checklist.key, checklist.version, loaded.sha256, loaded.path)
    if existing is not None:
        return StoreResult(StoreOutcome.unchanged, existing)
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


def stored_version(session: Session, model: type[V], key: str, version: int, sha256: str, path: str) -> V | None:
    """The stored version with this key and number when it holds this content; None when there is none yet.

    Raises VersionConflict for other content under a stored key and version: stored versions never change."""
    existing = session.scalar(select(model).where(model.key == key, model.version == version))
    if existing is None or existing.sha256 == sha256:
        return existing
    raise VersionConflict(
        f"{path}: '{key}' version {version} is already stored with different content (sha256 "
        f"{existing.sha256[:12]}…, this file {sha256[:12]}…); stored versions never change, so bump 'version' to "
        f"{latest_version(session, model, key) + 1}"
    )


def latest_version(session: Session, model: type[StoredVersion], key: str) -> int:
    versions = session.scalars(select(model.version).where(model.key == key)).all()
    return max(versions, default=0)


def current_checklist(session: Session, key: str) -> ChecklistVersion | None:
    """The newest stored version of a checklist: what a new inspection pins."""
    return session.scalar(
        select(ChecklistVersion).where(ChecklistVersion.key == key).order_by(ChecklistVersion.version.desc()).limit(1)
    )
