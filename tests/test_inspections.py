"""Inspection services against the shipped 100-point checklist: answers, revisions, submission and review."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from audit.accounts.models import Role, User
from audit.buildings.features import Feature
from audit.buildings.models import Building
from audit.checklists.schema import AnswerType, Item, MeasurementAnswer, is_applicable
from audit.demo import answer_for, demo_photo
from audit.errors import DomainError
from audit.inspections.models import AnswerResult, Inspection, InspectionStatus
from audit.inspections.services import (
    AnswerInput,
    IncompleteInspection,
    InvalidAnswer,
    approve_inspection,
    return_inspection,
    save_answer,
    submit_inspection,
)
from audit.photos.services import add_photo


def _items(inspection: Inspection, kind: AnswerType) -> list[Item]:
    return [item for _, item in inspection.checklist_version.checklist.items() if item.answer.type == kind]


def _answer_everything(session: Session, inspection: Inspection, failing: set[str] = frozenset()) -> None:
    for section, item in inspection.checklist_version.checklist.items():
        if is_applicable(section, item, inspection.building.features):
            passing = item.key not in failing
            save_answer(session, inspection.inspector, inspection, item.key, answer_for(item, passing=passing))
            if not passing and item.photo_required_on_fail:
                add_photo(session, inspection.inspector, inspection, item.key, demo_photo(item.key))


def test_measurement_result_is_worked_out_from_the_value(
    create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    item = next(
        i
        for i in _items(inspection, AnswerType.measurement)
        if isinstance(i.answer, MeasurementAnswer) and i.answer.threshold.min is not None
    )
    low = item.answer.threshold.min
    answer = save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(value=str(low)))
    assert answer.result is AnswerResult.passed
    assert answer.value == Decimal(str(low))
    answer = save_answer(
        session, inspection.inspector, inspection, item.key, AnswerInput(value=f"{low * 0.5}".replace(".", ","))
    )
    assert answer.result is AnswerResult.failed
    assert answer.revision == 2


def test_comment_before_judgement_is_kept(create_inspection: Callable[..., Inspection], session: Session) -> None:
    inspection = create_inspection()
    item = _items(inspection, AnswerType.pass_fail)[0]
    answer = save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(comment="Titta igen"))
    assert answer.result is None
    assert answer.comment == "Titta igen"


@pytest.mark.parametrize("value", ["many", "nan", "1e12", "inf"])
def test_unusable_numbers_are_refused(
    value: str, create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    item = _items(inspection, AnswerType.measurement)[0]
    with pytest.raises(InvalidAnswer):
        save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(value=value))
    assert inspection.answers == []


def test_na_only_where_the_checklist_allows_it(create_inspection: Callable[..., Inspection], session: Session) -> None:
    inspection = create_inspection()
    items = [item for _, item in inspection.checklist_version.checklist.items() if item.is_scored]
    allowed = next(item for item in items if item.na_allowed)
    refused = next(item for item in items if not item.na_allowed)
    na = AnswerInput(result=AnswerResult.not_applicable)
    assert save_answer(session, inspection.inspector, inspection, allowed.key, na).result is AnswerResult.not_applicable
    with pytest.raises(InvalidAnswer, match="not applicable"):
        save_answer(session, inspection.inspector, inspection, refused.key, na)


def test_unknown_and_inapplicable_items_are_refused(
    create_inspection: Callable[..., Inspection], create_test_building: Callable[..., Building], session: Session
) -> None:
    inspection = create_inspection(building=create_test_building(features=set()))
    with pytest.raises(InvalidAnswer, match="not an item"):
        save_answer(session, inspection.inspector, inspection, "XYZ-99", AnswerInput(result=AnswerResult.passed))
    checklist = inspection.checklist_version.checklist
    _section, item = next((s, i) for s, i in checklist.items() if s.requires_feature or i.requires_feature)
    with pytest.raises(InvalidAnswer, match="does not apply"):
        save_answer(session, inspection.inspector, inspection, item.key, answer_for(item, True))


def test_a_change_based_on_an_old_revision_is_refused(
    create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    item = _items(inspection, AnswerType.pass_fail)[0]
    save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(result=AnswerResult.passed))
    save_answer(
        session, inspection.inspector, inspection, item.key, AnswerInput(result=AnswerResult.failed), base_revision=1
    )
    with pytest.raises(DomainError, match="revision 2"):
        save_answer(
            session,
            inspection.inspector,
            inspection,
            item.key,
            AnswerInput(result=AnswerResult.passed),
            base_revision=1,
        )


def test_submission_lists_every_missing_item(create_inspection: Callable[..., Inspection], session: Session) -> None:
    inspection = create_inspection()
    with pytest.raises(IncompleteInspection) as refused:
        submit_inspection(session, inspection.inspector, inspection)
    scored = [item.key for _, item in inspection.checklist_version.checklist.items() if item.is_scored]
    assert refused.value.missing == scored
    assert inspection.status is InspectionStatus.draft


def test_walk_submit_approve_stores_the_score(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User], session: Session
) -> None:
    inspection = create_inspection()
    _answer_everything(session, inspection)
    card = submit_inspection(session, inspection.inspector, inspection)
    assert card.passed
    assert inspection.score_passed is True
    assert inspection.score_total == Decimal(1)
    approve_inspection(session, create_member(Role.manager), inspection)
    assert inspection.status is InspectionStatus.approved
    with pytest.raises(DomainError, match="final"):
        save_answer(session, inspection.inspector, inspection, "UTE-01", AnswerInput(result=AnswerResult.failed))


def test_a_failed_critical_item_fails_the_stored_result(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User], session: Session
) -> None:
    inspection = create_inspection()
    critical = next(item for _, item in inspection.checklist_version.checklist.items() if item.critical)
    _answer_everything(session, inspection, failing={critical.key})
    card = submit_inspection(session, inspection.inspector, inspection)
    assert not card.passed
    assert inspection.score_passed is False
    assert len(inspection.photos) == int(critical.photo_required_on_fail)
    assert inspection.score_card["failed_critical_items"] == [critical.key]
    return_inspection(session, create_member(Role.manager), inspection, "Kontrollera igen")
    assert inspection.status is InspectionStatus.returned
    answer = save_answer(session, inspection.inspector, inspection, critical.key, answer_for(critical, True))
    assert answer.revision == 2
    assert submit_inspection(session, inspection.inspector, inspection).passed


def test_inapplicable_sections_do_not_need_answers(
    create_inspection: Callable[..., Inspection], create_test_building: Callable[..., Building], session: Session
) -> None:
    inspection = create_inspection(building=create_test_building(features={Feature.storage_rooms}))
    _answer_everything(session, inspection)
    card = submit_inspection(session, inspection.inspector, inspection)
    garage = next(s for s in card.sections if s.key == "GAR")
    assert not garage.applicable
    assert garage.possible == 0
    assert card.passed
