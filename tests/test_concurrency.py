"""Parallel writes against a real threaded server: a retried write has one effect, racing writes never overwrite."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, update

from audit.accounts.auth import create_api_token
from audit.accounts.models import Organisation, Role
from audit.accounts.services import create_organisation, create_user
from audit.api.models import IdempotencyRecord
from audit.buildings.services import create_building
from audit.checklists.loader import load_checklist
from audit.checklists.schema import is_applicable
from audit.checklists.services import current_checklist, store_checklist
from audit.database import utcnow
from audit.demo import demo_photo
from audit.extensions import db
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionKind, InspectionStatus
from audit.inspections.services import AnswerInput, FinalInspection, save_answer, start_inspection
from audit.migrate import upgrade
from audit.photos.models import Photo
from tests.browser_support import LiveServer, live_server
from tests.conftest import CHECKLIST_FILE, TEST_PASSWORD, fresh_database, make_test_app
from tests.remediation_support import walk

COPIES = 5
JSON = "application/json"


@pytest.fixture(scope="module")
def server(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A threaded server on a migrated database with the checklist, for the whole module."""
    folder = tmp_path_factory.mktemp(f"race-{database_kind}")
    with fresh_database(database_kind, folder) as url:
        app = make_test_app(url, folder)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            store_checklist(db.session, load_checklist(CHECKLIST_FILE))
            create_organisation(db.session, "race", "Race AB")
            db.session.commit()
            db.remove_session()
        with live_server(app) as server:
            yield server
        engine.dispose()


@pytest.fixture
def served(server: LiveServer) -> tuple[LiveServer, str, int, str]:
    """A committed inspection of a new inspector, who has a new API token, on a new building: (server, token,
    inspection id, a pass/fail item). Everything a test counts belongs to its own inspection and inspector."""
    with server.app.app_context():
        version = current_checklist(db.session, "trygga-hus")
        org = db.session.scalar(select(Organisation).where(Organisation.slug == "race"))
        assert version is not None
        assert org is not None
        suffix = secrets.token_hex(4)
        user = create_user(db.session, org, f"racer-{suffix}@test.example", Role.inspector, TEST_PASSWORD)
        building = create_building(
            db.session, org, name=f"Hus {suffix}", street_address="Gatan 1", postcode="123 45", city="Stad"
        )
        inspection = start_inspection(db.session, user, building, InspectionKind.certification, version)
        token = create_api_token(db.session, user, org, "race")
        key = next(i.key for _, i in version.checklist.items() if i.answer.type == "pass_fail")
        inspection_id = inspection.id
        db.session.commit()
        db.remove_session()
    return server, token, inspection_id, key


def _stored(server: LiveServer, inspection_id: int) -> tuple[int, list[tuple[str, int]]]:
    """The inspector's idempotency records and (item, revision) of every answer of the inspection, read straight
    from the database."""
    with server.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        records = db.session.scalar(
            select(func.count())
            .select_from(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == inspection.inspector_id)
        )
        answers = [
            (a.item_key, a.revision)
            for a in db.session.scalars(select(Answer).where(Answer.inspection_id == inspection_id))
        ]
        db.remove_session()
    return records, answers


def _put(url: str, token: str, write_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": write_id, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _post(url: str, token: str, write_id: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": write_id, "Content-Type": content_type},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    """A multipart body with a fresh boundary, as a client builds it again for every retry."""
    boundary = secrets.token_hex(12)
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    head = "".join(parts) + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _in_parallel(calls: list[Any]) -> list[tuple[int, dict[str, Any]]]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_five_copies_of_one_write_have_one_effect(served: tuple[LiveServer, str, int, str]) -> None:
    server, token, inspection_id, key = served
    url = server(f"/api/v1/inspections/{inspection_id}/answers/{key}")
    body = {"result": "fail", "comment": "Dörren stängs inte", "base_revision": 0}
    results = _in_parallel([lambda: _put(url, token, "one-write", body) for _ in range(COPIES)])
    assert [status for status, _ in results] == [200] * COPIES
    assert all(answer == results[0][1] for _, answer in results)
    assert results[0][1]["answer"]["revision"] == 1
    assert _stored(server, inspection_id) == (1, [(key, 1)])
    # A later, different write still works and builds on the one stored revision.
    status, answer = _put(url, token, "second-write", {"result": "pass", "base_revision": 1})
    assert (status, answer["answer"]["revision"]) == (200, 2)


def test_racing_writes_on_one_revision_never_overwrite_each_other(served: tuple[LiveServer, str, int, str]) -> None:
    server, token, inspection_id, key = served
    url = server(f"/api/v1/inspections/{inspection_id}/answers/{key}")
    assert _put(url, token, "first", {"result": "pass", "base_revision": 0})[0] == 200
    results = _in_parallel(
        [
            (
                lambda n=n: _put(
                    url, token, f"racer-{n}", {"result": "fail", "comment": f"racer {n}", "base_revision": 1}
                )
            )
            for n in range(COPIES)
        ]
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (COPIES - 1), results
    winner = next(body for status, body in results if status == 200)
    for status, body in results:
        if status == 409:
            assert body["current"]["revision"] == 2
            assert body["current"]["comment"] == winner["answer"]["comment"]
    assert _stored(server, inspection_id)[1] == [(key, 2)]


def test_an_answer_to_an_inspection_submitted_meanwhile_is_refused(
    served: tuple[LiveServer, str, int, str],
) -> None:
    """The status an autosave read first is checked again under the write lock: a submission in between wins."""
    server, _token, inspection_id, key = served
    with server.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        assert inspection.status is InspectionStatus.draft
        with db.engine.begin() as other_device:
            other_device.execute(
                update(Inspection)
                .where(Inspection.id == inspection_id)
                .values(status="submitted", submitted_at=utcnow(), score_passed=False, score_card={})
            )
        with pytest.raises(FinalInspection):
            save_answer(db.session, inspection.inspector, inspection, key, AnswerInput(result=AnswerResult.passed))
        db.session.rollback()
        db.remove_session()
    assert _stored(server, inspection_id) == (0, [])


def test_five_parallel_submits_with_one_key_all_get_the_one_answer(served: tuple[LiveServer, str, int, str]) -> None:
    """The copies that lose the race find the inspection submitted (409 from the workflow): the replay wins."""
    server, token, inspection_id, _key = served
    with server.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        walk(db.session, inspection.inspector, inspection, failing=())
        db.session.commit()
        db.remove_session()
    url = server(f"/api/v1/inspections/{inspection_id}/submit")
    results = _in_parallel([lambda: _post(url, token, "submit-once", b"", "application/json") for _ in range(COPIES)])

    assert [status for status, _ in results] == [200] * COPIES, results
    assert all(body == results[0][1] for _, body in results)
    assert results[0][1]["status"] == "submitted"


def test_a_photo_sent_again_in_a_rebuilt_body_is_the_same_write(served: tuple[LiveServer, str, int, str]) -> None:
    """Every copy has a new multipart boundary and form fields in another order: one photo, the same answer."""
    server, token, inspection_id, key = served
    url = server(f"/api/v1/inspections/{inspection_id}/photos")
    photo = demo_photo("retry")

    def send(n: int) -> tuple[int, dict[str, Any]]:
        fields = {"item_key": key, "note": "x"} if n % 2 else {"note": "x", "item_key": key}
        return _post(url, token, "photo-once", *_multipart(fields, f"IMG_{n}.jpg", photo))

    results = _in_parallel([lambda n=n: send(n) for n in range(COPIES)])
    results.append(send(COPIES))  # and once more, after all of them

    assert [status for status, _ in results] == [201] * (COPIES + 1), results
    assert all(body == results[0][1] for _, body in results)
    with server.app.app_context():
        assert db.session.scalar(select(func.count()).where(Photo.inspection_id == inspection_id)) == 1
        db.remove_session()
    other = _post(url, token, "photo-once", *_multipart({"item_key": key}, "a.jpg", demo_photo("another")))
    assert other[0] == 422
    assert other[1]["error"] == "idempotency_key_reused"


def test_batches_from_several_tablets_at_once_are_all_saved(served: tuple[LiveServer, str, int, str]) -> None:
    """Batches sent side by side all get their answers: on SQLite each takes the write lock before its first
    answer's SAVEPOINT (a transaction that has only read cannot take it inside one, and would fail with 503 instead
    of waiting), so they run one after another; on PostgreSQL they run side by side, and two first answers to one
    item that meet are the conflict the single PUT also reports. Nothing is lost or saved twice either way."""
    server, token, inspection_id, _key = served
    with server.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        features = inspection.building.features
        items = [
            item.key
            for section, item in inspection.checklist_version.checklist.items()
            if item.answer.type == "pass_fail" and is_applicable(section, item, features)
        ][:12]
        db.remove_session()
    url = server(f"/api/v1/inspections/{inspection_id}/answers")

    def batch(tablet: int) -> Any:
        answers = [{"key": f"tablet-{tablet}-{n}", "item_key": item, "result": "pass"} for n, item in enumerate(items)]
        return lambda: _post(url, token, f"batch-{tablet}", json.dumps({"answers": answers}).encode(), JSON)

    results = _in_parallel([batch(tablet) for tablet in range(COPIES)])

    assert [status for status, _ in results] == [200] * COPIES, results
    outcomes = [outcome for _, body in results for outcome in body["results"]]
    saved = [outcome["item_key"] for outcome in outcomes if outcome["status"] == 200]
    conflicts = [outcome for outcome in outcomes if outcome["status"] != 200]
    assert all(outcome["error"] == "conflict" and outcome["current"] for outcome in conflicts)
    if server.app.extensions["tryggahus.database"].engine.dialect.name == "sqlite":
        assert conflicts == []
    records, answers = _stored(server, inspection_id)
    assert records == len(saved)
    assert sorted(answers) == sorted((item, saved.count(item)) for item in items)  # each saved answer one revision
