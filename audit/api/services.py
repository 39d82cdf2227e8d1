"""Idempotent API writes: a write sent again with the same client id gets the first answer and has no new effect."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import Row, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from audit.api.models import IdempotencyRecord
from audit.api.schemas import Error
from audit.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"


def api_error(status: int, error: str, message: str, shape: type[Error] = Error, **extra: Any) -> tuple[Response, int]:
    """An error answer; `shape` is `Error` or the extension of it that has the `extra` fields."""
    return jsonify(shape(error=error, message=message, **extra).model_dump(mode="json")), status


def _fingerprint() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: Row[*tuple[Any, ...]], fingerprint: str) -> tuple[Response, int]:
    if record.fingerprint != fingerprint:
        return api_error(422, "idempotency_key_reused", f"{HEADER} {record.key} was used for a different request.")
    response = jsonify(record.response)
    response.headers["Idempotent-Replayed"] = "true"
    return response, record.status_code


#: Read on every API write, almost always to find nothing: plain columns, no ORM object.
_STORED = select(
    IdempotencyRecord.key, IdempotencyRecord.fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.response
).where(IdempotencyRecord.user_id == bindparam("user_id"), IdempotencyRecord.key == bindparam("key"))


def _stored(key: str) -> Row[*tuple[Any, ...]] | None:
    return db.session.execute(_STORED, {"user_id": current_user.id, "key": key}).first()


def idempotent(view: F) -> F:
    """Every API write carries a client-generated id in the Idempotency-Key header."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER, "").strip()
        if not key or len(key) > 100:
            return api_error(
                400, "idempotency_key_missing", f"Send a client-generated id (1–100 characters) in {HEADER}."
            )
        fingerprint = _fingerprint()
        record = _stored(key)
        if record is not None:
            return _replay(record, fingerprint)
        try:
            response, status = _as_response(view(*args, **kwargs))
            if status >= 400:
                # A parallel copy of this write may have committed while this one ran (and made it look stale):
                # then that copy's answer is the answer. Otherwise nothing changed and nothing is kept.
                winner = _stored(key)
                return _replay(winner, fingerprint) if winner is not None else (response, status)
            # A plain INSERT: nothing reads the record back in this request.
            db.session.execute(
                insert(IdempotencyRecord).values(
                    user_id=current_user.id,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=status,
                    response=response.get_json(),
                )
            )
        except IntegrityError:
            # The same write ran in parallel and committed first (its answer row or its record collided with
            # ours): undo everything this request did and answer with the stored result.
            db.session.rollback()
            winner = _stored(key)
            if winner is None:
                raise
            return _replay(winner, fingerprint)
        return response, status

    return wrapper  # type: ignore[return-value]


def _as_response(result: Any) -> tuple[Response, int]:
    if isinstance(result, tuple):
        body, status = result[0], result[1]
    else:
        body, status = result, 200
    response = body if isinstance(body, Response) else jsonify(body)
    return response, status
