"""Idempotent API writes: a write sent again with the same client id gets the first answer and has no new effect."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from flask_login import current_user
from sqlalchemy import Row, bindparam, insert, select

from audit.api.models import IdempotencyRecord
from audit.api.schemas import Error
from audit.extensions import db

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"


def api_error(status: int, error: str, message: str, shape: type[Error] = Error, **extra: Any) -> tuple[Response, int]:
    """An error answer; `shape` is `Error` or the extension of it that has the `extra` fields."""
    return jsonify(shape(error=error, message=message, **extra).model_dump(mode="json")), status


def _fingerprint() -> str:
    """What the write asks for, not how its body was spelt: a client that sends it again builds the body anew (a new
    multipart boundary, JSON keys in another order, other file names), and that is still the same write."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(_canonical_body())
    return digest.hexdigest()


def _canonical_body() -> bytes:
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        # A part whose name the multipart parser cannot read has the name None: no view reads it, and None does not
        # sort among names, so it is left out.
        form = [(name, value) for name, value in request.form.items(multi=True) if name is not None]
        files = []
        for name, upload in request.files.items(multi=True):
            if name is not None:
                files.append((name, hashlib.sha256(upload.stream.read()).hexdigest()))
                upload.stream.seek(0)  # the view reads it next
        return json.dumps({"form": sorted(form), "files": sorted(files)}).encode()
    raw = request.get_data(cache=True)
    if request.is_json:
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            return raw  # not JSON the view will take: the bytes are all there is to compare
        return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return raw


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


def _parallel_winner(key: str) -> Row[*tuple[Any, ...]] | None:
    """The stored answer of a copy of this write that ran in parallel and committed first, after undoing all this
    copy did. It is why this copy failed, whatever the failure (the inspection already submitted, the answer
    already at a newer revision, a row that collided): its answer is then the answer, never this copy's error."""
    db.session.rollback()
    return _stored(key)


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
            if status < 400:
                # A plain INSERT: nothing reads the record back in this request. If the same write ran in parallel
                # and committed first, its record collides with this one (IntegrityError, handled below).
                db.session.execute(
                    insert(IdempotencyRecord).values(
                        user_id=current_user.id,
                        key=key,
                        fingerprint=fingerprint,
                        status_code=status,
                        response=response.get_json(),
                    )
                )
                return response, status
        except Exception:
            winner = _parallel_winner(key)
            if winner is None:
                raise
            return _replay(winner, fingerprint)
        winner = _parallel_winner(key)
        return _replay(winner, fingerprint) if winner is not None else (response, status)

    return wrapper  # type: ignore[return-value]


def _as_response(result: Any) -> tuple[Response, int]:
    if isinstance(result, tuple):
        body, status = result[0], result[1]
    else:
        body, status = result, 200
    response = body if isinstance(body, Response) else jsonify(body)
    return response, status
