"""The OpenAPI 3.1 document for API version 1 (served at /api/v1/openapi.json).

Written by hand next to `audit/api/views.py`; `tests/test_openapi.py` checks that it is a valid OpenAPI 3.1
document, that it names exactly the routes of the `api` blueprint, and that real responses fit its schemas.
"""

from __future__ import annotations

from typing import Any

from audit.buildings.features import Feature
from audit.inspections.models import InspectionKind, InspectionStatus

Schema = dict[str, Any]

JSON = "application/json"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The session cookie Flask sets at login (Flask's default name).
SESSION_COOKIE = "session"
#: The header a cookie-authenticated write carries its CSRF token in (Flask-WTF also accepts X-CSRF-Token).
CSRF_HEADER = "X-CSRFToken"


# --- small builders -----------------------------------------------------------------------------------------------


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (OpenAPI 3.1 is JSON Schema 2020-12: no `nullable`, a type list or anyOf instead)."""
    if "type" in schema and isinstance(schema["type"], str) and "$ref" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(
    properties: dict[str, Schema], *, required: list[str] | None = None, description: str = "", closed: bool = False
) -> Schema:
    """An object schema; every property is required unless `required` says otherwise."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
    }
    if description:
        schema["description"] = description
    if closed:
        schema["additionalProperties"] = False
    return schema


def string(description: str = "", **extra: Any) -> Schema:
    return {"type": "string", **({"description": description} if description else {}), **extra}


def integer(description: str = "", **extra: Any) -> Schema:
    return {"type": "integer", **({"description": description} if description else {}), **extra}


def timestamp(description: str = "") -> Schema:
    return string(description, format="date-time")


def json_body(schema: Schema) -> dict[str, Any]:
    return {"content": {JSON: {"schema": schema}}}


def response(description: str, schema: Schema | None = None, *, replayable: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {"description": description}
    if schema is not None:
        result.update(json_body(schema))
    if replayable:
        result["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/IdempotentReplayed"}}
    return result


def error(description: str, schema: str = "Error") -> dict[str, Any]:
    return response(description, ref(schema))


def any_error(description: str, *schemas: str) -> dict[str, Any]:
    """An error response whose body is one of several error shapes (each one an `Error` with extra fields)."""
    return response(description, {"anyOf": [ref(name) for name in schemas]})


def path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


INSPECTION_ID = path_parameter("inspection_id", integer(minimum=1), "The inspection's id.")
ITEM_KEY = path_parameter("item_key", string(minLength=1), "The checklist item's key, e.g. `B3`.")
IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/IdempotencyKey"}

#: Who may call what: staff may read; only admins and inspectors may write (and only their own inspections).
READ_SECURITY = [{"bearerAuth": []}, {"cookieAuth": []}]
WRITE_SECURITY = [{"bearerAuth": []}, {"cookieAuth": [], "csrfToken": []}]


# --- responses every endpoint shares ---------------------------------------------------------------------------------


def read_errors() -> dict[str, Any]:
    return {
        "401": error("Not logged in and no valid API token (`error` is `unauthorized`)."),
        "403": error("The user's role may not call this endpoint (`error` is `Forbidden`)."),
    }


def write_errors(body: str = "") -> dict[str, Any]:
    """What every write can answer before (or instead of) doing its work; `body` names the write's own 400s."""
    return {
        "400": error(
            f"The `{IDEMPOTENCY_HEADER}` header is missing or longer than 100 characters "
            f"(`idempotency_key_missing`), {body + ', ' if body else ''}or a cookie-authenticated request lacks a "
            f"valid `{CSRF_HEADER}` header (`csrf_failed`)."
        ),
        **read_errors(),
        "413": error("The request body is larger than the server accepts (`Request Entity Too Large`)."),
    }


INVALID_JSON = "the body is not a JSON object (`invalid_json`)"


def scoped_errors() -> dict[str, Any]:
    return {"404": error("No such inspection (or building) in the caller's organisation (`not_found`).")}


def idempotency_reuse() -> str:
    return f"`idempotency_key_reused`: the `{IDEMPOTENCY_HEADER}` was used before for a different request"


def sorted_responses(responses: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(responses.items()))


# --- schemas -------------------------------------------------------------------------------------------------------


def schemas() -> dict[str, Schema]:
    answer_result = {
        "enum": ["pass", "fail", "na", "noted", None],
        "description": "`pass`/`fail` (given or worked out from a value or choice), `na` for not "
        "applicable, `noted` for a text item with text, null when not answered.",
    }
    reason = obj(
        {
            "code": {
                "enum": [
                    "total_below_minimum",
                    "section_below_minimum",
                    "critical_item_failed",
                    "items_unanswered",
                    "nothing_scored",
                ]
            },
            "section": nullable(string()),
            "item": nullable(string()),
            "actual": nullable({"type": "number"}),
            "required": nullable({"type": "number"}),
            "items": {"type": "array", "items": string()},
            "text": string("The reason in words."),
        }
    )
    section_score = obj(
        {
            "key": string(),
            "applicable": {"type": "boolean"},
            "score": nullable({"type": "number"}),
            "minimum": nullable({"type": "number"}),
            "earned": string("A decimal number as text (exact)."),
            "possible": integer(),
            "answered": integer(),
            "to_answer": integer(),
        }
    )
    return {
        "Error": obj(
            {
                "error": string("A short machine-readable code, e.g. `conflict`, `invalid_input`, `not_found`."),
                "message": string("What went wrong, fit to show to a user."),
            },
            description="Every error response has this shape; some add fields (see the other *Error schemas).",
        ),
        "ValidationError": {
            "allOf": [
                ref("Error"),
                obj(
                    {
                        "details": {
                            "type": "array",
                            "items": obj({"field": string("The offending field (dotted path)."), "message": string()}),
                        }
                    }
                ),
            ],
            "description": "`invalid_input`: the JSON body does not fit the request schema.",
        },
        "ConflictError": {
            "allOf": [ref("Error"), obj({"current": ref("Answer")})],
            "description": "`conflict`: the answer changed after `base_revision`; `current` is the stored answer.",
        },
        "IncompleteError": {
            "allOf": [
                ref("Error"),
                obj(
                    {
                        "missing": {
                            "type": "array",
                            "items": string(),
                            "description": "Applicable items without an answer.",
                        },
                        "photos_missing": {
                            "type": "array",
                            "items": string(),
                            "description": "Failed items whose rule needs a photo, and which have none.",
                        },
                    }
                ),
            ],
            "description": "`incomplete`: the inspection cannot be submitted yet.",
        },
        "Building": obj(
            {
                "id": integer(),
                "name": string(),
                "address": string("Street address, postcode and city."),
                "area": nullable(string("The area's name.")),
                "features": {"type": "array", "items": {"enum": [f.value for f in Feature]}, "uniqueItems": True},
                "latest_inspection": nullable(
                    obj(
                        {
                            "id": integer(),
                            "status": {"enum": [s.value for s in InspectionStatus]},
                            "passed": nullable({"type": "boolean"}),
                            "url": string(),
                        }
                    )
                ),
            }
        ),
        "BuildingList": obj({"buildings": {"type": "array", "items": ref("Building")}}),
        "StartInspection": obj(
            {
                "building_id": integer("A building of the caller's organisation."),
                "kind": {"enum": [k.value for k in InspectionKind], "default": InspectionKind.certification.value},
                "checklist_key": string(
                    "The checklist; its newest version is pinned to the inspection.", maxLength=64, default="trygga-hus"
                ),
            },
            required=["building_id"],
            closed=True,
        ),
        "AnswerInput": obj(
            {
                "result": {
                    "enum": ["pass", "fail", "na", None],
                    "description": "For pass/fail items; `na` where the item allows it.",
                },
                "value": {
                    "type": ["number", "string", "null"],
                    "description": "For measurement and scale items; a decimal comma is accepted.",
                },
                "choice": nullable(string("For choice items: the option's key.", maxLength=40)),
                "text": nullable(string("For text items.", maxLength=10_000)),
                "comment": nullable(string(maxLength=10_000)),
                "base_revision": nullable(
                    integer(
                        "The revision the change is based on (0 for a new answer); omitted or null overwrites.",
                        minimum=0,
                    )
                ),
            },
            required=[],
            closed=True,
        ),
        "Answer": obj(
            {
                "item_key": string(),
                "result": answer_result,
                "value": nullable({"type": "number"}),
                "choice": nullable(string()),
                "text": nullable(string()),
                "comment": nullable(string()),
                "revision": integer("Grows with every change; 0 means never answered.", minimum=0),
                "answered_at": nullable(timestamp()),
            }
        ),
        "Progress": obj(
            {
                "answered": integer(minimum=0),
                "total": integer(minimum=0),
                "sections": {
                    "type": "array",
                    "items": obj(
                        {
                            "key": string(),
                            "applicable": {"type": "boolean"},
                            "answered": integer(minimum=0),
                            "total": integer(minimum=0),
                        }
                    ),
                },
            },
            description="Applicable scored items answered so far, in all and per section.",
        ),
        "AnswerSaved": obj({"answer": ref("Answer"), "progress": ref("Progress")}),
        "Photo": obj(
            {
                "id": integer(),
                "item_key": string(),
                "sha256": string(pattern="^[0-9a-f]{64}$"),
                "width": integer(),
                "height": integer(),
                "url": string("The cleaned JPEG (needs the same login)."),
                "thumbnail_url": string("A small version of it."),
            }
        ),
        "PhotoUpload": obj(
            {
                "item_key": string("The checklist item the photo belongs to."),
                "file": string("A JPEG, PNG or WebP image.", contentMediaType="application/octet-stream"),
            },
        ),
        "ScoreCard": obj(
            {
                "checklist": obj({"key": string(), "version": integer()}),
                "passed": {"type": "boolean"},
                "total": nullable({"type": "number"}),
                "earned": string("A decimal number as text (exact)."),
                "possible": integer(),
                "sections": {"type": "array", "items": section_score},
                "failed_items": {"type": "array", "items": string()},
                "failed_critical_items": {"type": "array", "items": string()},
                "reasons": {
                    "type": "array",
                    "items": reason,
                    "description": "Why it does not pass (empty if it does).",
                },
            },
            description="The score worked out when the inspection was submitted.",
        ),
        "Inspection": obj(
            {
                "id": integer(),
                "url": string("This resource's path."),
                "status": {"enum": [s.value for s in InspectionStatus]},
                "kind": {"enum": [k.value for k in InspectionKind]},
                "building": obj({"id": integer(), "name": string()}),
                "checklist": obj({"key": string(), "version": integer(), "sha256": string()}),
                "inspector": obj({"id": integer(), "name": string()}),
                "created_at": timestamp(),
                "submitted_at": nullable(timestamp()),
                "score": nullable(ref("ScoreCard")),
                "progress": ref("Progress"),
                "answers": {
                    "type": "object",
                    "additionalProperties": ref("Answer"),
                    "description": "The stored answers by item key.",
                },
                "photos": {"type": "array", "items": ref("Photo")},
            }
        ),
    }


# --- paths ---------------------------------------------------------------------------------------------------------


def operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    tag: str,
    write: bool = False,
    description: str = "",
    parameters: list[Schema] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    result: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        result["description"] = description
    parameters = list(parameters or [])
    if write:
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        result["parameters"] = parameters
    result.update(extra)
    result["security"] = WRITE_SECURITY if write else READ_SECURITY
    result["responses"] = sorted_responses(responses)
    return result


def paths() -> dict[str, Any]:
    return {
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document.",
                "tags": ["meta"],
                "security": [],
                "responses": {"200": response("The OpenAPI 3.1 document.", {"type": "object"})},
            }
        },
        "/api/v1/buildings": {
            "get": operation(
                "listBuildings",
                "The organisation's buildings with each one's latest inspection.",
                {"200": response("The buildings, by name.", ref("BuildingList")), **read_errors()},
                tag="buildings",
                parameters=[
                    {
                        "name": "q",
                        "in": "query",
                        "required": False,
                        "description": "Search in name, street address and city (case-insensitive; at most the "
                        "first 100 characters are used).",
                        "schema": string(),
                    }
                ],
            )
        },
        "/api/v1/inspections": {
            "post": operation(
                "startInspection",
                "Start an inspection of a building.",
                {
                    "201": response("The new draft inspection.", ref("Inspection"), replayable=True),
                    **write_errors(INVALID_JSON),
                    "404": error("No such building in the caller's organisation (`not_found`)."),
                    "409": error(
                        "`draft_exists`: the building has a draft of this kind already (`draft` is its id): "
                        "continue that one."
                    ),
                    "422": any_error(
                        f"`invalid_input` (see `details`), `unknown_checklist`, or {idempotency_reuse()}.",
                        "ValidationError",
                        "Error",
                    ),
                },
                tag="inspections",
                write=True,
                requestBody={"required": True, **json_body(ref("StartInspection"))},
            )
        },
        "/api/v1/inspections/{inspection_id}": {
            "get": operation(
                "getInspection",
                "One inspection with its answers, photos, progress and (once submitted) score.",
                {"200": response("The inspection.", ref("Inspection")), **read_errors(), **scoped_errors()},
                tag="inspections",
                parameters=[INSPECTION_ID],
            )
        },
        "/api/v1/inspections/{inspection_id}/answers/{item_key}": {
            "put": operation(
                "saveAnswer",
                "Create or change the answer to one checklist item (autosave).",
                {
                    "200": response(
                        "The stored answer and the inspection's new progress.", ref("AnswerSaved"), replayable=True
                    ),
                    **write_errors(INVALID_JSON),
                    "403": error(
                        "The role may not write, or the caller is not this inspection's inspector "
                        "(`Forbidden` or `forbidden`)."
                    ),
                    **scoped_errors(),
                    "409": any_error(
                        "`conflict`: the answer changed after `base_revision` (`current` holds the stored "
                        "answer); or `inspection_final`: the inspection is submitted or approved.",
                        "ConflictError",
                        "Error",
                    ),
                    "422": any_error(
                        "`invalid_input` (see `details`); `invalid_answer`: the answer does not fit the "
                        f"item, or the item does not exist or apply; or {idempotency_reuse()}.",
                        "ValidationError",
                        "Error",
                    ),
                },
                tag="inspections",
                write=True,
                parameters=[INSPECTION_ID, ITEM_KEY],
                description="Only the fields the item's answer type uses matter: `result` for pass/fail items, `value` "
                "for measurements and scales, `choice` for choices, `text` for text items. Send "
                "`base_revision` to be told (409) instead of overwriting a change made meanwhile.",
                requestBody={"required": True, **json_body(ref("AnswerInput"))},
            )
        },
        "/api/v1/inspections/{inspection_id}/photos": {
            "post": operation(
                "addPhoto",
                "Attach a photo to one checklist item.",
                {
                    "201": response(
                        "The stored photo (cleaned of metadata and re-encoded as JPEG).", ref("Photo"), replayable=True
                    ),
                    **write_errors("the multipart form lacks `item_key` or `file` (`invalid_input`)"),
                    "403": error(
                        "The role may not write, or the caller is not this inspection's inspector "
                        "(`Forbidden` or `forbidden`)."
                    ),
                    **scoped_errors(),
                    "409": error("`inspection_final`: the inspection is submitted or approved."),
                    "413": error(
                        "`too_large` or `too_many_pixels`; or the whole request is larger than the server "
                        "accepts (`Request Entity Too Large`)."
                    ),
                    "415": error("`not_an_image`, `unsupported_format` (use JPEG, PNG or WebP) or `corrupt`."),
                    "422": error(
                        f"`invalid_answer`: no such item, or the item has 20 photos already; or {idempotency_reuse()}."
                    ),
                },
                tag="inspections",
                write=True,
                parameters=[INSPECTION_ID],
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": ref("PhotoUpload"),
                            "encoding": {"file": {"contentType": "image/jpeg, image/png, image/webp"}},
                        }
                    },
                },
            )
        },
        "/api/v1/inspections/{inspection_id}/submit": {
            "post": operation(
                "submitInspection",
                "Submit the inspection for review; it is scored now and its answers become final.",
                {
                    "200": response("The submitted inspection with its score.", ref("Inspection"), replayable=True),
                    **write_errors(),
                    "403": error(
                        "The role may not write, or the caller is not this inspection's inspector "
                        "(`Forbidden` or `forbidden`)."
                    ),
                    **scoped_errors(),
                    "409": error("`invalid_transition`: the inspection is not a draft or returned."),
                    "422": any_error(
                        f"`incomplete` (see `missing` and `photos_missing`), or {idempotency_reuse()}.",
                        "IncompleteError",
                        "Error",
                    ),
                },
                tag="inspections",
                write=True,
                parameters=[INSPECTION_ID],
                description="No request body is needed.",
            )
        },
    }


# --- the document --------------------------------------------------------------------------------------------------


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Trygga hus API",
            "version": "1",
            "summary": "Checklist-driven building safety inspections.",
            "description": (
                "JSON in and out. Authenticate with `Authorization: Bearer TOKEN` (an API token), or from the "
                f"browser with the login session cookie; cookie-authenticated writes must also send the page's CSRF "
                f"token (the `csrf-token` meta tag) in the `{CSRF_HEADER}` header. Every write carries a "
                f"client-generated `{IDEMPOTENCY_HEADER}`: sending the same write again with the same key returns "
                f"the first response (marked `Idempotent-Replayed: true`) and changes nothing. Errors are "
                f'`{{"error": code, "message": text}}`, sometimes with more fields.'
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "buildings", "description": "The organisation's buildings."},
            {"name": "inspections", "description": "Inspections, their answers, photos and submission."},
            {"name": "meta", "description": "About the API itself."},
        ],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "parameters": {
                "IdempotencyKey": {
                    "name": IDEMPOTENCY_HEADER,
                    "in": "header",
                    "required": True,
                    "description": "A client-generated id of this write (for example a UUID), 1–100 characters. "
                    "Keys are kept per user; reusing one for a different request is refused (422).",
                    "schema": string(minLength=1, maxLength=100),
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
                    "description": "The browser's login session. Writes (POST, PUT) must also send the "
                    f"CSRF token in the `{CSRF_HEADER}` header (see `csrfToken`); without "
                    "it they are refused with 400 `csrf_failed`.",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": CSRF_HEADER,
                    "description": "The CSRF token of the logged-in page (its `csrf-token` meta tag); "
                    "required with `cookieAuth` on every write, ignored with a bearer "
                    "token.",
                },
            },
        },
    }
