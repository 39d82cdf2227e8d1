"""The walk without signal, in a real browser against the real served app (SQLite, and PostgreSQL when set).

The inspector downloads an inspection for offline use; then the server is stopped (so that not even the service
worker's own requests reach it: `context.set_offline` does not cut those in Chromium) and the browser is set
offline. Several sections are opened from the device, items answered (a measurement, N/A, a failing item with a
photo), the page reloaded and the browser closed and opened again (a persistent profile), all still offline. Then
the server comes back on the same address, the browser goes online, the counter of waiting changes reaches zero,
and the API shows every answer and photo on the server exactly once.

Needs Debian's Chromium and the Playwright package, like tests/test_browser.py.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from audit.accounts.models import Role
from audit.buildings.models import Building
from audit.database import make_engine
from audit.demo import DEMO_PASSWORDS, demo_email
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, expect, in_ci, jpeg_photo, missing_browser
from tests.conftest import fresh_database
from tests.served_support import BIN, HOST, RunningServer, app_environment, free_port, served, tryggahus

MISSING = missing_browser()
if MISSING and not in_ci():
    pytest.skip(MISSING, allow_module_level=True)

BUILDING = "Fittja Terrass"
TABLET = {"width": 1024, "height": 768}
TIMEOUT_MS = 15_000


@dataclass
class Site:
    """The demo served by `tryggahus serve`, which can be stopped and started again on the same port."""

    url: str
    database_url: str
    env: dict[str, str]
    folder: Path
    port: int

    def serve(self) -> AbstractContextManager[RunningServer]:
        command = [str(BIN / "tryggahus"), "serve", "--host", HOST, "--port", str(self.port), "--workers", "1"]
        return served(command, self.env, self.folder, self.port)


@pytest.fixture(scope="module")
def site(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp(f"offline-{database_kind}")
    with fresh_database(database_kind, folder) as url:
        env = app_environment(url, folder)
        tryggahus(env, "init")
        tryggahus(env, "demo")
        port = free_port()
        yield Site(f"http://{HOST}:{port}", url, env, folder, port)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@contextmanager
def tablet(playwright: Any, profile: Path, site: Site) -> Iterator[Any]:
    """A tablet's browser with a profile on disk: its IndexedDB and caches outlive closing it."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=TABLET,
        has_touch=True,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        base_url=site.url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    context.on("weberror", lambda error: errors.append(str(error.error)))
    try:
        yield context
    finally:
        context.close()
    assert not errors, f"script errors in the page: {errors}"


def page_of(context: Any) -> Any:
    return context.pages[0] if context.pages else context.new_page()


def log_in(page: Any, role: Role, then: str | None = None) -> None:
    page.goto("/login" + (f"?next={then}" if then else ""))
    page.locator('input[name="email"]').fill(demo_email(role))
    page.locator('input[name="password"]').fill(DEMO_PASSWORDS[role])
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(re.escape(then) + "$" if then else r"/buildings/?$"))


def write_headers(page: Any) -> dict[str, str]:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return {"X-CSRFToken": token or "", "Idempotency-Key": str(uuid.uuid4()), "Accept": "application/json"}


def start_inspection(page: Any, site: Site) -> int:
    """A new certification of the building, through the API as the logged-in inspector."""
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as connection:
            building_id = connection.execute(select(Building.id).where(Building.name == BUILDING)).scalar_one()
    finally:
        engine.dispose()
    body = {"building_id": building_id, "kind": "certification", "checklist_key": "trygga-hus"}
    response = page.request.post("/api/v1/inspections", data=body, headers=write_headers(page))
    assert response.status == 201, response.text()
    return int(response.json()["id"])


def stored(page: Any, inspection_id: int) -> dict[str, Any]:
    response = page.request.get(f"/api/v1/inspections/{inspection_id}")
    assert response.ok, response.text()
    return response.json()


def item(page: Any, key: str) -> Any:
    return page.locator(f"#item-{key}")


def tap(page: Any, key: str, choice: str) -> None:
    named = choice in ("pass", "fail", "na")
    selector = f"label.toggle.{choice}" if named else f'label.toggle:has(input[value="{choice}"])'
    toggle = item(page, key).locator(selector)
    toggle.tap()
    expect(toggle.locator("input")).to_be_checked()


def measure(page: Any, key: str, typed: str) -> None:
    field = item(page, key).locator(".measure-input")
    field.fill(typed)
    expect(field).to_have_value(typed)


def waiting(page: Any, count: int) -> None:
    """The counter says `count` changes and photos wait (0: nothing waits)."""
    expect(page.locator("#outbox-status")).to_have_attribute("data-waiting", str(count))


def download(page: Any, inspection_id: int) -> list[str]:
    """Take the inspection offline from its page; the addresses of its sections."""
    page.goto(f"/inspections/{inspection_id}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.locator("[data-offline-download]").tap()
    expect(page.locator("#offline-panel")).to_have_attribute("data-held", "true")
    return page.eval_on_selector_all("a.section-link", "links => links.map(a => new URL(a.href).pathname)")


def go_offline(context: Any) -> None:
    context.set_offline(True)


def test_a_downloaded_inspection_is_walked_offline_and_everything_arrives_once(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    photo_ute = jpeg_photo("UTE-05", (1600, 1200))
    photo_ent = jpeg_photo("ENT-03")
    with site.serve(), tablet(playwright, profile, site) as context:
        page = page_of(context)
        log_in(page, Role.inspector)
        inspection_id = start_inspection(page, site)
        sections = download(page, inspection_id)
        assert f"/inspections/{inspection_id}/sections/UTE" in sections
        assert len(sections) >= 10
        expect(page.locator("#offline-panel .offline-state")).to_contain_text("kB")
        # The kept pages carry no CSRF token of their own.
        kept = page.evaluate(
            """async (url) => {
                 const names = (await caches.keys()).filter((name) => name.startsWith("tryggahus-inspection-"));
                 const response = await (await caches.open(names[0])).match(url);
                 return await response.text();
               }""",
            f"/inspections/{inspection_id}/sections/UTE",
        )
        assert '<meta name="csrf-token" content="">' in kept
        assert re.search(r'name="csrf_token" value="[^"]', kept) is None
        base = f"/inspections/{inspection_id}/sections/"

    # The server is gone and the tablet offline: every page below comes from the device.
    with tablet(playwright, profile, site) as context:
        go_offline(context)
        page = page_of(context)
        page.goto(base + "UTE")
        waiting(page, 0)
        measure(page, "UTE-01", "0,8")
        tap(page, "UTE-05", "fail")
        item(page, "UTE-05").locator('textarea[name="comment-UTE-05"]').fill("Belysningen vid entrén är trasig.")
        item(page, "UTE-05").locator("input[data-photo-input]").set_input_files(
            files=[{"name": "ute-05.jpg", "mimeType": "image/jpeg", "buffer": photo_ute}]
        )
        expect(item(page, "UTE-05").locator("a.pending-photo img")).to_have_count(1)
        tap(page, "UTE-06", "4")
        waiting(page, 4)  # three answers and a photo
        expect(item(page, "UTE-05").locator(".save-state")).not_to_have_attribute("data-state", "saved")

        page.locator('.walk-nav a.button.primary[href="BEL"]').tap()  # the next section, from the device
        page.wait_for_url(re.compile(r"/sections/BEL$"))
        tap(page, "BEL-01", "pass")
        measure(page, "BEL-05", "2800")
        waiting(page, 6)

        page.goto(base + "ENT")
        tap(page, "ENT-04", "na")
        tap(page, "ENT-03", "fail")
        item(page, "ENT-03").locator("input[data-photo-input]").set_input_files(
            files=[{"name": "ent-03.jpg", "mimeType": "image/jpeg", "buffer": photo_ent}]
        )
        waiting(page, 9)
        page.reload()
        waiting(page, 9)
        expect(item(page, "ENT-04").locator('input[value="na"]')).to_be_checked()
        expect(item(page, "ENT-03").locator('input[value="fail"]')).to_be_checked()
        expect(item(page, "ENT-03").locator("a.pending-photo img")).to_have_count(1)

    # Closed and opened again, still offline: the answers and the photo are still on the device.
    with tablet(playwright, profile, site) as context:
        go_offline(context)
        page = page_of(context)
        page.goto(base + "UTE")
        waiting(page, 9)
        expect(item(page, "UTE-01").locator(".measure-input")).to_have_value("0,8")
        expect(item(page, "UTE-05").locator('input[value="fail"]')).to_be_checked()
        expect(item(page, "UTE-05").locator("a.pending-photo img")).to_have_count(1)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=item(page, "UTE-05").locator("a.pending-photo img").element_handle(),
        )

        # Back online: the server answers again on the same address, the browser has signal.
        with site.serve():
            context.set_offline(False)
            waiting(page, 0)
            expect(item(page, "UTE-05").locator(".save-state")).to_have_attribute("data-state", "saved")
            expect(item(page, "UTE-05").locator("a.pending-photo")).to_have_count(0)
            inspection = stored(page, inspection_id)

    answers = inspection["answers"]
    expected = {
        "UTE-01": ("value", "0.8"),
        "UTE-05": ("result", "fail"),
        "UTE-06": ("value", "4"),
        "BEL-01": ("result", "pass"),
        "BEL-05": ("value", "2800"),
        "ENT-04": ("result", "na"),
        "ENT-03": ("result", "fail"),
    }
    assert set(answers) == set(expected)
    for key, (field, value) in expected.items():
        got = answers[key][field]
        assert (float(got) == float(value)) if field == "value" else got == value, (key, answers[key])
        assert answers[key]["revision"] == 1, f"{key} was stored more than once: {answers[key]}"
    assert answers["UTE-05"]["comment"] == "Belysningen vid entrén är trasig."
    photos = sorted(photo["item_key"] for photo in inspection["photos"])
    assert photos == ["ENT-03", "UTE-05"], inspection["photos"]
