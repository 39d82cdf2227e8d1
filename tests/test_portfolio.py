"""The portfolio generator (`tryggahus demo --scale N`) and the pages that must stay cheap at its size.

The generator writes valid rows (the database's constraints check every one as it is written), in the proportions
the scale issue names, scored by the real scoring code; a manager can open every page of what it made. The
dashboard, the buildings list, the inspection list and the task list each cost the same number of SQL statements
at two portfolio sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Area, Building
from audit.certificates.models import Certificate, CertificateRevocation
from audit.certificates.status import today_in_sweden
from audit.checklists.models import ChecklistVersion
from audit.inspections.models import Answer, Inspection, InspectionKind, InspectionStatus
from audit.inspections.services import score_inspection
from audit.photos.models import Photo
from audit.photos.services import photo_store
from audit.portfolio import Summary, add_portfolio, sample_photo, sample_sign
from audit.remediation.models import FollowUp, RemediationTask
from audit.remediation.workflow import TaskStatus
from tests.test_remediation import counted_statements
from tests.web_support import login

SCALE = 50


@pytest.fixture
def portfolio(
    app: Flask,
    session: Session,
    org: Organisation,
    create_member: Callable[..., User],
    checklist_version: ChecklistVersion,
) -> Callable[..., Summary]:
    """Adds `scale` buildings (numbered from `first`) to the test organisation, which has a member of every role."""
    for role in (Role.inspector, Role.admin, Role.contractor):
        create_member(role)
    create_member(Role.manager, email="portfolio-manager@example.org")
    session.flush()
    sign = sample_sign(org.name, "https://trygga.example", today_in_sweden())
    photos = sample_photo(app.config["TRYGGAHUS"].max_photo_bytes)

    def add(scale: int, first: int = 0) -> Summary:
        summary = add_portfolio(
            session.connection(),
            org.id,
            scale,
            version_id=checklist_version.id,
            checklist=checklist_version.checklist,
            sign_pdf=sign,
            public_base_url="https://trygga.example",
            today=today_in_sweden(),
            photos=photos,
            store=photo_store(),
            first=first,
        )
        session.expire_all()
        return summary

    return add


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_the_portfolio_is_valid_and_in_proportion(
    session: Session, org: Organisation, portfolio: Callable[..., Summary]
) -> None:
    summary = portfolio(SCALE)
    mine = Building.organisation_id == org.id
    assert _count(session, Building, mine) == summary.buildings == SCALE
    assert _count(session, Area, Area.organisation_id == org.id) == summary.areas == 1  # N / 200, at least one
    inspections = session.scalars(select(Inspection).where(Inspection.organisation_id == org.id)).all()
    assert len(inspections) == summary.inspections == 5 * SCALE
    answers = _count(session, Answer, Answer.inspection_id.in_([i.id for i in inspections]))
    assert answers == summary.answers
    assert 40 * len(inspections) < answers < 100 * len(inspections)
    tasks = session.scalars(select(RemediationTask).where(RemediationTask.organisation_id == org.id)).all()
    assert len(tasks) == summary.tasks
    assert 8 * SCALE <= len(tasks) <= 10 * SCALE
    certificates = session.scalars(select(Certificate).where(Certificate.organisation_id == org.id)).all()
    assert len(certificates) == summary.certificates == SCALE * 8 // 10

    # Every state and kind is there, over several years.
    assert {(i.kind, i.status) for i in inspections} >= {
        (InspectionKind.certification, InspectionStatus.approved),
        (InspectionKind.follow_up, InspectionStatus.approved),
        (InspectionKind.spot_check, InspectionStatus.approved),
        (InspectionKind.certification, InspectionStatus.draft),
    }
    assert {i.status for i in inspections} == set(InspectionStatus)
    assert max(i.created_at for i in inspections).year - min(i.created_at for i in inspections).year >= 4
    assert {t.status for t in tasks} == set(TaskStatus)
    today = today_in_sweden()
    states = {c.status(today).value for c in certificates}
    assert states == {"valid", "expired", "revoked", "superseded"}
    assert _count(session, CertificateRevocation) >= 1

    # Scores are the scoring module's: scoring the stored answers again gives the stored score, follow-ups too.
    scored = [i for i in inspections if i.score_card is not None]
    assert {i.kind for i in scored} == set(InspectionKind)
    for inspection in scored[:: max(1, len(scored) // 25)]:
        card = score_inspection(inspection)
        total = card.total
        assert total is not None
        assert inspection.score_total == (Decimal(total.numerator) / Decimal(total.denominator)).quantize(
            Decimal("0.000001")
        )
        assert inspection.score_passed is card.passed
    follow_ups = [i for i in inspections if i.kind is InspectionKind.follow_up]
    assert _count(session, FollowUp, FollowUp.inspection_id.in_([i.id for i in follow_ups])) == len(follow_ups)

    # At most one unfinished task per building and item; a task's finding is a failed answer of its inspection.
    unfinished = [(t.building_id, t.item_key) for t in tasks if t.status is not TaskStatus.verified]
    assert len(unfinished) == len(set(unfinished))
    for task in tasks[:: max(1, len(tasks) // 20)]:
        answer = session.scalars(
            select(Answer).where(Answer.inspection_id == task.inspection_id, Answer.item_key == task.item_key)
        ).one()
        assert answer.result is not None
        assert answer.result.value == "fail"

    # Photos are real files in the photo store.
    photos = session.scalars(select(Photo).where(Photo.organisation_id == org.id)).all()
    assert len(photos) == summary.photos > 0
    store = photo_store()
    for photo in photos[:5]:
        assert store.read(photo.file_path)[:2] == b"\xff\xd8"
        assert store.read(photo.thumbnail_path)[:2] == b"\xff\xd8"


def test_a_manager_opens_every_page_of_the_portfolio(
    client: FlaskClient, session: Session, org: Organisation, portfolio: Callable[..., Summary]
) -> None:
    portfolio(SCALE)
    login(client, "portfolio-manager@example.org")
    area = session.scalars(select(Area).where(Area.organisation_id == org.id)).first()
    assert area is not None
    building = session.scalars(select(Building).where(Building.organisation_id == org.id)).first()
    assert building is not None
    inspections = session.scalars(select(Inspection).where(Inspection.organisation_id == org.id)).all()
    certificate = session.scalars(select(Certificate).where(Certificate.organisation_id == org.id)).first()
    task = session.scalars(select(RemediationTask).where(RemediationTask.organisation_id == org.id)).first()
    assert certificate is not None
    assert task is not None
    paths = [
        "/tasks/dashboard",
        "/tasks/dashboard?page=2",
        "/buildings/",
        f"/buildings/?area={area.id}&page=2",
        "/buildings/?q=vägen",
        "/inspections/",
        f"/inspections/?area={area.id}&status=approved&page=2",
        "/tasks/?sort=-severity&page=3",
        f"/tasks/?area={area.id}&overdue=1",
        f"/buildings/{building.id}",
        f"/certificates/{certificate.id}",
        f"/tasks/{task.id}",
    ]
    paths += [f"/inspections/{i.id}/result" if i.score_card else f"/inspections/{i.id}" for i in inspections[:10]]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path


def test_the_four_pages_take_as_many_statements_at_twice_the_size(
    client: FlaskClient, session: Session, org: Organisation, portfolio: Callable[..., Summary]
) -> None:
    portfolio(30)
    login(client, "portfolio-manager@example.org")
    area = session.scalars(select(Area).where(Area.organisation_id == org.id)).one()
    pages = {
        "dashboard": ["/tasks/dashboard", "/tasks/dashboard?page=2"],
        "buildings": ["/buildings/", f"/buildings/?area={area.id}&page=2", "/buildings/?q=gatan"],
        "inspections": [
            "/inspections/",
            f"/inspections/?area={area.id}",
            "/inspections/?status=approved&page=2",
            f"/inspections/?area={area.id}&status=submitted&verdict=passes",
        ],
        "tasks": ["/tasks/", "/tasks/?sort=-severity&page=2", f"/tasks/?area={area.id}&overdue=1&sort=building"],
    }

    def statements() -> dict[str, list[int]]:
        counted: dict[str, list[int]] = {}
        for name, paths in pages.items():
            for path in paths:
                with counted_statements(session) as seen:
                    assert client.get(path).status_code == 200, path
                counted.setdefault(name, []).append(len(seen))
        return counted

    small = statements()
    portfolio(60, first=30)  # 90 buildings, 450 inspections, about 900 tasks: several pages of each list
    assert _count(session, Building, Building.organisation_id == org.id) == 90
    large = statements()
    assert large == small
    # The login, then: certificate states, buildings, the page's buildings, their tasks, the expiring count and
    # list, the area counts and the trend.
    assert max(small["dashboard"]) <= 9
    # The login, the count, the page's ids, its buildings with their latest inspection, their tasks, the areas.
    assert max(small["buildings"]) <= 6
    # The login, the count, the page's rows, areas, buildings, inspectors (as tests/test_review.py bounds it).
    assert max(small["inspections"]) <= 6
    # As tests/test_remediation.py bounds it.
    assert max(small["tasks"]) <= 7
