"""`flask.g` holds one request's state, and nothing of it reaches the next request.

Flask keeps `g` on the application context. A server pushes a new application context for every request, but
where one is already pushed and belongs to the same app — a test that holds one open around the test client,
or a command that serves requests inside its own context — every request reuses it, and with it `g`: a value
that one request computed (the building task counts, the loaded user, the CSRF token, the locale) would be read
by the next request, of another user or organisation. Everything a request adds to `g` is therefore removed when
the request ends, whoever set it (our views, Flask-Login, Flask-WTF, Flask-Babel); what was there before the
request, the owner of the context set, and stays.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request_started

#: Key in `g`: the names `g` held when the request started.
_BEFORE = "_tryggahus_g_before_request"


def _remember(_sender: Flask, **_extra: Any) -> None:
    setattr(g, _BEFORE, frozenset(vars(g)))


def _forget(_exc: BaseException | None = None) -> None:
    before = vars(g).get(_BEFORE, frozenset())
    for name in set(vars(g)) - before:
        delattr(g, name)


def init_request_scope(app: Flask) -> None:
    request_started.connect(_remember, app)
    app.teardown_request(_forget)
