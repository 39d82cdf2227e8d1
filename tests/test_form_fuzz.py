"""A form fuzzer: every HTML form route, every role, hostile values in every field, and never a 5xx (issue 16).

The fields of each form are read from the pages that show it (so a new field is fuzzed without touching this
file); a route whose form no page showed gets every field name seen anywhere. Each field then gets, in turn: long
text (beyond every limit), a NUL character, numbers beyond any column and below zero, values of the wrong type
(several values for one field, words where numbers go, impossible dates), bytes that are not UTF-8, and files
where text goes. The requests carry a valid CSRF token, so they reach the forms instead of stopping at its check.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from audit.accounts.models import Role, User
from audit.buildings.models import Building
from audit.certificates.services import issue_certificate
from audit.checklists.models import ChecklistVersion
from audit.deviations.est import services as est
from audit.deviations.est.weeks import parse_week
from audit.inspections.models import Inspection
from audit.inspections.services import submit_inspection
from tests.remediation_support import approved_inspection, walk
from tests.web_support import login

#: A fixed number of requests keeps the fuzz at about 15 s per database; this only catches one that runs away.
TIME_BUDGET_SECONDS = 120
NUMBERS = [str(2**64 + 1), "-2147483649", "-1", str(2**31), "1" + "0" * 400]
WEIRD = ["", "NaN", "1e309", "-0", "0x1F", "9999-99-99", "0001-01-01", "true", "null", "[]", "<b>x</b>", " "]


@dataclass
class _Forms(HTMLParser):
    """The fields of every POST form on a page, by the path it posts to."""

    page: str
    fields: dict[str, set[str]] = field(default_factory=dict)
    _current: set[str] | None = None

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "get").lower() == "post":
            action = urlsplit(values.get("action") or self.page).path
            self._current = self.fields.setdefault(action, set())
        elif tag in {"input", "select", "textarea", "button"} and self._current is not None and values.get("name"):
            self._current.add(str(values["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@cache
def _long_text(ordered: tuple[str, ...]) -> str:
    """Every field with text beyond every limit, form-encoded once per form (as the test client would encode it)."""
    return urlencode(dict.fromkeys(ordered, "Lång text. " * 1000))


def _payloads(names: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, keyword arguments for the test client's `post`) for each kind of hostile input."""
    ordered = sorted(names)
    yield "long text", {"data": _long_text(tuple(ordered)), "content_type": "application/x-www-form-urlencoded"}
    yield "NUL", {"data": dict.fromkeys(ordered, "före\x00efter")}
    yield "numbers", {"data": {name: NUMBERS[i % len(NUMBERS)] for i, name in enumerate(ordered)}}
    # Several values for every field, the first of them of a wrong type.
    yield "wrong types", {"data": {name: [WEIRD[i % len(WEIRD)], "1", "x"] for i, name in enumerate(ordered)}}
    yield (
        "not UTF-8",
        {
            "data": "&".join(f"{quote(name)}=%FF%FE%C3%28%80" for name in ordered),
            "content_type": "application/x-www-form-urlencoded",
        },
    )
    yield (
        "files for text",
        {
            "data": {name: (io.BytesIO(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00garbage"), "../../ä.jpg") for name in ordered},
            "content_type": "multipart/form-data",
        },
    )


#: The EST group's week whose page and forms are fuzzed.
FUZZ_WEEK = "2026-W49"


@pytest.fixture
def world(
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    create_inspection: Callable[..., Inspection],
    create_task: Callable[..., Any],
    create_report: Callable[..., Any],
    checklist_version: ChecklistVersion,
) -> dict[str, Any]:
    """One user per role, and one of everything a form changes: a draft, a submitted and an approved inspection, a
    task assigned to the contractor and a certificate."""
    users = {role: create_member(role, email=f"fuzz-{role.value}@test.example") for role in Role}
    inspector, manager = users[Role.inspector], users[Role.manager]
    building = create_test_building()
    draft = create_inspection(building=building, inspector=inspector)
    submitted = create_inspection(building=create_test_building(), inspector=inspector)
    walk(session, inspector, submitted, failing=())
    submit_inspection(session, inspector, submitted)
    approved = approved_inspection(session, inspector, manager, create_test_building(), checklist_version, ())
    certificate = issue_certificate(session, manager, approved, lambda _certificate: b"%PDF-1.7 fuzz")
    task = create_task(draft, assignee=users[Role.contractor])
    report = create_report(reporter=users[Role.contractor])
    group = est.create_group(session, users[Role.admin], users[Role.admin].memberships[0].organisation, "EST Fuzz")
    group_area = est.add_group_area(session, None, group, "Fittja")
    session.flush()
    own_party = group.parties[0]
    measure = est.record_measure(
        session, manager, group, parse_week(FUZZ_WEEK) or 0, est.MeasureInput("Väktare", own_party.id)
    )
    session.flush()
    return {
        "users": {role: user.email for role, user in users.items()},
        "ids": {
            "building_id": building.id,
            "inspection_id": draft.id,
            "task_id": task.id,
            "certificate_id": certificate.id,
            "section_key": "UTE",
            "user_id": inspector.id,
            "token": "x" * 43,
            "report_id": report.id,
            "group_id": group.id,
            "group_area_id": group_area.id,
            "week": FUZZ_WEEK,
            "measure_id": measure.id,
            "spot": f"building:{building.id}",
        },
        "pages": [
            "/login",
            "/password",
            "/users/",
            "/buildings/new",
            f"/buildings/{building.id}/edit",
            "/buildings/areas",
            f"/inspections/start/{building.id}",
            f"/inspections/{draft.id}",
            f"/inspections/{draft.id}/sections/UTE",
            f"/inspections/{submitted.id}/result",
            f"/inspections/{approved.id}/result",
            f"/tasks/{task.id}",
            "/tasks/",
            f"/certificates/{certificate.id}",
            "/certificates/",
            "/deviations/new",
            f"/deviations/{report.id}",
            "/est/",
            f"/est/{group.id}/",
            f"/est/{group.id}/weeks/{FUZZ_WEEK}",
            f"/est/{group.id}/spots/building:{building.id}",
        ],
        # Forms that act on an inspection in another state: approve or return a submitted one, issue an approved one.
        "ids_for": {
            "inspections.approve": {"inspection_id": submitted.id},
            "inspections.return_": {"inspection_id": submitted.id},
            "certificates.issue": {"inspection_id": approved.id},
        },
    }


def _landing(role: Role | None) -> str:
    return "/login" if role is None else "/tasks/" if role is Role.contractor else "/buildings/"


def _csrf(client: FlaskClient, role: Role | None) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get(_landing(role)).get_data(as_text=True))
    assert match
    return match.group(1)


def _form_routes(app: Flask, world: dict[str, Any]) -> list[tuple[str, str]]:
    """(endpoint, path) of every route an HTML form posts to, with the ids of the world's objects it acts on."""
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.rule.startswith("/api/") or rule.endpoint == "accounts.logout":
            continue
        values = {**world["ids"], **world["ids_for"].get(rule.endpoint, {})}
        routes.append((rule.endpoint, rule.build({name: values[name] for name in rule.arguments})[1]))
    return routes


def _fields_by_endpoint(app: Flask, clients: dict[Role | None, FlaskClient], pages: list[str]) -> dict[str, set[str]]:
    adapter = app.url_map.bind("localhost")
    found: dict[str, set[str]] = {}
    for client in clients.values():
        for page in pages:
            response = client.get(page)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            forms = _Forms(page)
            forms.feed(response.get_data(as_text=True))
            for action, names in forms.fields.items():
                try:
                    endpoint, _args = adapter.match(action, method="POST")
                except HTTPException:
                    continue
                found.setdefault(str(endpoint), set()).update(names - {"csrf_token"})
    return found


def test_no_form_gives_a_5xx_whatever_is_sent(app: Flask, session: Session, world: dict[str, Any]) -> None:
    # As in production: an exception is a 500 reply to collect, not an exception in the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        _fuzz(app, world)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None


def _fuzz(app: Flask, world: dict[str, Any]) -> None:
    started = time.monotonic()
    clients: dict[Role | None, FlaskClient] = {None: app.test_client()}
    for role, email in world["users"].items():
        clients[role] = app.test_client()
        login(clients[role], email)
    # The pages that show forms differ between these roles (a manager sees what an admin sees, a viewer less).
    crawlers = {role: clients[role] for role in (None, Role.admin, Role.inspector, Role.contractor)}
    fields = _fields_by_endpoint(app, crawlers, world["pages"])
    every_name = set().union(*fields.values())
    routes = _form_routes(app, world)
    # The fields were read from the pages (a form that no page of this world shows gets every name seen).
    assert {"accounts.login", "buildings.create", "inspections.save_section", "remediation.due_date"} <= set(fields)
    failures, sent = [], 0
    for role, client in clients.items():
        token = _csrf(client, role)
        for endpoint, path in routes:
            if role is None and endpoint != "accounts.login":
                continue  # without a login every other form is a redirect to the login page
            for label, request in _payloads(fields.get(endpoint, every_name)):
                if isinstance(request["data"], str):
                    request = {**request, "data": f"csrf_token={quote(token)}&{request['data']}"}
                else:
                    request = {**request, "data": {**request["data"], "csrf_token": token}}
                status = client.post(path, **request).status_code
                sent += 1
                if status >= 500:
                    failures.append(f"{role and role.value} {label} POST {path} ({endpoint}): {status}")
    elapsed = time.monotonic() - started
    print(f"form fuzz: {sent} requests over {len(routes)} form routes in {elapsed:.1f} s, {len(failures)} 5xx")
    assert failures == []
    assert sent > 500
    assert elapsed < TIME_BUDGET_SECONDS
