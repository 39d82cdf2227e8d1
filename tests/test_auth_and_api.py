"""Logging in and out, CSRF, API tokens, idempotent writes, conflicts, photo uploads and read-only submissions."""

from __future__ import annotations

import dataclasses
import io
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from audit.accounts.auth import create_api_token
from audit.accounts.models import Organisation, Role, User
from audit.checklists.loader import load_checklist
from audit.checklists.schema import is_applicable
from audit.demo import answer_for, demo_photo
from audit.inspections.models import Answer, Inspection
from audit.inspections.services import save_answer
from audit.photos.models import Photo
from tests.conftest import CHECKLIST_FILE, TEST_PASSWORD
from tests.web_support import api_headers, csrf_token, login


@pytest.fixture
def inspector(create_member: Callable[..., User]) -> User:
    return create_member(Role.inspector, email="walker@test.example")


@pytest.fixture
def draft(create_inspection: Callable[..., Inspection], inspector: User) -> Inspection:
    return create_inspection(inspector=inspector)


#: A pass/fail item of the shipped checklist.
PF = next(item.key for _, item in load_checklist(CHECKLIST_FILE).checklist.items() if item.answer.type == "pass_fail")


def _jpeg(size: tuple[int, int] = (1200, 900)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 60, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- logging in and out ------------------------------------------------------------------------------------------


def test_pages_need_login(client: FlaskClient) -> None:
    response = client.get("/buildings/")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
    assert client.get("/api/v1/buildings").status_code == 401


def test_logout_ends_the_session_even_for_a_copied_cookie(app: Flask, client: FlaskClient, inspector: User) -> None:
    login(client, inspector.email)
    assert client.get("/buildings/").status_code == 200
    captured = client.get_cookie("session").value
    client.post("/logout", data={"csrf_token": csrf_token(client, "/buildings/")})
    thief = app.test_client()
    thief.set_cookie("session", captured)
    assert thief.get("/buildings/").status_code == 302


def test_the_session_changes_at_login(client: FlaskClient, inspector: User) -> None:
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, inspector.email)
    assert client.get_cookie("session").value != before


def test_a_form_without_csrf_token_changes_nothing(client: FlaskClient, inspector: User) -> None:
    response = client.post("/login", data={"email": inspector.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/buildings/").status_code == 302


def test_a_bearer_header_does_not_excuse_a_cookie_login_from_csrf(
    client: FlaskClient, inspector: User, create_test_building
) -> None:  # type: ignore[no-untyped-def]
    building_id = create_test_building().id
    login(client, inspector.email)
    response = client.post(
        "/api/v1/inspections",
        json={"building_id": building_id},
        headers={"Authorization": "Bearer nonsense", "Idempotency-Key": "x"},
    )
    assert response.status_code == 400
    assert response.json["error"] == "csrf_failed"


def test_an_outside_next_address_is_ignored(client: FlaskClient, inspector: User) -> None:
    token = csrf_token(client)
    response = client.post(
        "/login?next=//evil.example/x", data={"email": inspector.email, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/buildings/"


# --- API tokens ---------------------------------------------------------------------------------------------------


def test_bearer_token_works_without_csrf_and_stops_after_revocation(
    runner,
    client: FlaskClient,
    inspector: User,
    draft: Inspection,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    created = runner.invoke(args=["token", "create", "--email", inspector.email])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()  # the log's lines go to standard error
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/buildings", headers=headers)
    assert listed.status_code == 200
    assert [b["id"] for b in listed.json["buildings"]] == [draft.building_id]
    put = client.put(
        f"/api/v1/inspections/{draft.id}/answers/{PF}",
        json={"result": "pass"},
        headers={**headers, "Idempotency-Key": "t1"},
    )
    assert put.status_code == 200, put.json
    assert runner.invoke(args=["token", "revoke", "--email", inspector.email]).exit_code == 0
    assert client.get("/api/v1/buildings", headers=headers).status_code == 401
    assert client.get("/api/v1/buildings", headers={"Authorization": "Bearer forged"}).status_code == 401


# --- the JSON API -------------------------------------------------------------------------------------------------


def test_start_an_inspection_and_read_it(client: FlaskClient, inspector: User, create_test_building) -> None:  # type: ignore[no-untyped-def]
    building = create_test_building()
    building_id = building.id
    login(client, inspector.email)
    created = client.post(
        "/api/v1/inspections", json={"building_id": building_id, "kind": "spot_check"}, headers=api_headers(client)
    )
    assert created.status_code == 201, created.json
    body = client.get(created.json["url"]).json
    assert body["status"] == "draft"
    assert body["kind"] == "spot_check"
    assert body["checklist"]["key"] == "trygga-hus"
    assert body["progress"]["answered"] == 0
    assert body["progress"]["total"] > 50


def test_the_same_write_twice_has_one_effect_and_one_answer(
    client: FlaskClient, inspector: User, draft: Inspection, session: Session
) -> None:
    draft_id = draft.id
    login(client, inspector.email)
    headers = api_headers(client, key="same-write")
    first = client.put(
        f"/api/v1/inspections/{draft_id}/answers/{PF}", json={"result": "fail", "comment": "x"}, headers=headers
    )
    again = client.put(
        f"/api/v1/inspections/{draft_id}/answers/{PF}", json={"result": "fail", "comment": "x"}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    answer = session.scalar(select(Answer).where(Answer.inspection_id == draft_id, Answer.item_key == PF))
    assert answer.revision == 1
    other = client.put(f"/api/v1/inspections/{draft_id}/answers/{PF}", json={"result": "pass"}, headers=headers)
    assert other.status_code == 422
    assert other.json["error"] == "idempotency_key_reused"


def test_a_write_based_on_an_old_revision_gets_409_with_the_current_answer(
    client: FlaskClient, inspector: User, draft: Inspection
) -> None:
    url = f"/api/v1/inspections/{draft.id}/answers/{PF}"
    login(client, inspector.email)
    assert client.put(url, json={"result": "pass", "base_revision": 0}, headers=api_headers(client)).status_code == 200
    assert client.put(url, json={"result": "fail", "base_revision": 1}, headers=api_headers(client)).status_code == 200
    stale = client.put(url, json={"result": "pass", "base_revision": 1}, headers=api_headers(client))
    assert stale.status_code == 409
    assert stale.json["current"]["result"] == "fail"
    assert stale.json["current"]["revision"] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"result": "maybe"}, 422),
        ({"result": "pass", "colour": "red"}, 422),
        ({"base_revision": -1}, 422),
        ("not an object", 400),
    ],
)
def test_invalid_answers_change_nothing(
    body: object, status: int, client: FlaskClient, inspector: User, draft: Inspection, session: Session
) -> None:
    draft_id = draft.id
    login(client, inspector.email)
    response = client.put(f"/api/v1/inspections/{draft_id}/answers/{PF}", json=body, headers=api_headers(client))
    assert response.status_code == status
    assert response.json["message"]
    assert session.scalar(select(func.count()).select_from(Answer).where(Answer.inspection_id == draft_id)) == 0


def test_unknown_item_and_missing_write_id(client: FlaskClient, inspector: User, draft: Inspection) -> None:
    login(client, inspector.email)
    unknown = client.put(
        f"/api/v1/inspections/{draft.id}/answers/NOPE-01", json={"result": "pass"}, headers=api_headers(client)
    )
    assert unknown.status_code == 422
    headers = {"X-CSRFToken": csrf_token(client, "/buildings/")}
    no_key = client.put(f"/api/v1/inspections/{draft.id}/answers/{PF}", json={"result": "pass"}, headers=headers)
    assert no_key.status_code == 400


def test_api_write_without_csrf_header_is_refused(client: FlaskClient, inspector: User, draft: Inspection) -> None:
    login(client, inspector.email)
    response = client.put(
        f"/api/v1/inspections/{draft.id}/answers/{PF}", json={"result": "pass"}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 400
    assert response.json["error"] == "csrf_failed"


def test_photo_upload_is_checked_cleaned_and_served_only_to_the_organisation(
    app: Flask,
    client: FlaskClient,
    inspector: User,
    draft: Inspection,
    session: Session,
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
) -> None:
    draft_id = draft.id
    stranger = create_member(Role.manager, organisation=create_org("strangers"), email="stranger@test.example")
    login(client, inspector.email)
    url = f"/api/v1/inspections/{draft_id}/photos"
    ok = client.post(
        url, data={"item_key": PF, "file": (io.BytesIO(_jpeg((3000, 2000))), "x.jpg")}, headers=api_headers(client)
    )
    assert ok.status_code == 201, ok.json
    assert (ok.json["width"], ok.json["height"]) == (2048, 1365)
    image = client.get(ok.json["url"])
    assert image.status_code == 200
    assert image.mimetype == "image/jpeg"
    assert client.get(ok.json["thumbnail_url"]).status_code == 200
    fake = client.post(
        url, data={"item_key": PF, "file": (io.BytesIO(b"GIF89a not really"), "x.jpg")}, headers=api_headers(client)
    )
    assert fake.status_code == 415
    settings = app.config["TRYGGAHUS"]
    app.config["TRYGGAHUS"] = dataclasses.replace(settings, max_photo_bytes=10_000)
    try:
        huge = client.post(
            url, data={"item_key": PF, "file": (io.BytesIO(_jpeg()), "x.jpg")}, headers=api_headers(client)
        )
    finally:
        app.config["TRYGGAHUS"] = settings
    assert huge.status_code == 413
    assert session.scalar(select(func.count()).select_from(Photo).where(Photo.inspection_id == draft_id)) == 1
    other = app.test_client()
    login(other, stranger.email)
    assert other.get(ok.json["url"]).status_code == 404


@pytest.mark.parametrize("auth", ["cookie", "token"])
def test_submission_lists_what_is_missing_and_then_everything_is_read_only(
    auth: str, client: FlaskClient, inspector: User, draft: Inspection, session: Session
) -> None:
    """The whole walk through the API, as the page's script (cookie and CSRF header) and as a script with a token."""
    draft_id = draft.id
    checklist = draft.checklist_version.checklist
    items = [item for _, item in checklist.items()]
    if auth == "cookie":
        login(client, inspector.email)

        def write_headers(client: FlaskClient) -> dict[str, str]:
            return api_headers(client)
    else:
        bearer = create_api_token(session, inspector, inspector.memberships[0].organisation, "walk")

        def write_headers(client: FlaskClient) -> dict[str, str]:
            return {"Authorization": f"Bearer {bearer}", "Idempotency-Key": secrets.token_hex(8)}

    missing = client.post(f"/api/v1/inspections/{draft_id}/submit", headers=write_headers(client))
    assert missing.status_code == 422
    assert len(missing.json["missing"]) == sum(1 for item in items if item.is_scored)
    for item in items:
        given = answer_for(item, passing=True)
        body = {
            "result": given.result.value if given.result else None,
            "value": given.value,
            "choice": given.choice,
            "text": given.text,
        }
        response = client.put(
            f"/api/v1/inspections/{draft_id}/answers/{item.key}", json=body, headers=write_headers(client)
        )
        assert response.status_code == 200, (item.key, response.json)
    submitted = client.post(f"/api/v1/inspections/{draft_id}/submit", headers=write_headers(client))
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    assert submitted.json["score"]["passed"] is True
    late = client.put(
        f"/api/v1/inspections/{draft_id}/answers/{PF}", json={"result": "fail"}, headers=write_headers(client)
    )
    assert late.status_code == 409
    photo = client.post(
        f"/api/v1/inspections/{draft_id}/photos",
        data={"item_key": PF, "file": (io.BytesIO(demo_photo("x")), "x.jpg")},
        headers=write_headers(client),
    )
    assert photo.status_code == 409


def test_api_token_of_another_organisation_sees_404(
    client: FlaskClient,
    draft: Inspection,
    session: Session,
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
) -> None:
    other_org = create_org("elsewhere")
    outsider = create_member(Role.inspector, organisation=other_org, email="outsider@test.example")
    token = create_api_token(session, outsider, other_org, "test")
    response = client.get(f"/api/v1/inspections/{draft.id}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404


def test_photos_only_for_items_that_apply(
    client: FlaskClient,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    create_test_building,
) -> None:  # type: ignore[no-untyped-def]
    inspector = create_member(Role.inspector, email="bare@test.example")
    inspection = create_inspection(building=create_test_building(features=set()), inspector=inspector)
    skipped = next(i.key for s, i in inspection.checklist_version.checklist.items() if s.requires_feature)
    inspection_id = inspection.id
    login(client, "bare@test.example")
    response = client.post(
        f"/api/v1/inspections/{inspection_id}/photos",
        data={"item_key": skipped, "file": (io.BytesIO(_jpeg()), "x.jpg")},
        headers=api_headers(client),
    )
    assert response.status_code == 422


def test_photo_files_of_a_rolled_back_transaction_are_removed(
    app: Flask, draft: Inspection, inspector: User, session: Session
) -> None:
    from audit.photos.services import add_photo, photo_store

    photo = add_photo(session, inspector, draft, PF, _jpeg())
    files = [photo_store().path_for(photo.file_path), photo_store().path_for(photo.thumbnail_path)]
    assert all(path.exists() for path in files)
    session.rollback()
    assert not any(path.exists() for path in files)


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """The data statements (not BEGIN, SAVEPOINT …) the app runs meanwhile."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip()[:6].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            seen.append(statement)

    engine = app.extensions["tryggahus.database"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_autosave_and_the_section_page_run_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, inspector: User, draft: Inspection, session: Session
) -> None:
    """However many answers and photos the inspection has: autosave and the walk run on every tap and page."""
    checklist = draft.checklist_version.checklist
    features = draft.building.features
    answered = [item for section, item in checklist.items() if is_applicable(section, item, features)]
    for item in answered:
        save_answer(session, inspector, draft, item.key, answer_for(item, passing=True))
    draft_id = draft.id
    login(client, inspector.email)
    headers = api_headers(client)
    with _statements(app) as autosave:
        response = client.put(f"/api/v1/inspections/{draft_id}/answers/{PF}", json={"result": "fail"}, headers=headers)
    assert response.status_code == 200
    assert response.json["progress"]["answered"] == len([i for i in answered if i.is_scored])
    # who is asking, the write id, the inspection (on PostgreSQL under a shared row lock, which is the status
    # check), on SQLite its status again under the write lock, the answer's update (RETURNING its revision), the
    # answered keys for the progress bars, and the write id's record
    postgresql = app.extensions["tryggahus.database"].engine.dialect.name == "postgresql"
    assert len(autosave) == (6 if postgresql else 7), autosave
    if postgresql:
        assert "FOR SHARE OF inspections" in autosave[2], autosave[2]
    with _statements(app) as page:
        response = client.get(f"/inspections/{draft_id}/sections/UTE")
    assert response.status_code == 200
    # who is asking, the inspection (with its checklist version, building and features), answers and photos
    assert len(page) == 4, page


def test_a_photo_waits_for_a_decoding_slot_and_is_refused_with_503_when_none_comes_free(
    client: FlaskClient, inspector: User, draft: Inspection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.photos import services

    monkeypatch.setattr(services, "DECODE_WAIT_SECONDS", 0.05)
    login(client, inspector.email)
    url = f"/api/v1/inspections/{draft.id}/photos"
    for _ in range(services.PARALLEL_DECODES):  # the worker's other uploads, still decoding
        services._decode_slots.acquire()
    try:
        busy = client.post(
            url, data={"item_key": PF, "file": (io.BytesIO(_jpeg()), "x.jpg")}, headers=api_headers(client)
        )
    finally:
        for _ in range(services.PARALLEL_DECODES):
            services._decode_slots.release()
    assert busy.status_code == 503
    assert busy.json["error"] == "busy"
    assert "försök igen" in busy.json["message"].lower()
    ok = client.post(url, data={"item_key": PF, "file": (io.BytesIO(_jpeg()), "x.jpg")}, headers=api_headers(client))
    assert ok.status_code == 201


def test_the_same_json_with_its_keys_in_another_order_is_the_same_write(
    client: FlaskClient, inspector: User, draft: Inspection
) -> None:
    login(client, inspector.email)
    url = f"/api/v1/inspections/{draft.id}/answers/{PF}"
    headers = {**api_headers(client), "Idempotency-Key": "reordered", "Content-Type": "application/json"}
    first = client.put(url, data='{"result": "fail", "comment": "Trasig"}', headers=headers)
    again = client.put(url, data='{ "comment":"Trasig","result":"fail" }', headers=headers)
    other = client.put(url, data='{"result": "fail", "comment": "Hel"}', headers=headers)

    assert first.status_code == 200
    assert (again.status_code, again.json) == (200, first.json)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert other.json["error"] == "idempotency_key_reused"
