"""Remediation: tasks from an approved inspection's findings, the workflow steps, assignment and due dates."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import Membership, Role, User
from audit.buildings.models import Building
from audit.certificates.status import local_date, today_in_sweden
from audit.checklists.schema import Item, MeasurementAnswer, Severity, is_applicable
from audit.database import utcnow
from audit.errors import N_, DomainError
from audit.events import EventActor, announce
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionStatus
from audit.inspections.services import InvalidAnswer
from audit.photos.models import Photo
from audit.photos.services import stored_photo_fields
from audit.remediation import signals
from audit.remediation.models import RemediationTask, TaskEvent, TaskPhoto
from audit.remediation.workflow import TaskStatus

#: Most evidence photos one task can have.
MAX_PHOTOS_PER_TASK = 20
#: Who can be given a task: everyone in the organisation except read-only viewers.
ASSIGNABLE_ROLES = (Role.contractor, Role.manager, Role.admin, Role.inspector)


def today() -> date:
    """Due dates and "overdue" are Swedish calendar days."""
    return today_in_sweden()


# --- tasks from findings ---------------------------------------------------------------------------------------


@dataclass
class TaskSync:
    """What approving an inspection did to the building's tasks."""

    created: list[RemediationTask] = field(default_factory=list)
    verified: list[RemediationTask] = field(default_factory=list)
    failed_again: list[RemediationTask] = field(default_factory=list)


def sync_tasks(session: Session, actor: User, inspection: Inspection) -> TaskSync:
    """Turn an approved inspection's answers into task changes; running it again changes nothing.

    A failed item gets a task (severity and due date from the item's remediation defaults), unless the building
    already has an unverified task for it from an earlier inspection: that one is noted as failed again. An item
    that passes verifies such an earlier task. A task from a later inspection (approved first) is newer evidence
    and is left as it is.
    """
    if inspection.status is not InspectionStatus.approved:
        raise DomainError(N_("Tasks are made from approved inspections only."))
    checklist = inspection.checklist_version.checklist
    features = inspection.building.features
    answers = {answer.item_key: answer for answer in inspection.answers}
    own = set(session.scalars(select(RemediationTask.item_key).where(RemediationTask.inspection_id == inspection.id)))
    unverified = {
        task.item_key: task
        for task in session.scalars(
            select(RemediationTask).where(
                RemediationTask.building_id == inspection.building_id, RemediationTask.status != TaskStatus.verified
            )
        )
    }
    noted = set(session.scalars(select(TaskEvent.task_id).where(TaskEvent.inspection_id == inspection.id)))
    approved_on = local_date(inspection.reviewed_at or utcnow())
    result = TaskSync()
    for section, item in checklist.items():
        answer = answers.get(item.key)
        if answer is None or not is_applicable(section, item, features) or item.key in own:
            continue
        task = unverified.get(item.key)
        if task is not None and (task.inspection_id or 0) > inspection.id:
            continue
        if answer.result is AnswerResult.passed and task is not None:
            task.verify_by_inspection(actor, inspection)
            result.verified.append(task)
        elif answer.result is AnswerResult.failed and task is not None:
            if task.id not in noted:
                task.note_failed_again(actor, inspection, answer.comment)
                result.failed_again.append(task)
        elif answer.result is AnswerResult.failed and item.remediation is not None:
            task = RemediationTask(
                organisation_id=inspection.organisation_id,
                building_id=inspection.building_id,
                inspection=inspection,
                section_key=section.key,
                item_key=item.key,
                item_text_sv=item.text.sv,
                item_text_en=item.text.en,
                critical=item.critical,
                severity=item.remediation.severity,
                due_date=approved_on + timedelta(days=item.remediation.fix_days),
                finding=answer.comment,
                **_measurement(item, answer),
            )
            task.record_creation(actor)
            session.add(task)
            result.created.append(task)
    session.flush()
    _announce(session, actor, [*result.created, *result.verified, *result.failed_again])
    return result


def create_task(
    session: Session,
    actor: User,
    building: Building,
    *,
    item_key: str,
    section_key: str,
    text_sv: str,
    text_en: str,
    severity: Severity,
    due_date: date,
    finding: str | None,
    deviation_id: int,
) -> RemediationTask:
    """A task that no inspection made: something seen between inspections (a deviation report) to be fixed."""
    task = RemediationTask(
        organisation_id=building.organisation_id,
        building=building,
        deviation_id=deviation_id,
        section_key=section_key,
        item_key=item_key,
        item_text_sv=text_sv,
        item_text_en=text_en,
        severity=severity,
        due_date=due_date,
        finding=finding,
    )
    task.record_creation(actor)
    session.add(task)
    session.flush()
    _announce(session, actor, [task])
    return task


def _announce(session: Session, actor: User, tasks: Iterable[RemediationTask]) -> None:
    """Tell the subscribers (the audit log) about each task's newest step, as its history recorded it."""
    for task in tasks:
        step = task.events[-1]
        details = {
            "comment": step.comment,
            "assignee_id": step.assignee_id,
            "due_date": step.due_date,
            "previous_due_date": step.previous_due_date,
            "inspection_id": step.inspection_id,
        }
        announce(
            signals.task_events[step.action],
            session,
            actor,
            organisation_id=task.organisation_id,
            object_id=task.id,
            before=None if step.from_status is None else {"status": step.from_status},
            after={"status": step.to_status, **{name: value for name, value in details.items() if value is not None}},
        )


def _measurement(item: Item, answer: Answer) -> dict[str, object]:
    """A failed measurement's value, unit and limits, carried into its task."""
    spec = item.answer
    if not isinstance(spec, MeasurementAnswer) or answer.value is None:
        return {}
    return {
        "measured_value": answer.value,
        "measured_unit": spec.unit.value,
        "required_min": None if spec.threshold.min is None else Decimal(str(spec.threshold.min)),
        "required_max": None if spec.threshold.max is None else Decimal(str(spec.threshold.max)),
    }


# --- the workflow ----------------------------------------------------------------------------------------------


def start_task(session: Session, actor: User, task: RemediationTask) -> None:
    task.start(actor)
    session.flush()
    _announce(session, actor, [task])


def complete_task(session: Session, actor: User, task: RemediationTask, comment: str) -> None:
    task.complete(actor, comment)
    session.flush()
    _announce(session, actor, [task])


def verify_task(session: Session, actor: User, task: RemediationTask, comment: str | None = None) -> None:
    task.verify(actor, comment)
    session.flush()
    _announce(session, actor, [task])


def reopen_task(session: Session, actor: User, task: RemediationTask, comment: str) -> None:
    task.reopen(actor, comment)
    session.flush()
    _announce(session, actor, [task])


def assignable_users(session: Session, organisation_id: int) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organisation_id == organisation_id,
                Membership.role.in_(ASSIGNABLE_ROLES),
                User.active.is_(True),
            )
            .order_by(User.name)
        )
    )


def assign_tasks(
    session: Session, actor: User, organisation_id: int, tasks: Iterable[RemediationTask], assignee: User | None
) -> int:
    """Give tasks to a member of the organisation (or to nobody); all or none of them."""
    tasks = list(tasks)
    if assignee is not None and assignee.id not in {user.id for user in assignable_users(session, organisation_id)}:
        raise DomainError(N_("Tasks can only be given to active members of the organisation who may work on them."))
    if any(task.organisation_id != organisation_id for task in tasks):
        raise DomainError(N_("Tasks can only be given to active members of the organisation who may work on them."))
    for task in tasks:
        task.assign(actor, assignee)
    session.flush()
    _announce(session, actor, tasks)
    return len(tasks)


def change_due_date(session: Session, actor: User, task: RemediationTask, due: date, reason: str) -> None:
    task.change_due_date(actor, due, reason)
    session.flush()
    _announce(session, actor, [task])


def add_task_photo(session: Session, actor: User, task: RemediationTask, raw: bytes) -> TaskPhoto:
    """A photo of the fixed item; raises PhotoRejected for content that is not a usable image."""
    if not task.status.active:
        raise DomainError(N_("The task is marked done: its photos are final."))
    if len(task.photos) >= MAX_PHOTOS_PER_TASK:
        raise InvalidAnswer(N_("%(key)s already has %(count)d photos."), key=task.item_key, count=MAX_PHOTOS_PER_TASK)
    photo = TaskPhoto(task=task, **stored_photo_fields(session, actor, raw, task.building.organisation))
    session.add(photo)
    session.flush()
    return photo


def record_work(
    session: Session, actor: User, task: RemediationTask, comment: str, photo: bytes | None, *, done: bool
) -> None:
    """The assignee's report from the site: an optional photo, and (when `done`) the task marked done with it."""
    if photo:
        add_task_photo(session, actor, task, photo)
    if done:
        complete_task(session, actor, task, comment)


def finding_photos(session: Session, task: RemediationTask) -> list[Photo]:
    """The inspector's photos of the failed item (in the inspection that created the task)."""
    return list(
        session.scalars(
            select(Photo)
            .where(Photo.inspection_id == task.inspection_id, Photo.item_key == task.item_key)
            .order_by(Photo.id)
        )
    )


def record_export(session: Session, actor: EventActor, organisation_id: int, kind: str, rows: int) -> None:
    """An export of task lists (they name assignees, so it is an export of personal data) is recorded."""
    announce(
        signals.tasks_exported,
        session,
        actor,
        organisation_id=organisation_id,
        object_id=None,
        after={"format": kind, "rows": rows},
    )
