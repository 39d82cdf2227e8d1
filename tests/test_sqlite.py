"""SQLite tuning: WAL, busy timeout, foreign keys and BEGIN IMMEDIATE for concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from audit.database import IMMEDIATE, make_engine


def test_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", busy_timeout_ms=4321)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_write_transactions_begin_immediate(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    statements: list[str] = []
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with engine.connect() as connection, connection.execution_options(**{IMMEDIATE: True}).begin():
        pass
    with engine.connect() as connection, connection.begin():
        pass
    assert "BEGIN IMMEDIATE" in statements
    assert statements.count("BEGIN") == 1
    engine.dispose()


@pytest.mark.parametrize(
    "immediate",
    [True, False],
    ids=["begin-immediate", "write-lock-at-first-write"],
)
def test_sixteen_concurrent_writers_all_succeed(tmp_path: Path, immediate: bool) -> None:
    """Immediate transactions, and deferred ones that read first: none fails with "database is locked"."""
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}", busy_timeout_ms=20000)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[Exception] = []

    def writer() -> None:
        try:
            for _ in range(10):
                with engine.connect() as connection, connection.execution_options(**{IMMEDIATE: immediate}).begin():
                    n = connection.execute(text("SELECT n FROM counter")).scalar_one()
                    # A deferred transaction's read may be outdated once it holds the lock: it adds in SQL.
                    update = "UPDATE counter SET n = :n" if immediate else "UPDATE counter SET n = n + 1"
                    connection.execute(text(update), {"n": n + 1})
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM counter")).scalar_one() == 160
    engine.dispose()


def _traced(engine) -> list[str]:  # type: ignore[no-untyped-def]
    """Every statement SQLite itself runs on the engine's new connections (with the driver's own BEGIN/COMMIT)."""
    from sqlalchemy import event

    statements: list[str] = []

    @event.listens_for(engine, "connect")
    def _trace(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.set_trace_callback(lambda sql: statements.append(" ".join(sql.split()[:2]).upper()))

    return statements


def test_a_transaction_reads_without_the_write_lock_and_takes_it_at_its_first_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    statements = _traced(engine)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    statements.clear()
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT count(*) FROM t"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        connection.execute(text("INSERT INTO t VALUES (2)"))
    # The read ran in a plain transaction; the first write ended it and waited for the lock; the second found it.
    assert statements == [
        "BEGIN",
        "SELECT COUNT(*)",
        "COMMIT",
        "BEGIN IMMEDIATE",
        "INSERT INTO",
        "INSERT INTO",
        "COMMIT",
    ]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
    engine.dispose()


def test_a_savepoint_is_never_ended_by_taking_the_write_lock(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    with engine.connect() as connection:
        outer = connection.begin()
        with connection.begin_nested():
            connection.execute(text("INSERT INTO t VALUES (1)"))
        outer.rollback()  # still one transaction: the insert inside the savepoint goes with it
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
    engine.dispose()
