"""The data model: state machine, database constraints, immutability, features and passwords."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.accounts.models import Membership, Organisation, Role, User
from audit.buildings.features import Feature
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.errors import ImmutableError, InvalidTransition
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionStatus
from audit.inspections.scoring import score


def _card(inspection: Inspection):  # type: ignore[no-untyped-def]
    return score(inspection.checklist_version.checklist, inspection.building.features, {})


def test_happy_path_draft_submitted_approved(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User], session: Session
) -> None:
    inspection = create_inspection()
    assert inspection.status is InspectionStatus.draft
    inspection.submit(_card(inspection))
    session.flush()
    assert inspection.status is InspectionStatus.submitted
    assert inspection.submitted_at is not None
    assert inspection.score_passed is False
    assert inspection.score_card["reasons"][0]["code"] == "items_unanswered"
    manager = create_member(Role.manager)
    inspection.approve(manager)
    session.flush()
    assert inspection.status is InspectionStatus.approved
    assert inspection.reviewer is manager


def test_returned_inspection_can_be_submitted_again(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User], session: Session
) -> None:
    inspection = create_inspection()
    inspection.submit(_card(inspection))
    inspection.return_to_inspector(create_member(Role.manager), "  Foton saknas  ")
    session.flush()
    assert inspection.status is InspectionStatus.returned
    assert inspection.review_comment == "Foton saknas"
    inspection.submit(_card(inspection))
    session.flush()
    assert inspection.status is InspectionStatus.submitted


@pytest.mark.parametrize(
    ("steps", "refused"),
    [
        ([], "approve"),
        ([], "return"),
        (["submit"], "submit"),
        (["submit", "approve"], "submit"),
        (["submit", "approve"], "approve"),
        (["submit", "approve"], "return"),
        (["submit", "return"], "approve"),
        (["submit", "return"], "return"),
    ],
)
def test_invalid_moves_are_refused(
    steps: list[str], refused: str, create_inspection: Callable[..., Inspection], create_member: Callable[..., User]
) -> None:
    inspection = create_inspection()
    manager = create_member(Role.manager)
    moves = {
        "submit": lambda: inspection.submit(_card(inspection)),
        "approve": lambda: inspection.approve(manager),
        "return": lambda: inspection.return_to_inspector(manager, "nej"),
    }
    for step in steps:
        moves[step]()
    before = inspection.status
    with pytest.raises(InvalidTransition):
        moves[refused]()
    assert inspection.status is before


def test_return_needs_a_comment(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User]
) -> None:
    inspection = create_inspection()
    inspection.submit(_card(inspection))
    with pytest.raises(ValueError, match="comment"):
        inspection.return_to_inspector(create_member(Role.manager), "   ")
    assert inspection.status is InspectionStatus.submitted


@pytest.mark.parametrize(
    ("assignments", "constraint"),
    [
        ("status = 'approved'", "submitted_has_score|reviewed_has_reviewer"),
        ("status = 'submitted'", "submitted_has_score"),
        ("submitted_at = CURRENT_TIMESTAMP", "draft_unsent"),
        (
            # Reviewed (so only the comment is missing): SQLite names one failed CHECK, in an order of its own.
            "status = 'returned', submitted_at = CURRENT_TIMESTAMP, score_passed = false, score_card = '{}', "
            "reviewer_id = inspector_id, reviewed_at = CURRENT_TIMESTAMP",
            "returned_has_comment",
        ),
        (
            "status = 'approved', submitted_at = CURRENT_TIMESTAMP, score_passed = true, score_card = '{}'",
            "reviewed_has_reviewer",
        ),
        ("score_total = 1.5", "score_range"),
        (
            "status = 'lost', submitted_at = CURRENT_TIMESTAMP, score_passed = false, score_card = '{}'",
            "inspection_status",
        ),
        ("kind = 'guesswork'", "inspection_kind"),
    ],
)
def test_database_refuses_rows_the_state_machine_cannot_produce(
    assignments: str, constraint: str, create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    with pytest.raises(IntegrityError, match=constraint), session.begin_nested():
        session.execute(text(f"UPDATE inspections SET {assignments} WHERE id = :id"), {"id": inspection.id})


def test_answers_of_a_submitted_inspection_are_final(
    create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    answer = Answer(
        inspection=inspection, item_key="UTE-01", result=AnswerResult.passed, answered_by=inspection.inspector
    )
    session.add(answer)
    session.flush()
    inspection.submit(_card(inspection))
    session.flush()
    answer.comment = "changed afterwards"
    with pytest.raises(ImmutableError, match="final"):
        session.flush()
    session.rollback()


def test_approved_inspection_cannot_change(
    create_inspection: Callable[..., Inspection], create_member: Callable[..., User], session: Session
) -> None:
    inspection = create_inspection()
    inspection.submit(_card(inspection))
    inspection.approve(create_member(Role.manager))
    session.flush()
    inspection.review_comment = "rewritten"
    with pytest.raises(ImmutableError, match="approved"):
        session.flush()
    session.rollback()


def test_stored_checklist_versions_are_immutable(checklist_version: ChecklistVersion, session: Session) -> None:
    checklist_version.title_sv = "Något annat"
    with pytest.raises(ImmutableError, match="new version"):
        session.flush()
    session.rollback()


def test_one_answer_per_item(create_inspection: Callable[..., Inspection], session: Session) -> None:
    inspection = create_inspection()
    for _ in range(2):
        session.add(Answer(inspection=inspection, item_key="UTE-01", answered_by=inspection.inspector))
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        session.flush()
    session.rollback()


def test_building_features_round_trip(create_test_building: Callable[..., Building], session: Session) -> None:
    building = create_test_building(features={Feature.garage, Feature.elevator})
    session.flush()
    session.expire_all()
    reloaded = session.get(Building, building.id)
    assert reloaded is not None
    assert reloaded.features == {Feature.garage, Feature.elevator}
    reloaded.features = {Feature.elevator, Feature.laundry_room}
    session.flush()
    session.expire_all()
    assert session.get(Building, building.id).features == {Feature.elevator, Feature.laundry_room}


def test_unknown_feature_is_refused_by_the_database(
    create_test_building: Callable[..., Building], session: Session
) -> None:
    building = create_test_building(features=set())
    with pytest.raises(IntegrityError, match="feature"), session.begin_nested():
        session.execute(
            text("INSERT INTO building_features (building_id, feature) VALUES (:id, 'moat')"), {"id": building.id}
        )


def test_passwords_are_hashed_with_argon2id(create_member: Callable[..., User]) -> None:
    user = create_member(Role.admin)
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert user.check_password("correct horse battery")
    assert not user.check_password("wrong")


def test_one_membership_per_user_and_organisation(
    create_member: Callable[..., User], org: Organisation, session: Session
) -> None:
    user = create_member(Role.viewer)
    session.add(Membership(user=user, organisation=org, role=Role.admin))
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_timestamps_come_back_as_aware_utc(create_inspection: Callable[..., Inspection], session: Session) -> None:
    inspection = create_inspection()
    session.expire_all()
    reloaded = session.scalar(select(Inspection).where(Inspection.id == inspection.id))
    assert reloaded.created_at.tzinfo is UTC
