"""Several app servers: two gunicorn instances on different ports share one database, one Redis and one object
store, and an inspection's requests alternate between them.

Everything is real and started here: the database (PostgreSQL when TEST_DATABASE_URL is set, as in production;
otherwise a SQLite file both instances open), a Redis server of the test's own (the job queue and the rate limit),
moto's S3 server (photos and batch outputs), two `gunicorn wsgi:app` processes and a `tryggahus worker`. The test
logs in on one instance and is known on the other; saves an answer on one and retries it with the same
Idempotency-Key on the other (one effect, the first answer replayed); uploads a photo on one and sees it on the
other; starts a batch on one and follows it to the end and downloads it on the other; and finds the public check
page's rate limit counted across both.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from audit.buildings.features import Feature
from audit.checklists.loader import load_checklist
from audit.checklists.schema import AnswerType, is_applicable
from audit.demo import demo_photo
from tests.conftest import CHECKLIST_FILE, _database_kinds
from tests.jobs_support import job_worker, redis_server
from tests.s3_support import BUCKET, CREDENTIALS, REGION, running_s3_server
from tests.served_support import (
    BIN,
    Browser,
    DemoTemplates,
    RunningServer,
    app_environment,
    demo_copy,
    free_port,
    served,
    tryggahus,
)

#: The public check page's limit in this test: small, so that the test can cross it.
VERIFY_LIMIT = 6


@dataclass
class Instances:
    a: RunningServer
    b: RunningServer
    token: str
    s3_prefix: str
    s3: Any


def _api(server: RunningServer, method: str, path: str, token: str, **send: Any) -> tuple[int, Any]:
    """One API request; `json=` or `multipart=(fields, (name, filename, bytes))`, `key=` the Idempotency-Key."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    body = None
    if "json" in send:
        body = json.dumps(send["json"]).encode()
        headers["Content-Type"] = "application/json"
    if "multipart" in send:
        fields, (name, filename, data) = send["multipart"]
        boundary = uuid.uuid4().hex  # a new boundary each time, as every client rebuilds the body
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
        ]
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        body = "".join(parts).encode() + (head + "Content-Type: image/jpeg\r\n\r\n").encode() + data
        body += f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    if "key" in send:
        headers["Idempotency-Key"] = send["key"]
    request = urllib.request.Request(server.url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture(scope="module")
def instances(demo_templates: DemoTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instances]:
    folder = tmp_path_factory.mktemp("two-servers")
    kind = _database_kinds()[-1]  # PostgreSQL when the suite has it, as in production
    with (
        # A copy of the demo (its photo files stay on the local disk: the photos this test looks for are its own).
        demo_copy(demo_templates.get(kind), folder) as database_url,
        redis_server(folder) as redis_url,
        running_s3_server() as s3,
    ):
        prefix = f"t-{secrets.token_hex(6)}/"
        env = {
            **app_environment(database_url, folder / "instance"),
            "TRYGGAHUS_QUEUE_URL": redis_url.rsplit("/", 1)[0] + "/1",
            "TRYGGAHUS_RATELIMIT_STORAGE_URI": redis_url.rsplit("/", 1)[0] + "/2",
            "TRYGGAHUS_VERIFY_RATE_LIMIT": f"{VERIFY_LIMIT} per minute",
            "TRYGGAHUS_STORAGE": "s3",
            "TRYGGAHUS_S3_BUCKET": BUCKET,
            "TRYGGAHUS_S3_PREFIX": prefix,
            "TRYGGAHUS_S3_ENDPOINT_URL": s3.endpoint_url,
            "TRYGGAHUS_S3_REGION": REGION,
            "TRYGGAHUS_S3_ACCESS_KEY_ID": CREDENTIALS["access_key_id"],
            "TRYGGAHUS_S3_SECRET_ACCESS_KEY": CREDENTIALS["secret_access_key"],
            "TRYGGAHUS_S3_ADDRESSING_STYLE": "path",
        }
        token = tryggahus(env, "token", "create", "--email", "inspector@demo.example", "--name", "two").split()[-1]
        # Each instance has an instance folder of its own: nothing may pass between them on a local disk.
        env_b = {**env, "TRYGGAHUS_INSTANCE_PATH": str(folder / "instance-b")}
        port_a, port_b = free_port(), free_port()
        gunicorn = [str(BIN / "gunicorn"), "-w", "1", "wsgi:app", "-b"]
        with (
            served([*gunicorn, f"127.0.0.1:{port_a}"], env, folder, port_a) as a,
            served([*gunicorn, f"127.0.0.1:{port_b}"], env_b, folder, port_b) as b,
            job_worker({**env, "TRYGGAHUS_INSTANCE_PATH": str(folder / "instance-w")}, folder, "--workers", "1"),
        ):
            yield Instances(a, b, token, prefix, s3)


def _draft(instances: Instances) -> tuple[int, str]:
    """A draft inspection of the demo inspector's, started on instance A, and a pass/fail item that applies."""
    status, listing = _api(instances.a, "GET", "/api/v1/buildings", instances.token)
    assert status == 200
    building = max(listing["buildings"], key=lambda b: len(b["features"]))
    status, started = _api(
        instances.a, "POST", "/api/v1/inspections", instances.token, json={"building_id": building["id"]}, key="s1"
    )
    inspection = started["id"] if status == 201 else started["draft"]
    features = {Feature(f) for f in building["features"]}
    checklist = load_checklist(CHECKLIST_FILE).checklist
    item = next(
        item.key
        for section, item in checklist.items()
        if is_applicable(section, item, features)
        and item.answer.type == AnswerType.pass_fail
        and item.photo_required_on_fail
    )
    return inspection, item


def test_a_login_on_one_instance_is_known_on_the_other(instances: Instances) -> None:
    on_a = Browser(instances.a)
    on_a.login("manager@demo.example", "trygga-manager")
    on_b = Browser(instances.b, cookies=on_a.cookies)  # the same browser, sent to the other server
    status, page = on_b.get("/tasks/")
    assert status == 200
    assert "/logout" in page


def test_an_answer_retried_on_the_other_instance_has_one_effect(instances: Instances) -> None:
    inspection, item = _draft(instances)
    key = f"save-{uuid.uuid4().hex}"
    path = f"/api/v1/inspections/{inspection}/answers/{item}"
    first = _api(instances.a, "PUT", path, instances.token, json={"result": "fail", "comment": "Trasig"}, key=key)
    retried = _api(instances.b, "PUT", path, instances.token, json={"comment": "Trasig", "result": "fail"}, key=key)
    assert first[0] == retried[0] == 200
    assert retried[1] == first[1]  # the first answer, replayed: the retry was not a second write
    status, read = _api(instances.b, "GET", f"/api/v1/inspections/{inspection}", instances.token)
    assert status == 200
    assert read["answers"][item]["revision"] == first[1]["answer"]["revision"] == 1


def test_a_photo_uploaded_on_one_instance_is_shown_by_the_other(instances: Instances) -> None:
    inspection, item = _draft(instances)
    upload = ({"item_key": item}, ("file", "trasig.jpg", demo_photo("two-servers")))
    key = f"photo-{uuid.uuid4().hex}"
    status, photo = _api(instances.a, "POST", f"/api/v1/inspections/{inspection}/photos", instances.token,
                         multipart=upload, key=key)  # fmt: skip
    assert status == 201, photo
    again = _api(instances.b, "POST", f"/api/v1/inspections/{inspection}/photos", instances.token,
                 multipart=upload, key=key)  # fmt: skip
    assert again == (201, photo)  # the same upload retried on the other server: replayed, not stored twice
    stored = instances.s3.keys(instances.s3_prefix + "photos/")
    assert len([k for k in stored if k.endswith(".jpg")]) >= 2  # the photo and its thumbnail, in the shared store
    browser = Browser(instances.b)
    browser.login("inspector@demo.example", "trygga-inspector")
    status, _page = browser.get(f"/inspections/{inspection}/photos/{photo['id']}")
    assert status == 200


def test_a_batch_started_on_one_instance_is_followed_and_downloaded_on_the_other(instances: Instances) -> None:
    on_a = Browser(instances.a)
    on_a.login("manager@demo.example", "trygga-manager")
    status, _page = on_a.get("/certificates/")
    assert status == 200
    status, started = on_a.post(
        "/certificates/batch",
        {"area": "0", "format": "pdf", "size": "A4", "language": "sv"},  # every area
        token_from="/certificates/",
    )
    assert status == 200, started[:300]
    job = on_a.last_url.rstrip("/").rsplit("/", 1)[1]
    on_b = Browser(instances.b, cookies=on_a.cookies)
    state: dict[str, Any] = {}
    for _ in range(600):
        status, text = on_b.get(f"/certificates/batch/{job}/progress")
        assert status == 200
        state = json.loads(text)
        if state["status"] in ("finished", "failed"):
            break
        time.sleep(0.1)
    assert state["status"] == "finished", state
    assert state["done"] == state["total"] > 0
    status, pdf = on_b.get_bytes(state["download"])
    assert status == 200
    assert pdf.startswith(b"%PDF")


def test_the_public_check_pages_rate_limit_is_counted_across_both_instances(instances: Instances) -> None:
    path = f"/v/{secrets.token_urlsafe(32)}"  # no such certificate: 404 until the limit, then 429
    statuses = [_status((instances.a if n % 2 else instances.b).url + path) for n in range(VERIFY_LIMIT + 1)]
    assert statuses[:VERIFY_LIMIT] == [404] * VERIFY_LIMIT
    assert statuses[VERIFY_LIMIT] == 429  # each instance saw only half: the count is shared


def test_both_instances_are_ready_with_the_shared_services(instances: Instances) -> None:
    for server in (instances.a, instances.b):
        with urllib.request.urlopen(server.url + "/readyz", timeout=30) as response:
            ready = json.loads(response.read())
        assert response.status == 200
        assert ready["status"] == "ok"
        assert ready["checks"] == {"database": "ok", "storage": "ok", "queue": "ok"}
