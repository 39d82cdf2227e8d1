"""Readiness: a list of named checks of what serving needs, each of which raises when it is not there.

The app starts with three: `database` (the database answers `SELECT 1`), `storage` (the instance folder takes a
new file, and the file stores of photos and batch outputs can be used: local folders writable, or the S3 bucket)
and `queue` (the job queue's Redis or embedded SQLite file answers). Another part adds its own with the same call:

    add_readiness_check(app, "search", lambda app: ping_the_search_index())

and a check added under a name that exists replaces it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from audit.settings import Settings

#: A check gets the app and raises (anything) when the app cannot serve.
Check = Callable[[Flask], None]

#: Key in `app.extensions`: the app's checks, by name, in the order they run.
_CHECKS = "tryggahus.readiness_checks"

logger = logging.getLogger(__name__)


def add_readiness_check(app: Flask, name: str, check: Check) -> None:
    app.extensions.setdefault(_CHECKS, {})[name] = check


def readiness_checks(app: Flask) -> Mapping[str, Check]:
    checks: dict[str, Check] = app.extensions.get(_CHECKS, {})
    return checks


def _reason(exc: Exception) -> str:
    """The exception's kind and the first line of its message, for the server's log only."""
    first_line = next(iter(str(exc).splitlines()), "")
    return f"{type(exc).__name__}: {first_line}"[:300]


def run_checks(app: Flask) -> dict[str, bool]:
    """Every check's result (True: ready); all run, so every failing one is named. Failures are logged."""
    results = {}
    for name, check in readiness_checks(app).items():
        try:
            check(app)
        except Exception as exc:  # whatever breaks, the answer is "not ready", never an error page
            logger.warning("readiness check %s failed: %s", name, _reason(exc))
            results[name] = False
        else:
            results[name] = True
    return results


def database_answers(app: Flask) -> None:
    # A connection of its own (from the pool): the check neither joins nor commits the request's session.
    with app.extensions["tryggahus.database"].engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _take_a_file(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)  # as the first upload would
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-") as probe:
        probe.write(b"ok")
        probe.flush()


def storage_writable(app: Flask) -> None:
    """The instance folder takes a new file, and every file store (photos, batch outputs) can be used: a local
    folder writable, or the S3 bucket answering to the credentials (`audit.storage.services.check_stores`)."""
    from audit.storage.services import check_stores

    settings: Settings = app.config["TRYGGAHUS"]
    _take_a_file(settings.instance_path)
    with app.app_context():
        check_stores()


def init_readiness(app: Flask) -> None:
    from audit.jobs.queue import queue_answers

    add_readiness_check(app, "database", database_answers)
    add_readiness_check(app, "storage", storage_writable)
    add_readiness_check(app, "queue", queue_answers)
