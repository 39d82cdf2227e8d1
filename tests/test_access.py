"""Deny by default: every route declares who may use it; roles × organisations get exactly what they should."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from audit.access import PUBLIC, access_rule
from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Building
from audit.inspections.models import Inspection
from tests.est_support import area_of, est_group
from tests.web_support import login

#: Writes that only the inspection's own inspector may make (the matrix's inspection belongs to the inspector).
OWNER_ONLY = {"api.put_answer", "api.post_photo", "api.submit", "inspections.save_section", "inspections.submit"}
#: Work on a task: only its assignee (the matrix's task is the contractor's) and managers may do it.
ASSIGNEE_ONLY = {"remediation.start", "remediation.work"}
#: Routes that need no login, on purpose.
PUBLIC_ENDPOINTS = {
    "static",
    "main.index",
    "health.healthz",
    "health.readyz",
    "accounts.login",
    "accounts.reset",
    "api.openapi",
    "certificates.verify",
    # The installable app: the service worker's code and the manifest hold no one's data, and browsers fetch the
    # manifest without cookies.
    "offline.service_worker",
    "offline.manifest",
}


def test_every_route_declares_an_access_rule(app: Flask) -> None:
    missing = [rule.endpoint for rule in app.url_map.iter_rules() if access_rule(app, rule.endpoint) is None]
    assert missing == []


def test_only_the_allowlist_is_public(app: Flask) -> None:
    public = {rule.endpoint for rule in app.url_map.iter_rules() if access_rule(app, rule.endpoint) == PUBLIC}
    assert public == PUBLIC_ENDPOINTS


def _concrete(rule: str, ids: dict[str, object]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(ids[m.group(1)]), rule)


@pytest.fixture
def world(
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    create_inspection: Callable[..., Inspection],
    create_task: Callable[..., object],
    create_report: Callable[..., object],
    org: Organisation,
    session: Session,
) -> dict[str, object]:
    """Our organisation with a user per role, and another organisation with a building and an inspection."""
    other = create_org("other")
    other_inspector = create_member(Role.inspector, organisation=other)
    foreign_building = create_test_building(organisation=other)
    foreign = create_inspection(building=foreign_building, inspector=other_inspector)
    users = {role: create_member(role, email=f"{role.value}@test.example") for role in Role}
    own_building = create_test_building()
    own = create_inspection(building=own_building, inspector=users[Role.inspector])
    # The own task is the contractor's: contractors reach only tasks assigned to them.
    own_task = create_task(own, assignee=users[Role.contractor])
    foreign_task = create_task(foreign, assignee=other_inspector)
    # The own deviation report is the contractor's (a property host): others see it only as coordinators.
    own_report = create_report(reporter=users[Role.contractor])
    foreign_report = create_report(reporter=other_inspector)
    # An EST group of ours and one of the other organisation's, each with an area and a measure.
    own_group, foreign_group = (
        est_group(session, name, organisation, area_of(own_report if organisation is org else foreign_report))
        for name, organisation in (("EST egen", org), ("EST annan", other))
    )
    # Plain ids: every request ends its session, so ORM objects would be detached afterwards.
    return {
        "groups": (own_group, foreign_group),
        "own": (own.id, own.building_id),
        "foreign": (foreign.id, foreign.building_id),
        "tasks": (own_task.id, foreign_task.id),  # type: ignore[attr-defined]
        "users": (users[Role.contractor].id, other_inspector.id),
        "reports": (own_report.id, foreign_report.id),  # type: ignore[attr-defined]
    }


def _requests(app: Flask, world: dict[str, object]) -> list[tuple[str, str, str, str]]:
    """(endpoint, method, own url, foreign url) for every route except static."""
    (own_id, own_building), (foreign_id, foreign_building) = world["own"], world["foreign"]
    rows = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            ids_own = {
                "building_id": own_building,
                "inspection_id": own_id,
                "section_key": "UTE",
                "item_key": "UTE-01",
                "photo_id": 999999,
                "variant": "thumb",
                # No such certificate, token or print job: the gate answers before the lookup (real ones of
                # another organisation answer 404 in tests/test_certificates.py).
                "certificate_id": 999999,
                "token": "unknown-token-0123456789abcdef",
                "job_id": 999999,
                "task_id": world["tasks"][0],
                "user_id": world["users"][0],
                "report_id": world["reports"][0],
                "week": "2026-W49",
                "spot": "place:999999",
                **world["groups"][0],
            }
            ids_foreign = {
                **ids_own,
                "building_id": foreign_building,
                "inspection_id": foreign_id,
                "task_id": world["tasks"][1],
                "user_id": world["users"][1],
                "report_id": world["reports"][1],
                **world["groups"][1],
            }
            rows.append((rule.endpoint, method, _concrete(rule.rule, ids_own), _concrete(rule.rule, ids_foreign)))
    # Logging out ends the session the rest of the matrix runs in: it goes last.
    return sorted(rows, key=lambda row: row[0] == "accounts.logout")


def _call(client: FlaskClient, method: str, url: str) -> int:
    return client.open(
        url,
        method=method,
        json={} if method in {"PUT", "POST"} and "/api/" in url else None,
        headers={"Idempotency-Key": secrets.token_hex(8)},
    ).status_code


@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "anonymous")
def test_role_and_organisation_matrix(role: Role | None, app: Flask, world: dict[str, object]) -> None:
    """Every route, as every role and as nobody: refused roles get 403, other organisations 404, nobody a login."""
    app.config["WTF_CSRF_ENABLED"] = False  # the matrix is about access; CSRF has its own tests
    try:
        client = app.test_client()
        if role is not None:
            login(client, f"{role.value}@test.example")
        for endpoint, method, own_url, foreign_url in _requests(app, world):
            rule = access_rule(app, endpoint)
            status = _call(client, method, own_url)
            if rule == PUBLIC:
                assert status not in (401, 403), (endpoint, method, status)
            elif role is None:
                assert status in (302, 401), (endpoint, method, status)
                if endpoint.startswith("api."):
                    assert status == 401
            elif role not in rule or (
                endpoint in ASSIGNEE_ONLY and role not in (Role.contractor, Role.admin, Role.manager)
            ):
                assert status == 403, (role, endpoint, method, status)
            elif endpoint in OWNER_ONLY and role is not Role.inspector:
                assert status in (302, 400, 403), (role, endpoint, method, status)  # never carried out
            else:
                assert status not in (401, 403), (role, endpoint, method, status)
                if own_url != foreign_url:  # the route names a building or an inspection
                    assert _call(client, method, foreign_url) == 404, (role, endpoint, method, foreign_url)
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
