"""Follow-up inspections: what they re-check, and the checklist they are walked and scored against.

A follow-up of a building covers the items that failed in its latest approved inspection or still have an
unverified task, and every critical item; nothing else. `plan_follow_up()` fixes that list when the follow-up
starts (a `FollowUp` row); `inspection_checklist()` is the checklist of any inspection as its walk, progress and
score see it: the pinned version itself, or for a follow-up the same version with only the carried-over items.
Approving the follow-up then verifies or notes the building's tasks like any approval (`services.sync_tasks`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from audit.buildings.features import Feature
from audit.checklists.schema import Checklist, is_applicable
from audit.errors import N_, InvalidTransition
from audit.inspections.models import (
    Answer,
    AnswerResult,
    Inspection,
    InspectionKind,
    InspectionScope,
    InspectionStatus,
)
from audit.remediation.models import FollowUp, RemediationTask
from audit.remediation.workflow import TaskStatus

#: Restricted checklists by (the checklist object, carried-over keys): the same object every time, so caches keyed
#: by the checklist (the walk's layouts) keep working.
_RESTRICTED: dict[tuple[int, tuple[str, ...]], tuple[Checklist, Checklist]] = {}


class NothingToFollowUp(InvalidTransition):
    """A follow-up was asked for a building that has no approved inspection (the API answers 409)."""

    def __init__(self) -> None:
        super().__init__("inspection", "none approved", "follow_up")
        self.message = N_("A follow-up needs an approved inspection of the building to follow up.")
        self.params = {}
        self.args = (self.message,)


def follow_up_items(
    checklist: Checklist, features: frozenset[Feature], failed: Collection[str], unverified: Collection[str]
) -> list[str]:
    """The applicable scored items that failed or have an unverified task, and every applicable critical item."""
    return [
        item.key
        for section, item in checklist.items()
        if is_applicable(section, item, features)
        and item.is_scored
        and (item.critical or item.key in failed or item.key in unverified)
    ]


def restricted(checklist: Checklist, keys: Collection[str]) -> Checklist:
    """The checklist with only these items (and only the sections that keep one); pure, cached."""
    wanted = tuple(sorted(keys))
    cached = _RESTRICTED.get((id(checklist), wanted))
    if cached is not None and cached[0] is checklist:
        return cached[1]
    sections = tuple(
        section.model_copy(update={"items": tuple(item for item in section.items if item.key in wanted)})
        for section in checklist.sections
    )
    result = checklist.model_copy(update={"sections": tuple(section for section in sections if section.items)})
    if len(_RESTRICTED) > 1024:
        _RESTRICTED.clear()
    _RESTRICTED[(id(checklist), wanted)] = (checklist, result)
    return result


def follow_up_of(inspection: Inspection) -> FollowUp | None:
    """The plan of a follow-up inspection; None for other kinds (and for follow-ups without a plan)."""
    if inspection.kind is not InspectionKind.follow_up or inspection.id is None:
        return None
    session = object_session(inspection)
    return session.get(FollowUp, inspection.id) if session is not None else None


def scope_of(inspection: Inspection) -> InspectionScope | None:
    """The sections a limited spot check covers; None for an inspection of the whole checklist."""
    if inspection.kind is not InspectionKind.spot_check or inspection.id is None:
        return None
    session = object_session(inspection)
    return session.get(InspectionScope, inspection.id) if session is not None else None


def section_items(checklist: Checklist, section_keys: Collection[str]) -> list[str]:
    """The keys of every item of these sections."""
    return [item.key for section in checklist.sections if section.key in section_keys for item in section.items]


def inspection_checklist(inspection: Inspection) -> Checklist:
    """The checklist the inspection is walked and scored against: a follow-up's carried-over items only, a limited
    spot check's sections only, else the whole pinned version."""
    checklist = inspection.checklist_version.checklist
    follow_up = follow_up_of(inspection)
    if follow_up is not None:
        return restricted(checklist, follow_up.item_keys)
    scope = scope_of(inspection)
    return checklist if scope is None else restricted(checklist, section_items(checklist, scope.section_keys))


def plan_follow_up(session: Session, inspection: Inspection) -> FollowUp:
    """Fix what a new follow-up inspection covers, from the building's latest approved inspection and its tasks."""
    previous = session.scalar(
        select(Inspection)
        .where(
            Inspection.building_id == inspection.building_id,
            Inspection.status == InspectionStatus.approved,
            Inspection.id != inspection.id,
        )
        .order_by(Inspection.reviewed_at.desc(), Inspection.id.desc())
        .limit(1)
    )
    if previous is None:
        raise NothingToFollowUp()
    failed = session.scalars(
        select(Answer.item_key).where(Answer.inspection_id == previous.id, Answer.result == AnswerResult.failed)
    ).all()
    unverified = session.scalars(
        select(RemediationTask.item_key).where(
            RemediationTask.building_id == inspection.building_id, RemediationTask.status != TaskStatus.verified
        )
    ).all()
    keys = follow_up_items(inspection.checklist_version.checklist, inspection.building.features, failed, unverified)
    follow_up = FollowUp(inspection_id=inspection.id, previous=previous, item_keys=keys)
    session.add(follow_up)
    session.flush()
    return follow_up
