"""Idempotent API writes: a write sent again with the same client id gets the first answer and has no new effect.

A batch of answers (`save_batch`) keeps each answer under its own key with the fingerprint the single PUT of that
answer would have had, so an answer first sent alone and then in a batch (or the other way round) is replayed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, NamedTuple, TypeVar

from flask import Response, jsonify, request
from flask_login import current_user
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import bindparam, insert, select

from audit.api import schemas
from audit.api.models import IdempotencyRecord
from audit.api.schemas import Error
from audit.database import lock_for_write
from audit.extensions import db
from audit.inspections.models import AnswerResult, Inspection
from audit.inspections.services import (
    AnswerInput,
    FinalInspection,
    InvalidAnswer,
    NotInspector,
    StaleAnswer,
    save_answer,
)
from audit.inspections.walk import answered_keys, counted, inspection_layout

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"


def api_error(status: int, error: str, message: str, shape: type[Error] = Error, **extra: Any) -> tuple[Response, int]:
    """An error answer; `shape` is `Error` or the extension of it that has the `extra` fields."""
    return jsonify(shape(error=error, message=message, **extra).model_dump(mode="json")), status


def _fingerprint() -> str:
    """What the write asks for, not how its body was spelt: a client that sends it again builds the body anew (a new
    multipart boundary, JSON keys in another order, other file names), and that is still the same write."""
    return fingerprint(request.method, request.path, _canonical_body())


def fingerprint(method: str, path: str, canonical_body: bytes) -> str:
    """The fingerprint of one write: the same for a single request and for its entry in a batch."""
    digest = hashlib.sha256()
    digest.update(f"{method} {path}\n".encode())
    digest.update(canonical_body)
    return digest.hexdigest()


def canonical_json(parsed: Any) -> bytes:
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


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
        return canonical_json(parsed)
    return raw


class Kept(NamedTuple):
    """A kept write, as read back (or as just kept by this request)."""

    key: str
    fingerprint: str
    status_code: int
    response: dict[str, Any]


def replayed(record: Kept, fingerprint: str) -> tuple[int, dict[str, Any]] | None:
    """The stored status and body of the write the record kept, or None when the key was kept for another write."""
    if record.fingerprint != fingerprint:
        return None
    return record.status_code, record.response


def key_reused(key: str) -> Error:
    return Error(error="idempotency_key_reused", message=f"{HEADER} {key} was used for a different request.")


def _replay(record: Kept, fingerprint: str) -> tuple[Response, int]:
    stored = replayed(record, fingerprint)
    if stored is None:
        return jsonify(key_reused(record.key).model_dump(mode="json")), 422
    response = jsonify(stored[1])
    response.headers["Idempotent-Replayed"] = "true"
    return response, stored[0]


#: Read on every API write, almost always to find nothing: plain columns, no ORM object.
_STORED = select(
    IdempotencyRecord.key, IdempotencyRecord.fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.response
).where(IdempotencyRecord.user_id == bindparam("user_id"), IdempotencyRecord.key == bindparam("key"))
_BY_KEYS = select(*_STORED.selected_columns).where(
    IdempotencyRecord.user_id == bindparam("user_id"), IdempotencyRecord.key.in_(bindparam("keys", expanding=True))
)


def _stored(key: str) -> Kept | None:
    row = db.session.execute(_STORED, {"user_id": current_user.id, "key": key}).first()
    return None if row is None else Kept(*row)


def stored_records(keys: Iterable[str]) -> dict[str, Kept]:
    """The caller's kept writes under these keys, read in one statement (a batch's entries)."""
    wanted = list(dict.fromkeys(keys))
    found = db.session.execute(_BY_KEYS, {"user_id": current_user.id, "keys": wanted})
    return {row.key: Kept(*row) for row in found}


def keep_record(key: str, fingerprint: str, status: int, body: dict[str, Any]) -> None:
    """Keep a write's answer under its key. A plain INSERT: nothing reads the record back in this request. If the
    same write ran in parallel and committed first, its record collides with this one (IntegrityError)."""
    db.session.execute(
        insert(IdempotencyRecord).values(
            user_id=current_user.id, key=key, fingerprint=fingerprint, status_code=status, response=body
        )
    )


def _parallel_winner(key: str) -> Kept | None:
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
                keep_record(key, fingerprint, status, response.get_json())  # a collision is handled below
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


# --- answers: one, or many in a batch ------------------------------------------------------------------------------


def progress_of(inspection: Inspection, answered: set[str]) -> schemas.Progress:
    """Answered and total scored, applicable items, per section and overall (what the walk's bars show)."""
    sections = [
        schemas.SectionProgress(key=key, applicable=applies, answered=done, total=total)
        for key, applies, done, total in counted(inspection_layout(inspection), answered)
    ]
    return schemas.Progress(
        answered=sum(s.answered for s in sections), total=sum(s.total for s in sections), sections=sections
    )


def answer_input(change: schemas.AnswerChange) -> AnswerInput:
    return AnswerInput(
        result=AnswerResult(change.result) if change.result else None,
        value=change.value,
        choice=change.choice,
        text=change.text,
        comment=change.comment,
    )


def invalid_input(exc: ValidationError) -> schemas.InvalidInputError:
    details = [schemas.FieldProblem(field=".".join(str(p) for p in e["loc"]), message=e["msg"]) for e in exc.errors()]
    return schemas.InvalidInputError(error="invalid_input", message="The request does not fit.", details=details)


#: What `save_answer` refuses an answer with.
Refused = StaleAnswer | InvalidAnswer | FinalInspection | NotInspector
REFUSALS = (StaleAnswer, InvalidAnswer, FinalInspection, NotInspector)


def refusal(exc: Refused) -> tuple[int, Error]:
    """The status and body of a refused answer: the single PUT's, and each answer's of a batch."""
    if isinstance(exc, StaleAnswer):
        current = schemas.Answer.model_validate(exc.answer)
        return 409, schemas.ConflictError(error="conflict", message=exc.translated(), current=current)
    if isinstance(exc, InvalidAnswer):
        return 422, Error(error="invalid_answer", message=exc.translated())
    if isinstance(exc, FinalInspection):
        return 409, Error(error="inspection_final", message=exc.translated())
    return 403, Error(error="forbidden", message=exc.translated())


class _BatchEntry(BaseModel):
    """A batch is read in two steps: first the count and each answer's key and item (the whole request's 422),
    then each answer's fields (that answer's 422, as `AnswerChange` for the single PUT)."""

    model_config = ConfigDict(extra="allow")

    key: str = Field(min_length=1, max_length=100)
    item_key: str = Field(min_length=1)


class BatchEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: list[_BatchEntry] = Field(min_length=1, max_length=schemas.MAX_BATCH)


def save_batch(inspection: Inspection, envelope: BatchEnvelope) -> schemas.BatchSaved:
    """Save each answer on its own, in the order sent: a refused one changes nothing and undoes none of the others.

    Called in the batch's request: an answer's single PUT goes to the path of its item under the batch's path."""
    # SQLite's write lock first: a transaction that has only read cannot take it inside an answer's SAVEPOINT, and
    # would fail at once (not wait) when another writer committed since it began reading.
    lock_for_write(db.session)
    kept = stored_records(entry.key for entry in envelope.answers)
    answered = answered_keys(db.session, inspection.id)
    results = []
    for entry in envelope.answers:
        body = entry.model_extra or {}
        entry_fingerprint = fingerprint("PUT", f"{request.path}/{entry.item_key}", canonical_json(body))
        record = kept.get(entry.key)
        if record is not None:
            status, outcome, replay = _replayed_entry(record, entry_fingerprint)
        else:
            status, outcome, replay = _save_entry(inspection, entry, body, entry_fingerprint, answered)
            if status < 400:  # a later answer of this batch under the same key is a replay of this one
                kept[entry.key] = Kept(entry.key, entry_fingerprint, status, outcome)
        results.append(_outcome(entry, status, outcome, replay))
    progress = progress_of(inspection, answered_keys(db.session, inspection.id))
    return schemas.BatchSaved(results=results, progress=progress)


Outcome = tuple[int, dict[str, Any], bool]


def _replayed_entry(record: Kept, entry_fingerprint: str) -> Outcome:
    stored = replayed(record, entry_fingerprint)
    if stored is None:
        return 422, key_reused(record.key).model_dump(mode="json"), False
    return stored[0], stored[1], True


def _save_entry(
    inspection: Inspection, entry: _BatchEntry, body: dict[str, Any], entry_fingerprint: str, answered: set[str]
) -> Outcome:
    """One answer of a batch in its own SAVEPOINT, through the same service as the single PUT; `answered` (the
    items with a judgement) is brought up to date when it is saved."""
    try:
        change = schemas.AnswerChange.model_validate(body)
    except ValidationError as exc:
        return 422, invalid_input(exc).model_dump(mode="json"), False
    try:
        with db.session.begin_nested():
            given = answer_input(change)
            saved = save_answer(db.session, current_user, inspection, entry.item_key, given, change.base_revision)
            now = answered | {entry.item_key} if saved.result is not None else answered - {entry.item_key}
            answer = schemas.Answer.model_validate(saved)
            body_saved = schemas.AnswerSaved(answer=answer, progress=progress_of(inspection, now)).model_dump(
                mode="json"
            )
            keep_record(entry.key, entry_fingerprint, 200, body_saved)
    except Exception as exc:
        # A copy of this answer that ran in parallel and committed first is why this one failed: its answer is the
        # answer, as for the single PUT; otherwise the refusal is.
        winner = _stored(entry.key)
        if winner is not None:
            return _replayed_entry(winner, entry_fingerprint)
        if not isinstance(exc, REFUSALS):
            raise
        status, error = refusal(exc)
        return status, error.model_dump(mode="json"), False
    (answered.add if saved.result is not None else answered.discard)(entry.item_key)
    return 200, body_saved, False


def _outcome(entry: _BatchEntry, status: int, body: dict[str, Any], replay: bool) -> schemas.BatchOutcome:
    if status < 400:
        return schemas.BatchOutcome(
            key=entry.key, item_key=entry.item_key, status=status, replayed=replay, answer=body["answer"]
        )
    return schemas.BatchOutcome(key=entry.key, item_key=entry.item_key, status=status, replayed=replay, **body)
