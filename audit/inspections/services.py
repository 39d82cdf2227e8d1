"""Inspections: start one, save answers, submit, approve or return."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from blinker import NamedSignal
from sqlalchemy import bindparam, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from audit.accounts.models import Actor, Role, User
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import is_applicable
from audit.database import lock_for_write, utcnow
from audit.errors import N_, DomainError
from audit.events import announce
from audit.inspections import signals
from audit.inspections.answers import (
    TEXT_COUNTED_FROM,
    AnswerInput,
    AnswerResult,
    InvalidAnswer,
    check_answer,
    check_inspection_text,
    text_length,
)
from audit.inspections.models import Answer, Inspection, InspectionKind, InspectionScope, InspectionStatus
from audit.inspections.scoring import ScoreCard, score
from audit.inspections.walk import build_walk
from audit.remediation.follow_up import inspection_checklist, plan_follow_up


class IncompleteInspection(DomainError):
    def __init__(self, missing: list[str], photos_missing: list[str] | None = None) -> None:
        photos_missing = photos_missing or []
        super().__init__(
            N_("Unanswered items: %(missing)s. Failed items without a photo: %(photos)s."),
            missing=", ".join(missing) or "–",
            photos=", ".join(photos_missing) or "–",
        )
        self.missing = missing
        self.photos_missing = photos_missing


class StaleAnswer(DomainError):
    """The answer was changed after the revision the client based its change on."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(
            N_("%(key)s was changed meanwhile (revision %(revision)d)."), key=answer.item_key, revision=answer.revision
        )
        self.answer = answer


class NotInspector(DomainError):
    pass


def check_inspector(actor: Actor, inspection: Inspection) -> None:
    if actor.id != inspection.inspector_id:
        raise NotInspector(N_("Only the inspector who made the inspection can change or submit it."))


class DraftExists(DomainError):
    """The building has a draft of this kind already: it is continued (or discarded), not started twice."""

    def __init__(self, draft_id: int) -> None:
        super().__init__(N_("This building already has a draft of this kind: continue it, or discard it first."))
        self.draft_id = draft_id


def open_drafts(session: Session, building_id: int) -> list[Inspection]:
    """The building's drafts, oldest first: what "Start inspection" offers to continue."""
    return list(
        session.scalars(
            select(Inspection)
            .where(Inspection.building_id == building_id, Inspection.status == InspectionStatus.draft)
            .options(joinedload(Inspection.inspector))
            .order_by(Inspection.id)
        )
    )


class InvalidScope(DomainError):
    pass


def check_scope(checklist_version: ChecklistVersion, kind: InspectionKind, sections: Collection[str]) -> list[str]:
    """The sections a limited inspection covers, sorted: only a spot check is limited, to sections of its checklist."""
    if kind is not InspectionKind.spot_check:
        raise InvalidScope(N_("Only a spot check can be limited to some sections."))
    known = {section.key for section in checklist_version.checklist.sections}
    keys = sorted(set(sections) & known)
    if not keys:
        raise InvalidScope(N_("None of these sections is in the checklist."))
    return keys


def start_inspection(
    session: Session,
    actor: User,
    building: Building,
    kind: InspectionKind,
    checklist_version: ChecklistVersion,
    sections: Collection[str] | None = None,
    inspector: User | None = None,
) -> Inspection:
    """A new draft inspection of the building, walked by `inspector` (the actor by default); `sections` limits a
    spot check to those checklist sections (its walk, progress and score cover only their items)."""
    keys = None if sections is None else check_scope(checklist_version, kind, sections)
    # The building's row lock (SQLite: the write lock) makes two starts at once take turns, so the second one
    # sees the first one's draft.
    lock_for_write(session)
    session.execute(select(Building.id).where(Building.id == building.id).with_for_update())
    existing = session.scalar(
        select(Inspection.id)
        .where(
            Inspection.building_id == building.id,
            Inspection.kind == kind,
            Inspection.status == InspectionStatus.draft,
        )
        .limit(1)
    )
    if existing is not None:
        raise DraftExists(existing)
    inspection = Inspection(
        organisation_id=building.organisation_id,
        building=building,
        checklist_version=checklist_version,
        kind=kind,
        inspector=inspector or actor,
    )
    session.add(inspection)
    session.flush()
    if kind is InspectionKind.follow_up:
        plan_follow_up(session, inspection)  # what it re-checks: the failed and the critical items
    scoped = {} if keys is None else {"sections": keys}
    if keys is not None:
        session.add(InspectionScope(inspection_id=inspection.id, section_keys=keys))
        session.flush()
    _announce(
        signals.inspection_started, session, actor, inspection, None, kind=kind, building_id=building.id, **scoped
    )
    return inspection


def _announce(
    signal: NamedSignal,
    session: Session,
    actor: User,
    inspection: Inspection,
    before: InspectionStatus | None,
    **after: object,
) -> None:
    """Tell the subscribers (the audit log) that the inspection moved from `before` to its status now."""
    announce(
        signal,
        session,
        actor,
        organisation_id=inspection.organisation_id,
        object_id=inspection.id,
        before=None if before is None else {"status": before},
        after={"status": inspection.status, **after},
    )


class FinalInspection(DomainError):
    pass


_STATUS = select(Inspection.status).where(Inspection.id == bindparam("inspection_id"))
_LOCKED_STATUS = _STATUS.with_for_update()
#: Autosaves of one inspection may run side by side; a submission or review waits for them, and they for it.
_SHARED_STATUS = _STATUS.with_for_update(read=True)
_ANSWER_STATE = select(Answer.id, Answer.revision).where(
    Answer.inspection_id == bindparam("inspection_id"), Answer.item_key == bindparam("key")
)
#: The characters of every other answer's comment and text in the inspection.
_OTHER_TEXT = select(
    func.coalesce(
        func.sum(func.coalesce(func.length(Answer.comment), 0) + func.coalesce(func.length(Answer.text), 0)), 0
    )
).where(Answer.inspection_id == bindparam("inspection_id"), Answer.item_key != bindparam("key"))
_ANSWER = select(Answer).where(Answer.inspection_id == bindparam("inspection_id"), Answer.item_key == bindparam("key"))
#: The columns an autosave writes, as bound parameters of the statements below.
_WRITTEN = ("result", "value", "choice", "text", "comment", "answered_at", "answered_by_id")
#: Autosave's writes, built once: building a statement and its cache key from literal values costs more than
#: running it, and these run on every tap of the walk, on the connection (round the unit of work). (The
#: parameters of an UPDATE or INSERT may not be named after the table's columns: hence "inspection" and "item".)
_CHANGE_ANSWER = (
    update(Answer)
    .where(Answer.inspection_id == bindparam("inspection"), Answer.item_key == bindparam("item"))
    .values(revision=Answer.revision + 1, **{name: bindparam(f"new_{name}") for name in _WRITTEN})
    .returning(Answer.revision)
)
#: The same, only while the stored answer is still at the revision the client based its change on.
_CHANGE_ANSWER_AT = _CHANGE_ANSWER.where(Answer.revision == bindparam("base_revision"))
_FIRST_ANSWER = insert(Answer).values(
    inspection_id=bindparam("inspection"),
    item_key=bindparam("item"),
    revision=1,
    **{name: bindparam(f"new_{name}") for name in _WRITTEN},
)


#: Key in `Session.info`: ids of the inspections this transaction read under a shared row lock (PostgreSQL).
SHARE_LOCKED = "tryggahus_share_locked_inspections"


def mark_share_locked(session: Session, inspection: Inspection) -> None:
    """The inspection (and its status) was just read with FOR SHARE in this transaction: `lock_inspection(shared)`
    has nothing to add until the transaction ends. Only PostgreSQL locks rows; SQLite must still re-read."""
    if session.connection().dialect.name == "postgresql":
        session.info.setdefault(SHARE_LOCKED, set()).add(inspection.id)


@event.listens_for(Session, "after_commit")
def _locks_released(session: Session) -> None:
    if not session.in_nested_transaction():  # a released SAVEPOINT keeps its locks until the transaction ends
        session.info.pop(SHARE_LOCKED, None)


@event.listens_for(Session, "after_rollback")
def _locks_maybe_released(session: Session) -> None:
    """Also a SAVEPOINT's: PostgreSQL gives back the locks taken since it."""
    session.info.pop(SHARE_LOCKED, None)


def lock_inspection(session: Session, inspection: Inspection, *, shared: bool = False) -> None:
    """Serialise the writers of one inspection and re-read its status under the lock.

    Another device may have submitted it, or a reviewer approved it, since it was read: every change of answers,
    photos or state checks the status as it is now. PostgreSQL locks the row (`shared`: changes of single answers
    and photos, which may run side by side, but not beside a change of state); SQLite takes its write lock.
    """
    lock_for_write(session)
    if shared and inspection.id in session.info.get(SHARE_LOCKED, ()):
        return  # read under the lock by this transaction already (autosave loads it so: one round trip less)
    status = session.scalar(_SHARED_STATUS if shared else _LOCKED_STATUS, {"inspection_id": inspection.id})
    set_committed_value(inspection, "status", status)
    # The lock (a row lock, or SQLite's write lock) is held until the transaction ends: the next change in it, as
    # in a batch of answers, need not read the status again (a rolled-back SAVEPOINT forgets this).
    session.info.setdefault(SHARE_LOCKED, set()).add(inspection.id)


def check_editable(inspection: Inspection) -> None:
    if not inspection.status.editable:
        raise FinalInspection(N_("The inspection has been submitted: its answers and photos are final."))


@dataclass(frozen=True, slots=True)
class SavedAnswer:
    """An answer as `save_answer` stored it (the columns the API's `Answer` shows)."""

    item_key: str
    result: AnswerResult | None
    value: Decimal | None
    choice: str | None
    text: str | None
    comment: str | None
    revision: int
    answered_at: datetime


def save_answer(
    session: Session,
    actor: Actor,
    inspection: Inspection,
    item_key: str,
    given: AnswerInput,
    base_revision: int | None = None,
) -> SavedAnswer:
    """Create or change one answer; `base_revision` (when given) must be the stored revision.

    This runs on every tap of the walk, so it writes with plain statements rather than through the unit of work
    (the ORM's own version check would need the whole answer loaded first): one UPDATE … RETURNING changes a
    stored answer, naming the revision it replaces when the client gave one, so a change made meanwhile is never
    overwritten but reported as a StaleAnswer; only the first answer to an item needs a second statement (the
    INSERT). The actor is only an id here, for the same reason.
    """
    check_editable(inspection)
    check_inspector(actor, inspection)
    found = inspection.checklist_version.checklist.find_item(item_key)
    if found is None:
        raise InvalidAnswer(N_("%(key)s is not an item of this checklist."), key=item_key[:20])
    section, item = found
    if not is_applicable(section, item, inspection.building.features):
        raise InvalidAnswer(N_("%(key)s does not apply to this building."), key=item_key)
    checked = check_answer(item, given)
    saved = SavedAnswer(
        item_key=item_key,
        result=checked.result,
        value=checked.value,
        choice=checked.choice,
        text=checked.text,
        comment=checked.comment,
        revision=1,
        answered_at=utcnow(),
    )
    lock_inspection(session, inspection, shared=True)
    check_editable(inspection)  # again, as it is now
    key = {"inspection_id": inspection.id, "key": item_key}
    if text_length(checked) >= TEXT_COUNTED_FROM:
        check_inspection_text(item, checked, int(session.execute(_OTHER_TEXT, key).scalar_one()))
    session.flush()  # the statements below go round the unit of work: nothing of it may be left pending
    connection = session.connection()
    parameters = {
        **{f"new_{name}": value for name, value in _columns(saved).items()},
        "new_answered_by_id": actor.id,
        "base_revision": base_revision,
        "inspection": inspection.id,
        "item": item_key,
    }
    # Change the stored answer in one statement: the row lock (or SQLite's write lock) orders writers, and a
    # given base revision must still be the stored one. No row changed: the first answer, or a stale write.
    changed = _CHANGE_ANSWER if base_revision is None else _CHANGE_ANSWER_AT
    revision = connection.execute(changed, parameters).scalar_one_or_none()
    if revision is not None:
        saved = replace(saved, revision=revision)
    elif connection.execute(_ANSWER_STATE, key).first() is not None:
        raise StaleAnswer(session.scalars(_ANSWER, key).one())
    elif base_revision:
        raise InvalidAnswer(
            N_("%(key)s has no stored answer at revision %(revision)d."), key=item_key, revision=base_revision
        )
    else:
        try:
            with connection.begin_nested():  # another device may create the same answer at the same moment
                connection.execute(_FIRST_ANSWER, parameters)
        except IntegrityError:
            raise StaleAnswer(session.scalars(_ANSWER, key).one()) from None
    _forget_loaded_answers(session, inspection)
    return saved


def _columns(saved: SavedAnswer) -> dict[str, object]:
    return {
        "result": saved.result,
        "value": saved.value,
        "choice": saved.choice,
        "text": saved.text,
        "comment": saved.comment,
        "answered_at": saved.answered_at,
    }


def _forget_loaded_answers(session: Session, inspection: Inspection) -> None:
    """Answers this session loaded before a plain write are out of date: the next use reads them again."""
    session.expire(inspection, ["answers"])
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Answer) and obj.inspection_id == inspection.id:
            session.expire(obj)


def score_inspection(inspection: Inspection) -> ScoreCard:
    return score(inspection_checklist(inspection), inspection.building.features, inspection.responses())


def submit_inspection(session: Session, actor: User, inspection: Inspection) -> ScoreCard:
    check_inspector(actor, inspection)
    lock_inspection(session, inspection)
    card = score_inspection(inspection)
    missing = [r.key for r in card.items if r.missing]
    photos_missing = [state.item.key for state in build_walk(inspection).photos_missing]
    if missing or photos_missing:
        raise IncompleteInspection(missing, photos_missing)
    before = inspection.status
    inspection.submit(card)
    session.flush()
    _announce(
        signals.inspection_submitted,
        session,
        actor,
        inspection,
        before,
        score_total=inspection.score_total,
        passed=inspection.score_passed,
    )
    return card


def _check_reviewer(actor: User, inspection: Inspection) -> None:
    if actor.id == inspection.inspector_id:
        raise DomainError(N_("An inspection is reviewed by someone other than its inspector."))


def approve_inspection(session: Session, actor: User, inspection: Inspection, comment: str | None = None) -> None:
    _check_reviewer(actor, inspection)
    lock_inspection(session, inspection)
    inspection.approve(actor, comment)
    session.flush()
    from audit.remediation.services import sync_tasks  # remediation builds on inspections, not the other way

    sync_tasks(session, actor, inspection)
    _announce(signals.inspection_approved, session, actor, inspection, InspectionStatus.submitted, comment=comment)


def return_inspection(session: Session, actor: User, inspection: Inspection, comment: str) -> None:
    _check_reviewer(actor, inspection)
    lock_inspection(session, inspection)
    inspection.return_to_inspector(actor, comment)
    session.flush()
    _announce(
        signals.inspection_returned,
        session,
        actor,
        inspection,
        InspectionStatus.submitted,
        comment=inspection.review_comment,
    )


def may_discard(actor: Actor, role: Role, inspection: Inspection) -> bool:
    """The draft's inspector, or a manager or an admin of its organisation (`role` is the actor's role there)."""
    return actor.id == inspection.inspector_id or role in (Role.manager, Role.admin)


def discard_draft(session: Session, actor: User, role: Role, inspection: Inspection, reason: str) -> None:
    """Give a draft up with a reason; it is kept, with who discarded it and when, but leaves the lists."""
    if not may_discard(actor, role, inspection):
        raise NotInspector(N_("Only the draft's inspector, a manager or an admin can discard it."))
    if not reason.strip():
        raise DomainError(N_("Write why the draft is discarded."))
    lock_inspection(session, inspection)
    inspection.discard(actor, reason)
    session.flush()
    _announce(
        signals.inspection_discarded,
        session,
        actor,
        inspection,
        InspectionStatus.draft,
        reason=inspection.discard_reason,
    )
