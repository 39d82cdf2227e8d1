"""The app under the servers users run (`tryggahus serve`, as `make run` does, and `gunicorn wsgi:app`).

One worker answers every request, so anything a request leaves behind in the process would be seen by the next:
these tests interleave users of two organisations and both languages, and check that each page shows what is
true for its own request — in particular that the building's task count follows a task being opened. And signs
are printed in the background: by the job worker `tryggahus serve` runs beside itself on the embedded queue, and
beside `gunicorn wsgi:app` by a `tryggahus worker` of its own, as in production.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from audit.accounts.models import Role
from audit.buildings.models import Building
from audit.database import make_engine
from audit.demo import DEMO_PASSWORDS, demo_email
from audit.inspections.models import Inspection, InspectionStatus
from tests.served_support import (
    BIN,
    HOST,
    OTHER_ADMIN,
    OTHER_PASSWORD,
    Browser,
    DemoTemplates,
    RunningServer,
    app_environment,
    demo_copy,
    free_port,
    served,
)


def _command(kind: str, port: int) -> list[str]:
    if kind == "serve":
        return [str(BIN / "tryggahus"), "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
    return [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"{HOST}:{port}", "wsgi:app"]


@dataclass
class DemoSite:
    server: RunningServer
    #: The demo building whose inspection waits for review, and that inspection.
    building_id: int
    inspection_id: int
    #: A building of the other organisation.
    other_building_id: int
    #: A demo inspection being walked.
    draft_id: int
    #: "serve" or "gunicorn", and what a `tryggahus worker` beside it needs.
    kind: str
    env: dict[str, str]
    folder: Path


@pytest.fixture(scope="module", params=["serve", "gunicorn"])
def site(
    request: pytest.FixtureRequest,
    database_kind: str,
    demo_templates: DemoTemplates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DemoSite]:
    """One served demo per database and server, for both tests: the language test reads only what the state test
    leaves as it is (a draft's section page), so neither depends on the other's order. Each server gets its own copy
    of the demo the console commands made (with the other organisation and its admin)."""
    tmp_path = tmp_path_factory.mktemp(f"served-{request.param}")
    with demo_copy(demo_templates.get(database_kind), tmp_path) as url:
        env = app_environment(url, tmp_path)
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                building_id, inspection_id = connection.execute(
                    select(Inspection.building_id, Inspection.id).where(Inspection.status == InspectionStatus.submitted)
                ).one()
                draft_id = connection.execute(
                    select(Inspection.id).where(Inspection.status == InspectionStatus.draft).limit(1)
                ).scalar_one()
        finally:
            engine.dispose()
        port = free_port()
        with served(_command(request.param, port), env, tmp_path, port) as server:
            other = Browser(server)
            other.login(OTHER_ADMIN, OTHER_PASSWORD)
            status, _page = other.post(
                "/buildings/new",
                {"name": "Andra huset", "street_address": "Annan gata 1", "postcode": "111 11", "city": "Stockholm"},
                token_from="/buildings/new",
            )
            assert status == 200, server.log_tail()
            other_building_id = _building_id(url, "Andra huset")
            yield DemoSite(
                server, building_id, inspection_id, other_building_id, draft_id, request.param, env, tmp_path
            )


def _building_id(url: str, name: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(Building.id).where(Building.name == name)).scalar_one()
    finally:
        engine.dispose()


def _open_tasks(page: str) -> int:
    match = re.search(r"(\d+) (?:öppen åtgärd|öppna åtgärder|open tasks?)", page)
    assert match, "no task count on the building's page"
    return int(match.group(1))


def test_every_request_sees_its_own_state(site: DemoSite) -> None:
    manager, inspector, other = Browser(site.server), Browser(site.server), Browser(site.server)
    manager.login(demo_email(Role.manager), DEMO_PASSWORDS[Role.manager])
    inspector.login(demo_email(Role.inspector), DEMO_PASSWORDS[Role.inspector])
    other.login(OTHER_ADMIN, OTHER_PASSWORD)
    building = f"/buildings/{site.building_id}"

    status, page = manager.get(building)
    assert status == 200
    assert _open_tasks(page) == 0, "the building waits for its first review: no tasks yet"

    # Another organisation's manager, in English, between the demo manager's requests.
    status, page = other.get(f"/buildings/{site.other_building_id}?lang=en")
    assert (status, _open_tasks(page)) == (200, 0)
    assert "Andra huset" in page
    assert "Buildings" in page
    assert other.get(building)[0] == 404

    # The review opens a task for every failed item.
    status, page = manager.post(
        f"/inspections/{site.inspection_id}/approve", {"comment": ""}, token_from=f"/inspections/{site.inspection_id}"
    )
    assert status == 200, site.server.log_tail()

    status, page = manager.get(building)
    opened = _open_tasks(page)
    assert opened > 0, "the count must follow the tasks the approval opened"
    assert "Buildings" not in page, "the manager's own language (Swedish), not the last request's"
    status, page = manager.get("/buildings/")
    assert f"{opened} öppn" in page

    # And the other organisation still sees only its own building, in its own language.
    status, page = other.get("/buildings/")
    assert "Andra huset" in page
    assert "Fittja" not in page
    assert "Buildings" in page


def test_the_walk_follows_each_request_s_language(site: DemoSite) -> None:
    inspector = Browser(site.server)
    inspector.login(demo_email(Role.inspector), DEMO_PASSWORDS[Role.inspector])
    status, page = inspector.get(f"/inspections/{site.draft_id}")
    section = re.search(r"/inspections/\d+/sections/([\w-]+)", page)
    assert status == 200
    assert section, "the inspection page links its sections"
    path = f"/inspections/{site.draft_id}/sections/{section.group(1)}"
    english = inspector.get(path + "?lang=en")[1]
    swedish = inspector.get(path + "?lang=sv")[1]
    assert "Guidance" in english
    assert "Vägledning" not in english
    assert "Vägledning" in swedish
    assert "Guidance" not in swedish


def test_signs_are_printed_in_the_background(site: DemoSite) -> None:
    """`tryggahus serve` prints with the job worker it runs beside itself (nothing else to start, as `make run`);
    `gunicorn wsgi:app` has none, and a `tryggahus worker` started beside it prints (the production layout)."""
    from tests.jobs_support import job_worker

    manager = Browser(site.server)
    manager.login(demo_email(Role.manager), DEMO_PASSWORDS[Role.manager])
    form = {"area": "0", "format": "pdf", "size": "A4", "language": "sv"}
    status, page = manager.post("/certificates/batch", form, token_from="/certificates/")
    match = re.search(r'data-progress-url="(/certificates/batch/\d+/progress)"', page)
    assert status == 200, site.server.log_tail()
    assert match, "the batch page shows the job's progress"
    with job_worker(site.env, site.folder) if site.kind == "gunicorn" else contextlib.nullcontext():
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            state = json.loads(manager.get(match.group(1))[1])
            if state["status"] in ("finished", "failed"):
                break
            time.sleep(0.1)
    assert state["status"] == "finished", (state, site.server.log_tail())
    assert state["done"] == state["total"] > 0
    assert state["download"]
