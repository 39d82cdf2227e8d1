"""Inspections: start one, save answers, submit, approve or return."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import (
    AnswerType,
    ChoiceAnswer,
    Item,
    MeasurementAnswer,
    ScaleAnswer,
    is_applicable,
)
from audit.database import utcnow
from audit.errors import N_, DomainError
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionKind
from audit.inspections.scoring import Response, ScoreCard, item_passes, score
from audit.inspections.walk import build_walk


class InvalidAnswer(DomainError):
    """An answer that does not fit its checklist item."""


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


def check_inspector(actor: User, inspection: Inspection) -> None:
    if actor.id != inspection.inspector_id:
        raise NotInspector(N_("Only the inspector who made the inspection can change or submit it."))


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """One answer as the inspector gives it; `result` is 'pass', 'fail' or 'na' (or omitted for values)."""

    result: AnswerResult | None = None
    value: Decimal | float | str | None = None
    choice: str | None = None
    text: str | None = None
    comment: str | None = None


def start_inspection(
    session: Session, actor: User, building: Building, kind: InspectionKind, checklist_version: ChecklistVersion
) -> Inspection:
    inspection = Inspection(
        organisation_id=building.organisation_id,
        building=building,
        checklist_version=checklist_version,
        kind=kind,
        inspector=actor,
    )
    session.add(inspection)
    session.flush()
    return inspection


class FinalInspection(DomainError):
    pass


def check_editable(inspection: Inspection) -> None:
    if not inspection.status.editable:
        raise FinalInspection(N_("The inspection has been submitted: its answers and photos are final."))


def _value(raw: Decimal | float | str | None) -> Decimal | None:
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).replace(",", "."))
    except InvalidOperation:
        raise InvalidAnswer(N_("'%(value)s' is not a number."), value=str(raw)[:40]) from None
    if not value.is_finite() or abs(value) >= Decimal("1e9"):
        raise InvalidAnswer(N_("'%(value)s' is not a usable measurement."), value=str(raw)[:40])
    return value


def _result_for(item: Item, given: AnswerInput, value: Decimal | None) -> AnswerResult | None:
    """The stored outcome: the inspector's for pass/fail and N/A, worked out from the value or choice otherwise."""
    if given.result is AnswerResult.not_applicable:
        if not item.na_allowed:
            raise InvalidAnswer(N_("%(key)s cannot be answered 'not applicable'."), key=item.key)
        return AnswerResult.not_applicable
    spec = item.answer
    if spec.type != AnswerType.pass_fail and given.result is not None:
        raise InvalidAnswer(N_("%(key)s is answered with a value or a choice, not pass or fail."), key=item.key)
    if spec.type == AnswerType.pass_fail:
        if given.result not in (None, AnswerResult.passed, AnswerResult.failed):
            raise InvalidAnswer(N_("%(key)s is answered pass or fail."), key=item.key)
        return given.result
    if spec.type == AnswerType.text:
        return AnswerResult.noted if given.text and given.text.strip() else None
    if isinstance(spec, ScaleAnswer) and value is not None and not spec.min <= value <= spec.max:
        raise InvalidAnswer(
            N_("%(key)s takes a value from %(min)d to %(max)d."), key=item.key, min=spec.min, max=spec.max
        )
    if isinstance(spec, ScaleAnswer | MeasurementAnswer) and value is None:
        return None
    if isinstance(spec, ChoiceAnswer):
        if given.choice is None:
            return None
        if spec.option(given.choice) is None:
            raise InvalidAnswer(N_("'%(choice)s' is not an option of %(key)s."), choice=given.choice[:40], key=item.key)
    passes = item_passes(item, Response(value=None if value is None else float(value), choice=given.choice))
    return None if passes is None else (AnswerResult.passed if passes else AnswerResult.failed)


def save_answer(
    session: Session,
    actor: User,
    inspection: Inspection,
    item_key: str,
    given: AnswerInput,
    base_revision: int | None = None,
) -> Answer:
    """Create or change one answer; `base_revision` (when given) must be the stored revision."""
    check_editable(inspection)
    check_inspector(actor, inspection)
    found = inspection.checklist_version.checklist.find_item(item_key)
    if found is None:
        raise InvalidAnswer(N_("%(key)s is not an item of this checklist."), key=item_key[:20])
    section, item = found
    if not is_applicable(section, item, inspection.building.features):
        raise InvalidAnswer(N_("%(key)s does not apply to this building."), key=item_key)
    is_na = given.result is AnswerResult.not_applicable
    value = None if is_na else _value(given.value)
    result = _result_for(item, given, value)
    # Only this item's answer: an inspection near its end has a hundred, and autosave runs on every tap.
    answer = session.scalar(select(Answer).where(Answer.inspection_id == inspection.id, Answer.item_key == item_key))
    if answer is None:
        if base_revision:
            raise InvalidAnswer(
                N_("%(key)s has no stored answer at revision %(revision)d."), key=item_key, revision=base_revision
            )
        answer = Answer(inspection=inspection, item_key=item_key, answered_by=actor)
        session.add(answer)
    elif base_revision is not None and base_revision != answer.revision:
        raise StaleAnswer(answer)
    answer.result = result
    answer.value = value
    answer.choice = None if is_na else given.choice
    answer.text = given.text
    answer.comment = given.comment
    answer.answered_by = actor
    answer.answered_at = utcnow()
    session.flush()
    return answer


def score_inspection(inspection: Inspection) -> ScoreCard:
    return score(inspection.checklist_version.checklist, inspection.building.features, inspection.responses())


def submit_inspection(session: Session, actor: User, inspection: Inspection) -> ScoreCard:
    check_inspector(actor, inspection)
    card = score_inspection(inspection)
    missing = [r.key for r in card.items if r.missing]
    photos_missing = [state.item.key for state in build_walk(inspection).photos_missing]
    if missing or photos_missing:
        raise IncompleteInspection(missing, photos_missing)
    inspection.submit(card)
    session.flush()
    return card


def _check_reviewer(actor: User, inspection: Inspection) -> None:
    if actor.id == inspection.inspector_id:
        raise DomainError(N_("An inspection is reviewed by someone other than its inspector."))


def approve_inspection(session: Session, actor: User, inspection: Inspection, comment: str | None = None) -> None:
    _check_reviewer(actor, inspection)
    inspection.approve(actor, comment)
    session.flush()


def return_inspection(session: Session, actor: User, inspection: Inspection, comment: str) -> None:
    _check_reviewer(actor, inspection)
    inspection.return_to_inspector(actor, comment)
    session.flush()
