"""Migrations: upgrading an empty database gives exactly the models' schema; every revision goes down and up."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from audit.database import make_engine
from audit.migrate import alembic_config, downgrade, upgrade
from audit.models import Base
from tests.conftest import fresh_database


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_revision_files_are_date_prefixed_and_downgradable() -> None:
    folder = Path(alembic_config().get_main_option("script_location")) / "versions"
    files = sorted(folder.glob("*.py"))
    assert files
    for file in files:
        assert file.name[:8].isdigit(), file.name
        assert file.name[8] == "_", file.name
        source = file.read_text()
        body = source.split("def downgrade() -> None:", 1)[1]
        assert "op." in body, f"{file.name} has no real downgrade()"


def test_upgrade_to_head_matches_the_models(database_kind: str, tmp_path: Path) -> None:
    with fresh_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        engine.dispose()


def test_every_revision_downgrades_and_upgrades_again(database_kind: str, tmp_path: Path) -> None:
    with fresh_database(database_kind, tmp_path) as url:
        engine = make_engine(url)
        previous = "base"
        for revision in _revisions():
            with engine.begin() as connection:
                upgrade(connection, revision)
                downgrade(connection, previous)
                upgrade(connection, revision)
            previous = revision
        with engine.begin() as connection:
            downgrade(connection, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        engine.dispose()


def test_migrating_down_and_up_keeps_every_row(database_kind: str, tmp_path: Path) -> None:
    """Revisions that rebuild a table on SQLite (batch mode) must not take the rows that refer to it with them."""
    from sqlalchemy import func, select

    from audit.demo import create_demo
    from audit.models import Answer, RemediationTask, TaskEvent
    from tests.conftest import CHECKLIST_FILE, make_test_app

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            from audit.checklists.loader import load_checklist
            from audit.checklists.services import store_checklist
            from audit.extensions import db

            store_checklist(db.session, load_checklist(CHECKLIST_FILE))
            create_demo(db.session)
            db.session.commit()

        def counts() -> tuple[int, ...]:
            with engine.connect() as connection:
                return tuple(
                    connection.scalar(select(func.count()).select_from(model.__table__))  # type: ignore[attr-defined]
                    for model in (Answer, RemediationTask, TaskEvent)
                )

        before = counts()
        assert all(before)
        downgrade(engine, "0004")
        assert counts() == before
        upgrade(engine)
        assert counts() == before
        engine.dispose()


def test_batch_print_jobs_become_jobs_and_back(database_kind: str, tmp_path: Path) -> None:
    """0010 copies every batch print job into the job table with its id (its page and file keep their address), a
    job left unfinished by the thread runner queued again for the recovery to send; its downgrade copies them back."""
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from audit.accounts.services import create_organisation, create_user
    from audit.jobs.models import Job, JobStatus
    from audit.models import Organisation, User
    from tests.conftest import TEST_PASSWORD, make_test_app

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            from audit.extensions import db

            organisation = create_organisation(db.session, "jobs", "Jobbostäder AB")
            create_user(db.session, organisation, "m@jobs.example", "manager", TEST_PASSWORD)
            db.session.commit()
        downgrade(engine, "0009")
        with engine.connect() as connection:
            organisation_id = connection.scalar(sa.select(sa.func.min(Organisation.id)))
            user_id = connection.scalar(sa.select(sa.func.min(User.id)))
        batch_jobs = sa.table(
            "batch_jobs",
            *(sa.column(name) for name in ("id", "organisation_id", "created_by_id", "status", "format", "total")),
            *(sa.column(name) for name in ("done", "result_name")),
            *(sa.column(name, sa.DateTime(timezone=True)) for name in ("created_at", "started_at", "finished_at")),
            *(sa.column(name, sa.JSON()) for name in ("params", "errors")),
        )
        at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
        common = {"organisation_id": organisation_id, "created_by_id": user_id, "created_at": at, "total": 2}
        params = {"certificate_ids": [1, 2], "size": "A4", "language": "sv"}
        rows = [
            {**common, "id": 7, "status": "finished", "format": "zip", "done": 2, "result_name": "a.zip",
             "started_at": at, "finished_at": at, "params": params, "errors": [{"number": "TH-1", "error": "x"}]},
            {**common, "id": 8, "status": "failed", "format": "pdf", "done": 1, "result_name": None,
             "started_at": at, "finished_at": at, "params": params, "errors": [{"number": "", "error": "boom"}]},
            {**common, "id": 9, "status": "running", "format": "pdf", "done": 1, "result_name": None,
             "started_at": at, "finished_at": None, "params": params, "errors": []},
        ]  # fmt: skip
        with engine.begin() as connection:
            connection.execute(batch_jobs.insert(), rows)
        upgrade(engine)
        with app.app_context():
            from audit.extensions import db

            jobs = {job.id: job for job in db.session.scalars(sa.select(Job))}
            assert set(jobs) == {7, 8, 9}
            assert {job.kind for job in jobs.values()} == {"certificates.print_signs"}
            finished = (jobs[7].status, jobs[7].params["format"], jobs[7].result_name)
            assert finished == (JobStatus.finished, "zip", "a.zip")
            assert jobs[7].errors == [{"number": "TH-1", "error": "x"}]
            assert (jobs[8].status, jobs[8].failure, jobs[8].errors) == (JobStatus.failed, "boom", [])
            assert (jobs[9].status, jobs[9].done, jobs[9].attempts) == (JobStatus.queued, 0, 0)
            assert jobs[9].lease_expires_at == at  # expired: the first recovery sends it to a worker
            newer = Job(kind="cleanup", params={}, errors=[], max_attempts=3)
            db.session.add(newer)
            db.session.commit()
            assert newer.id == 10  # the id sequence was moved past the copied ids
        downgrade(engine, "0009")
        with engine.connect() as connection:
            back = {row.id: row for row in connection.execute(sa.select(batch_jobs))}
        assert set(back) == {7, 8, 9}  # the clean-up job has no place there
        assert (back[7].status, back[7].format, back[7].params) == ("finished", "zip", params)
        assert back[8].errors == [{"number": "", "error": "boom"}]
        assert (back[9].status, back[9].started_at) == ("queued", None)
        upgrade(engine)
        engine.dispose()
