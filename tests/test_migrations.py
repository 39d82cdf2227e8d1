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
