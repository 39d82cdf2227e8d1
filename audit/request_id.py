"""Every request gets an id, returned as `X-Request-Id` and written into the audit log with what it changed.

The id is drawn here for every request: one sent by the client is not trusted, as it would let anyone put any
text into the audit log.
"""

from __future__ import annotations

import uuid

from flask import Flask, Response, g, has_request_context

HEADER = "X-Request-Id"


def current_request_id() -> str | None:
    """The current request's id; None outside a request (the command line)."""
    if not has_request_context():
        return None
    request_id: str | None = g.get("request_id")
    return request_id


def _draw() -> None:
    g.request_id = uuid.uuid4().hex


def _send(response: Response) -> Response:
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


def init_request_id(app: Flask) -> None:
    app.before_request(_draw)
    app.after_request(_send)
