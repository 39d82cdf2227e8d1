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
