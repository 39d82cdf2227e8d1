"""The database: declarative base, engine per app, one session per app context, one commit per request.

SQLite is tuned for several writers: WAL, a busy timeout, foreign keys on, and write transactions that hold the
write lock for as short a time as possible. A transaction begins deferred and reads without any lock; just before
its first write it ends the read and takes the write lock with `BEGIN IMMEDIATE` (a deferred transaction that
simply wrote would fail with "database is locked" whenever another writer committed after its first read; an
immediate one waits its turn instead). What was read before the write lock may have changed since, exactly as
under PostgreSQL's READ COMMITTED: writes that depend on earlier reads are guarded by `lock_for_write`, version
columns and unique constraints, on both databases alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, has_request_context
from flask.globals import app_ctx, request_ctx
from sqlalchemy import Connection, DateTime, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.types import TypeDecorator

#: One naming convention for every constraint, so migrations can name (and drop) them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Execution option that asks for `BEGIN IMMEDIATE` on SQLite (ignored on other databases).
IMMEDIATE = "tryggahus_begin_immediate"
#: Key in a SQLite connection's `info`: whether its current transaction holds the write lock.
_HOLDS_WRITE_LOCK = "tryggahus_holds_write_lock"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database (SQLite stores no offset, so it is added back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use audit.database.utcnow() or an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN, instead of the driver's own implicit one.
        dbapi_connection.isolation_level = None
        # SQLite's own lower() folds only ASCII; searching "älvsjö" must find "Älvsjö" as on PostgreSQL.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        connection.info[_HOLDS_WRITE_LOCK] = immediate

    @event.listens_for(engine, "before_cursor_execute")
    def _before_first_write(connection: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            _take_write_lock(connection, cursor)


def _take_write_lock(connection: Connection, cursor: Any) -> None:
    """Turn the connection's read-only transaction into a write transaction that holds SQLite's write lock.

    Only a transaction that has not written and has no savepoint is switched (ending it loses nothing); any other
    state is left alone (the tests' outer transaction begins immediate, and nested ones always run inside it).
    """
    if connection.info.get(_HOLDS_WRITE_LOCK, True) or connection.in_nested_transaction():
        return
    cursor.execute("COMMIT")  # ends a transaction that only read
    cursor.execute("BEGIN IMMEDIATE")
    connection.info[_HOLDS_WRITE_LOCK] = True


def lock_for_write(session: Session) -> None:
    """Take SQLite's write lock now, before reads that a write will depend on (other databases lock rows instead)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.driver_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        try:
            _take_write_lock(connection, cursor)
        finally:
            cursor.close()


def make_engine(url: str, *, busy_timeout_ms: int = 5000, echo: bool = False) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


@dataclass
class _AppState:
    engine: Engine
    #: Set by the tests: sessions join this connection's transaction (savepoints) instead of committing.
    connection: Connection | None = None


class Database:
    """Binds an engine to each app and hands out one session per app context."""

    def __init__(self) -> None:
        # Any callable that returns a Session is a factory here (the documented contract); the stubs name only
        # sessionmaker, which cannot choose the bind (the tests' connection or the engine) at call time.
        self._sessions: scoped_session[Session] = scoped_session(
            self._make_session,  # type: ignore[arg-type]
            scopefunc=self._scope,
        )

    @property
    def session(self) -> Session:
        """The session of the current request (or app context), created on first use."""
        return self._sessions()

    def remove_session(self) -> None:
        """Close the current request's (or app context's) session; the next use of `session` starts a new one."""
        self._sessions.remove()

    @staticmethod
    def _scope() -> int:
        # One session per request (or per app context outside requests, as in CLI commands). Flask types these
        # proxies as the contexts they stand for, so the proxy's own method is unknown to the type checker.
        if has_request_context():
            return id(request_ctx._get_current_object())  # type: ignore[attr-defined]
        return id(app_ctx._get_current_object())  # type: ignore[attr-defined]

    @staticmethod
    def _state() -> _AppState:
        state: _AppState = current_app.extensions["tryggahus.database"]
        return state

    def _make_session(self) -> Session:
        state = self._state()
        if state.connection is not None:
            return Session(bind=state.connection, join_transaction_mode="create_savepoint")
        return Session(bind=state.engine)

    @property
    def engine(self) -> Engine:
        return self._state().engine

    def init_app(self, app: Flask, engine: Engine) -> None:
        app.extensions["tryggahus.database"] = _AppState(engine)
        app.after_request(self._commit_request)
        app.teardown_request(self._end)
        app.teardown_appcontext(self._end)

    def begin_write(self) -> None:
        """Start the session's transaction as a write transaction (`BEGIN IMMEDIATE` on SQLite)."""
        session = self.session
        if not session.in_transaction():
            session.connection(execution_options={IMMEDIATE: True})

    def _commit_request(self, response: Response) -> Response:
        # One unit of work per request: commit once when the view succeeded; errors are rolled back in _end.
        if response.status_code < 400:
            self.session.commit()
        return response

    def _end(self, _exc: BaseException | None = None) -> None:
        self.remove_session()


@contextmanager
def scratch_database(folder: Path, postgresql_url: str | None = None, prefix: str = "scratch") -> Iterator[str]:
    """The URL of an empty database for tests and benchmarks, removed afterwards.

    Without `postgresql_url`, a new SQLite file in `folder`; with it, a new schema in that PostgreSQL database
    (selected through the connection's search_path) that is dropped with everything in it at the end.
    """
    suffix = secrets.token_hex(6)
    if postgresql_url is None:
        yield f"sqlite:///{folder / f'{prefix}-{suffix}.sqlite3'}"
        return
    schema = f"{prefix}_{suffix}"
    admin = make_engine(postgresql_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgresql_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
