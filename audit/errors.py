"""Domain errors shared by the services, the CLI and the views, and the error pages that show them."""

from __future__ import annotations

from flask import Flask, jsonify, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A request the domain refuses; the message is fit to show to the user."""


class InvalidTransition(DomainError):
    """A state machine was asked for a move it does not allow."""

    def __init__(self, entity: str, current: str, action: str) -> None:
        super().__init__(f"{entity} in state '{current}' cannot be {action}")
        self.entity = entity
        self.current = current
        self.action = action


class ImmutableError(DomainError):
    """Something stored as final (a checklist version, a finalised inspection) was about to change."""


def register(app: Flask) -> None:
    from audit.access import wants_json

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        code = error.code or 500
        if wants_json():
            return jsonify(error=error.name, message=error.description), code
        return render_template("errors/error.html", error=error, code=code), code

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(error="CSRF", message=error.description), 400
        return render_template("errors/csrf.html", error=error), 400
