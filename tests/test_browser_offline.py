"""The walk without signal, in a real browser against the real served app (SQLite, and PostgreSQL when set).

The inspector downloads an inspection for offline use; then the network is cut between the browser and the server
(`Link`: so that not even the service worker's own requests reach it, which `context.set_offline` does not stop in
Chromium) and the browser is set offline. Several sections are opened from the device, items answered (a
measurement, N/A, failing items with photos), the page reloaded and the browser closed and opened again (a
persistent profile), all still offline. Then the network comes back, the browser goes online, the counter of waiting
changes reaches zero (the answers between two photos sent in one request, in the inspector's order), and the API
shows every answer and photo on the server exactly once. The overview counts progress and what is missing on the
device, refuses to queue a submission it knows to be incomplete, and queues one offline that the server receives
once, after every answer and photo; the page "On this device" opens offline and lists the inspection. Also: a login
that ends while offline is asked for again and nothing is lost; a submission is held back behind a refused change
and a refused submission is kept with its reason; logging out warns about unsent changes, then leaves no kept
inspection or queue for the next user of the browser; on a full device a download that would not fit is refused, and
a change that cannot be stored is said at once and stays on the page. On a phone (390×844, touch), a contractor
makes a deviation report with a photo without signal, in the form the service worker kept, and the report reaches
the server once when the network returns.

Needs Debian's Chromium and the Playwright package, like tests/test_browser.py.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from audit.accounts.models import LoginSession, Role, User
from audit.accounts.services import create_organisation, create_user
from audit.auditlog.models import AuditEntry
from audit.buildings.features import Feature
from audit.buildings.models import Building
from audit.buildings.services import create_area, create_building
from audit.checklists.schema import is_applicable
from audit.database import make_engine
from audit.demo import answer_for
from audit.deviations.identity import find_identity_numbers
from audit.deviations.models import DeviationReport
from audit.extensions import db
from audit.inspections.models import Inspection
from audit.inspections.services import save_answer
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, expect, in_ci, jpeg_photo, missing_browser
from tests.conftest import TEST_PASSWORD, fresh_database, make_test_app
from tests.served_support import BIN, HOST, Link, RunningServer, app_environment, free_port, served

MISSING = missing_browser()
if MISSING and not in_ci():
    pytest.skip(MISSING, allow_module_level=True)

BUILDING = "Fittja Terrass"
TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


#: The users of the organisation made for these tests, by role.
EMAILS = {
    Role.inspector: "inspektor@offline.example",
    Role.manager: "forvaltare@offline.example",
    Role.contractor: "fastighetsvard@offline.example",
}
BUILDINGS = ("Fittja Terrass", "Alby Park", "Eriksbergsvägen 3", "Hallunda Torg 2")
#: The areas of the buildings, in the same order (deviation reports name an area).
AREAS = ("Fittja", "Alby", "Fittja", "Hallunda")


@dataclass
class Site:
    """The app served by `tryggahus serve`, reached through a link that can be cut (see `Link`)."""

    server: RunningServer
    link: Link
    database_url: str
    #: An app on the same database, to set up what a test does not walk itself.
    app: Flask

    @property
    def url(self) -> str:
        return self.link.url


def _seed(url: str, folder: Path) -> Flask:
    """An organisation with an inspector, a manager and buildings with every feature (so every section applies)."""
    app = make_test_app(url, folder)
    result = app.test_cli_runner().invoke(args=["init"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        organisation = create_organisation(db.session, "offline", "Offlinebostäder AB")
        for role, email in EMAILS.items():
            create_user(db.session, organisation, email, role, TEST_PASSWORD)
        areas = {name: create_area(db.session, organisation, name) for name in sorted(set(AREAS))}
        for name, area in zip(BUILDINGS, AREAS, strict=True):
            create_building(
                db.session,
                organisation,
                name=name,
                street_address=name,
                postcode="145 53",
                city="Norsborg",
                features=set(Feature),
                area=areas[area],
            )
        db.session.commit()
    app.extensions["tryggahus.database"].engine.dispose()
    return app


@pytest.fixture(scope="module")
def served_site(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp(f"offline-{database_kind}")
    with fresh_database(database_kind, folder) as url:
        app = _seed(url, folder)
        port = free_port()
        command = [str(BIN / "tryggahus"), "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
        with served(command, app_environment(url, folder), folder, port) as server:
            link = Link(port)
            link.restore()
            try:
                yield Site(server, link, url, app)
            finally:
                link.cut()
                app.extensions["tryggahus.database"].engine.dispose()


@pytest.fixture
def site(served_site: Site) -> Site:
    """The served app, with the network up whatever the last test left."""
    if not served_site.link.up:
        served_site.link.restore()
    return served_site


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as running:
        yield running


@contextmanager
def tablet(playwright: Any, profile: Path, site: Site, viewport: dict[str, int] = TABLET) -> Iterator[Any]:
    """A tablet's browser (or a phone's, by its viewport) with a profile on disk: its IndexedDB and caches outlive
    closing it."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=viewport,
        is_mobile=viewport["width"] < TABLET["width"],
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
    page.locator('input[name="email"]').fill(EMAILS[role])
    page.locator('input[name="password"]').fill(TEST_PASSWORD)
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(re.escape(then) + "$" if then else r"/buildings/?$"))


def write_headers(page: Any) -> dict[str, str]:
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    return {"X-CSRFToken": token or "", "Idempotency-Key": str(uuid.uuid4()), "Accept": "application/json"}


def start_inspection(page: Any, site: Site, building: str = BUILDING) -> int:
    """A new certification of a demo building (one without a draft), through the API as the logged-in inspector."""
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as connection:
            building_id = connection.execute(select(Building.id).where(Building.name == building)).scalar_one()
    finally:
        engine.dispose()
    body = {"building_id": building_id, "kind": "certification", "checklist_key": "trygga-hus"}
    response = page.request.post("/api/v1/inspections", data=body, headers=write_headers(page))
    assert response.status == 201, response.text()
    return int(response.json()["id"])


def required_items(site: Site, inspection_id: int) -> list[str]:
    """The keys of the inspection's applicable, scored items: what must be answered before it is submitted."""
    with site.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        checklist, features = inspection.checklist_version.checklist, inspection.building.features
        return [i.key for s, i in checklist.items() if i.is_scored and is_applicable(s, i, features)]


def answer_all_but(site: Site, inspection_id: int, left: set[str]) -> None:
    """Every applicable item passes except those in `left`, stored as the inspector (the walk is not the subject)."""
    with site.app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        assert inspection is not None
        inspector = inspection.inspector
        for section, checklist_item in inspection.checklist_version.checklist.items():
            if checklist_item.key in left or not is_applicable(section, checklist_item, inspection.building.features):
                continue
            save_answer(db.session, inspector, inspection, checklist_item.key, answer_for(checklist_item, passing=True))
        db.session.commit()


def submissions(site: Site, inspection_id: int) -> int:
    """How often the inspection was submitted, by the audit log."""
    with site.app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "inspection.submitted", AuditEntry.object_id == inspection_id)
        )


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


def progress(page: Any, section: int, whole: int) -> None:
    """The bars say `section` items of this section and `whole` of the inspection are answered."""
    texts = page.locator(".progress-pair .progress-text")
    expect(texts.nth(0)).to_have_text(re.compile(rf"^{section} / \d+$"))
    expect(texts.nth(1)).to_have_text(re.compile(rf"^{whole} / \d+$"))


def download(page: Any, inspection_id: int) -> list[str]:
    """Take the inspection offline from its page; the addresses of its sections."""
    page.goto(f"/inspections/{inspection_id}")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.locator("[data-offline-download]").tap()
    expect(page.locator("#offline-panel")).to_have_attribute("data-held", "true")
    return page.eval_on_selector_all("a.section-link", "links => links.map(a => new URL(a.href).pathname)")


def go_offline(context: Any, site: Site) -> None:
    """No network: the browser is offline and the app out of reach (also for the service worker)."""
    site.link.cut()
    context.set_offline(True)


def go_online(context: Any, site: Site) -> None:
    site.link.restore()
    context.set_offline(False)


#: The items the offline walk answers on the device; every other applicable item is answered before it starts,
#: except LAST, which the overview lists as missing until it is answered too.
WALKED = {"UTE-01", "UTE-05", "UTE-06", "BEL-01", "BEL-05", "ENT-04", "ENT-03"}
LAST = "ENT-01"


def test_a_downloaded_inspection_is_walked_offline_and_everything_arrives_once(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    profile = tmp_path / "profile"
    photo_ute = jpeg_photo("UTE-05", (1600, 1200))
    photo_ent = jpeg_photo("ENT-03")
    with tablet(playwright, profile, site) as context:
        page = page_of(context)
        log_in(page, Role.inspector)
        inspection_id = start_inspection(page, site)
        answer_all_but(site, inspection_id, WALKED | {LAST})
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
        overview = f"/inspections/{inspection_id}"

    required = required_items(site, inspection_id)
    answered_before = set(required) - WALKED - {LAST}

    def counted(section: str, *device: str) -> tuple[int, int]:
        """What the bars say with these items answered on the device: in `section`, and in the whole inspection."""
        done = answered_before | set(device)
        return sum(1 for key in done if key.startswith(section + "-")), len(done)

    # No network, and the app out of reach: every page below comes from the device.
    with tablet(playwright, profile, site) as context:
        go_offline(context, site)
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
        progress(page, *counted("UTE", "UTE-01", "UTE-05", "UTE-06"))  # counted on the device
        expect(item(page, "UTE-05").locator(".save-state")).not_to_have_attribute("data-state", "saved")

        page.locator('.walk-nav a.button.primary[href="BEL"]').tap()  # the next section, from the device
        page.wait_for_url(re.compile(r"/sections/BEL$"))
        tap(page, "BEL-01", "pass")
        measure(page, "BEL-05", "2800")
        waiting(page, 6)
        progress(page, *counted("BEL", "UTE-01", "UTE-05", "UTE-06", "BEL-01", "BEL-05"))

        page.goto(base + "ENT")
        tap(page, "ENT-04", "na")
        tap(page, "ENT-03", "fail")
        item(page, "ENT-03").locator("input[data-photo-input]").set_input_files(
            files=[{"name": "ent-03.jpg", "mimeType": "image/jpeg", "buffer": photo_ent}]
        )
        waiting(page, 9)
        page.reload()
        waiting(page, 9)
        progress(page, *counted("ENT", *WALKED))
        expect(item(page, "ENT-04").locator('input[value="na"]')).to_be_checked()
        expect(item(page, "ENT-03").locator('input[value="fail"]')).to_be_checked()
        expect(item(page, "ENT-03").locator("a.pending-photo img")).to_have_count(1)

        # The overview counts on the device too, and names what is still missing; a submission the device knows to
        # be incomplete is not queued.
        page.goto(overview)
        whole = page.locator(".overview-progress .progress-text")
        expect(whole).to_have_text(f"{len(required) - 1} / {len(required)}")
        ent = counted("ENT", *WALKED)[0]
        expect(page.locator('a.section-link[data-section="ENT"] .progress-text')).to_have_text(f"{ent} / {ent + 1}")
        missing = page.locator("#missing ul.missing li")
        expect(missing).to_have_count(1)
        expect(missing).to_have_attribute("data-item", LAST)
        submit = page.locator("#submit-form button[type=submit]")
        submit.tap()
        submitted = page.locator("#missing .submit-state")
        expect(submitted).to_have_attribute("data-state", "incomplete")
        waiting(page, 9)
        page.goto(base + "ENT")
        tap(page, LAST, "pass")
        waiting(page, 10)
        page.goto(overview)
        expect(whole).to_have_text(f"{len(required)} / {len(required)}")
        expect(page.locator("#missing ul.missing")).to_have_count(0)
        submit.tap()  # queued after the ten changes and photos
        expect(submitted).to_have_attribute("data-state", "queued")
        waiting(page, 11)

        # The page "On this device" opens offline and lists the inspection, its size and what it has unsent.
        page.goto("/offline/device")
        row = page.locator(f'.device-list tr[data-inspection="{inspection_id}"]')
        expect(row).to_have_attribute("data-unsent", "11")
        expect(row.locator(".device-inspection")).to_contain_text(BUILDING)
        expect(row.locator(".device-size")).to_contain_text("kB")

    # Closed and opened again, still offline: the answers, the photos and the submission are still on the device.
    with tablet(playwright, profile, site) as context:
        go_offline(context, site)
        page = page_of(context)
        page.goto(base + "UTE")
        waiting(page, 11)
        progress(page, *counted("UTE", *WALKED, LAST))
        expect(item(page, "UTE-01").locator(".measure-input")).to_have_value("0,8")
        expect(item(page, "UTE-05").locator('input[value="fail"]')).to_be_checked()
        expect(item(page, "UTE-05").locator("a.pending-photo img")).to_have_count(1)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0",
            arg=item(page, "UTE-05").locator("a.pending-photo img").element_handle(),
        )
        page.goto(overview)
        submitted = page.locator("#missing .submit-state")
        expect(submitted).to_have_attribute("data-state", "queued")

        # Back online: everything is sent, the submission last, the answers between two photos in one request; the
        # page shows the inspection as submitted.
        writes: list[tuple[str, str]] = []
        context.on("request", lambda request: writes.append((request.method, urlsplit(request.url).path)))
        go_online(context, site)
        waiting(page, 0)
        expect(submitted).to_have_attribute("data-state", "submitted")
        expect(page.locator(".page-head h1 .badge")).to_have_class(re.compile(r"\bbadge-submitted\b"))
        expect(page.locator("#outbox-status")).to_have_attribute("data-problems", "0")
        api = f"/api/v1/inspections/{inspection_id}"
        answers, photos, submit = ("POST", f"{api}/answers"), ("POST", f"{api}/photos"), ("POST", f"{api}/submit")
        sent = [write for write in writes if write[0] != "GET"]
        assert sent == [answers, photos, answers, photos, answers, submit], sent
        inspection = stored(page, inspection_id)

        # Nothing unsent: removed from the device without a question (a question would be dismissed).
        page.goto("/offline/device")
        row = page.locator(f'.device-list tr[data-inspection="{inspection_id}"]')
        expect(row).to_have_attribute("data-unsent", "0")
        row.locator(".device-remove").tap()
        expect(row).to_have_count(0)
        expect(page.locator(".device-empty")).to_be_visible()
        assert page.evaluate(KEPT_INSPECTIONS) == []

    answers = inspection["answers"]
    expected = {
        "UTE-01": ("value", "0.8"),
        "UTE-05": ("result", "fail"),
        "UTE-06": ("value", "4"),
        "BEL-01": ("result", "pass"),
        "BEL-05": ("value", "2800"),
        "ENT-04": ("result", "na"),
        "ENT-03": ("result", "fail"),
        LAST: ("result", "pass"),
    }
    assert set(required) <= set(answers)
    for key, (field, value) in expected.items():
        got = answers[key][field]
        assert (float(got) == float(value)) if field == "value" else got == value, (key, answers[key])
        assert answers[key]["revision"] == 1, f"{key} was stored more than once: {answers[key]}"
    assert answers["UTE-05"]["comment"] == "Belysningen vid entrén är trasig."
    photos = sorted(photo["item_key"] for photo in inspection["photos"])
    assert photos == ["ENT-03", "UTE-05"], inspection["photos"]
    # Submitted once, after every answer (a photo after it would have been refused and kept as a problem).
    assert inspection["status"] == "submitted"
    assert submissions(site, inspection_id) == 1
    last_answer = max(datetime.fromisoformat(answer["answered_at"]) for answer in answers.values())
    assert datetime.fromisoformat(inspection["submitted_at"]) >= last_answer


def end_logins_on_the_server(site: Site, role: Role) -> None:
    """Every login of the user ends, as when it expires or an admin ends it."""
    engine = make_engine(site.database_url)
    try:
        with engine.begin() as connection:
            user_id = connection.execute(select(User.id).where(User.email == EMAILS[role])).scalar_one()
            connection.execute(
                update(LoginSession)
                .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
    finally:
        engine.dispose()


KEPT_INSPECTIONS = """async () => (await caches.keys()).filter((name) => name.startsWith("tryggahus-inspection-"))"""
OUTBOX_SIZE = """() => new Promise((resolve, reject) => {
    const opening = indexedDB.open("tryggahus");
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
        const db = opening.result;
        if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
        const counting = db.transaction("outbox").objectStore("outbox").count();
        counting.onsuccess = () => { db.close(); resolve(counting.result); };
    };
})"""


def test_a_login_that_ended_offline_is_asked_for_and_then_everything_is_sent(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    with tablet(playwright, tmp_path / "profile", site) as context:
        page = page_of(context)
        log_in(page, Role.inspector)
        inspection_id = start_inspection(page, site, "Alby Park")
        download(page, inspection_id)
    section = f"/inspections/{inspection_id}/sections/UTE"
    with tablet(playwright, tmp_path / "profile", site) as context:
        go_offline(context, site)
        page = page_of(context)
        page.goto(section)
        tap(page, "UTE-05", "fail")
        item(page, "UTE-05").locator("input[data-photo-input]").set_input_files(
            files=[{"name": "ute-05.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo("UTE-05")}]
        )
        measure(page, "UTE-01", "1,2")
        waiting(page, 3)
        end_logins_on_the_server(site, Role.inspector)  # the login ends while the tablet is in the basement

        go_online(context, site)
        # The queue pauses and asks for the login; nothing is dropped.
        expect(page.locator("#outbox-status .outbox-login")).to_be_visible()
        waiting(page, 3)
        page.locator("#outbox-status .outbox-login a").tap()
        page.locator('input[name="email"]').fill(EMAILS[Role.inspector])
        page.locator('input[name="password"]').fill(TEST_PASSWORD)
        page.locator("main form button[type=submit]").tap()
        page.wait_for_url(re.compile(re.escape(section) + "$"))  # back in the walk
        waiting(page, 0)
        expect(page.locator("#outbox-status .outbox-login")).to_be_hidden()
        inspection = stored(page, inspection_id)
    answers = inspection["answers"]
    assert set(answers) == {"UTE-01", "UTE-05"}
    assert answers["UTE-05"]["result"] == "fail"
    assert float(answers["UTE-01"]["value"]) == 1.2
    assert [answer["revision"] for answer in answers.values()] == [1, 1]
    assert [photo["item_key"] for photo in inspection["photos"]] == ["UTE-05"]


def test_logging_out_warns_about_unsent_changes_and_then_leaves_nothing_for_the_next_user(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    with tablet(playwright, tmp_path / "profile", site) as context:
        page = page_of(context)
        log_in(page, Role.inspector)
        inspection_id = start_inspection(page, site, "Eriksbergsvägen 3")
        download(page, inspection_id)
        assert len(page.evaluate(KEPT_INSPECTIONS)) == 1

        # A value the server refuses is kept and shown with the reason, not dropped; a good answer is sent.
        page.goto(f"/inspections/{inspection_id}/sections/UTE")
        measure(page, "UTE-01", "ljust")
        tap(page, "UTE-05", "pass")
        status = page.locator("#outbox-status")
        expect(status).to_have_attribute("data-problems", "1")
        waiting(page, 0)
        expect(status.locator(".outbox-problems li")).to_contain_text("UTE-01")
        expect(item(page, "UTE-01").locator(".save-state")).to_have_attribute("data-state", "error")
        expect(item(page, "UTE-05").locator(".save-state")).to_have_attribute("data-state", "saved")
        with page.expect_download() as exported:
            status.locator(".outbox-export").tap()
        kept = json.loads(Path(exported.value.path()).read_text(encoding="utf-8"))
        assert [(entry["item"], entry["answer"]["value"], entry["state"]) for entry in kept] == [
            ("UTE-01", "ljust", "refused")
        ]
        assert "ljust" in kept[0]["reason"]

        # A submission queued behind a refused change is held back, and said so; once the change is corrected it is
        # sent after it, and the server's refusal (the inspection is incomplete) is kept with its reason.
        queue_submission = "(id) => window.TryggaOutbox.addSubmit(id).then(() => window.TryggaOutbox.sync(true))"
        page.evaluate(queue_submission, inspection_id)
        problems = status.locator(".outbox-problems li")
        expect(problems).to_have_count(2)
        expect(problems.nth(1)).to_contain_text("Inskickning väntar tills ändringarna ovan är lösta")
        waiting(page, 1)
        measure(page, "UTE-01", "1,2")
        waiting(page, 0)
        expect(problems).to_have_count(1)
        expect(problems.nth(0)).to_contain_text("Inskickning")
        expect(problems.nth(0)).to_contain_text("BEL-01")  # the server's reason names what is unanswered
        assert stored(page, inspection_id)["status"] == "draft"
        page.goto(f"/inspections/{inspection_id}")
        expect(page.locator("#missing .submit-state")).to_have_attribute("data-state", "refused")
        expect(page.locator("#missing .submit-state")).to_contain_text("BEL-01")
        page.goto(f"/inspections/{inspection_id}/sections/UTE")

        # Logging out warns; cancelling stays logged in with everything kept.
        with page.expect_event("dialog") as asked:
            page.locator('form[action$="/logout"] button').tap()
        warning = asked.value
        assert warning.type == "confirm"
        assert warning.message.startswith("1 ")
        warning.dismiss()
        expect(status.locator(".outbox-problems li")).to_have_count(1)
        assert page.url.endswith("/sections/UTE")
        assert len(page.evaluate(KEPT_INSPECTIONS)) == 1

        # Confirmed: the device's copies and queue are gone.
        with page.expect_event("dialog") as asked:
            page.locator('form[action$="/logout"] button').tap()
        asked.value.accept()
        page.wait_for_url(re.compile(r"/login"))
        assert page.evaluate(KEPT_INSPECTIONS) == []
        assert page.evaluate(OUTBOX_SIZE) == 0

        # The inspector downloads again, and the login ends without logging out; the next user on this browser
        # finds none of it.
        log_in(page, Role.inspector)
        download(page, inspection_id)
        assert len(page.evaluate(KEPT_INSPECTIONS)) == 1
        context.clear_cookies()
        log_in(page, Role.manager)
        page.wait_for_function(
            "async () => (await caches.keys()).every((name) => !name.startsWith('tryggahus-inspection-'))"
        )
        assert page.evaluate(KEPT_INSPECTIONS) == []


#: A device whose storage is nearly full, while the page's session says so: the browser's estimate leaves 100 kB,
#: and IndexedDB refuses to store anything more in the outbox, as it does when the quota is reached.
FULL_DEVICE = """
const full = () => sessionStorage.getItem("full-device") === "yes";
const estimate = StorageManager.prototype.estimate;
StorageManager.prototype.estimate = function () {
  return full() ? Promise.resolve({ usage: 999900000, quota: 1000000000 }) : estimate.call(this);
};
for (const name of ["add", "put"]) {
  const real = IDBObjectStore.prototype[name];
  IDBObjectStore.prototype[name] = function (...args) {
    if (full() && this.name === "outbox") throw new DOMException("The quota has been exceeded.", "QuotaExceededError");
    return real.apply(this, args);
  };
}
"""


def a_full_device_refuses_the_download_and_tells_at_once_of_a_change_not_kept(page: Any, inspection_id: int) -> None:
    page.evaluate("sessionStorage.setItem('full-device', 'yes')")
    page.goto(f"/inspections/{inspection_id}")
    panel = page.locator("#offline-panel")
    expect(panel.locator(".offline-warning")).to_contain_text("full till 100 procent")
    panel.locator("[data-offline-download]").tap()
    expect(panel).to_have_attribute("data-refused", "true")
    expect(panel.locator(".offline-state")).to_contain_text("Inte nedladdad: enheten har plats för 98 kB")
    expect(panel).to_have_attribute("data-held", "false")
    assert page.evaluate(KEPT_INSPECTIONS) == []

    # The outbox cannot store the answer: said at the item and at the top, and the answer stays on the page.
    page.goto(f"/inspections/{inspection_id}/sections/UTE")
    tap(page, "UTE-01", "na")
    expect(item(page, "UTE-01").locator(".save-state")).to_have_attribute("data-state", "error")
    expect(item(page, "UTE-01").locator(".save-state")).to_contain_text("QuotaExceededError")
    failed = page.locator("#outbox-status .outbox-failed")
    expect(failed).to_be_visible()
    expect(failed).to_contain_text("UTE-01 sparades INTE på den här enheten")
    expect(item(page, "UTE-01").locator('input[value="na"]')).to_be_checked()
    assert page.evaluate(OUTBOX_SIZE) == 0  # nothing kept, so nothing will be sent
    page.evaluate("sessionStorage.removeItem('full-device')")


def test_two_tablets_change_the_same_item_and_each_choice_ends_in_the_expected_answer(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    with tablet(playwright, tmp_path / "first", site) as first, tablet(playwright, tmp_path / "second", site) as second:
        first.add_init_script(FULL_DEVICE)
        mine = page_of(first)
        log_in(mine, Role.inspector)
        inspection_id = start_inspection(mine, site, "Hallunda Torg 2")
        # First, this tablet's storage is full.
        a_full_device_refuses_the_download_and_tells_at_once_of_a_change_not_kept(mine, inspection_id)
        mine.goto(f"/inspections/{inspection_id}/sections/UTE")
        # The other tablet answers both items after this page was opened.
        other = page_of(second)
        log_in(other, Role.inspector)
        for key in ("UTE-05", "UTE-09"):
            url = f"/api/v1/inspections/{inspection_id}/answers/{key}"
            response = other.request.put(url, data={"result": "pass", "base_revision": 0}, headers=write_headers(other))
            assert response.ok, response.text()

        tap(mine, "UTE-05", "fail")
        tap(mine, "UTE-09", "fail")
        for key in ("UTE-05", "UTE-09"):
            expect(item(mine, key).locator(".conflict")).to_be_visible()
            expect(item(mine, key).locator(".save-state")).to_have_attribute("data-state", "conflict")
        expect(mine.locator("#outbox-status")).to_have_attribute("data-problems", "2")

        item(mine, "UTE-05").locator(".conflict button").nth(0).tap()  # keep mine
        expect(item(mine, "UTE-05").locator(".save-state")).to_have_attribute("data-state", "saved")
        expect(mine.locator("#outbox-status")).to_have_attribute("data-problems", "1")
        item(mine, "UTE-09").locator(".conflict button").nth(1).tap()  # use theirs: the page shows theirs
        expect(item(mine, "UTE-09").locator('input[value="pass"]')).to_be_checked()
        expect(mine.locator("#outbox-status")).to_have_attribute("data-problems", "0")
        waiting(mine, 0)
        answers = stored(mine, inspection_id)["answers"]
    assert (answers["UTE-05"]["result"], answers["UTE-05"]["revision"]) == ("fail", 2)
    assert (answers["UTE-09"]["result"], answers["UTE-09"]["revision"]) == ("pass", 1)


#: Whether the service worker keeps the page at the address within 15 s (it installs first).
KEPT_WITHIN = """async (url) => {
    for (let tries = 0; tries < 150; tries += 1) {
        if (await (await caches.open("tryggahus-pages")).match(url)) return true;
        await new Promise((resolve) => { setTimeout(resolve, 100); });
    }
    return false;
}"""

#: Texts with and without personal identity numbers: separators, 10 and 12 digits, a co-ordination number, a wrong
#: check digit, a date that does not exist, a longer number, a phone number, a date with a time.
IDENTITY_SAMPLES = [
    "811218-9876",
    "198112189876",
    "19811218+9876",
    "811218 9876",
    "811278-9873",
    "811218-9875",
    "811318-9876",
    "08-123 456 78",
    "2026-12-07 22:15",
    "18112189876",
    "kod 1234, lgh 1102",
    "-8112189876",
]

#: Under this much scripted time from opening the report form to the report queued (issue: "under 30 seconds").
REPORT_SECONDS = 30


def test_a_contractor_reports_a_deviation_with_a_photo_from_a_phone_without_signal(
    playwright: Any, site: Site, tmp_path: Path
) -> None:
    photo = tmp_path / "lampa.jpg"
    photo.write_bytes(jpeg_photo("Lampa", (1600, 1200)))
    with tablet(playwright, tmp_path / "profile", site, PHONE) as context:
        page = page_of(context)
        # Opened once online (the first page after logging in, before the service worker controls a page): kept.
        log_in(page, Role.contractor, then="/deviations/new")
        expect(page.locator("form[data-report-form]")).to_be_visible()
        assert page.evaluate(KEPT_WITHIN, "/deviations/new"), "the report form was not kept"
        go_offline(context, site)
        started = time.monotonic()
        page.goto("/deviations/new")
        form = page.locator("form[data-report-form]")
        expect(form.locator('input[name="seen_at"]')).not_to_have_value("")
        expect(form.locator('input[name="photo"]')).to_have_attribute("capture", "environment")
        form.locator('label.choice-card:has(input[value="broken_lighting"])').tap()
        expect(form.locator('select[name="urgency"]')).to_have_value("normal")  # the category's
        form.locator('select[name="area_id"]').select_option(label="Fittja")
        form.locator('select[name="building_id"]').select_option(label="Fittja Terrass")
        form.locator('input[name="place_name"]').fill("Cykelrummet")
        # A personal identity number is refused on the device, as the server would (nothing is queued).
        form.locator('textarea[name="description"]').fill("Boende 811218-9876 säger att lampan är trasig.")
        form.locator('button[type="submit"]').tap()
        expect(page.locator("[data-report-problem]")).to_contain_text(re.compile("personnum"))
        waiting(page, 0)
        form.locator('textarea[name="description"]').fill("Lampan i cykelrummet är trasig, helt mörkt.")
        form.locator('input[name="photo"]').set_input_files(str(photo))
        form.locator('button[type="submit"]').tap()
        expect(page.locator("[data-report-queued]")).to_be_visible()
        waiting(page, 1)
        elapsed = time.monotonic() - started
        assert elapsed < REPORT_SECONDS, f"{elapsed:.1f} s from opening the form to the report queued"
        expect(form.locator('textarea[name="description"]')).to_have_value("")  # ready for the next report
        # The device's rule is the server's (audit/deviations/identity.py).
        samples = [*IDENTITY_SAMPLES, " ".join(IDENTITY_SAMPLES)]
        on_device = page.evaluate("(texts) => texts.map(window.TryggaIdentity.identityNumbers)", samples)
        assert on_device == [find_identity_numbers(text) for text in samples]
        page.reload()
        waiting(page, 1)
        go_online(context, site)
        waiting(page, 0)
    with site.app.app_context():
        contractor = db.session.scalar(select(User).where(User.email == EMAILS[Role.contractor]))
        assert contractor is not None
        reports = db.session.scalars(
            select(DeviationReport).where(DeviationReport.reported_by_id == contractor.id)
        ).all()
        stored_reports = [
            (r.category_key, r.building and r.building.name, r.place and r.place.name, len(r.photos)) for r in reports
        ]
        assert stored_reports == [("broken_lighting", "Fittja Terrass", "Cykelrummet", 1)]
