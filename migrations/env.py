"""Alembic environment: the models' metadata, and the connection from the caller or the app's settings."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from audit import models
from audit.database import make_engine
from audit.settings import Settings

config = context.config
target_metadata = models.Base.metadata

if config.config_file_name and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    settings = Settings.from_env()
    engine = make_engine(settings.sqlalchemy_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    with engine.connect() as connection:
        _run(connection)
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
