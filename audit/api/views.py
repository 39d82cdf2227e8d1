"""API version 1: JSON in and out, session cookie plus CSRF header or `Authorization: Bearer TOKEN`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from audit.access import ALL_ROLES, INSPECTORS, STAFF, allow, get_scoped_or_404, public
from audit.api import schemas
from audit.api.openapi import openapi_document
from audit.api.services import (
    BatchEnvelope,
    Refused,
    answer_input,
    api_error,
    idempotent,
    invalid_input,
    progress_of,
    refusal,
    save_batch,
)
from audit.buildings.models import Building
from audit.buildings.services import buildings_overview
from audit.checklists.services import current_checklist
from audit.deviations.models import DeviationReport
from audit.deviations.services import InvalidReport, ReportInput, may_see, report_deviation
from audit.errors import InvalidTransition
from audit.extensions import db
from audit.input_guard import takes_files
from audit.inspections.models import Inspection
from audit.inspections.services import (
    DraftExists,
    FinalInspection,
    IncompleteInspection,
    InvalidAnswer,
    NotInspector,
    StaleAnswer,
    save_answer,
    start_inspection,
    submit_inspection,
)
from audit.inspections.views import inspection_or_404
from audit.inspections.walk import answered_keys
from audit.photos.models import Photo
from audit.photos.processing import PhotoRejected
from audit.photos.services import add_photo

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: What the inspector reads when a photo is refused, by `PhotoRejected.code`.
PHOTO_PROBLEMS = {
    "too_large": _l("The photo is too large. Take it again with a lower resolution."),
    "too_many_pixels": _l("The photo has too many pixels to be processed."),
    "unsupported_format": _l("Only JPEG, PNG and WebP photos can be saved."),
    "not_an_image": _l("The file is not a photo."),
    "corrupt": _l("The photo is damaged and could not be read."),
    "busy": _l("Too many photos are being processed right now. Try again in a moment."),
}
#: The status of each refusal of a photo; every other one is 415.
PHOTO_STATUS = {"too_large": 413, "too_many_pixels": 413, "busy": 503}


def _payload(model: type[BaseModel]) -> Any:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise _BadRequest(api_error(400, "invalid_json", "Send a JSON object with Content-Type: application/json."))
    return _validated(model, data)


def _form_payload(model: type[BaseModel]) -> Any:
    """The body of a multipart request: its text fields as the JSON object's members (an empty field is absent)."""
    return _validated(model, {name: value for name, value in request.form.items() if value != ""})


def _validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _BadRequest((jsonify(invalid_input(exc).model_dump(mode="json")), 422)) from None


class _BadRequest(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


@bp.errorhandler(_BadRequest)
def _bad_request(exc: _BadRequest) -> Any:
    return exc.response


@bp.errorhandler(NotInspector)
@bp.errorhandler(FinalInspection)
@bp.errorhandler(InvalidAnswer)
def _refused(exc: Refused) -> tuple[Response, int]:
    status, body = refusal(exc)
    return jsonify(body.model_dump(mode="json")), status


@bp.errorhandler(DraftExists)
def _draft_exists(exc: DraftExists) -> Any:
    return api_error(409, "draft_exists", exc.translated(), schemas.DraftExistsError, draft=exc.draft_id)


@bp.errorhandler(InvalidTransition)
def _invalid_transition(exc: InvalidTransition) -> Any:
    return api_error(409, "invalid_transition", exc.translated())


def _inspection_url(inspection: Inspection) -> str:
    return url_for("api.get_inspection", inspection_id=inspection.id)


def _photo(photo: Photo) -> schemas.Photo:
    inspection_id, photo_id = photo.inspection_id, photo.id
    return schemas.Photo(
        id=photo.id,
        item_key=photo.item_key,
        sha256=photo.sha256,
        width=photo.width,
        height=photo.height,
        url=url_for("inspections.photo", inspection_id=inspection_id, photo_id=photo_id),
        thumbnail_url=url_for("inspections.photo", inspection_id=inspection_id, photo_id=photo_id, variant="thumb"),
    )


def _inspection(inspection: Inspection) -> schemas.Inspection:
    version = inspection.checklist_version
    return schemas.Inspection(
        id=inspection.id,
        url=_inspection_url(inspection),
        status=inspection.status,
        kind=inspection.kind,
        building=schemas.Named(id=inspection.building_id, name=inspection.building.name),
        checklist=schemas.PinnedChecklist(key=version.key, version=version.version, sha256=version.sha256),
        inspector=schemas.Named(id=inspection.inspector_id, name=inspection.inspector.name),
        created_at=inspection.created_at,
        submitted_at=inspection.submitted_at,
        score=None if inspection.score_card is None else schemas.ScoreCard.model_validate(inspection.score_card),
        progress=progress_of(inspection, {a.item_key for a in inspection.answers if a.result is not None}),
        answers={a.item_key: schemas.Answer.model_validate(a) for a in inspection.answers},
        photos=[_photo(p) for p in inspection.photos],
    )


def _building(building: Building, latest: Inspection | None) -> schemas.Building:
    return schemas.Building(
        id=building.id,
        name=building.name,
        address=building.address,
        area=building.area.name if building.area else None,
        features=sorted(building.features),
        latest_inspection=None
        if latest is None
        else schemas.LatestInspection(
            id=latest.id, status=latest.status, passed=latest.score_passed, url=_inspection_url(latest)
        ),
    )


@bp.get("/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document())


@bp.get("/buildings")
@allow(STAFF)
def list_buildings() -> ResponseReturnValue:
    rows = buildings_overview(db.session, current_user.organisation_id, request.args.get("q", "")[:100])
    return schemas.BuildingList(buildings=[_building(b, i) for b, i in rows]).model_dump(mode="json")


@bp.post("/inspections")
@allow(INSPECTORS)
@idempotent
def create_inspection() -> ResponseReturnValue:
    payload = _payload(schemas.StartInspection)
    building = get_scoped_or_404(Building, payload.building_id)
    version = current_checklist(db.session, payload.checklist_key)
    if version is None:
        return api_error(422, "unknown_checklist", f"No checklist with the key {payload.checklist_key}.")
    inspection = start_inspection(db.session, current_user.user, building, payload.kind, version)
    return _inspection(inspection).model_dump(mode="json"), 201


def _photo_refused(exc: PhotoRejected) -> tuple[Response, int]:
    """The answer to a photo the server cannot use, with its reason."""
    status = PHOTO_STATUS.get(exc.code, 415)
    return api_error(status, exc.code, str(PHOTO_PROBLEMS.get(exc.code, PHOTO_PROBLEMS["not_an_image"])))


@bp.post("/deviations")
@allow(ALL_ROLES)
@takes_files("photo")
@idempotent
def post_deviation() -> ResponseReturnValue:
    multipart = request.mimetype == "multipart/form-data"
    payload = _form_payload(schemas.ReportDeviation) if multipart else _payload(schemas.ReportDeviation)
    upload = request.files.get("photo") if multipart else None
    data = ReportInput(**payload.model_dump(), photo=upload.read() if upload else None)
    try:
        report = report_deviation(db.session, current_user.user, current_user.organisation_id, data)
    except InvalidReport as exc:
        return api_error(
            422,
            "invalid_report",
            exc.translated(),
            schemas.InvalidInputError,
            details=[{"field": exc.field, "message": exc.translated()}],
        )
    except PhotoRejected as exc:
        return _photo_refused(exc)
    return _deviation(report).model_dump(mode="json"), 201


@bp.get("/deviations/<int:report_id>")
@allow(ALL_ROLES)
def get_deviation(report_id: int) -> ResponseReturnValue:
    report = get_scoped_or_404(DeviationReport, report_id)
    if not may_see(current_user.role, current_user.id, report, db.session):
        abort(404)  # someone else's report answers as another organisation's does
    return _deviation(report).model_dump(mode="json")


def _deviation(report: DeviationReport) -> schemas.Deviation:
    return schemas.Deviation(
        id=report.id,
        category=report.category_key,
        status=report.status,
        urgency=report.urgency,
        sensitive=report.sensitive,
        area_id=report.area_id,
        building_id=report.building_id,
        place=None if report.place is None else schemas.Named(id=report.place.id, name=report.place.name),
        seen_at=report.seen_at,
        reported_at=report.reported_at,
        url=url_for("deviations.show", report_id=report.id),
    )


@bp.get("/inspections/<int:inspection_id>")
@allow(STAFF)
def get_inspection(inspection_id: int) -> ResponseReturnValue:
    return _inspection(inspection_or_404(inspection_id)).model_dump(mode="json")


@bp.put("/inspections/<int:inspection_id>/answers/<item_key>")
@allow(INSPECTORS)
@idempotent
def put_answer(inspection_id: int, item_key: str) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id, share_lock=True)
    payload = _payload(schemas.AnswerChange)
    try:
        answer = save_answer(
            db.session, current_user, inspection, item_key, answer_input(payload), payload.base_revision
        )
    except StaleAnswer as exc:  # answered here, before the request's work is undone (`current` is read from it)
        return _refused(exc)
    saved = schemas.AnswerSaved(
        answer=schemas.Answer.model_validate(answer),
        progress=progress_of(inspection, answered_keys(db.session, inspection.id)),
    )
    return saved.model_dump(mode="json"), 200


@bp.post("/inspections/<int:inspection_id>/answers")
@allow(INSPECTORS)
def save_answers(inspection_id: int) -> ResponseReturnValue:
    """Many answers in one request, each idempotent by its own key (so the request carries no Idempotency-Key)."""
    inspection = inspection_or_404(inspection_id, share_lock=True)
    saved = save_batch(inspection, _payload(BatchEnvelope))
    return saved.model_dump(mode="json"), 200


@bp.post("/inspections/<int:inspection_id>/photos")
@allow(INSPECTORS)
@takes_files("file")
@idempotent
def post_photo(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    upload = request.files.get("file")
    try:
        form = schemas.PhotoUpload.model_validate(
            {"item_key": request.form.get("item_key"), "file": upload.read() if upload else None}
        )
    except ValidationError:
        return api_error(400, "invalid_input", "Send multipart/form-data with item_key and file.")
    try:
        photo = add_photo(db.session, current_user.user, inspection, form.item_key, form.file)
    except PhotoRejected as exc:
        return _photo_refused(exc)
    return _photo(photo).model_dump(mode="json"), 201


@bp.post("/inspections/<int:inspection_id>/submit")
@allow(INSPECTORS)
@idempotent
def submit(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    try:
        submit_inspection(db.session, current_user.user, inspection)
    except IncompleteInspection as exc:
        return api_error(
            422,
            "incomplete",
            exc.translated(),
            schemas.IncompleteError,
            missing=exc.missing,
            photos_missing=exc.photos_missing,
        )
    return _inspection(inspection).model_dump(mode="json"), 200
