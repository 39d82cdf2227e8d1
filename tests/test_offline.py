"""The installable app's server side: the service worker at the root scope, the manifest, the fresh CSRF token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from PIL import Image

from audit.accounts.models import Role, User
from audit.checklists.loader import load_checklist
from audit.checklists.schema import ChoiceAnswer, Item, MeasurementAnswer, ScaleAnswer
from audit.inspections.answers import AnswerInput, AnswerResult, check_answer
from audit.inspections.scoring import FailTest, fail_test
from audit.offline.assets import STATIC_ROOT, offline_assets
from tests.conftest import CHECKLIST_FILE
from tests.web_support import login


def test_the_service_worker_is_served_from_the_root_to_control_the_whole_site(client: FlaskClient) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    first_line, source = response.get_data(as_text=True).split("\n", 1)
    settings = json.loads(first_line.removeprefix("self.TRYGGAHUS = ").removesuffix(";"))
    assert source == (STATIC_ROOT / "js" / "sw.js").read_text(encoding="utf-8")
    assert "/static/js/walk.js" in settings["assets"]
    assert "/static/vendor/idb/idb.umd.js" in settings["assets"]
    assert "/static/js/sw.js" not in settings["assets"]
    assert not [url for url in settings["assets"] if url.endswith(("LICENSE", "README.md")) or "/fonts/" in url]
    for url in settings["assets"]:  # every file the worker keeps at install is served
        assert client.get(url).status_code == 200, url


def test_the_assets_version_changes_with_any_asset(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "walk.js").write_text("one")
    (tmp_path / "js" / "sw.js").write_text("worker")
    first = offline_assets(tmp_path)
    assert first.paths == ("js/walk.js",)
    (tmp_path / "js" / "walk.js").write_text("two")
    second = offline_assets(tmp_path)
    assert second.version != first.version
    (tmp_path / "js" / "sw.js").write_text("worker 2")  # the worker changes its own version too
    assert offline_assets(tmp_path).version != second.version


def test_the_manifest_names_the_app_in_the_asked_language(client: FlaskClient) -> None:
    documents = {}
    for language in ("sv", "en"):
        response = client.get(f"/manifest.webmanifest?lang={language}")
        assert response.status_code == 200
        assert response.mimetype == "application/manifest+json"
        documents[language] = response.get_json(force=True)
    assert documents["sv"]["name"] == "Trygga hus — trygghetsbesiktning"
    assert documents["en"]["name"] == "Trygga hus — safety inspections"
    for document in documents.values():
        assert document["display"] == "standalone"
        assert document["scope"] == "/"
        sizes = set()
        for icon in document["icons"]:
            image = client.get(icon["src"])
            assert image.status_code == 200
            assert image.mimetype == "image/png"
            with Image.open(Path(STATIC_ROOT, icon["src"].removeprefix("/static/"))) as png:
                assert f"{png.width}x{png.height}" == icon["sizes"]
            sizes.add(icon["sizes"])
        assert {"192x192", "512x512"} <= sizes
        assert any(icon["purpose"] == "maskable" for icon in document["icons"])


def test_pages_link_the_manifest_and_name_the_user_for_the_device(
    client: FlaskClient, create_member: Callable[..., User]
) -> None:
    login_page = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest?lang=sv">' in login_page
    assert "data-user=" not in login_page
    assert "/static/js/offline.js" not in login_page
    inspector = create_member(Role.inspector)
    login(client, inspector.email)
    page = client.get("/buildings/").get_data(as_text=True)
    assert f'data-user="{inspector.id}"' in page
    assert 'data-sw="/sw.js"' in page
    assert 'data-api="/api/v1"' in page
    assert "/static/js/offline.js" in page


def test_a_fresh_csrf_token_only_for_a_login(client: FlaskClient, create_member: Callable[..., User]) -> None:
    refused = client.get("/offline/session", headers={"Accept": "application/json"})
    assert refused.status_code == 401
    inspector = create_member(Role.inspector)
    login(client, inspector.email)
    response = client.get("/offline/session", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["user"] == inspector.id
    assert re.fullmatch(r"[\w.-]{20,}", body["csrf_token"])
    # The token is good for a write of this login.
    logout = client.post("/logout", data={"csrf_token": body["csrf_token"]})
    assert logout.status_code == 302


def test_the_page_on_this_device_is_for_those_who_walk_and_is_drawn_on_the_device(
    client: FlaskClient, create_member: Callable[..., User]
) -> None:
    assert client.get("/offline/device").status_code in (302, 401)
    manager = create_member(Role.manager)
    login(client, manager.email)
    assert client.get("/offline/device").status_code == 403
    assert 'href="/offline/device"' not in client.get("/buildings/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": client.get("/offline/session").get_json()["csrf_token"]})
    inspector = create_member(Role.inspector)
    login(client, inspector.email)
    assert 'href="/offline/device"' in client.get("/buildings/").get_data(as_text=True)  # in the user menu
    response = client.get("/offline/device")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>På den här enheten</h1>" in page
    assert 'id="device"' in page
    assert "/static/js/device.js" in page
    # The same page for every inspection and user on the device (a kept copy): the list is drawn by the script.
    assert "data-inspection=" not in page


def _device_fails(test: FailTest, body: dict[str, Any]) -> bool:
    """What progress.js (`fails`) makes of an answer body with the test the server hands it."""
    if body.get("result") == "na":
        return False
    if test[0] == "result":
        return bool(body.get("result") == "fail")
    if test[0] == "choices":
        return body.get("choice") in test[1]
    if body.get("value") is None:
        return False
    value = float(str(body["value"]).replace(",", "."))
    return (test[1] is not None and value < test[1]) or (test[2] is not None and value > test[2])


def _samples(item: Item) -> list[dict[str, Any]]:
    spec = item.answer
    if isinstance(spec, MeasurementAnswer):
        bounds = [b for b in (spec.threshold.min, spec.threshold.max) if b is not None]
        return [{"value": f"{b + step:.3f}".replace(".", ",")} for b in bounds for step in (-0.001, 0, 0.001)]
    if isinstance(spec, ScaleAnswer):
        return [{"value": str(step)} for step in range(spec.min, spec.max + 1)]
    if isinstance(spec, ChoiceAnswer):
        return [{"choice": option.key} for option in spec.options]
    return [{"result": "pass"}, {"result": "fail"}]


def test_the_device_tells_a_failed_answer_by_the_server_rule() -> None:
    """The overview decides on the device which failed items still need a photo: its test of each item must judge
    every answer as the server stores it."""
    checklist = load_checklist(CHECKLIST_FILE).checklist
    judged = 0
    for _section, item in checklist.items():
        if not item.is_scored:
            continue
        test = json.loads(json.dumps(fail_test(item)))  # as the page carries it
        for body in _samples(item):
            given = {**body, "result": AnswerResult(body["result"])} if "result" in body else body
            stored = check_answer(item, AnswerInput(**given))
            assert _device_fails(test, body) is (stored.result is AnswerResult.failed), (item.key, body, stored)
            judged += 1
        if item.na_allowed:
            assert not _device_fails(test, {"result": "na"})
    assert judged > 200
