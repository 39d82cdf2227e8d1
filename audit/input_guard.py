"""Malformed input is refused before any view sees it, with a 400 that says what is wrong.

- A NUL character: no text anybody types has one, PostgreSQL cannot store one (the query fails) and SQLite cuts
  the text off at it when it is shown. Looked for in the path, the query string, form fields and their names, file
  names, headers and every string of a JSON body.
- JSON nested deeper than `MAX_JSON_DEPTH`: no body of the API nests beyond a few levels, and Python's parser gives
  up with a RecursionError at about a thousand.
- A file in a field that takes none: a form reads files and fields alike, and a text field would be handed a file.
  Deny by default, as access is: a view names the fields it takes files in with `@takes_files("photo")`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask_babel import gettext as _

from audit.errors import MalformedRequest

#: Deeper than any body of the API (an answer is an object of plain values).
MAX_JSON_DEPTH = 32
NUL = "\x00"

F = TypeVar("F", bound=Callable[..., Any])


def takes_files(*fields: str) -> Callable[[F], F]:
    """The fields this view takes uploaded files in; a file in any other field is refused before the view."""

    def decorate(view: F) -> F:
        view.file_fields = frozenset(fields)  # type: ignore[attr-defined]
        return view

    return decorate


def _unexpected_file() -> str | None:
    """The name of a field that holds a file although the view takes none there."""
    view = current_app.view_functions.get(request.endpoint or "")
    accepted: frozenset[str] = getattr(view, "file_fields", frozenset())
    return next((name for name in request.files if name not in accepted), None)


def _nul_refused() -> MalformedRequest:
    return MalformedRequest(
        "nul_character", _("The request contains a NUL character (\\0), which no text may contain. Remove it.")
    )


def _too_deep() -> MalformedRequest:
    return MalformedRequest(
        "json_too_deep", _("The JSON is nested more than %(depth)d levels deep.", depth=MAX_JSON_DEPTH)
    )


def _has_nul(texts: Iterable[str | None]) -> bool:
    return any(text is not None and NUL in text for text in texts)


def _json_strings(data: Any) -> Iterable[str]:
    """Every key and string in a parsed JSON document, walked without recursion and only `MAX_JSON_DEPTH` deep."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(value, dict):
                yield from value
                pending.extend((child, depth + 1) for child in value.values())
            else:
                pending.extend((child, depth + 1) for child in value)


def _parsed_json() -> Any:
    try:
        # Parsed once and kept by the request (the view reads the same object); malformed JSON is the view's to refuse.
        return request.get_json(silent=True)
    except RecursionError:
        raise _too_deep() from None


def _check_request() -> None:
    if NUL in request.path or _has_nul(text for item in request.args.items(multi=True) for text in item):
        raise _nul_refused()
    if _has_nul(value for header in request.headers.items() for value in header):
        raise _nul_refused()
    if request.is_json:
        if _has_nul(_json_strings(_parsed_json())):
            raise _nul_refused()
    elif request.form or request.files:
        if _has_nul(text for item in request.form.items(multi=True) for text in item):
            raise _nul_refused()
        if _has_nul(upload.filename for _name, upload in request.files.items(multi=True)):
            raise _nul_refused()
        if request.files and (name := _unexpected_file()) is not None:
            raise MalformedRequest("unexpected_file", _("The field %(field)s takes no file.", field=name))


def init_input_guard(app: Flask) -> None:
    app.before_request(_check_request)
