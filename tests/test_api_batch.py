"""Many answers in one request (`POST /api/v1/inspections/<id>/answers`): each answer idempotent by its own key and
saved on its own, with the outcome the single PUT would have given it. Every response is checked against the OpenAPI
document (`conforms`)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from audit.accounts.auth import create_api_token
from audit.accounts.models import Organisation, Role, User
from audit.api.models import IdempotencyRecord
from audit.api.schemas import MAX_BATCH
from audit.checklists.schema import is_applicable
from audit.demo import answer_for
from audit.inspections.models import Answer, Inspection
from tests.test_openapi import DOCUMENT, conforms, fresh_request_state
from tests.web_support import csrf_token, login


def _body(inspection: Inspection, passing: bool = True) -> list[dict[str, Any]]:
    """A plausible answer to every applicable item, as the single PUT's bodies with their item keys."""
    bodies = []
    for section, item in inspection.checklist_version.checklist.items():
        if is_applicable(section, item, inspection.building.features):
            given = answer_for(item, passing)
            body = {field: getattr(given, field) for field in ("result", "value", "choice", "text")}
            body = {field: value for field, value in body.items() if value is not None}
            if "result" in body:
                body["result"] = {"passed": "pass", "failed": "fail"}.get(body["result"].name, body["result"].value)
            bodies.append({"item_key": item.key, **body})
    return bodies


def _keyed(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"key": str(uuid.uuid4()), **body} for body in bodies]


@pytest.fixture
def inspector(create_member: Callable[..., User]) -> User:
    return create_member(Role.inspector)


@pytest.fixture
def draft(create_inspection: Callable[..., Inspection], inspector: User, session: Session) -> Inspection:
    inspection = create_inspection(inspector=inspector)
    session.commit()  # a refused request rolls back what the test set up but had not committed
    return inspection


@pytest.fixture
def call(session: Session, client: FlaskClient, org: Organisation, inspector: User) -> Callable[..., TestResponse]:
    """Call the API as the inspector with a bearer token; every response must fit the document."""
    token = create_api_token(session, inspector, org, "tests")
    session.commit()

    def call(method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        fresh_request_state()
        response = client.open(path, method=method.upper(), headers=headers, **kwargs)
        conforms(response, method, path)
        return response

    return call


def _stored(session: Session, inspection_id: int) -> dict[str, tuple[Any, int]]:
    session.expire_all()
    rows = session.execute(
        select(Answer.item_key, Answer.result, Answer.revision).where(Answer.inspection_id == inspection_id)
    )
    return {key: (result, revision) for key, result, revision in rows}


def _records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(IdempotencyRecord)) or 0


def test_a_batch_saves_every_answer_in_order_and_a_retry_replays_them(
    call: Callable[..., TestResponse], draft: Inspection, session: Session
) -> None:
    url = f"/api/v1/inspections/{draft.id}/answers"
    answers = _keyed(_body(draft))
    assert len(answers) > 60  # a whole inspection: measurements, scales, choices, texts and pass/fail items
    records = _records(session)

    saved = call("post", url, json={"answers": answers})
    assert saved.status_code == 200
    results = saved.json["results"]
    assert [(r["key"], r["item_key"], r["status"], r["replayed"]) for r in results] == [
        (a["key"], a["item_key"], 200, False) for a in answers
    ]
    assert all(r["answer"]["revision"] == 1 and r["error"] is None for r in results)
    assert saved.json["progress"]["answered"] == saved.json["progress"]["total"] > 0
    stored = _stored(session, draft.id)
    assert set(stored) == {a["item_key"] for a in answers}
    assert _records(session) == records + len(answers)

    again = call("post", url, json={"answers": answers})
    assert again.status_code == 200
    assert [(r["status"], r["replayed"]) for r in again.json["results"]] == [(200, True)] * len(answers)
    assert [r["answer"] for r in again.json["results"]] == [r["answer"] for r in results]
    assert _stored(session, draft.id) == stored  # nothing saved twice
    assert _records(session) == records + len(answers)


def test_an_answer_sent_alone_is_replayed_in_a_batch_and_the_other_way_round(
    call: Callable[..., TestResponse], draft: Inspection, session: Session
) -> None:
    first, second = _keyed(_body(draft)[:2])
    base = f"/api/v1/inspections/{draft.id}/answers"

    def single(answer: dict[str, Any]) -> TestResponse:
        body = {k: v for k, v in answer.items() if k not in ("key", "item_key")}
        return call("put", f"{base}/{answer['item_key']}", json=body, headers={"Idempotency-Key": answer["key"]})

    alone = single(first)
    assert alone.status_code == 200
    batch = call("post", base, json={"answers": [first, second]})
    assert [(r["status"], r["replayed"]) for r in batch.json["results"]] == [(200, True), (200, False)]
    assert batch.json["results"][0]["answer"] == alone.json["answer"]
    replayed = single(second)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json["answer"] == batch.json["results"][1]["answer"]
    assert [revision for _result, revision in _stored(session, draft.id).values()] == [1, 1]


def test_refused_answers_change_nothing_and_undo_none_of_the_others(
    call: Callable[..., TestResponse], draft: Inspection, session: Session
) -> None:
    bodies = _body(draft)
    pass_fail = [b for b in bodies if "result" in b]
    measured = next(b for b in bodies if "value" in b and isinstance(b["value"], float))
    url = f"/api/v1/inspections/{draft.id}/answers"
    stale_item = pass_fail[2]["item_key"]
    assert call("post", url, json={"answers": _keyed([pass_fail[2]])}).json["results"][0]["status"] == 200
    reused = _keyed([pass_fail[3]])[0]
    assert call("post", url, json={"answers": [reused]}).json["results"][0]["status"] == 200

    answers = [
        *_keyed(
            [
                pass_fail[0],
                {"item_key": "NOPE-01", "result": "pass"},  # no such item
                {**measured, "value": "ljust"},  # not a number
                {"item_key": stale_item, "result": "fail", "base_revision": 0},  # changed meanwhile
                {"item_key": pass_fail[1]["item_key"], "result": "maybe"},  # does not fit the schema
                pass_fail[1],
            ]
        ),
        {**reused, "result": "fail"},  # the key of another answer
    ]
    response = call("post", url, json={"answers": answers})
    assert response.status_code == 200
    outcomes = [(r["status"], r["error"]) for r in response.json["results"]]
    assert outcomes == [
        (200, None),
        (422, "invalid_answer"),
        (422, "invalid_answer"),
        (409, "conflict"),
        (422, "invalid_input"),
        (200, None),
        (422, "idempotency_key_reused"),
    ]
    conflict = response.json["results"][3]
    assert (conflict["current"]["item_key"], conflict["current"]["revision"]) == (stale_item, 1)
    assert response.json["results"][4]["details"][0]["field"] == "result"
    assert all(r["message"] for r in response.json["results"] if r["status"] != 200)
    stored = _stored(session, draft.id)
    assert set(stored) == {pass_fail[i]["item_key"] for i in (0, 1, 2, 3)}
    assert stored[stale_item][1] == 1
    result, revision = stored[reused["item_key"]]
    assert (result.value, revision) == (reused["result"], 1)


def test_a_batch_is_refused_whole_for_what_the_whole_request_is_refused_for(
    call: Callable[..., TestResponse],
    draft: Inspection,
    session: Session,
    create_inspection: Callable[..., Inspection],
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
    create_test_building: Callable[..., Any],
) -> None:
    one = _keyed(_body(draft)[:1])
    url = f"/api/v1/inspections/{draft.id}/answers"
    other = create_org("batch-others")
    stranger = create_member(organisation=other)
    foreign_id = create_inspection(building=create_test_building(organisation=other), inspector=stranger).id
    session.commit()
    assert call("post", f"/api/v1/inspections/{foreign_id}/answers", json={"answers": one}).status_code == 404
    too_many = [{**one[0], "key": f"k{n}"} for n in range(MAX_BATCH + 1)]
    refused = call("post", url, json={"answers": too_many})
    assert (refused.status_code, refused.json["error"]) == (422, "invalid_input")
    assert call("post", url, json={"answers": []}).status_code == 422
    assert call("post", url, json={"answers": [{"item_key": "UTE-01"}]}).status_code == 422  # no key
    assert call("post", url, data="[]", content_type="application/json").status_code == 400
    assert call("post", url, json={"answers": one}, headers={"Authorization": "Bearer forged"}).status_code == 401
    assert _stored(session, draft.id) == {}


def test_a_submitted_inspection_refuses_each_new_answer_and_replays_the_old_ones(
    call: Callable[..., TestResponse], draft: Inspection, session: Session
) -> None:
    answers = _keyed(_body(draft))
    url = f"/api/v1/inspections/{draft.id}/answers"
    assert call("post", url, json={"answers": answers}).status_code == 200
    submitted = call("post", f"/api/v1/inspections/{draft.id}/submit", headers={"Idempotency-Key": "submit"})
    assert submitted.status_code == 200
    late = _keyed(_body(draft, passing=False)[:1])
    response = call("post", url, json={"answers": [answers[0], *late]})
    assert [(r["status"], r["error"], r["replayed"]) for r in response.json["results"]] == [
        (200, None, True),
        (409, "inspection_final", False),
    ]


def test_a_browser_login_sends_a_batch_with_its_csrf_token(
    client: FlaskClient, inspector: User, draft: Inspection, session: Session
) -> None:
    url = f"/api/v1/inspections/{draft.id}/answers"
    answers = _keyed(_body(draft)[:3])
    login(client, inspector.email)
    refused = client.post(url, json={"answers": answers})
    assert (refused.status_code, refused.json["error"]) == (400, "csrf_failed")
    conforms(refused, "post", url)
    fresh_request_state()
    saved = client.post(url, json={"answers": answers}, headers={"X-CSRFToken": csrf_token(client, "/buildings/")})
    assert saved.status_code == 200
    conforms(saved, "post", url)
    assert len(_stored(session, draft.id)) == 3


def test_a_batch_reads_the_inspection_and_the_kept_keys_once(
    call: Callable[..., TestResponse], draft: Inspection, session: Session
) -> None:
    """Statements grow by a fixed few per answer; what every answer needs is read once for the whole batch."""
    bodies = _body(draft)
    url = f"/api/v1/inspections/{draft.id}/answers"
    counts: list[list[str]] = []
    engine = session.get_bind()

    def count(*args: Any) -> None:
        counts[-1].append(args[2])

    for size in (2, 12):
        chunk, bodies = _keyed(bodies[:size]), bodies[size:]
        counts.append([])
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert call("post", url, json={"answers": chunk}).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
    per_answer = (len(counts[1]) - len(counts[0])) / 10
    assert per_answer <= 8, per_answer
    for statements in counts:
        assert sum("FROM idempotency_records" in s for s in statements) == 1
        assert sum("FROM inspections" in s and "JOIN" in s for s in statements) == 1


def test_the_document_describes_the_batch() -> None:
    operation = DOCUMENT["paths"]["/api/v1/inspections/{inspection_id}/answers"]["post"]
    assert operation["operationId"] == "saveAnswers"
    assert {"200", "400", "401", "403", "404", "422"} <= set(operation["responses"])
    schemas = DOCUMENT["components"]["schemas"]
    assert schemas["AnswerBatch"]["properties"]["answers"]["maxItems"] == MAX_BATCH
    assert {"key", "item_key"} <= set(schemas["BatchAnswer"]["required"])
    assert {"key", "item_key", "status", "replayed", "answer", "current"} <= set(schemas["BatchOutcome"]["properties"])
