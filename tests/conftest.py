"""Test fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too.

Each test runs inside a transaction that is rolled back afterwards (SQLAlchemy's "join a session into an
external transaction" recipe), so tests are isolated and leave the database clean. PostgreSQL tests work in a
schema of their own that is dropped at the end.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from audit import create_app
from audit.accounts.models import Organisation, Role, User
from audit.accounts.services import create_organisation, create_user
from audit.buildings.features import Feature
from audit.buildings.models import Building
from audit.buildings.services import create_building
from audit.checklists.loader import load_checklist
from audit.checklists.models import ChecklistVersion
from audit.checklists.services import store_checklist
from audit.database import IMMEDIATE, scratch_database
from audit.deviations.services import load_catalogue_file
from audit.extensions import db
from audit.inspections.models import Inspection, InspectionKind
from audit.inspections.services import start_inspection
from audit.migrate import upgrade
from audit.security import HASHER_EXTENSION, TEST_HASHING
from audit.settings import PROJECT_ROOT, Settings
from tests.s3_support import S3Server, running_s3_server

if TYPE_CHECKING:
    from tests.served_support import DemoTemplates

CHECKLIST_FILE = PROJECT_ROOT / "checklists" / "trygga-hus.yaml"
CATALOGUE_FILE = PROJECT_ROOT / "checklists" / "deviations.yaml"
TEST_PASSWORD = "correct horse battery"
#: Argon2id at its lowest cost (hashes of the usual length): the production cost took most of the suite's time.
#: Tests about that cost (the timing of unknown accounts, parallel guesses) ask `make_test_app` for
#: `production_hashing` or use the fixture of that name; servers started as subprocesses always hash at full cost.
CHEAP_HASHING = dataclasses.replace(CHEAPEST, salt_len=16, hash_len=32)


def _database_kinds() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


def fresh_database(kind: str, folder: Path) -> AbstractContextManager[str]:
    """An empty database of this kind (see `audit.database.scratch_database`)."""
    return scratch_database(folder, os.environ["TEST_DATABASE_URL"] if kind == "postgresql" else None, "test")


def make_test_app(database_url: str, instance: Path, *, production_hashing: bool = False, **overrides: Any) -> Flask:
    hashing = None if production_hashing else CHEAP_HASHING
    settings = Settings(
        instance_path=instance,
        database_url=database_url,
        secret_key=secrets.token_hex(32),
        overrides={"TESTING": True, TEST_HASHING: hashing, **overrides},
    )
    return create_app(settings)


@pytest.fixture(scope="session", params=_database_kinds())
def database_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp(f"app-{database_kind}")
    with fresh_database(database_kind, folder) as url:
        app = make_test_app(url, folder)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            store_checklist(db.session, load_checklist(CHECKLIST_FILE))
            load_catalogue_file(db.session, CATALOGUE_FILE)
            db.session.commit()
        yield app
        engine.dispose()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server, started on a free loopback port on first use (tests/s3_support.py)."""
    with running_s3_server() as server:
        yield server


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    """The demo made by the console commands once per database kind, for the tests that serve a copy of it (see
    `tests.served_support.demo_copy`)."""
    from tests.served_support import DemoTemplates

    templates = DemoTemplates(tmp_path_factory)
    yield templates
    templates.close()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """The app's session inside a transaction that is rolled back after the test."""
    state = app.extensions["tryggahus.database"]
    # Immediate: the test's outer transaction holds SQLite's write lock from the start, so the switch to a write
    # transaction before a first write (audit/database.py) never ends it.
    connection = state.engine.connect().execution_options(**{IMMEDIATE: True})
    transaction = connection.begin()
    state.connection = connection
    try:
        with app.app_context():
            yield db.session
            db.remove_session()
    finally:
        state.connection = None
        transaction.rollback()
        connection.close()


@pytest.fixture
def production_hashing(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords hashed (and the dummy hash made) at the production cost during this test."""
    monkeypatch.setitem(app.extensions, HASHER_EXTENSION, PasswordHasher())


@pytest.fixture
def client(app: Flask, session: Session) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask, session: Session) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def checklist_version(session: Session) -> ChecklistVersion:
    from audit.checklists.services import current_checklist

    version = current_checklist(session, "trygga-hus")
    assert version is not None
    return version


@pytest.fixture
def create_org(session: Session) -> Callable[..., Organisation]:
    def factory(slug: str | None = None, name: str = "Testbostäder AB") -> Organisation:
        return create_organisation(session, slug or f"org-{secrets.token_hex(3)}", name)

    return factory


@pytest.fixture
def org(create_org: Callable[..., Organisation]) -> Organisation:
    return create_org("test")


@pytest.fixture
def create_member(session: Session, org: Organisation) -> Callable[..., User]:
    def factory(
        role: Role | str = Role.inspector, organisation: Organisation | None = None, email: str | None = None
    ) -> User:
        return create_user(
            session, organisation or org, email or f"{role}-{secrets.token_hex(3)}@example.org", role, TEST_PASSWORD
        )

    return factory


@pytest.fixture
def create_test_building(session: Session, org: Organisation) -> Callable[..., Building]:
    def factory(
        organisation: Organisation | None = None, features: set[Feature] | None = None, **overrides: Any
    ) -> Building:
        values = {
            "name": f"Hus {secrets.token_hex(3)}",
            "street_address": "Testgatan 1",
            "postcode": "123 45",
            "city": "Teststad",
            **overrides,
        }
        return create_building(
            session, organisation or org, features=features if features is not None else set(Feature), **values
        )

    return factory


@pytest.fixture
def create_inspection(
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> Callable[..., Inspection]:
    def factory(
        building: Building | None = None,
        inspector: User | None = None,
        kind: InspectionKind = InspectionKind.certification,
    ) -> Inspection:
        return start_inspection(
            session,
            inspector or create_member(Role.inspector),
            building or create_test_building(),
            kind,
            checklist_version,
        )

    return factory


@pytest.fixture
def create_task(
    session: Session, create_inspection: Callable[..., Inspection], create_member: Callable[..., User]
) -> Callable[..., Any]:
    """A remediation task for one failed item of an inspection (made directly, without walking the inspection)."""
    from audit.checklists.schema import Severity
    from audit.remediation.models import RemediationTask
    from audit.remediation.services import today

    def factory(
        inspection: Inspection | None = None, item_key: str = "UTE-01", assignee: User | None = None, **values: Any
    ) -> RemediationTask:
        inspection = inspection or create_inspection()
        task = RemediationTask(
            organisation_id=inspection.organisation_id,
            building_id=inspection.building_id,
            inspection=inspection,
            section_key=item_key.split("-")[0],
            item_key=item_key,
            item_text_sv="Buskar längs gångvägar är högst 1 m höga.",
            item_text_en="Shrubs along footpaths are no higher than 1 m.",
            severity=values.pop("severity", Severity.medium),
            due_date=values.pop("due_date", today()),
            assignee=assignee,
            **values,
        )
        task.record_creation(inspection.inspector)
        session.add(task)
        session.flush()
        return task

    return factory


@pytest.fixture
def create_report(
    session: Session, create_member: Callable[..., User], create_test_building: Callable[..., Building]
) -> Callable[..., Any]:
    """A deviation report in an area (made for it, with a building in it) of the reporter's organisation."""
    from audit.buildings.services import create_area
    from audit.deviations.services import ReportInput, report_deviation

    def factory(reporter: User | None = None, category: str = "broken_lighting", **values: Any) -> Any:
        reporter = reporter or create_member(Role.contractor)
        organisation = reporter.memberships[0].organisation
        area = create_area(session, organisation, f"Område {secrets.token_hex(3)}")
        building = create_test_building(organisation=organisation, area=area)
        data = ReportInput(
            category=category,
            area_id=area.id,
            building_id=values.pop("building_id", building.id),
            description=values.pop("description", "Lampan vid entrén lyser inte."),
            **values,
        )
        return report_deviation(session, reporter, organisation.id, data)

    return factory
