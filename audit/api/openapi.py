"""The OpenAPI 3.1 document for API version 1 (served at /api/v1/openapi.json).

The bodies' schemas are generated from the pydantic models in `audit/api/schemas.py` that the views use; this
module only describes the operations: paths, parameters, status codes, security and the Idempotency-Key header.
`tests/test_openapi.py` checks that the document is valid OpenAPI 3.1, that it names exactly the routes of the `api`
blueprint, that its schemas are exactly the models, and that real responses fit them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from audit.api import schemas
from audit.input_guard import MAX_JSON_DEPTH
from audit.urls import MAX_ID

Schema = dict[str, Any]
#: A documented response: its description and its body's model (several models: any one of them).
Reply = tuple[str, type[BaseModel] | tuple[type[BaseModel], ...]]

JSON = "application/json"
REF = "#/components/schemas/{model}"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The session cookie Flask sets at login (Flask's default name).
SESSION_COOKIE = "session"
#: The header a cookie-authenticated write carries its CSRF token in (Flask-WTF also accepts X-CSRF-Token).
CSRF_HEADER = "X-CSRFToken"
#: Who may call what: staff may read; only admins and inspectors may write (and only their own inspections).
READ_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": []}]
WRITE_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}]

INSPECTION_ID = {
    "name": "inspection_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "description": "The inspection's id.",
}
REPORT_ID = {
    "name": "report_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "description": "The deviation report's id.",
}
ITEM_KEY = {
    "name": "item_key",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "minLength": 1},
    "description": "The checklist item's key, e.g. `GAR-03`.",
}
SEARCH = {
    "name": "q",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "Search in name, street address and city (case-insensitive; the first 100 characters count).",
}

# --- what every endpoint can answer --------------------------------------------------------------------------------

#: What any request can be refused for before its endpoint sees it (`audit/input_guard.py`).
MALFORMED = (
    "a NUL character anywhere in the request (`nul_character`), JSON nested more than "
    f"{MAX_JSON_DEPTH} levels deep (`json_too_deep`), a file in a field that takes none (`unexpected_file`)"
)

READ_ERRORS: dict[int, Reply] = {
    400: (f"The request is malformed: {MALFORMED}.", schemas.Error),
    401: ("Not logged in and no valid API token (`unauthorized`).", schemas.Error),
    403: ("The user's role may not call this endpoint (`forbidden`).", schemas.Error),
    503: (
        "The database cannot be reached just now (`service_unavailable`): nothing was changed; try again after the "
        "seconds the `Retry-After` header gives.",
        schemas.Error,
    ),
}

NOT_FOUND: Reply = ("No such inspection (or building) in the caller's organisation (`not_found`).", schemas.Error)
REPORT_NOT_FOUND: Reply = ("No such report that the caller may see (`not_found`).", schemas.Error)
INVALID_JSON = "the body is not a JSON object (`invalid_json`)"


def write_errors(body_problem: str = "", *, keyed: bool = True) -> dict[int, Reply]:
    """What every write can answer before (or instead of) doing its work; `body_problem` is the write's own 400;
    `keyed`: the write carries the Idempotency-Key header."""
    key_problem = (
        f"The `{IDEMPOTENCY_HEADER}` header is missing or longer than 100 characters (`idempotency_key_missing`), "
        if keyed
        else "The request is malformed: "
    )
    return {
        **READ_ERRORS,
        400: (
            f"{key_problem}{body_problem + ', ' if body_problem else ''}a cookie-authenticated request lacks a valid "
            f"`{CSRF_HEADER}` header (`csrf_failed`), or {MALFORMED}.",
            schemas.Error,
        ),
        403: ("The role may not write, or the caller is not the inspection's inspector (`forbidden`).", schemas.Error),
        404: NOT_FOUND,
        413: ("The request body is larger than the server accepts (`request_entity_too_large`).", schemas.Error),
    }


REUSED_KEY = f"`idempotency_key_reused`: the `{IDEMPOTENCY_HEADER}` was used before for a different request"
FINAL = "`inspection_final`: the inspection is submitted or approved"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: dict[int, Reply]
    write: bool = False
    body: type[BaseModel] | None = None
    body_media_type: str = JSON
    #: How the parts of a multipart body are encoded.
    body_encoding: Schema | None = None
    #: A multipart/form-data body the operation takes as well as the JSON `body` (with files).
    form_body: type[BaseModel] | None = None
    parameters: tuple[Schema, ...] = ()
    description: str = ""
    #: A write carries its idempotency key in the header; a batch carries one per entry instead.
    keyed_by_header: bool = True


OPERATIONS = (
    Operation(
        "get",
        "/api/v1/buildings",
        "listBuildings",
        "The organisation's buildings with each one's latest inspection.",
        "buildings",
        {200: ("The buildings.", schemas.BuildingList), **READ_ERRORS},
        parameters=(SEARCH,),
    ),
    Operation(
        "post",
        "/api/v1/inspections",
        "startInspection",
        "Start an inspection of a building.",
        "inspections",
        {
            201: ("The new draft inspection.", schemas.Inspection),
            **write_errors(INVALID_JSON),
            409: (
                "`draft_exists`: the building has a draft of this kind already (`draft`); or `invalid_transition`: "
                "a follow-up needs an approved inspection of the building to follow up.",
                (schemas.DraftExistsError, schemas.Error),
            ),
            422: (
                f"`invalid_input` (see `details`), `unknown_checklist`, or {REUSED_KEY}.",
                (schemas.InvalidInputError, schemas.Error),
            ),
        },
        write=True,
        body=schemas.StartInspection,
    ),
    Operation(
        "post",
        "/api/v1/deviations",
        "reportDeviation",
        "Report a deviation seen between inspections (any member of the organisation).",
        "deviations",
        {
            201: ("The stored report.", schemas.Deviation),
            **write_errors(INVALID_JSON),
            403: ("The caller has no role in an organisation (`forbidden`).", schemas.Error),
            422: (
                "`invalid_input` (see `details`); `invalid_report`: an unknown category, an area or building or place "
                "outside the organisation, a time seen in the future, or a description with a personal identity "
                f"number (`details` names the field); or {REUSED_KEY}.",
                (schemas.InvalidInputError, schemas.Error),
            ),
            413: (
                "A photo that is `too_large` or has `too_many_pixels`, or the whole request is too large.",
                schemas.Error,
            ),
            415: ("A photo that is `not_an_image`, in an `unsupported_format` or `corrupt`.", schemas.Error),
            503: ("`busy`: the server is processing as many photos as it can at once; send it again.", schemas.Error),
        },
        write=True,
        body=schemas.ReportDeviation,
        form_body=schemas.ReportDeviationWithPhoto,
    ),
    Operation(
        "get",
        "/api/v1/deviations/{report_id}",
        "getDeviation",
        "One deviation report the caller may see (coordinators: all; others: their own).",
        "deviations",
        {200: ("The report.", schemas.Deviation), **READ_ERRORS, 404: REPORT_NOT_FOUND},
        parameters=(REPORT_ID,),
    ),
    Operation(
        "get",
        "/api/v1/inspections/{inspection_id}",
        "getInspection",
        "One inspection with its answers, photos, progress and (once submitted) score.",
        "inspections",
        {200: ("The inspection.", schemas.Inspection), **READ_ERRORS, 404: NOT_FOUND},
        parameters=(INSPECTION_ID,),
    ),
    Operation(
        "put",
        "/api/v1/inspections/{inspection_id}/answers/{item_key}",
        "saveAnswer",
        "Create or change the answer to one checklist item (autosave).",
        "inspections",
        {
            200: ("The stored answer and the inspection's new progress.", schemas.AnswerSaved),
            **write_errors(INVALID_JSON),
            409: (
                f"`conflict`: the answer changed after `base_revision` (`current` is the stored answer); or {FINAL}.",
                (schemas.ConflictError, schemas.Error),
            ),
            422: (
                "`invalid_input` (see `details`); `invalid_answer`: the answer does not fit the item, or the item "
                f"does not exist or apply; or {REUSED_KEY}.",
                (schemas.InvalidInputError, schemas.Error),
            ),
        },
        write=True,
        body=schemas.AnswerChange,
        parameters=(INSPECTION_ID, ITEM_KEY),
        description="`result` is for pass/fail items, `value` for measurements and scales, `choice` for choices, "
        "`text` for text items. Send `base_revision` to be told (409) instead of overwriting a change made meanwhile.",
    ),
    Operation(
        "post",
        "/api/v1/inspections/{inspection_id}/answers",
        "saveAnswers",
        "Create or change many answers in one request (an offline device's queue).",
        "inspections",
        {
            200: (
                "One outcome per answer, in the order sent, each with the status the single PUT would have given it; "
                "then the inspection's progress after them all.",
                schemas.BatchSaved,
            ),
            **write_errors(INVALID_JSON, keyed=False),
            422: (
                f"`invalid_input`: the body is not `answers`, a list of 1 to {schemas.MAX_BATCH} objects each with a "
                "`key` and an `item_key` (see `details`). A single answer that does not fit is refused in its "
                "outcome, not here.",
                schemas.InvalidInputError,
            ),
        },
        write=True,
        keyed_by_header=False,
        body=schemas.AnswerBatch,
        parameters=(INSPECTION_ID,),
        description="Each answer is the single PUT's body with its own `key` (in place of the `Idempotency-Key` "
        "header: the request itself needs none) and `item_key`. The answers are saved in the order sent, each "
        "on its own: a refused one changes nothing and does not undo the others. An answer sent before under the "
        "same key, in a batch or alone with that `Idempotency-Key`, is replayed (`replayed`: true) and not saved "
        "again; a key used before for a different answer gets 422 `idempotency_key_reused` in its outcome. A "
        "submitted inspection refuses each answer not sent before with 409 `inspection_final`.",
    ),
    Operation(
        "post",
        "/api/v1/inspections/{inspection_id}/photos",
        "addPhoto",
        "Attach a photo to one checklist item.",
        "inspections",
        {
            201: ("The stored photo (cleaned of metadata and re-encoded as JPEG).", schemas.Photo),
            **write_errors("the form lacks `item_key` or `file` (`invalid_input`)"),
            409: (f"{FINAL}.", schemas.Error),
            413: ("`too_large` or `too_many_pixels`, or the whole request is too large.", schemas.Error),
            415: ("`not_an_image`, `unsupported_format` (use JPEG, PNG or WebP) or `corrupt`.", schemas.Error),
            422: (
                f"`invalid_answer`: no such item, or the item has 20 photos already; or {REUSED_KEY}.",
                schemas.Error,
            ),
            503: ("`busy`: the server is processing as many photos as it can at once; send it again.", schemas.Error),
        },
        write=True,
        body=schemas.PhotoUpload,
        body_media_type="multipart/form-data",
        body_encoding={"file": {"contentType": "image/jpeg, image/png, image/webp"}},
        parameters=(INSPECTION_ID,),
    ),
    Operation(
        "post",
        "/api/v1/inspections/{inspection_id}/submit",
        "submitInspection",
        "Submit the inspection for review; it is scored now and its answers become final.",
        "inspections",
        {
            200: ("The submitted inspection with its score.", schemas.Inspection),
            **write_errors(),
            409: ("`invalid_transition`: the inspection is not a draft or returned.", schemas.Error),
            422: (
                f"`incomplete` (see `missing` and `photos_missing`), or {REUSED_KEY}.",
                (schemas.IncompleteError, schemas.Error),
            ),
        },
        write=True,
        parameters=(INSPECTION_ID,),
        description="No request body is needed.",
    ),
)


# --- from the operations to the document ---------------------------------------------------------------------------


def ref(model: type[BaseModel]) -> Schema:
    return {"$ref": REF.format(model=model.__name__)}


def body_models(reply: Reply) -> tuple[type[BaseModel], ...]:
    return reply[1] if isinstance(reply[1], tuple) else (reply[1],)


def reply_schema(reply: Reply) -> Schema:
    models = body_models(reply)
    return ref(models[0]) if len(models) == 1 else {"anyOf": [ref(m) for m in models]}


def response(status: int, reply: Reply, keyed: bool) -> Schema:
    result: Schema = {"description": reply[0], "content": {JSON: {"schema": reply_schema(reply)}}}
    if keyed and status < 300:
        result["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}
    return result


def operation(op: Operation) -> Schema:
    result: Schema = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        result["description"] = op.description
    keyed = op.write and op.keyed_by_header
    parameters = [*op.parameters, *([{"$ref": "#/components/parameters/IdempotencyKey"}] if keyed else [])]
    if parameters:
        result["parameters"] = parameters
    if op.body is not None:
        media: Schema = {"schema": ref(op.body)}
        if op.body_encoding:
            media["encoding"] = op.body_encoding
        result["requestBody"] = {"required": True, "content": {op.body_media_type: media}}
    if op.form_body is not None:
        result["requestBody"]["content"]["multipart/form-data"] = {
            "schema": ref(op.form_body),
            "encoding": {"photo": {"contentType": "image/jpeg, image/png, image/webp"}},
        }
    result["security"] = WRITE_SECURITY if op.write else READ_SECURITY
    result["responses"] = {str(s): response(s, op.responses[s], keyed) for s in sorted(op.responses)}
    return result


def paths() -> Schema:
    result: Schema = {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "tags": ["meta"],
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }
    for op in OPERATIONS:
        result.setdefault(op.path, {})[op.method] = operation(op)
    return result


def models_used() -> Iterable[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every model a request or response names, with the side it is read on."""
    for op in OPERATIONS:
        for body in (op.body, op.form_body):
            if body is not None:
                yield body, "validation"
        for reply in op.responses.values():
            yield from ((m, "serialization") for m in body_models(reply))


class SchemaGenerator(GenerateJsonSchema):
    """Pydantic titles every property after its name ("Item Key"); the names say it already."""

    def field_title_should_be_set(self, schema: object) -> bool:  # noqa: ARG002
        return False


def component_schemas() -> dict[str, Schema]:
    _refs, generated = models_json_schema(
        list(dict.fromkeys(models_used())), ref_template=REF, schema_generator=SchemaGenerator
    )
    return dict(sorted(generated["$defs"].items()))


@cache
def openapi_document() -> dict[str, Any]:
    """Built once per process: it depends on nothing but the code."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trygga hus API",
            "version": "1",
            "summary": "Checklist-driven building safety inspections.",
            "description": (
                "JSON in and out. Authenticate with `Authorization: Bearer TOKEN` (an API token), or from the "
                "browser with the login session cookie; cookie-authenticated writes must also send the page's CSRF "
                f"token (the `csrf-token` meta tag) in the `{CSRF_HEADER}` header. Every write carries a "
                f"client-generated `{IDEMPOTENCY_HEADER}`: sending the same write again with the same key returns "
                "the first response (marked `Idempotent-Replayed: true`) and changes nothing. Errors are "
                '`{"error": code, "message": text}`, sometimes with more fields.'
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "buildings", "description": "The organisation's buildings."},
            {"name": "inspections", "description": "Inspections, their answers, photos and submission."},
            {"name": "deviations", "description": "Deviation reports from the field (EST)."},
            {"name": "meta", "description": "About the API itself."},
        ],
        "paths": paths(),
        "components": {
            "schemas": component_schemas(),
            "parameters": {
                "IdempotencyKey": {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": True,
                    "description": "A client-generated id of this write (for example a UUID), 1–100 characters. "
                    "Keys are kept per user; reusing one for a different request is refused (422).",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                },
            },
            "headers": {
                "IdempotentReplayed": {
                    "description": "`true` when this is the stored response of an earlier request with the same "
                    f"`{IDEMPOTENCY_HEADER}`.",
                    "schema": {"const": "true"},
                },
            },
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`Authorization: Bearer TOKEN`). Needs no CSRF token.",
                },
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": SESSION_COOKIE,
                    "description": "The browser's login session. Writes must also send the CSRF token in the "
                    f"`{CSRF_HEADER}` header (see `csrfToken`); without it they are refused with 400 `csrf_failed`.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": CSRF_HEADER,
                    "description": "The CSRF token of the logged-in page (its `csrf-token` meta tag); required with "
                    "`cookieAuth` on every write, ignored with a bearer token.",
                },
            },
        },
    }
