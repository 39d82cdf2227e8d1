"""The OpenAPI document: a valid OpenAPI 3.1 document, naming exactly the API's routes, served as JSON, with the
bodies' schemas generated from the API's models, and describing the status codes and bodies the API really answers
with."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from PIL import Image
from pydantic import BaseModel
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from audit.accounts.auth import create_api_token
from audit.accounts.models import Organisation, Role, User
from audit.api import schemas
from audit.api.openapi import REF, SchemaGenerator, openapi_document
from audit.checklists.schema import AnswerType, ScaleAnswer, is_applicable
from audit.demo import answer_for
from audit.inspections.models import Inspection
from audit.inspections.services import save_answer

WRITE_METHODS = {"post", "put", "patch", "delete"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DOCUMENT = openapi_document()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


# --- (a) the document itself ---------------------------------------------------------------------------------------


def test_document_is_a_valid_openapi_3_1_document() -> None:
    assert DOCUMENT["openapi"].startswith("3.1.")
    validate(DOCUMENT, cls=OpenAPIV31SpecValidator)


def test_security_requirements_name_declared_schemes() -> None:
    declared = set(DOCUMENT["components"]["securitySchemes"])
    assert {"bearerAuth", "cookieAuth", "csrfToken"} <= declared
    assert DOCUMENT["components"]["securitySchemes"]["cookieAuth"] == {
        **DOCUMENT["components"]["securitySchemes"]["cookieAuth"],
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
    }
    for path, method, operation in operations(DOCUMENT):
        for requirement in operation.get("security", DOCUMENT.get("security", [])):
            assert set(requirement) <= declared, (method, path)


def test_every_write_needs_an_idempotency_key_and_documents_its_errors() -> None:
    components = DOCUMENT["components"]["schemas"]
    for path, method, operation in operations(DOCUMENT):
        if method not in WRITE_METHODS:
            continue
        if operation["operationId"] == "saveAnswers":  # a batch: each answer carries its own key
            body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            entry = components[body]["properties"]["answers"]["items"]["$ref"].rsplit("/", 1)[1]
            assert "key" in components[entry]["required"]
            assert "Idempotent-Replayed" not in json.dumps(operation)
        else:
            assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"], path
        assert {"400", "401", "403", "404", "422"} <= set(operation["responses"]), path
        assert {"cookieAuth": [], "csrfToken": []} in operation["security"], path
    parameter = DOCUMENT["components"]["parameters"]["IdempotencyKey"]
    assert (parameter["name"], parameter["in"], parameter["required"]) == ("Idempotency-Key", "header", True)


# --- (b) the document and the URL map agree ------------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    """`/inspections/<int:inspection_id>` → `/inspections/{inspection_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _api_routes(app: Flask) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            methods = {m.lower() for m in rule.methods or ()} - {"head", "options"}
            routes.setdefault(_openapi_path(rule.rule), set()).update(methods)
    return routes


def test_openapi_path_conversion() -> None:
    assert _openapi_path("/a/<int:x>/b/<y>/<path:z>") == "/a/{x}/b/{y}/{z}"


def test_every_api_route_is_documented_with_the_same_methods(app: Flask) -> None:
    documented = {path: {m for m in item if m in HTTP_METHODS} for path, item in DOCUMENT["paths"].items()}
    routes = _api_routes(app)
    assert routes, "the api blueprint has no routes"
    assert documented == routes


def test_every_documented_path_parameter_is_in_its_path() -> None:
    for path, _method, operation in operations(DOCUMENT):
        names = set(re.findall(r"{([^}]+)}", path))
        parameters = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        assert parameters == names, path


# --- (c) the bodies' schemas are the API's models ------------------------------------------------------------------


def _models() -> dict[str, type[BaseModel]]:
    """Every body model of `audit/api/schemas.py`, by name."""
    return {
        name: model
        for name, model in vars(schemas).items()
        if isinstance(model, type)
        and issubclass(model, BaseModel)
        and model.__module__ == schemas.__name__
        and not name.startswith("_")
    }


def _refs(node: Any) -> Iterator[str]:
    """The names of the component schemas a part of the document refers to."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/components/schemas/"):
            yield node["$ref"].removeprefix("#/components/schemas/")
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_documented_schema_is_generated_from_a_model() -> None:
    documented = DOCUMENT["components"]["schemas"]
    generated: dict[str, list[dict[str, Any]]] = {}
    for name, model in _models().items():
        for mode in ("validation", "serialization"):
            schema = model.model_json_schema(ref_template=REF, schema_generator=SchemaGenerator, mode=mode)
            # A model's own schema, and the enums and models it names (pydantic's $defs).
            for part, part_schema in {name: schema, **schema.pop("$defs", {})}.items():
                generated.setdefault(part, []).append(part_schema)
    assert set(documented) == set(generated)
    for name, schema in documented.items():
        assert schema in generated[name], name


def test_every_model_is_used_by_an_operation() -> None:
    reached: set[str] = set()
    todo = set(_refs(DOCUMENT["paths"]))
    while todo:
        name = todo.pop()
        reached.add(name)
        todo |= set(_refs(DOCUMENT["components"]["schemas"][name])) - reached
    assert reached == set(DOCUMENT["components"]["schemas"])
    assert set(_models()) <= reached


def test_exact_points_are_documented_as_the_fractions_they_are() -> None:
    """Scores are exact fractions (a scale item answered between its steps makes quarters or thirds)."""
    for name in ("ScoreCard", "SectionScore"):
        earned = DOCUMENT["components"]["schemas"][name]["properties"]["earned"]
        assert earned["type"] == "string"
        for text in ("97", "481/2", "0", "1/3"):
            assert re.search(earned["pattern"], text), (name, text)
        for text in ("240.5", "240,5", "2/4.0", "-1", "1/0", "0/3", ""):
            assert not re.search(earned["pattern"], text), (name, text)


# --- (d) the document is served ------------------------------------------------------------------------------------


def test_the_document_is_served_without_login(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == openapi_document()


# --- (e) real responses fit the document ----------------------------------------------------------------------------


def _operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The documented operation whose path template matches this concrete path."""
    for template, item in DOCUMENT["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method in item:
            return template, item[method]
    raise AssertionError(f"{method.upper()} {path} is not documented")


def conforms(response: TestResponse, method: str, path: str) -> Any:
    """Assert that the status is documented for the operation and the JSON body fits its schema."""
    template, operation = _operation(method, path)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {template} answered undocumented {status}"
    documented = operation["responses"][status]
    schema = documented["content"]["application/json"]["schema"]
    body = response.get_json()
    OAS31Validator({**schema, "components": DOCUMENT["components"]}).validate(body)
    return body


def fresh_request_state() -> None:
    """The test client runs requests inside the test's app context, so Flask-Login's cached user (kept on `g`)
    would carry over to the next request; forget it, so every request authenticates as it would in production."""
    g.pop("_login_user", None)


@pytest.fixture
def api(
    session: Session, client: FlaskClient, org: Organisation, create_member: Callable[..., User]
) -> Callable[..., TestResponse]:
    """Call the API as a new inspector with a bearer token (writes get a fresh Idempotency-Key unless given)."""
    inspector = create_member(Role.inspector)
    token = create_api_token(session, inspector, org, "tests")
    inspector_id = inspector.id
    session.commit()  # a refused request rolls back what the test set up but had not committed

    def call(method: str, path: str, *, key: str | None = None, auth: bool = True, **kwargs: Any) -> TestResponse:
        headers = dict(kwargs.pop("headers", {}))
        if auth:
            headers["Authorization"] = f"Bearer {token}"
        if method in WRITE_METHODS:
            headers.setdefault("Idempotency-Key", key or str(uuid.uuid4()))
        fresh_request_state()
        response = client.open(path, method=method.upper(), headers=headers, **kwargs)
        conforms(response, method, path)
        return response

    call.inspector_id = inspector_id  # type: ignore[attr-defined]
    return call


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_api_answers_fit_the_document(
    api: Callable[..., TestResponse], session: Session, create_test_building: Callable[..., Any]
) -> None:
    building_id = create_test_building().id  # each request ends the session: keep ids, not objects
    session.commit()
    assert api("get", "/api/v1/buildings").status_code == 200
    assert api("get", "/api/v1/buildings", auth=False).status_code == 401

    started = api("post", "/api/v1/inspections", json={"building_id": building_id, "kind": "spot_check"})
    assert started.status_code == 201
    inspection_id = started.json["id"]
    base = f"/api/v1/inspections/{inspection_id}"
    assert api("post", "/api/v1/inspections", json={"building_id": building_id, "colour": "red"}).status_code == 422
    assert api("post", "/api/v1/inspections", data="[]", content_type="application/json").status_code == 400
    assert api("post", "/api/v1/inspections", json={"building_id": 10**9}).status_code == 404
    assert api("get", "/api/v1/inspections/999999999").status_code == 404

    inspection = session.get(Inspection, inspection_id)
    assert inspection is not None
    applicable = [
        (s, i)
        for s, i in inspection.checklist_version.checklist.items()
        if is_applicable(s, i, inspection.building.features)
    ]
    item_key = next(i.key for _s, i in applicable if i.answer.type == AnswerType.pass_fail)

    saved = api("put", f"{base}/answers/{item_key}", json={"result": "fail", "comment": "Trasig", "base_revision": 0})
    assert saved.status_code == 200
    assert api("put", f"{base}/answers/{item_key}", json={"result": "pass", "base_revision": 0}).status_code == 409
    assert api("put", f"{base}/answers/{item_key}", json={"result": "maybe"}).status_code == 422
    assert api("put", f"{base}/answers/nope", json={"result": "pass"}).status_code == 422
    assert (
        api("put", f"{base}/answers/{item_key}", json={"result": "pass"}, headers={"Idempotency-Key": ""}).status_code
        == 400
    )
    key = str(uuid.uuid4())
    assert api("put", f"{base}/answers/{item_key}", key=key, json={"result": "pass"}).status_code == 200
    replayed = api("put", f"{base}/answers/{item_key}", key=key, json={"result": "pass"})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert api("put", f"{base}/answers/{item_key}", key=key, json={"result": "fail"}).status_code == 422

    photo = api("post", f"{base}/photos", data={"item_key": item_key, "file": (io.BytesIO(_png()), "a.png")})
    assert photo.status_code == 201
    assert (
        api("post", f"{base}/photos", data={"item_key": item_key, "file": (io.BytesIO(b"hello"), "a.txt")}).status_code
        == 415
    )
    assert api("post", f"{base}/photos", data={"item_key": item_key}).status_code == 400

    incomplete = api("post", f"{base}/submit")
    assert incomplete.status_code == 422
    assert incomplete.json["missing"]

    inspection = session.get(Inspection, inspection_id)
    inspector = session.get(User, api.inspector_id)  # type: ignore[attr-defined]
    assert inspection is not None
    assert inspector is not None
    for _section, item in applicable:
        save_answer(session, inspector, inspection, item.key, answer_for(item, passing=True))
    session.commit()
    submitted = api("post", f"{base}/submit")
    assert submitted.status_code == 200
    assert submitted.json["score"] is not None
    assert api("get", base).json["status"] == "submitted"
    assert api("post", f"{base}/submit").status_code == 409
    assert api("put", f"{base}/answers/{item_key}", json={"result": "fail"}).status_code == 409


def test_other_roles_get_documented_refusals(
    session: Session,
    client: FlaskClient,
    org: Organisation,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
) -> None:
    path = f"/api/v1/inspections/{create_inspection().id}/submit"
    # A manager may not write, and another inspector does not own the inspection.
    writers = [create_api_token(session, create_member(role), org, "tests") for role in (Role.manager, Role.inspector)]
    contractor = create_api_token(session, create_member(Role.contractor), org, "tests")
    session.commit()  # a refused request rolls back what the test set up but had not committed
    for token in writers:
        fresh_request_state()
        response = client.post(path, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})
        assert response.status_code == 403
        conforms(response, "post", path)
    fresh_request_state()
    response = client.get("/api/v1/buildings", headers={"Authorization": f"Bearer {contractor}"})
    assert response.status_code == 403
    conforms(response, "get", "/api/v1/buildings")


def test_a_fractional_score_fits_the_document(
    api: Callable[..., TestResponse], session: Session, create_test_building: Callable[..., Any]
) -> None:
    """A scale item answered between its ends makes the earned points a fraction; the submitted inspection's
    score card (validated against the document by `api`) says it exactly."""
    building_id = create_test_building().id
    session.commit()
    inspection_id = api("post", "/api/v1/inspections", json={"building_id": building_id}).json["id"]
    base = f"/api/v1/inspections/{inspection_id}"
    inspection = session.get(Inspection, inspection_id)
    inspector = session.get(User, api.inspector_id)  # type: ignore[attr-defined]
    assert inspection is not None
    assert inspector is not None
    applicable = [
        (s, i)
        for s, i in inspection.checklist_version.checklist.items()
        if is_applicable(s, i, inspection.building.features)
    ]
    section, scale = next((s, i) for s, i in applicable if isinstance(i.answer, ScaleAnswer))
    assert isinstance(scale.answer, ScaleAnswer)
    low, high = scale.answer.min, scale.answer.max
    for _section, item in applicable:
        if item is not scale:
            save_answer(session, inspector, inspection, item.key, answer_for(item, passing=True))
    session.commit()
    assert api("put", f"{base}/answers/{scale.key}", json={"value": high - 1}).status_code == 200

    submitted = api("post", f"{base}/submit")
    assert submitted.status_code == 200
    card = submitted.json["score"]
    documented = DOCUMENT["components"]["schemas"]["ScoreCard"]["properties"]["earned"]
    assert re.search(documented["pattern"], card["earned"]), card["earned"]
    lost = scale.weight * Fraction(1, high - low)  # one step below the top of the scale
    assert lost.denominator > 1
    assert Fraction(card["earned"]) == card["possible"] - lost
    assert card["total"] == round(float(Fraction(card["earned"]) / card["possible"]), 6)
    scored = next(s for s in card["sections"] if s["key"] == section.key)
    assert Fraction(scored["earned"]) == scored["possible"] - lost
    assert api("get", base).json["score"] == card
