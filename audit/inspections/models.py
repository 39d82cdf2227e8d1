"""Inspections (one walk of one building against one pinned checklist version) and their answers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from audit.accounts.models import Organisation, User
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.database import Base, UTCDateTime, utcnow
from audit.enums import enum_column_type
from audit.errors import ImmutableError, InvalidTransition
from audit.inspections.answers import VALUE_DECIMALS, VALUE_DIGITS, AnswerResult
from audit.inspections.scoring import Response, ScoreCard
from audit.photos.models import Photo


class InspectionKind(StrEnum):
    certification = "certification"
    follow_up = "follow_up"
    spot_check = "spot_check"


class InspectionStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    approved = "approved"
    returned = "returned"
    #: A draft given up with a reason: kept for the record, out of the lists, never changed again.
    discarded = "discarded"

    @property
    def editable(self) -> bool:
        """Whether the inspector may still change answers."""
        return self in (InspectionStatus.draft, InspectionStatus.returned)


_S = InspectionStatus


class Inspection(Base):
    """The state machine: draft → submitted → approved, or submitted → returned → submitted again; a draft may
    instead be discarded (with a reason) and then stays as it is.

    Transitions happen only through the methods below, which refuse invalid moves; the CHECK constraints make
    the database refuse rows that no sequence of valid moves could produce.
    """

    __tablename__ = "inspections"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'returned', 'discarded') OR "
            "(submitted_at IS NOT NULL AND score_passed IS NOT NULL AND score_card IS NOT NULL)",
            name="submitted_has_score",
        ),
        CheckConstraint("status <> 'draft' OR (submitted_at IS NULL AND reviewed_at IS NULL)", name="draft_unsent"),
        CheckConstraint(
            "status NOT IN ('approved', 'returned') OR (reviewer_id IS NOT NULL AND reviewed_at IS NOT NULL)",
            name="reviewed_has_reviewer",
        ),
        CheckConstraint(
            "status <> 'returned' OR (reviewed_at IS NOT NULL AND review_comment IS NOT NULL)",
            name="returned_has_comment",
        ),
        CheckConstraint(
            "status <> 'discarded' OR (submitted_at IS NULL AND reviewed_at IS NULL AND discarded_by_id IS NOT NULL "
            "AND discarded_at IS NOT NULL AND length(trim(discard_reason)) > 0)",
            name="discarded_has_reason",
        ),
        CheckConstraint(
            "status = 'discarded' OR (discarded_by_id IS NULL AND discarded_at IS NULL AND discard_reason IS NULL)",
            name="only_discarded_has_discard",
        ),
        CheckConstraint("score_total IS NULL OR (score_total >= 0 AND score_total <= 1)", name="score_range"),
        #: The inspection list's pages, newest first, of every status or one (migration 0012).
        Index("ix_inspections_organisation_id_id", "organisation_id", "id"),
        Index("ix_inspections_organisation_id_status_id", "organisation_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Repeated from the building so every query can be scoped to the organisation directly.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    #: Pinned when the inspection starts: later checklist versions never change it.
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"), index=True)
    kind: Mapped[InspectionKind] = mapped_column(enum_column_type(InspectionKind, "inspection_kind"))
    status: Mapped[InspectionStatus] = mapped_column(
        enum_column_type(InspectionStatus, "inspection_status"), default=InspectionStatus.draft, index=True
    )
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Who approved it or returned it to the inspector.
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why it was returned (or a note with the approval).
    review_comment: Mapped[str | None] = mapped_column(Text)
    #: The scoring result stored at submission, so lists and dashboards never recompute it.
    score_total: Mapped[Decimal | None] = mapped_column(Numeric(7, 6))
    score_passed: Mapped[bool | None]
    score_card: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Who discarded the draft, when and why (set only on discarded inspections).
    discarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discard_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship()
    building: Mapped[Building] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    discarded_by: Mapped[User | None] = relationship(foreign_keys=[discarded_by_id])
    answers: Mapped[list[Answer]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Answer.item_key"
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan", order_by="Photo.id"
    )

    def _require(self, action: str, *allowed: InspectionStatus) -> None:
        if self.status not in allowed:
            raise InvalidTransition("inspection", self.status.value, action)

    def submit(self, card: ScoreCard, at: datetime | None = None) -> None:
        self._require("submitted", _S.draft, _S.returned)
        self.status = _S.submitted
        self.submitted_at = at or utcnow()
        total = card.total
        self.score_total = None if total is None else Decimal(total.numerator) / Decimal(total.denominator)
        self.score_passed = card.passed
        self.score_card = card.to_dict()

    def approve(self, reviewer: User, comment: str | None = None, at: datetime | None = None) -> None:
        self._require("approved", _S.submitted)
        self.status = _S.approved
        self.reviewer = reviewer
        self.reviewed_at = at or utcnow()
        self.review_comment = comment

    def return_to_inspector(self, reviewer: User, comment: str, at: datetime | None = None) -> None:
        self._require("returned", _S.submitted)
        if not comment.strip():
            raise ValueError("a returned inspection needs a comment for the inspector")
        self.status = _S.returned
        self.reviewed_at = at or utcnow()
        self.review_comment = comment.strip()
        self.reviewer = reviewer

    def discard(self, actor: User, reason: str, at: datetime | None = None) -> None:
        """Give up a draft that will not be submitted (started twice, wrong building); the reason is kept."""
        self._require("discarded", _S.draft)
        if not reason.strip():
            raise ValueError("a discarded draft needs a reason")
        self.status = _S.discarded
        self.discarded_by = actor
        self.discarded_at = at or utcnow()
        self.discard_reason = reason.strip()

    def responses(self) -> dict[str, Response]:
        return {answer.item_key: answer.response() for answer in self.answers}

    def __repr__(self) -> str:
        return f"<Inspection {self.id} {self.kind} {self.status}>"


class InspectionScope(Base):
    """The checklist sections an inspection is limited to (a spot check of a few sections, e.g. one started from an
    EST hot spot). Fixed when it starts; the walk, the progress and the score cover only these sections' items."""

    __tablename__ = "inspection_scopes"

    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), primary_key=True)
    #: The section keys, sorted.
    section_keys: Mapped[list[str]] = mapped_column(JSON)


class Answer(Base):
    """The inspector's judgement of one checklist item; `revision` grows with every saved change."""

    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("inspection_id", "item_key"),
        CheckConstraint("revision >= 1", name="revision_positive"),
        CheckConstraint("result <> 'na' OR (value IS NULL AND choice IS NULL)", name="na_has_no_value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), index=True)
    #: The checklist item's stable key, e.g. ``GAR-03``.
    item_key: Mapped[str] = mapped_column(String(16))
    #: The outcome: given by the inspector for pass/fail items and N/A, worked out from the value or choice for
    #: the others. NULL while only a comment has been written.
    result: Mapped[AnswerResult | None] = mapped_column(enum_column_type(AnswerResult, "answer_result"))
    #: The measured value (measurement) or the step (scale), exactly as judged (see `audit.inspections.answers`).
    value: Mapped[Decimal | None] = mapped_column(Numeric(VALUE_DIGITS, VALUE_DECIMALS))
    #: The chosen option's key (choice items).
    choice: Mapped[str | None] = mapped_column(String(40))
    #: The note of a text item.
    text: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revision: Mapped[int] = mapped_column(default=1)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")
    answered_by: Mapped[User] = relationship()

    #: Optimistic locking: every UPDATE checks the revision it read, so two writers never overwrite each other.
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy reads this class attribute)

    def response(self) -> Response:
        """What the scoring module reads."""
        return Response(
            not_applicable=self.result is AnswerResult.not_applicable,
            passed=None
            if self.result not in (AnswerResult.passed, AnswerResult.failed)
            else self.result is AnswerResult.passed,
            value=None if self.value is None else float(self.value),
            choice=self.choice,
            text=self.text,
        )


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_final_inspections(session: Session, _context: Any, _instances: Any) -> None:
    """Answers and photos of a submitted, approved or discarded inspection, and an approved or discarded inspection
    itself, never change."""
    for obj in (*session.dirty, *session.new, *session.deleted):
        if isinstance(obj, Answer | Photo) and obj.inspection is not None and not obj.inspection.status.editable:
            raise ImmutableError(f"inspection {obj.inspection.id} is {obj.inspection.status}: its answers are final")
        if isinstance(obj, Inspection) and obj in session.dirty and session.is_modified(obj):
            history = inspect(obj).attrs.status.history
            stored_status = (history.deleted or history.unchanged or [None])[0]
            if stored_status in (InspectionStatus.approved, InspectionStatus.discarded):
                raise ImmutableError(f"inspection {obj.id} is {stored_status} and can no longer change")
