"""Logging: one handler on the root logger, JSON lines in production and readable lines in development.

Every line says where it came from: in a request, the request's id (the `X-Request-Id` of its response) and, once
the request knows who is logged in, the user's and the organisation's ids; outside requests, whatever
`log_context` bound (a command's or a job's id), or nothing:

    with log_context(job_id=job.id):
        run(job)

The handler is added to the root logger once per process and never replaces other handlers (pytest's caplog, a
server's own), so every logger that propagates — the app's (`audit.*`), gunicorn's, the libraries' — writes
through it. Configuring again (another app in the same process) only changes its format.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO

from flask import g, has_request_context
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from audit.request_id import current_request_id
from audit.settings import Settings

#: The name of the one handler this module adds to the root logger.
HANDLER_NAME = "tryggahus"
#: The app's own loggers: `audit` (Flask's `app.logger`) and every `audit.*` module logger.
APP_LOGGER = "audit"
#: The context a line carries, in the order the text format shows it, with the text format's labels.
CONTEXT_LABELS = {
    "request_id": "request",
    "user_id": "user",
    "organisation_id": "organisation",
    "command_id": "command",
    "job_id": "job",
}

_BOUND: ContextVar[Mapping[str, object]] = ContextVar("tryggahus_log_context", default=MappingProxyType({}))


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Every line logged inside the block (in this thread or task) carries these fields, e.g. ``job_id``."""
    token = _BOUND.set(MappingProxyType({**_BOUND.get(), **fields}))
    try:
        yield
    finally:
        _BOUND.reset(token)


def current_context() -> dict[str, object]:
    """The request's id and who is logged in (inside a request), then whatever `log_context` bound."""
    fields: dict[str, object] = {"request_id": None, "user_id": None, "organisation_id": None}
    if has_request_context():
        fields["request_id"] = current_request_id()
        # The user Flask-Login has already loaded for this request; never loaded from here (that would query the
        # database inside a log call, and the loader itself may be what is logging).
        user = g.get("_login_user")
        if user is not None and user.is_authenticated:
            fields["user_id"] = getattr(user, "id", None)
            fields["organisation_id"] = getattr(user, "organisation_id", None)
    fields.update(_BOUND.get())
    return fields


class ContextFilter(logging.Filter):
    """Adds the context to each record; what a record already carries (its `extra`) wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_context().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """``2026-12-07 10:15:02,123 INFO audit.events: <message> [request=… user=3 organisation=1]``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802  (logging's name)
        line = super().formatMessage(record)
        context = " ".join(
            f"{label}={value}"
            for name, label in CONTEXT_LABELS.items()
            if (value := getattr(record, name, None)) is not None
        )
        return f"{line} [{context}]" if context else line


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object a line: time (UTC), level, logger, message, the context and the record's `extra` fields."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message"],
            rename_fields={"levelname": "level", "name": "logger", "exc_info": "exception"},
        )

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        super().add_fields(log_data, record, message_dict)


class StandardErrorHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever `sys.stderr` is when a line is written (so pytest's capture and click's test runner see
    the lines, and a process that replaced its standard error keeps them)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def formatter_for(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.json_logs else TextFormatter()


def app_handler() -> logging.Handler | None:
    """The handler `configure_logging` added to the root logger, if it has been called in this process."""
    return next((handler for handler in logging.getLogger().handlers if handler.get_name() == HANDLER_NAME), None)


def configure_logging(settings: Settings) -> logging.Handler:
    """Add the handler to the root logger (once per process), set its format and the app's level."""
    handler = app_handler()
    if handler is None:
        handler = StandardErrorHandler()
        handler.set_name(HANDLER_NAME)
        handler.addFilter(ContextFilter())
        logging.getLogger().addHandler(handler)
    handler.setFormatter(formatter_for(settings))
    app_logger = logging.getLogger(APP_LOGGER)
    app_logger.setLevel(settings.log_level.upper())
    # Flask adds its own handler to `app.logger` when it finds none that would take its lines; every line already
    # reaches ours through the root logger, so it would print them twice.
    app_logger.removeHandler(default_handler)
    return handler
