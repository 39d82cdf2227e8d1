"""Property-based fuzzing of the whole API from the OpenAPI document it serves (schemathesis).

Every operation of /api/v1/openapi.json is called with requests that fit the document (positive) and requests that
do not (negative), with an inspector's API token and without one, in-process through the WSGI app on each test
database. A request fails the test when the app answers 5xx (in TESTING mode an unhandled error propagates as the
exception itself) or when the answer does not fit the document: a status code not documented for the operation, a
body or header not valid against its schema, another content type. Half the examples of an operation on one
inspection use the id of a real draft of the inspector, so the fuzzing reaches past "not found".
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from audit.accounts.auth import create_api_token
from audit.accounts.models import Organisation, Role, User
from audit.api.openapi import openapi_document
from audit.inspections.models import Inspection

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Examples per operation and mode with the inspector's token.
EXAMPLES = 25
#: Without a token, every operation but the document itself answers at the login gate (or at the input guard before
#: it, which the token's examples reach with the same malformed input): fewer examples show that nothing gets through.
ANONYMOUS_EXAMPLES = 10
DOCUMENT = openapi_document()


def takes_input(operation: dict[str, Any]) -> bool:
    return bool({"parameters", "requestBody"} & set(operation))


#: Each operation with each kind of example; negative examples need something to break, a parameter or a body (the
#: document itself takes neither).
RUNS = [
    pytest.param(path, method.upper(), mode, id=f"{method.upper()} {path}-{mode}")
    for path, item in DOCUMENT["paths"].items()
    for method, operation in sorted(item.items())
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or takes_input(operation)
]


#: An item of each answer type: measurement, pass/fail, scale, choice, text.
ITEM_KEYS = ["UTE-01", "UTE-05", "UTE-06", "BEL-06", "DIA-07"]


def aimed(inspection: Inspection) -> Callable[[tuple[Any, str]], Any]:
    """A case aimed at the real draft: its building in a body that names one, a real item wherever an item is named."""

    def aim(drawn: tuple[Any, str]) -> Any:
        case, item_key = drawn
        if case.path_parameters and "item_key" in case.path_parameters:
            case.path_parameters["item_key"] = item_key
        if isinstance(case.body, dict):
            if "building_id" in case.body:
                case.body["building_id"] = inspection.building_id
            if "item_key" in case.body:
                case.body["item_key"] = item_key
        return case

    return aim


@pytest.fixture(scope="module")
def served_document(app: Flask) -> Any:
    """The document as the app serves it, loaded once per database: it is the same for every test."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("authenticated", [True, False], ids=["token", "anonymous"])
@pytest.mark.parametrize(("path", "method", "mode"), RUNS)
def test_api_fuzz(
    served_document: Any,
    session: Session,
    org: Organisation,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    path: str,
    method: str,
    authenticated: bool,
    mode: GenerationMode,
) -> None:
    inspector = create_member(Role.inspector)
    inspection = create_inspection(inspector=inspector)
    headers = {"Authorization": f"Bearer {create_api_token(session, inspector, org, 'fuzz')}"} if authenticated else {}
    operation = served_document[path][method]
    strategies = [operation.as_strategy(generation_mode=mode)]
    if "{inspection_id}" in path:
        strategies.append(operation.as_strategy(generation_mode=mode, path_parameters={"inspection_id": inspection.id}))
    strategies.append(st.tuples(strategies[-1], st.sampled_from(ITEM_KEYS)).map(aimed(inspection)))
    statuses: list[int] = []

    examples = EXAMPLES if authenticated else ANONYMOUS_EXAMPLES

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(strategies))
    def fuzz(case: Any) -> None:
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    fuzz()
    public = not DOCUMENT["paths"][path][method.lower()]["security"]
    if authenticated or public:
        assert set(statuses) - {401}, "the token was refused: the fuzzing never got past authentication"
    else:
        # A malformed request (a NUL, say) is refused with 400 before the login is asked for; nothing else gets in.
        assert set(statuses) <= {400, 401, 404}, "an anonymous request was let through"


# --- what the fuzzing found ----------------------------------------------------------------------------------------


def test_a_multipart_part_without_a_readable_name_is_ignored(
    client: FlaskClient,
    session: Session,
    org: Organisation,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    """A line break in a part's name leaves the multipart parser without a name (None), which the idempotency
    fingerprint tried to sort among the other names: 500. The part is ignored; the upload is judged on the rest."""
    inspector = create_member(Role.inspector)
    inspection = create_inspection(inspector=inspector)
    token = create_api_token(session, inspector, org, "fuzz")
    response = client.post(
        f"/api/v1/inspections/{inspection.id}/photos",
        data={"\n": "null", "item_key": "UTE-01", "file": (io.BytesIO(b"not a photo"), "photo.jpg")},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "nameless-part"},
    )
    assert response.status_code == 415
    assert response.json == {"error": "not_an_image", "message": "Filen är inget foto."}


def test_a_follow_up_without_an_approved_inspection_is_a_documented_conflict(
    client: FlaskClient,
    session: Session,
    org: Organisation,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Any],
) -> None:
    """The document gave 409 on starting an inspection only the `draft_exists` shape (with `draft`); a follow-up of a
    building without an approved inspection is also 409, `invalid_transition`, without `draft`."""
    inspector = create_member(Role.inspector)
    token = create_api_token(session, inspector, org, "fuzz")
    response = client.post(
        "/api/v1/inspections",
        json={"building_id": create_test_building().id, "kind": "follow_up"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "follow-up"},
    )
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["error"] == "invalid_transition"
    operation = schemathesis.openapi.from_dict(openapi_document())["/api/v1/inspections"]["POST"]
    operation.validate_response(response)


def test_a_base_revision_beyond_the_stored_range_is_invalid_input(
    client: FlaskClient,
    session: Session,
    org: Organisation,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    """A base_revision above the revision column's range raised in PostgreSQL's driver (500); now it is refused."""
    inspector = create_member(Role.inspector)
    inspection = create_inspection(inspector=inspector)
    token = create_api_token(session, inspector, org, "fuzz")
    response = client.put(
        f"/api/v1/inspections/{inspection.id}/answers/UTE-05",
        json={"result": "pass", "base_revision": 2**31},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "huge-revision"},
    )
    assert response.status_code == 422
    assert response.json is not None
    assert [d["field"] for d in response.json["details"]] == ["base_revision"]
