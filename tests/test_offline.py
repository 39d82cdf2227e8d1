"""The installable app's server side: the service worker at the root scope, the manifest, the fresh CSRF token."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient
from PIL import Image

from audit.accounts.models import Role, User
from audit.offline.assets import STATIC_ROOT, offline_assets
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
