"""Domain errors shared by the services, the CLI and the views, and the error pages that show them."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, ServiceUnavailable

from audit.storage.base import StoreUnavailable

#: Database failures that are not the request's fault (unreachable, locked or busy, a connection lost, no free
#: connection in the pool): the client may simply try again.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)
#: Seconds a client is told to wait before it tries again when the database is unavailable.
RETRY_AFTER_SECONDS = 10


def N_(message: str) -> str:
    """Marks a message for the translation catalogues without translating it (it is translated when shown)."""
    return message


class DomainError(Exception):
    """A request the domain refuses.

    `message` is an English catalogue msgid with %(name)s placeholders filled from `params`: `str()` gives the
    English text (logs, the command line), `translated()` the text in the user's language (pages, API).
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def translated(self) -> str:
        from flask_babel import gettext

        translated: str = gettext(self.message, **self.params)
        return translated


class InvalidTransition(DomainError):
    """A state machine was asked for a move it does not allow."""

    def __init__(self, entity: str, current: str, action: str) -> None:
        super().__init__(N_("This cannot be done in the current state (%(current)s)."), current=current)
        self.entity = entity
        self.current = current
        self.action = action


class ImmutableError(DomainError):
    """Something stored as final (a checklist version, a finalised inspection) was about to change."""


class MalformedRequest(BadRequest):
    """A request no client of ours sends (a NUL character, JSON nested without end): a 400 that says what is wrong.

    `error_code` is the API's `error`; `description` is already in the user's language.
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(description=message)
        self.error_code = error_code


class DatabaseUnavailable(ServiceUnavailable):
    """The database failed a request that did nothing wrong: 503, and a hint when to try again."""

    def __init__(self) -> None:
        from flask_babel import gettext

        super().__init__(
            description=gettext("The database cannot be reached just now. Wait a moment and try again."),
            retry_after=RETRY_AFTER_SECONDS,
        )


class StorageUnavailable(ServiceUnavailable):
    """The file store (S3) failed a request that did nothing wrong: 503, and a hint when to try again."""

    def __init__(self) -> None:
        from flask_babel import gettext

        super().__init__(
            description=gettext("The stored files cannot be reached just now. Wait a moment and try again."),
            retry_after=RETRY_AFTER_SECONDS,
        )


def register(app: Flask) -> None:
    from audit.access import wants_json

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        # What the exception itself says in headers (`Allow` on a 405, `Retry-After` on a 429 or 503); the body and
        # so its Content-Type are ours.
        headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
        if wants_json():
            # The same style as the API's own codes ("not_found", "method_not_allowed", "idempotency_key_reused").
            name = getattr(error, "error_code", error.name.lower().replace(" ", "_"))
            return jsonify(error=name, message=error.description), code, headers
        if isinstance(error, DatabaseUnavailable):
            # A page of its own: the frame of every other page asks the database who is logged in.
            return render_template("errors/unavailable.html", message=error.description), code, headers
        message = error.description if isinstance(error, MalformedRequest | StorageUnavailable) else None
        return render_template("errors/error.html", error=error, code=code, message=message), code, headers

    def _database_unavailable(_error: Exception) -> ResponseReturnValue:
        return _http_error(DatabaseUnavailable())

    for failure in DATABASE_UNAVAILABLE:
        app.register_error_handler(failure, _database_unavailable)

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(error: StoreUnavailable) -> ResponseReturnValue:
        app.logger.warning("file store unavailable: %s", error, exc_info=error.__cause__ or error)
        return _http_error(StorageUnavailable())

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> ResponseReturnValue:
        # A failure after the view (the request's commit) reaches no handler of its own: only this one.
        if isinstance(error.original_exception, DATABASE_UNAVAILABLE):
            return _database_unavailable(error.original_exception)
        if isinstance(error.original_exception, StoreUnavailable):
            return _store_unavailable(error.original_exception)
        return _http_error(error)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        if wants_json():
            return jsonify(error="csrf_failed", message=error.description), 400
        return render_template("errors/csrf.html", error=error), 400
