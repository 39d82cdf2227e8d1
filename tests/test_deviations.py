"""Deviation reports (EST, first slice): the catalogue loader, the identity-number rule, the triage, reporting on
the page and through the API, who sees what, and tasks made from reports."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.auditlog.models import AuditEntry
from audit.buildings.models import Area, Building
from audit.deviations.catalogue import CatalogueError, load_catalogue, parse_catalogue
from audit.deviations.identity import find_identity_numbers
from audit.deviations.models import DeviationReport, Place
from audit.deviations.services import (
    InvalidReport,
    ReportInput,
    check_text,
    create_task,
    link_reports,
    report_deviation,
    triage,
)
from audit.deviations.workflow import TRANSITIONS, DeviationAction, DeviationStatus, next_status
from audit.errors import InvalidTransition
from audit.remediation.models import RemediationTask
from tests.web_support import api_headers, csrf_token, login

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"trygga-hus": frozenset({"UTE", "BEL", "LAS"})}

VALID = """\
schema: 1
key: deviations
version: 1
title: {sv: Avvikelser, en: Deviations}
checklist: trygga-hus
categories:
  - key: graffiti
    title: {sv: Klotter, en: Graffiti}
    help: {sv: Klotter på fasaden, en: Graffiti on the facade}
    related_section: UTE
    urgency: low
  - key: youth_gathering
    title: {sv: Ungdomssamling, en: Youth gathering}
    help: {sv: En grupp samlas, en: A group gathers}
    sensitive: true
    police_tip: false
    related_section: BEL
  - key: other
    title: {sv: Övrigt, en: Other}
    help: {sv: Något annat, en: Something else}
"""


def _line(text_: str, needle: str) -> int:
    return next(number for number, line in enumerate(text_.splitlines(), 1) if needle in line)


# --- the catalogue (pure) --------------------------------------------------------------------------------------


def test_real_catalogue_loads_against_the_real_checklist() -> None:
    from audit.checklists.loader import load_checklist

    checklist = load_checklist(ROOT / "checklists" / "trygga-hus.yaml").checklist
    loaded = load_catalogue(
        ROOT / "checklists" / "deviations.yaml", {checklist.key: frozenset(s.key for s in checklist.sections)}
    )
    keys = {category.key for category in loaded.catalogue.categories}
    assert {
        "disturbance",
        "youth_gathering",
        "drug_find",
        "drug_dealing",
        "graffiti",
        "vandalism",
        "break_in",
        "fire",
        "littering",
        "broken_lighting",
        "damaged_lock",
        "subletting",
        "other",
    } <= keys
    assert loaded.catalogue.category("drug_dealing").sensitive
    assert loaded.catalogue.category("drug_dealing").police_tip
    assert len(loaded.sha256) == 64


def test_sha256_ignores_formatting() -> None:
    again = VALID.replace(
        "title: {sv: Klotter, en: Graffiti}", "title:\n      sv: Klotter\n      en: Graffiti  # comment"
    )
    assert parse_catalogue(VALID, "a.yaml", SECTIONS).sha256 == parse_catalogue(again, "b.yaml", SECTIONS).sha256


BROKEN = [
    # (name, old, new, the line's needle in the broken text, the category named, words in the message)
    ("unknown field", "    urgency: low", "    urgncy: low", "urgncy", "graffiti", "unknown field"),
    ("wrong type", "    sensitive: true", '    sensitive: "yes"', "sensitive:", "youth_gathering", "sensitive"),
    (
        "yes is not a boolean",
        "    police_tip: false",
        "    police_tip: yes",
        "police_tip",
        "youth_gathering",
        "police_tip",
    ),
    (
        "missing text",
        "    help: {sv: Något annat, en: Something else}",
        "    help: {sv: Något annat}",
        "help: {sv: Något annat}",
        "other",
        "help.en",
    ),
    (
        "missing field",
        "    help: {sv: En grupp samlas, en: A group gathers}\n",
        "",
        "key: youth_gathering",
        "youth_gathering",
        "required",
    ),
    (
        "duplicate mapping key",
        "    urgency: low",
        "    urgency: low\n    urgency: high",
        "urgency: high",
        "graffiti",
        "duplicate key",
    ),
    ("duplicate category", "  - key: other", "  - key: graffiti", "- key: graffiti\n", "graffiti", "used twice"),
    ("bad urgency", "    urgency: low", "    urgency: asap", "urgency: asap", "graffiti", "urgency"),
    ("bad key", "  - key: other", "  - key: Other Things", "Other Things", "Other Things", "key"),
    (
        "broken section reference",
        "    related_section: BEL",
        "    related_section: GAR",
        "related_section: GAR",
        "youth_gathering",
        "not a section",
    ),
    (
        "unknown checklist",
        "checklist: trygga-hus",
        "checklist: no-such-list",
        "checklist:",
        None,
        "not a loaded checklist",
    ),
    (
        "syntax error",
        "    sensitive: true",
        "      sensitive: true",
        "sensitive: true",
        "youth_gathering",
        "YAML syntax error",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "needle", "key", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_catalogue_errors_name_file_line_and_key(
    name: str, old: str, new: str, needle: str, key: str | None, words: str
) -> None:
    assert old in VALID
    broken = VALID.replace(old, new, 1)
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue(broken, "checklists/deviations.yaml", SECTIONS)
    errors = caught.value.errors
    assert errors, name
    error = errors[0] if len(errors) == 1 else next(e for e in errors if words in e.message)
    assert error.file == "checklists/deviations.yaml"
    assert words in error.message, str(error)
    assert error.item == key, str(error)
    if needle == "- key: graffiti\n":
        assert error.line == [n for n, line in enumerate(broken.splitlines(), 1) if "- key: graffiti" in line][1]
    elif needle:
        assert error.line == _line(broken, needle), str(error)
    else:
        assert error.line is not None
        assert error.line >= _line(broken, "[BEL")


@pytest.mark.parametrize(
    ("content", "words"),
    [("", "empty"), ("- a\n- b\n", "top level must be a mapping"), (b"\xff\xfe", "not UTF-8"), (None, "cannot read")],
)
def test_unreadable_catalogue_files(tmp_path: Path, content: str | bytes | None, words: str) -> None:
    path = tmp_path / "deviations.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path, SECTIONS)
    assert caught.value.errors[0].file == str(path)
    assert words in str(caught.value)


def test_without_checklists_only_the_format_is_checked() -> None:
    assert parse_catalogue(VALID.replace("related_section: BEL", "related_section: GAR"), "x.yaml").catalogue


# --- personal identity numbers (pure) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "811218-9876",  # YYMMDD-NNNN
        "8112189876",  # without a separator
        "19811218-9876",  # YYYYMMDD-NNNN
        "198112189876",  # twelve digits
        "811218+9876",  # over a hundred years old
        "811218 9876",
        "811278-9873",  # a co-ordination number: the day + 60
        "Han heter något, pnr 19811218-9876, bor i trappan",
    ],
)
def test_identity_numbers_are_found(written: str) -> None:
    assert find_identity_numbers(written)
    with pytest.raises(InvalidReport):
        check_text(written)


@pytest.mark.parametrize(
    "written",
    [
        "811218-9875",  # the check digit is wrong
        "811318-9876",  # month 13
        "Portkod 1234, lägenhet 1102",
        "2026-12-07 14:30",
        "20261207",
        "Fastighet Fittja 3:12, 40 lux vid entrén",
        "Ordernummer 123456789012345",
        "811299-9876",  # day 99 (39 + 60 is no day either)
    ],
)
def test_ordinary_numbers_and_dates_pass(written: str) -> None:
    assert find_identity_numbers(written) == []


# --- the triage (pure) -----------------------------------------------------------------------------------------

EXPECTED = {
    (DeviationAction.acknowledged, DeviationStatus.new): DeviationStatus.acknowledged,
    (DeviationAction.action_taken, DeviationStatus.acknowledged): DeviationStatus.action_taken,
    (DeviationAction.closed, DeviationStatus.acknowledged): DeviationStatus.closed,
    (DeviationAction.closed, DeviationStatus.action_taken): DeviationStatus.closed,
}


@pytest.mark.parametrize("status", list(DeviationStatus))
@pytest.mark.parametrize("action", [DeviationAction.acknowledged, DeviationAction.action_taken, DeviationAction.closed])
def test_each_triage_move_and_its_refusal(action: DeviationAction, status: DeviationStatus) -> None:
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(InvalidTransition):
            next_status(action, status)
    else:
        assert next_status(action, status) is expected


def test_nothing_but_comments_after_closing() -> None:
    for action, (allowed, _target) in TRANSITIONS.items():
        assert (DeviationStatus.closed in allowed) == (action is DeviationAction.commented)


# --- reporting and follow-up (database) ------------------------------------------------------------------------


@pytest.fixture
def coordinator(create_member: Callable[..., User]) -> User:
    return create_member(Role.manager)


def test_triage_walks_and_is_logged(session: Session, create_report: Callable[..., Any], coordinator: User) -> None:
    report = create_report()
    with pytest.raises(InvalidTransition):
        triage(session, coordinator, report, DeviationAction.closed, "Dubblett")
    triage(session, coordinator, report, DeviationAction.acknowledged)
    with pytest.raises(InvalidReport):  # closing without action needs a reason
        triage(session, coordinator, report, DeviationAction.closed)
    triage(session, coordinator, report, DeviationAction.action_taken, "Lampan bytt")
    with pytest.raises(InvalidTransition):
        triage(session, coordinator, report, DeviationAction.acknowledged)
    triage(session, coordinator, report, DeviationAction.closed)
    assert report.status is DeviationStatus.closed
    assert report.closed_at is not None
    assert [e.action for e in report.events] == [
        DeviationAction.reported,
        DeviationAction.acknowledged,
        DeviationAction.action_taken,
        DeviationAction.closed,
    ]
    logged = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_id == report.id, AuditEntry.action.like("deviation.%"))
        .order_by(AuditEntry.id)
    ).all()
    assert [(e.action, e.actor_id) for e in logged][-3:] == [
        ("deviation.acknowledged", coordinator.id),
        ("deviation.action_taken", coordinator.id),
        ("deviation.closed", coordinator.id),
    ]
    assert "Lampan" not in str([e.after for e in logged])  # words stay out of the log


def test_the_database_refuses_an_unknown_status(session: Session, create_report: Callable[..., Any]) -> None:
    report = create_report()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE deviation_reports SET status = 'solved' WHERE id = :id"), {"id": report.id})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text("UPDATE deviation_reports SET status = 'closed' WHERE id = :id"), {"id": report.id})


def test_refused_reports(
    session: Session, create_report: Callable[..., Any], create_member: Callable[..., User]
) -> None:
    report = create_report()
    user = create_member(Role.viewer)
    base = {"category": "graffiti", "area_id": report.area_id, "description": "Klotter på porten."}
    for change, field in [
        ({"category": "nonsense"}, "category"),
        ({"description": "  "}, "description"),
        ({"description": "Det är 19811218-9876 som bor där."}, "description"),
        ({"seen_at": datetime.now(UTC) + timedelta(hours=1)}, "seen_at"),
        ({"place_name": "Hos 811218-9876"}, "place_name"),
    ]:
        with pytest.raises(InvalidReport) as caught:
            report_deviation(session, user, report.organisation_id, ReportInput(**{**base, **change}))
        assert caught.value.field == field


def test_a_typed_place_is_kept_and_found_again(
    session: Session, create_report: Callable[..., Any], coordinator: User
) -> None:
    first = create_report(place_name="Parkeringen vid  Kyrkgatan 4")
    data = ReportInput(
        category="youth_gathering",
        area_id=first.area_id,
        description="Grupp vid bilarna.",
        place_name="parkeringen vid kyrkgatan 4",
    )
    second = report_deviation(session, coordinator, first.organisation_id, data)
    assert second.place_id == first.place_id is not None
    assert session.scalar(select(Place.name).where(Place.id == first.place_id)) == "Parkeringen vid Kyrkgatan 4"
    assert second.sensitive
    assert not first.sensitive


def test_report_on_the_phone_page(
    client: FlaskClient, session: Session, create_member: Callable[..., User], create_report: Callable[..., Any]
) -> None:
    host = create_member(Role.contractor)
    area_id = create_report(reporter=host).area_id
    login(client, host.email)
    page = client.get("/deviations/new")
    assert page.status_code == 200
    assert "personnummer" in page.get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(client, "/deviations/new"),
        "category": "graffiti",
        "area_id": str(area_id),
        "description": "Klotter på porten, 811218-9876",
        "urgency": "",
    }
    refused = client.post("/deviations/new", data=form)
    assert refused.status_code == 422
    assert "personnummer" in refused.get_data(as_text=True).lower()
    form["description"] = "Klotter på porten."
    form["place_name"] = "Porten mot gården"
    sent = client.post("/deviations/new", data=form)
    assert sent.status_code == 302
    report = session.scalars(select(DeviationReport).order_by(DeviationReport.id.desc())).first()
    assert report is not None
    assert report.reported_by_id == host.id
    assert report.place
    assert report.place.name == "Porten mot gården"
    mine = client.get("/deviations/").get_data(as_text=True)
    assert f"#{report.id}" in mine
    # A reporter does not triage.
    assert client.post(f"/deviations/{report.id}/triage", data={"action": "acknowledged"}).status_code in (400, 403)


def test_other_organisations_reports_are_404(
    client: FlaskClient,
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
    create_report: Callable[..., Any],
    coordinator: User,
) -> None:
    other = create_org()
    foreign = create_report(reporter=create_member(Role.manager, organisation=other))
    own = create_report()
    login(client, coordinator.email)
    assert client.get(f"/deviations/{own.id}").status_code == 200
    assert client.get(f"/deviations/{foreign.id}").status_code == 404
    assert client.get(f"/api/v1/deviations/{foreign.id}").status_code == 404
    assert client.get(f"/api/v1/deviations/{own.id}").status_code == 200
    assert f"#{foreign.id}<" not in client.get("/deviations/").get_data(as_text=True)
    # Someone else's report is not reachable for a member who is not a coordinator.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/deviations/")})
    viewer = create_member(Role.viewer)
    login(client, viewer.email)
    assert client.get(f"/deviations/{own.id}").status_code == 404
    # Writing into another organisation's area is refused like a missing one.
    answer = client.post(
        "/api/v1/deviations",
        json={"category": "graffiti", "area_id": foreign.area_id, "description": "x"},
        headers=api_headers(client),
    )
    assert answer.status_code == 422
    assert answer.get_json()["details"][0]["field"] == "area_id"


def test_sensitive_details_only_for_coordinators(
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_report: Callable[..., Any],
    coordinator: User,
) -> None:
    report = create_report(category="drug_dealing", description="Försäljning vid cykelstället varje kväll.")
    triage(session, coordinator, report, DeviationAction.acknowledged)
    task = create_task(session, coordinator, report, report.building)
    contractor = create_member(Role.contractor)
    task.assignee_id = contractor.id
    session.flush()
    assert task.finding is None  # a sensitive report's words do not travel into the task
    login(client, coordinator.email)
    assert "Försäljning vid cykelstället" in client.get(f"/deviations/{report.id}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/deviations/")})
    login(client, contractor.email)
    page = client.get(f"/deviations/{report.id}").get_data(as_text=True)
    assert "Försäljning" not in page
    assert "data-restricted" in page
    assert report.area.name in page  # the category and the place are shown
    assert "Misstänkt narkotikaförsäljning" in page


def test_report_becomes_a_task_that_shows_it(
    client: FlaskClient, session: Session, create_report: Callable[..., Any], coordinator: User
) -> None:
    report = create_report()
    login(client, coordinator.email)
    token = csrf_token(client, f"/deviations/{report.id}")
    made = client.post(
        f"/deviations/{report.id}/task", data={"csrf_token": token, "building_id": str(report.building_id)}
    )
    assert made.status_code == 302
    task = session.scalar(select(RemediationTask).where(RemediationTask.deviation_id == report.id))
    assert task is not None
    assert task.item_key == f"AVV-{report.id}"
    assert task.inspection_id is None
    assert task.section_key == "BEL"
    assert task.building_id == report.building_id
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert f'href="/deviations/{report.id}"' in page
    assert "Skapad från en avvikelserapport" in page
    session.expire_all()
    assert report.events[-1].action is DeviationAction.task_created
    assert report.events[-1].task_id == task.id
    again = client.post(
        f"/deviations/{report.id}/task", data={"csrf_token": token, "building_id": str(report.building_id)}
    )
    assert again.status_code == 422


def test_linking_reports_of_the_same_event(
    session: Session, create_report: Callable[..., Any], coordinator: User
) -> None:
    first, second = create_report(), create_report()
    link_reports(session, coordinator, first, second)
    from audit.deviations.services import linked_reports

    assert linked_reports(session, first) == [second]
    assert linked_reports(session, second) == [first]
    with pytest.raises(InvalidReport):
        link_reports(session, coordinator, second, first)


def test_api_report_with_idempotent_replay(
    client: FlaskClient, session: Session, create_member: Callable[..., User], create_report: Callable[..., Any]
) -> None:
    host = create_member(Role.contractor)
    area_id = create_report(reporter=host).area_id
    login(client, host.email)
    headers = api_headers(client, key=f"outbox-{secrets.token_hex(4)}")
    body = {
        "category": "broken_lighting",
        "area_id": area_id,
        "description": "Lampan i porten är trasig.",
        "place_name": "Porten",
        "seen_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
    }
    first = client.post("/api/v1/deviations", json=body, headers=headers)
    assert first.status_code == 201, first.get_json()
    again = client.post("/api/v1/deviations", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json() == first.get_json()
    count = session.scalar(
        select(text("count(*)")).select_from(DeviationReport).where(DeviationReport.reported_by_id == host.id)
    )
    assert count == 2  # the fixture's report and this one, once
    assert first.get_json()["status"] == "new"
    assert first.get_json()["place"]["name"] == "Porten"
    refused = client.post(
        "/api/v1/deviations", json={**body, "description": "Boende 198112189876"}, headers=api_headers(client)
    )
    assert refused.status_code == 422
    assert refused.get_json()["error"] == "invalid_report"
    assert client.post("/api/v1/deviations", json=body, headers={**headers, "Idempotency-Key": ""}).status_code == 400


def test_api_report_with_a_photo_as_the_outbox_sends_it(
    client: FlaskClient, session: Session, create_member: Callable[..., User], create_report: Callable[..., Any]
) -> None:
    """multipart/form-data: the JSON body's fields as form fields (an empty one is left out) and the photo; sent
    again with the same key (a new boundary, as a retry builds it) it is one report with one photo."""
    import io

    from audit.demo import demo_photo

    host = create_member(Role.contractor)
    area_id = create_report(reporter=host).area_id
    login(client, host.email)
    headers = api_headers(client, key=f"outbox-{secrets.token_hex(4)}")
    photo = demo_photo("avvikelse")
    seen = datetime.now(UTC).isoformat()

    def form(image: bytes = photo, description: str = "Krossad lampa vid cykelrummet.") -> dict[str, Any]:
        return {
            "category": "broken_lighting",
            "area_id": str(area_id),
            "building_id": "",
            "description": description,
            "seen_at": seen,
            "photo": (io.BytesIO(image), "lampa.jpg"),
        }

    sent = client.post("/api/v1/deviations", data=form(), headers=headers, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    report = session.get(DeviationReport, sent.get_json()["id"])
    assert report is not None
    assert report.reported_by_id == host.id
    assert report.building_id is None
    assert len(report.photos) == 1
    again = client.post("/api/v1/deviations", data=form(), headers=headers, content_type="multipart/form-data")
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_json()["id"] == report.id
    not_an_image = client.post(
        "/api/v1/deviations", data=form(b"not a photo"), headers=api_headers(client), content_type="multipart/form-data"
    )
    assert not_an_image.status_code == 415
    assert not_an_image.get_json()["error"] == "not_an_image"
    identity = client.post(
        "/api/v1/deviations",
        data=form(description="Boende 198112189876"),
        headers=api_headers(client),
        content_type="multipart/form-data",
    )
    assert identity.status_code == 422
    assert identity.get_json()["details"][0]["field"] == "description"
    reports = select(text("count(*)")).select_from(DeviationReport).where(DeviationReport.reported_by_id == host.id)
    assert session.scalar(reports) == 2  # the fixture's report and the one sent twice


def test_area_and_building_must_match(session: Session, create_report: Callable[..., Any], coordinator: User) -> None:
    report = create_report()
    elsewhere = create_report()
    data = ReportInput(
        category="graffiti", area_id=report.area_id, building_id=elsewhere.building_id, description="Klotter."
    )
    with pytest.raises(InvalidReport) as caught:
        report_deviation(session, coordinator, report.organisation_id, data)
    assert caught.value.field == "building_id"
    assert session.get(Area, report.area_id) is not None
    assert session.get(Building, elsewhere.building_id) is not None


def test_catalogue_versions_are_stored_once_and_never_change(session: Session) -> None:
    from audit.checklists.services import VersionConflict
    from audit.deviations.services import checklist_sections, current_catalogue, store_catalogue
    from audit.errors import ImmutableError

    stored = current_catalogue(session)
    assert stored is not None
    same = load_catalogue(ROOT / "checklists" / "deviations.yaml", checklist_sections(session))
    assert store_catalogue(session, same) == (False, stored)
    changed = parse_catalogue(
        (ROOT / "checklists" / "deviations.yaml").read_text().replace("Klotter", "Graffiti", 1), "deviations.yaml"
    )
    with pytest.raises(VersionConflict, match="bump 'version' to 2"):
        store_catalogue(session, changed)
    stored.source_name = "other.yaml"
    with pytest.raises(ImmutableError):
        session.flush()
    session.rollback()


def test_a_photo_with_the_report_is_shown_only_with_its_details(
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_report: Callable[..., Any],
    coordinator: User,
) -> None:
    import io

    from audit.demo import demo_photo

    host = create_member(Role.contractor)
    area_id = create_report(reporter=host).area_id
    login(client, host.email)
    form = {
        "csrf_token": csrf_token(client, "/deviations/new"),
        "category": "youth_gathering",
        "area_id": str(area_id),
        "description": "Grupp vid porten, flaskor på marken.",
        "photo": (io.BytesIO(demo_photo("avvikelse")), "porten.jpg"),
    }
    sent = client.post("/deviations/new", data=form, content_type="multipart/form-data")
    assert sent.status_code == 302, re.findall(r"field-error[^>]*>([^<]*)", sent.get_data(as_text=True))
    report = session.scalars(select(DeviationReport).order_by(DeviationReport.id.desc())).first()
    assert report is not None
    assert len(report.photos) == 1
    photo_url = f"/deviations/{report.id}/photos/{report.photos[0].id}/thumb"
    assert client.get(photo_url).status_code == 200  # the reporter sees their own
    assert client.get(f"/deviations/{report.id}/photos/{report.photos[0].id}").mimetype == "image/jpeg"
    # A sensitive report's photo stays with the coordinators: the assignee of its task sees no photo.
    triage(session, coordinator, report, DeviationAction.acknowledged)
    task = create_task(
        session,
        coordinator,
        report,
        session.get(Building, session.scalar(select(Building.id).where(Building.area_id == report.area_id))),
    )
    other = create_member(Role.contractor)
    task.assignee_id = other.id
    session.flush()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/deviations/")})
    login(client, other.email)
    assert client.get(f"/deviations/{report.id}").status_code == 200
    assert client.get(photo_url).status_code == 404
    not_an_image = {
        **form,
        "photo": (io.BytesIO(b"not a photo"), "x.jpg"),
        "csrf_token": csrf_token(client, "/deviations/new"),
    }
    assert client.post("/deviations/new", data=not_an_image, content_type="multipart/form-data").status_code == 422


def test_coordinators_comment_and_link_on_the_page(
    client: FlaskClient, session: Session, create_report: Callable[..., Any], coordinator: User
) -> None:
    first, second = create_report(), create_report()
    login(client, coordinator.email)
    token = csrf_token(client, f"/deviations/{first.id}")
    assert (
        client.post(
            f"/deviations/{first.id}/comments", data={"csrf_token": token, "comment": "Fastighetsvärden kollar."}
        ).status_code
        == 302
    )
    refused = client.post(
        f"/deviations/{first.id}/comments", data={"csrf_token": token, "comment": "Gäller 8112189876"}
    )
    assert refused.status_code == 422
    assert (
        client.post(f"/deviations/{first.id}/links", data={"csrf_token": token, "other": f"#{second.id}"}).status_code
        == 302
    )
    page = client.get(f"/deviations/{second.id}").get_data(as_text=True)
    assert f'href="/deviations/{first.id}"' in page
    assert "Fastighetsvärden kollar." in client.get(f"/deviations/{first.id}").get_data(as_text=True)
    assert (
        client.post(f"/deviations/{first.id}/links", data={"csrf_token": token, "other": "999999"}).status_code == 422
    )
