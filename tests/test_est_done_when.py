"""Issue 14's "done when", walked through the app on a copy of the demo (SQLite and PostgreSQL): a property host
reports a deviation, a coordinator acknowledges it and turns it into a task, the week's situation picture of the
demo EST group shows it with its trend and the hot spots, the police see the picture and nothing else, and the
meeting's PDF prints."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from audit.accounts.models import Role
from audit.buildings.models import Area, Building
from audit.demo import DEMO_PASSWORDS, demo_email
from audit.deviations.est.demo import PASSWORD as EST_PASSWORD
from audit.deviations.est.models import EstGroup
from audit.deviations.est.views import this_week
from audit.deviations.models import DeviationReport
from audit.extensions import db
from audit.remediation.models import RemediationTask
from tests.conftest import make_test_app
from tests.pdf_support import pdf_text
from tests.served_support import DemoTemplates, demo_copy
from tests.web_support import csrf_token, login

_HREF = re.compile(r'href="(/[^"]*)"')
_MENU = re.compile(r'<nav class="site-nav".*?</nav>', re.S)
#: What a partner may reach besides its EST pages: its own password, logging out (and the language switch).
_ACCOUNT = ("/password", "/logout")


@pytest.fixture
def demo_app(database_kind: str, demo_templates: DemoTemplates, tmp_path: Path) -> Iterator[Flask]:
    with demo_copy(demo_templates.get(database_kind), tmp_path) as url:
        app = make_test_app(url, tmp_path)
        with app.app_context():
            yield app
            db.session.close()
        app.extensions["tryggahus.database"].engine.dispose()


def _line_count(page: str, area: str, category: str) -> int:
    found = re.search(rf'data-line="{area}\|{category}"><td></td><td>[^<]*</td><td class="num">(\d+)</td>', page)
    return int(found.group(1)) if found else 0


def _as(app: Flask, email: str, password: str) -> FlaskClient:
    client = app.test_client()
    login(client, email, password)
    return client


def test_the_police_see_the_picture_and_nothing_else(demo_app: Flask) -> None:
    police = demo_app.test_client()
    token = csrf_token(police, "/login")
    landed = police.post("/login", data={"email": "polis@demo.example", "password": EST_PASSWORD, "csrf_token": token})
    assert landed.headers["Location"] == "/est/"  # the police land on their EST groups
    assert police.get("/").headers["Location"] == "/est/"
    start = police.get("/est/").get_data(as_text=True)
    menu = _MENU.search(start)
    assert menu is not None
    entries = [href for href in _HREF.findall(menu.group(0)) if not href.startswith(_ACCOUNT) and "lang=" not in href]
    assert entries == ["/est/"]
    assert 'action="/est/"' not in start  # a partner sets up no group

    # Every page reachable from the menu, breadth first; weeks chain on forever (and look alike): three of them.
    seen, queue, reached, weeks = {"/est/"}, ["/est/"], [], 0
    while queue:
        path = queue.pop(0)
        response = police.get(path)
        assert response.status_code == 200, path
        reached.append(path)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        for hidden in ("/photos/", "data-spot-inspections", "data-spot-tasks", "data-spot-check", "Demo contractor"):
            assert hidden not in page, (path, hidden)
        for href in _HREF.findall(page):
            href = href.split("#")[0]
            if href.startswith(("/static/", "/sw.js", "/manifest", *_ACCOUNT)) or "lang=" in href or href == "/":
                continue
            assert href.startswith("/est/"), (path, href)  # nothing outside the picture is linked
            if "/weeks/" in href and href not in seen:
                weeks += 1
                if weeks > 3 or href.endswith(".pdf"):
                    continue
            if href not in seen:
                seen.add(href)
                queue.append(href)
    assert any("/weeks/" in path for path in reached)
    assert any("/spots/" in path for path in reached)
    assert any(path.endswith("/reports") for path in reached)


def test_done_when_a_report_becomes_a_task_and_shows_in_the_picture_and_its_pdf(demo_app: Flask) -> None:
    session = db.session
    group = session.scalars(select(EstGroup)).one()
    area = session.scalars(select(Area).where(Area.name == "Fittja")).first()
    assert area is not None
    building = session.scalars(select(Building).where(Building.area_id == area.id).order_by(Building.id)).first()
    assert building is not None
    week = this_week()
    manager = _as(demo_app, demo_email(Role.manager), DEMO_PASSWORDS[Role.manager])
    picture_path = f"/est/{group.id}/weeks/{week}"
    before = _line_count(manager.get(picture_path).get_data(as_text=True), "Fittja", "damaged_lock")

    # The property host reports from the field.
    host = _as(demo_app, demo_email(Role.contractor), DEMO_PASSWORDS[Role.contractor])
    form = {
        "csrf_token": csrf_token(host, "/deviations/new"),
        "category": "damaged_lock",
        "area_id": str(area.id),
        "building_id": str(building.id),
        "place_name": "Cykelrummets dörr",
        "description": "Dörren till cykelrummet går inte i lås.",
        "urgency": "",
    }
    assert host.post("/deviations/new", data=form).status_code == 302
    session.rollback()  # a new read transaction: the request's commit shows
    report = session.scalars(select(DeviationReport).order_by(DeviationReport.id.desc())).first()
    assert report is not None
    assert report.description.startswith("Dörren")

    # The coordinator acknowledges it and turns it into a task on the building.
    token = csrf_token(manager, f"/deviations/{report.id}")
    acknowledged = manager.post(f"/deviations/{report.id}/triage", data={"action": "acknowledged", "csrf_token": token})
    assert acknowledged.status_code in (302, 303)
    made = manager.post(f"/deviations/{report.id}/task", data={"building_id": str(building.id), "csrf_token": token})
    assert made.status_code in (302, 303)
    session.rollback()
    task = session.scalars(select(RemediationTask).where(RemediationTask.deviation_id == report.id)).one()
    assert task.building_id == building.id

    # The week's picture counts it, against the four weeks before, with the place and the hot spots.
    page = manager.get(picture_path).get_data(as_text=True)
    assert _line_count(page, "Fittja", "damaged_lock") == before + 1
    line = re.search(r'data-line="Fittja\|damaged_lock">(.*?)</tr>', page, re.S)
    assert line is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', line.group(1))
    assert len(cells) == 3  # this week, the average of the four before, the change against it
    assert re.search(r"[+−-]?\d", re.sub(r"<[^>]+>", "", cells[2]))
    assert f'data-place="place:{report.place_id}"' in page
    assert page.count("data-hot-spot=") >= 2  # the demo's two hot spots

    # The police see the same picture, without the report's words or who made it.
    police = _as(demo_app, "polis@demo.example", EST_PASSWORD)
    theirs = police.get(picture_path).get_data(as_text=True)
    assert _line_count(theirs, "Fittja", "damaged_lock") == before + 1
    assert "Dörren till cykelrummet" not in theirs
    assert police.get(f"/deviations/{report.id}").status_code == 404
    assert police.get(f"/tasks/{task.id}").status_code == 404

    # The meeting's PDF prints.
    pdf = manager.get(f"{picture_path}.pdf")
    assert pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.get_data())
    assert group.name in text
    assert "Cykelrummets dörr" in text
