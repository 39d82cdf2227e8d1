"""Helpers for the remediation tests: walk, submit and approve an inspection with chosen failed items."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import is_applicable
from audit.demo import answer_for, demo_photo
from audit.inspections.models import Inspection, InspectionKind
from audit.inspections.services import (
    AnswerInput,
    approve_inspection,
    save_answer,
    start_inspection,
    submit_inspection,
)
from audit.photos.services import add_photo
from audit.remediation.models import RemediationTask

#: Failed with a finding comment and (where the item wants one) a photo.
FINDING = '=HYPERLINK("http://example.invalid") Buskarna skymmer entrén.'


def walk(
    session: Session,
    inspector: User,
    inspection: Inspection,
    failing: Collection[str],
    only: Collection[str] | None = None,
) -> None:
    """Answer every applicable item (or those in `only`): the ones in `failing` fail, the rest pass."""
    features = inspection.building.features
    for section, item in inspection.checklist_version.checklist.items():
        if not is_applicable(section, item, features) or (only is not None and item.key not in only):
            continue
        fails = item.key in failing
        given = answer_for(item, passing=not fails)
        if fails:
            given = AnswerInput(given.result, given.value, given.choice, given.text, comment=FINDING)
        save_answer(session, inspector, inspection, item.key, given)
        if fails and item.photo_required_on_fail:
            add_photo(session, inspector, inspection, item.key, demo_photo(item.key))


def approved_inspection(
    session: Session,
    inspector: User,
    manager: User,
    building: Building,
    version: ChecklistVersion,
    failing: Collection[str],
    kind: InspectionKind = InspectionKind.certification,
) -> Inspection:
    inspection = start_inspection(session, inspector, building, kind, version)
    walk(session, inspector, inspection, failing)
    submit_inspection(session, inspector, inspection)
    approve_inspection(session, manager, inspection)
    return inspection


def tasks_of(session: Session, inspection: Inspection) -> dict[str, RemediationTask]:
    return {
        task.item_key: task
        for task in session.scalars(select(RemediationTask).where(RemediationTask.inspection_id == inspection.id))
    }
