"""Remediation tasks: one failed checklist item to fix, by someone, by a date, with proof; and their history.

The workflow is a state machine on `RemediationTask`:

    open → in_progress → done → verified
                          done → open (reopened)

and a later approved inspection in which the item passes verifies an unfinished task directly. Every move, and
every assignment or change of the due date, is recorded as a `TaskEvent`. The CHECK constraints make the database
refuse rows that no sequence of valid moves could produce.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Computed,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from audit.accounts.models import User
from audit.buildings.models import Building
from audit.checklists.schema import Severity
from audit.database import Base, UTCDateTime, utcnow
from audit.enums import enum_column_type
from audit.errors import N_
from audit.inspections.answers import VALUE_DECIMALS, VALUE_DIGITS
from audit.inspections.models import Inspection
from audit.photos.models import StoredPhoto
from audit.remediation.workflow import TaskAction, TaskCheckFailed, TaskStatus, next_status

#: Most serious first, for sorting and for the exports.
SEVERITY_ORDER = (Severity.critical, Severity.high, Severity.medium, Severity.low)
#: A task's place in SEVERITY_ORDER, as SQL (4 for a severity it does not know).
SEVERITY_RANK = (
    "CASE severity "
    + " ".join(f"WHEN '{severity.value}' THEN {rank}" for rank, severity in enumerate(SEVERITY_ORDER))
    + f" ELSE {len(SEVERITY_ORDER)} END"
)


class RemediationTask(Base):
    __tablename__ = "remediation_tasks"
    __table_args__ = (
        #: Approving an inspection again, or running the step twice, never creates a second task for an item.
        UniqueConstraint("inspection_id", "item_key"),
        #: At most one unfinished task per building and item: a later inspection notes a repeat on it instead.
        Index(
            "uq_remediation_tasks_unverified_item",
            "building_id",
            "item_key",
            unique=True,
            sqlite_where=text("status <> 'verified'"),
            postgresql_where=text("status <> 'verified'"),
        ),
        Index("ix_remediation_tasks_organisation_id_status_due_date", "organisation_id", "status", "due_date"),
        #: The portfolio's pages (migration 0011): the list by due date, counts per building and area, the trend.
        Index("ix_remediation_tasks_organisation_id_due_date", "organisation_id", "due_date", "id"),
        Index(
            "ix_remediation_tasks_organisation_id_status_building_id",
            "organisation_id",
            "status",
            "building_id",
            "due_date",
        ),
        Index("ix_remediation_tasks_organisation_id_created_at", "organisation_id", "created_at"),
        Index("ix_remediation_tasks_organisation_id_verified_at", "organisation_id", "verified_at"),
        #: The task list sorted by severity (migration 0012): a walk of the index instead of sorting every task.
        Index(
            "ix_remediation_tasks_organisation_id_severity_rank",
            "organisation_id",
            "severity_rank",
            "due_date",
            "id",
        ),
        CheckConstraint(
            "status NOT IN ('done', 'verified') OR completed_at IS NOT NULL OR verified_by_inspection_id IS NOT NULL",
            name="done_has_completion",
        ),
        CheckConstraint(
            "status <> 'done' OR (completion_comment IS NOT NULL AND completed_by_id IS NOT NULL)",
            name="done_has_comment",
        ),
        CheckConstraint(
            "status <> 'verified' OR (verified_at IS NOT NULL AND verified_by_id IS NOT NULL)",
            name="verified_has_verifier",
        ),
        CheckConstraint("status = 'verified' OR verified_at IS NULL", name="only_verified_has_verified_at"),
        CheckConstraint("repeat_count >= 0", name="repeat_count_positive"),
        CheckConstraint("measured_value IS NULL OR measured_unit IS NOT NULL", name="measured_value_has_unit"),
        #: A task comes from an inspection's finding or from a deviation report (migration 0013).
        CheckConstraint("inspection_id IS NOT NULL OR deviation_id IS NOT NULL", name="has_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the building so every query can be scoped to the organisation directly.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    #: The approved inspection whose failed answer created the task (its comment and photos are the finding);
    #: None for a task made from a deviation report.
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    #: The deviation report the task was made from (see `audit.deviations.services.create_task`); its item key is
    #: ``AVV-<report id>``, so it never collides with a checklist item's task.
    deviation_id: Mapped[int | None] = mapped_column(ForeignKey("deviation_reports.id", ondelete="CASCADE"), index=True)
    section_key: Mapped[str] = mapped_column(String(8))
    #: The checklist item's stable key, e.g. ``GAR-03``.
    item_key: Mapped[str] = mapped_column(String(16))
    #: The item's text when the task was made, in both languages (lists and exports need no checklist lookup).
    item_text_sv: Mapped[str] = mapped_column(Text)
    item_text_en: Mapped[str] = mapped_column(Text)
    critical: Mapped[bool] = mapped_column(default=False)
    #: From the item's remediation defaults in the checklist.
    severity: Mapped[Severity] = mapped_column(enum_column_type(Severity, "task_severity"), index=True)
    #: Kept by the database from `severity` (0 = critical … 3 = low): what the task list sorts by, through an index.
    severity_rank: Mapped[int] = mapped_column(SmallInteger, Computed(SEVERITY_RANK, persisted=True))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(
        enum_column_type(TaskStatus, "task_status"), default=TaskStatus.open, index=True
    )
    #: The inspector's comment on the failed answer.
    finding: Mapped[str | None] = mapped_column(Text)
    #: A failed measurement: the value the inspector measured, its unit and the checklist's limits then (so the
    #: contractor knows how high the bushes are, and how low they must be).
    measured_value: Mapped[Decimal | None] = mapped_column(Numeric(VALUE_DIGITS, VALUE_DECIMALS))
    measured_unit: Mapped[str | None] = mapped_column(String(16))
    required_min: Mapped[Decimal | None] = mapped_column(Numeric(VALUE_DIGITS, VALUE_DECIMALS))
    required_max: Mapped[Decimal | None] = mapped_column(Numeric(VALUE_DIGITS, VALUE_DECIMALS))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What the assignee says was done.
    completion_comment: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The later inspection in which the item passed, when that verified the task.
    verified_by_inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id", ondelete="SET NULL"))
    #: How many later inspections found the item failing again while the task was open.
    repeat_count: Mapped[int] = mapped_column(default=0)

    building: Mapped[Building] = relationship()
    inspection: Mapped[Inspection | None] = relationship(foreign_keys=[inspection_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    events: Mapped[list[TaskEvent]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskEvent.id"
    )
    photos: Mapped[list[TaskPhoto]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskPhoto.id"
    )

    def item_text(self, language: str) -> str:
        return self.item_text_en if language == "en" else self.item_text_sv

    def is_overdue(self, today: date) -> bool:
        return self.status.active and self.due_date < today

    # --- the workflow --------------------------------------------------------------------------------------------

    def _record(
        self, actor: User, action: TaskAction, before: TaskStatus | None, comment: str | None = None, **details: object
    ) -> None:
        self.events.append(
            TaskEvent(actor=actor, action=action, from_status=before, to_status=self.status, comment=comment, **details)
        )

    def _move(self, actor: User, action: TaskAction, comment: str | None = None, **details: object) -> None:
        """Change the status as the workflow says (or refuse) and record the step."""
        before = self.status
        self.status = next_status(action, before)
        self._record(actor, action, before, comment, **details)

    def _check(self, action: TaskAction, ok: bool, message: str) -> None:
        next_status(action, self.status)  # a move from the wrong status is refused as such, before any other check
        if not ok:
            raise TaskCheckFailed(message, action, self.status)

    def record_creation(self, actor: User) -> None:
        """The first step of the history; a new task is open."""
        self.status = self.status or TaskStatus.open
        self._record(actor, TaskAction.created, None)

    def start(self, actor: User) -> None:
        self._move(actor, TaskAction.started)

    def complete(self, actor: User, comment: str, at: datetime | None = None) -> None:
        self._check(TaskAction.completed, bool(comment.strip()), N_("Describe what was done."))
        self._check(
            TaskAction.completed, bool(self.photos), N_("Add a photo of the fixed item before marking the task done.")
        )
        self.completed_at = at or utcnow()
        self.completed_by = actor
        self.completion_comment = comment.strip()
        self._move(actor, TaskAction.completed, self.completion_comment)

    def verify(self, actor: User, comment: str | None = None, at: datetime | None = None) -> None:
        next_status(TaskAction.verified, self.status)
        self.verified_at = at or utcnow()
        self.verified_by = actor
        self._move(actor, TaskAction.verified, (comment or "").strip() or None)

    def reopen(self, actor: User, comment: str) -> None:
        self._check(TaskAction.reopened, bool(comment.strip()), N_("Say why the task is reopened."))
        self.completed_at = None
        self.completed_by = None
        self.completion_comment = None
        self._move(actor, TaskAction.reopened, comment.strip())

    def verify_by_inspection(self, actor: User, inspection: Inspection, at: datetime | None = None) -> None:
        """The item passed in a later approved inspection: the task is finished, whatever its status was."""
        next_status(TaskAction.verified_by_inspection, self.status)
        self.verified_at = at or utcnow()
        self.verified_by = actor
        self.verified_by_inspection_id = inspection.id
        self._move(actor, TaskAction.verified_by_inspection, inspection_id=inspection.id)

    def note_failed_again(self, actor: User, inspection: Inspection, comment: str | None) -> None:
        """The item failed again in a later approved inspection: the task stays as it is, and says so."""
        next_status(TaskAction.failed_again, self.status)
        self.repeat_count += 1
        self._move(actor, TaskAction.failed_again, comment, inspection_id=inspection.id)

    def assign(self, actor: User, assignee: User | None) -> None:
        next_status(TaskAction.assigned, self.status)
        self.assignee = assignee
        self._move(actor, TaskAction.assigned, assignee_id=assignee.id if assignee else None)

    def change_due_date(self, actor: User, due: date, reason: str) -> None:
        self._check(TaskAction.due_date_changed, bool(reason.strip()), N_("Give a reason for the new due date."))
        previous, self.due_date = self.due_date, due
        self._move(actor, TaskAction.due_date_changed, reason.strip(), due_date=due, previous_due_date=previous)

    def __repr__(self) -> str:
        return f"<RemediationTask {self.id} {self.item_key} {self.status}>"


class TaskEvent(Base):
    """One step in a task's history: who did what, when, from which status to which, and why."""

    __tablename__ = "task_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("remediation_tasks.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[TaskAction] = mapped_column(enum_column_type(TaskAction, "task_action"))
    #: None for the task's creation.
    from_status: Mapped[TaskStatus | None] = mapped_column(enum_column_type(TaskStatus, "task_event_from"))
    to_status: Mapped[TaskStatus] = mapped_column(enum_column_type(TaskStatus, "task_event_to"))
    comment: Mapped[str | None] = mapped_column(Text)
    #: The new assignee (assigned; None when the task was unassigned).
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The new and the previous due date (due_date_changed).
    due_date: Mapped[date | None] = mapped_column(Date)
    previous_due_date: Mapped[date | None] = mapped_column(Date)
    #: The inspection that verified the task or found the item failing again.
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("inspections.id", ondelete="SET NULL"))

    task: Mapped[RemediationTask] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])


class TaskPhoto(StoredPhoto, Base):
    """A photo of the fixed item (the evidence), uploaded by the assignee."""

    __tablename__ = "task_photos"

    task_id: Mapped[int] = mapped_column(ForeignKey("remediation_tasks.id", ondelete="CASCADE"), index=True)

    task: Mapped[RemediationTask] = relationship(back_populates="photos")


class FollowUp(Base):
    """What a follow-up inspection re-checks, and of which earlier approved inspection it is the follow-up.

    Fixed when the follow-up starts: the items that failed before or still have an unverified task, and every
    critical item. The walk, the progress and the score of the follow-up cover only these items.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (CheckConstraint("previous_id <> inspection_id", name="previous_is_another"),)

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    previous_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    #: The checklist items carried over, sorted.
    item_keys: Mapped[list[str]] = mapped_column(JSON)

    previous: Mapped[Inspection] = relationship(foreign_keys=[previous_id])
