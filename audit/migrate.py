"""Running the Alembic migrations in `migrations/` against an engine or a connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from audit.settings import PROJECT_ROOT

ALEMBIC_INI = PROJECT_ROOT / "migrations" / "alembic.ini"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class MigrationBroke(RuntimeError):
    """A migration left rows that refer to rows that do not exist; nothing of it was committed."""


@contextmanager
def _migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for the migrations, committed when they all succeed.

    On SQLite, foreign keys are off while it runs: a migration that changes a table's constraints rebuilds the table
    (Alembic's batch mode) and drops the old one, and with foreign keys on, dropping it first deletes every row that
    refers to it (ON DELETE CASCADE): answers, tasks, revocations. The keys are checked before the commit instead.
    The setting can only change outside a transaction, so it is set on the driver's connection before BEGIN.
    """
    with engine.connect() as connection:
        raw = connection.connection.driver_connection if connection.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                yield connection
                if raw is not None and connection.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                    raise MigrationBroke("a migration left rows that refer to missing rows; nothing was changed")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = ON")


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Migrate to `revision`: an engine gets its own transaction (see `_migration_transaction`); a connection is
    migrated in the caller's transaction, as it is."""
    if isinstance(bind, Engine):
        with _migration_transaction(bind) as connection:
            command.upgrade(alembic_config(connection), revision)
    else:
        command.upgrade(alembic_config(bind), revision)


def downgrade(bind: Engine | Connection, revision: str) -> None:
    if isinstance(bind, Engine):
        with _migration_transaction(bind) as connection:
            command.downgrade(alembic_config(connection), revision)
    else:
        command.downgrade(alembic_config(bind), revision)
