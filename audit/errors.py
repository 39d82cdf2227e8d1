"""Domain errors shared by the services, the CLI and the views, and the error pages that show them."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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


def register(app: Flask) -> None:
    from audit.access import wants_json

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        if wants_json():
            # The same style as the API's own codes ("not_found", "method_not_allowed", "idempotency_key_reused").
            return jsonify(error=error.name.lower().replace(" ", "_"), message=error.description), code
        return render_template("errors/error.html", error=error, code=code), code

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ResponseReturnValue:
        if wants_json():
            return jsonify(error="csrf_failed", message=error.description), 400
        return render_template("errors/csrf.html", error=error), 400
