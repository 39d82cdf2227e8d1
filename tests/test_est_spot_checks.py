"""Spot checks from an EST hot spot: an inspection limited to the checklist sections related to the reports at the
place (walked and scored over those sections only), started by a member's coordinator, linked both ways; the hot
spot's page lists its spot checks and the tasks made from its reports, to members only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from audit.accounts.models import User
from audit.auditlog.models import AuditEntry
from audit.buildings.models import Building
from audit.checklists.models import ChecklistVersion
from audit.deviations.est.models import EstSpotCheck
from audit.deviations.models import DeviationReport
from audit.deviations.services import create_task
from audit.errors import DomainError
from audit.inspections.models import Inspection, InspectionKind, InspectionScope
from audit.inspections.scoring import Response, score
from audit.inspections.services import InvalidScope, start_inspection
from audit.remediation.follow_up import inspection_checklist
from tests.checklist_strategies import passing_response
from tests.test_est import World, _as, at
from tests.test_est import world as world  # the fixture
from tests.web_support import csrf_token


def test_a_spot_check_limited_to_sections_is_walked_and_scored_over_them_only(
    world: World,
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    w = world
    building = create_test_building(organisation=w.a)
    inspector = w.users["a_inspector"]
    spot_check = start_inspection(
        w.session, inspector, building, InspectionKind.spot_check, checklist_version, ["BEL", "NOPE"]
    )
    assert w.session.get(InspectionScope, spot_check.id).section_keys == ["BEL"]  # type: ignore[union-attr]
    limited = inspection_checklist(spot_check)
    assert [section.key for section in limited.sections] == ["BEL"]

    # Every item answered, BEL-02 and an item of another section failed: only BEL counts, and as in the whole list.
    full = checklist_version.checklist
    responses = {item.key: passing_response(item) for _, item in full.items()}
    responses["BEL-02"] = Response(passed=False)
    responses["UTE-01"] = Response(passed=False)
    card = score(limited, building.features, responses)
    whole = {section.key: section for section in score(full, building.features, responses).sections}
    assert [section.key for section in card.sections] == ["BEL"]
    assert (card.earned, card.possible) == (whole["BEL"].earned, whole["BEL"].possible)
    assert [result.key for result in card.failed_items] == ["BEL-02"]
    responses["BEL-02"] = Response(passed=True)
    assert score(limited, building.features, responses).passed  # nothing outside BEL is "unanswered"

    # A whole-list inspection stays whole; only a spot check is limited, and only to sections of its checklist.
    certification = start_inspection(w.session, inspector, building, InspectionKind.certification, checklist_version)
    assert inspection_checklist(certification) is full
    with pytest.raises(InvalidScope):
        start_inspection(w.session, inspector, building, InspectionKind.follow_up, checklist_version, ["BEL"])
    with pytest.raises(InvalidScope):
        start_inspection(w.session, inspector, building, InspectionKind.spot_check, checklist_version, ["NOPE"])


def _hot_spot(w: World, building: Building) -> tuple[str, list[int]]:
    """Reports at a place in A's area: broken lighting (BEL) and graffiti (FVT) over three weeks."""
    reports = [
        w.report("a_host", w.area_a, "broken_lighting", "Mörkt i tunneln", at(16, 20, month=11), place_name="Tunneln"),
        w.report("a_host", w.area_a, "graffiti", "Taggar", at(24, 21, month=11), place_name="Tunneln"),
        w.report("a_host", w.area_a, "broken_lighting", "Fortfarande mörkt", at(2, 19), place_name="Tunneln"),
    ]
    place_id = w.session.get_one(DeviationReport, reports[0]).place_id
    return f"place:{place_id}", reports


def test_a_coordinator_starts_a_spot_check_from_a_hot_spot(
    app: Flask,
    world: World,
    create_test_building: Callable[..., Building],
) -> None:
    w = world
    building = create_test_building(organisation=w.a, area=w.area_a, name="Tunnelhuset")
    elsewhere = create_test_building(organisation=w.a, area=w.elsewhere, name="Albyhuset")
    theirs = create_test_building(organisation=w.b, area=w.area_b, name="B-huset")
    spot, reports = _hot_spot(w, building)
    task = create_task(w.session, w.users["a_manager"], w.session.get_one(DeviationReport, reports[0]), building)
    w.session.flush()
    path = f"/est/{w.group.id}/spots/{spot}"

    manager = _as(app, "a-manager@test.example")
    page = manager.get(path).get_data(as_text=True)
    assert "data-spot-check" in page
    assert "Tunnelhuset" in page
    assert "Albyhuset" not in page
    assert "B-huset" not in page
    assert f'href="/tasks/{task.id}"' in page  # the task made from a report at the place, before any spot check
    token = csrf_token(manager, path)

    def start(building_id: int, inspector: User) -> int:
        data = {"building_id": building_id, "inspector_id": inspector.id, "csrf_token": token}
        return manager.post(f"{path}/spot-check", data=data).status_code

    # Refused: another organisation's building, a building elsewhere, an inspector of another organisation.
    assert start(theirs.id, w.users["a_inspector"]) == 303
    assert start(elsewhere.id, w.users["a_inspector"]) == 303
    assert start(building.id, w.users["b_admin"]) == 303
    assert w.session.scalar(select(EstSpotCheck)) is None

    response = manager.post(
        f"{path}/spot-check",
        data={"building_id": building.id, "inspector_id": w.users["a_inspector"].id, "csrf_token": token},
    )
    assert response.status_code == 303
    link = w.session.scalars(select(EstSpotCheck)).one()
    inspection = w.session.get_one(Inspection, link.inspection_id)
    assert response.headers["Location"].endswith(f"/inspections/{inspection.id}")
    assert (inspection.kind, inspection.building_id, inspection.inspector_id) == (
        InspectionKind.spot_check,
        building.id,
        w.users["a_inspector"].id,
    )
    assert w.session.get_one(InspectionScope, inspection.id).section_keys == ["BEL", "FVT"]
    actions = {entry.action for entry in w.session.scalars(select(AuditEntry))}
    assert {"est_spot_check.started", "inspection.started"} <= actions

    # Linked both ways: the hot spot lists the spot check and the task with their status; the inspection page
    # names the hot spot, and its walk offers only the related sections.
    page = manager.get(path).get_data(as_text=True)
    assert f"/inspections/{inspection.id}" in page
    assert "data-spot-inspections" in page
    assert "data-spot-tasks" in page
    walker = _as(app, "a-inspector@test.example")
    shown = walker.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "data-origin" in shown
    assert path in shown
    assert 'data-section="BEL"' in shown
    assert 'data-section="FVT"' in shown
    assert 'data-section="UTE"' not in shown
    # A second draft of the same kind is refused as any start is.
    assert start(building.id, w.users["a_inspector"]) == 303
    assert len(w.session.scalars(select(EstSpotCheck)).all()) == 1

    # Partners and other members see the picture of the place, never the organisation's inspections or tasks.
    for email in ("p-manager@test.example", "b-admin@test.example"):
        other = _as(app, email).get(path).get_data(as_text=True)
        for hidden in ("data-spot-inspections", "data-spot-tasks", "data-spot-check", f"/inspections/{inspection.id}"):
            assert hidden not in other, (email, hidden)
    # Only a member's coordinator starts one.
    inspector_client = _as(app, "a-inspector@test.example")
    data = {"building_id": building.id, "inspector_id": w.users["a_inspector"].id}
    assert inspector_client.post(f"{path}/spot-check", data=data).status_code in (400, 403)
    police = _as(app, "p-manager@test.example")
    assert police.post(f"{path}/spot-check", data=data).status_code in (400, 403)


def test_a_hot_spot_whose_reports_relate_to_no_section_starts_nothing(
    world: World,
    create_test_building: Callable[..., Building],
) -> None:
    from audit.deviations.est import services

    w = world
    building = create_test_building(organisation=w.a, area=w.area_a)
    report = w.report("a_host", w.area_a, "other", "Något", at(2, 10), place_name="Gården")
    spot = f"place:{w.session.get_one(DeviationReport, report).place_id}"
    party = services.standing(w.session, w.group.id, w.a.id)
    assert party is not None
    with pytest.raises(DomainError):
        services.start_spot_check(w.session, w.users["a_manager"], party, spot, building, w.users["a_inspector"])
