"""Remediation in a real browser: the manager assigns a task at the desk, the contractor does it on a phone (start,
photo, comment, done), the manager verifies it and sees the dashboard change.

The demo's failing inspection was approved, so its failed points are tasks, and the demo contractor already has
four. Every step leaves a full-page screenshot in test-artifacts/browser-tasks/. Needs Debian's Chromium and the
Playwright package, like tests/test_browser.py (skipped without them, except in CI).
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from flask import Flask
from flask_babel import force_locale, gettext

from audit.accounts.models import Role
from audit.demo import DEMO_PASSWORDS, demo_email
from tests import test_browser as tablet
from tests.browser_support import ARTIFACTS, LiveServer, Screenshots, expect, jpeg_photo

# The same fixtures as the tablet walk: the demo data served on a fresh SQLite file, and Debian's Chromium (importing
# them also skips this module where the browser is missing, except in CI).
server = tablet.server
browser = tablet.browser

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
TIMEOUT_MS = 10_000
DONE_COMMENT = "Buskarna nedklippta till 0,8 m och riset bortforslat."


def _context(browser: Any, server: LiveServer, *, phone: bool) -> Any:
    context = browser.new_context(
        viewport=PHONE if phone else DESK,
        has_touch=phone,
        is_mobile=phone,
        device_scale_factor=2 if phone else 1,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        base_url=server.url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


def sv(app: Flask, message: str, **params: Any) -> str:
    with app.test_request_context("/"), force_locale("sv"):
        return gettext(message, **params)


def log_in(page: Any, role: Role, landing: str) -> None:
    page.goto("/login")
    page.locator('input[name="email"]').fill(demo_email(role))
    page.locator('input[name="password"]').fill(DEMO_PASSWORDS[role])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(landing))


def figure(page: Any, name: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f'[data-figure="{name}"]').inner_text()) or 0)


def test_contractor_completes_a_task_on_a_phone_and_the_manager_verifies_it(browser: Any, server: LiveServer) -> None:
    shot = Screenshots(ARTIFACTS.parent / "browser-tasks")
    errors: list[str] = []
    desk, phone = _context(browser, server, phone=False), _context(browser, server, phone=True)
    manager, contractor = desk.new_page(), phone.new_page()
    for page in (manager, contractor):
        page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        steps(server, shot, manager, contractor)
    except Exception:
        with suppress(Exception):
            shot(manager, "failure-manager")
            shot(contractor, "failure-contractor")
        print("server log:\n" + server.log.getvalue())
        raise
    finally:
        desk.close()
        phone.close()
    assert not errors, f"script errors in the page: {errors}"


def steps(server: LiveServer, shot: Screenshots, manager: Any, contractor: Any) -> None:
    app = server.app

    # 1. The manager's dashboard and the task list: the failing demo inspection's points are tasks.
    log_in(manager, Role.manager, r"/buildings/?$")
    manager.goto("/tasks/dashboard")
    expect(manager.locator("main h1")).to_have_text(sv(app, "Dashboard"))
    open_before, overdue_before = figure(manager, "open"), figure(manager, "overdue")
    waiting_before = figure(manager, "done")
    assert open_before >= 5
    expect(manager.locator("figure.chart svg polyline")).to_be_visible()
    shot(manager, "manager-dashboard")
    manager.goto("/tasks/?unverified=1&assignee=none")
    rows = manager.locator("table.tasks tbody tr")
    expect(rows.first).to_be_visible()
    shot(manager, "manager-unassigned")

    # 2. The manager gives the first unassigned task to the contractor (bulk assignment with one ticked).
    first = rows.first.locator('a[href^="/tasks/"]')
    task_path = first.get_attribute("href")
    assert task_path
    item_key = first.locator(".item-key").inner_text()
    rows.first.locator('input[name="tasks"]').check()
    manager.locator('#bulk select[name="assignee"]').select_option(label=f"Demo {Role.contractor.value}")
    manager.locator("#bulk .bulk button").click()
    expect(manager.locator(".alert-success")).to_have_text(sv(app, "%(count)d tasks were assigned.", count=1))
    shot(manager, "manager-assigned")

    # 3. The contractor logs in on a phone and lands on "My tasks"; the new task is there.
    log_in(contractor, Role.contractor, r"/tasks/\?unverified=1$")
    expect(contractor.locator("main h1")).to_have_text(sv(app, "My tasks"))
    assert contractor.evaluate("document.documentElement.scrollWidth") <= 390, "the list is wider than the phone"
    card = contractor.locator(f'.task-card a[href="{task_path}"]')
    expect(card).to_be_visible()
    assert not tablet.touch_targets(contractor, ".task-card a"), "task cards are too small to tap"
    assert contractor.locator('a[href^="/buildings"], a[href^="/inspections"]').count() == 0
    shot(contractor, "contractor-my-tasks")
    card.tap()
    contractor.wait_for_url(re.compile(re.escape(task_path) + "$"))
    expect(contractor.locator("main h1 .item-key")).to_have_text(item_key)

    # 4. Start the work.
    start = contractor.locator("form.task-action button")
    assert not tablet.touch_targets(contractor, "form.task-action button")
    shot(contractor, "contractor-task-open")
    start.tap()
    expect(contractor.locator(".alert-success")).to_have_text(sv(app, "The task is in progress."))

    # 5. Marking it done without a photo is refused with the reason; then photo, comment, done.
    contractor.locator('textarea[name="comment"]').fill(DONE_COMMENT)
    contractor.locator('button[value="done"]').tap()
    expect(contractor.locator(".alert-error")).to_have_text(
        sv(app, "Add a photo of the fixed item before marking the task done.")
    )
    shot(contractor, "contractor-refused-without-photo")
    assert not tablet.touch_targets(contractor, ".task-work .button")
    contractor.locator('input[name="photo"]').set_input_files(
        {"name": "efter.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo("Efter åtgärd")}
    )
    contractor.locator('textarea[name="comment"]').fill(DONE_COMMENT)
    shot(contractor, "contractor-ready")
    contractor.locator('button[value="done"]').tap()
    expect(contractor.locator(".alert-success")).to_have_text(sv(app, "The task is marked done."))
    evidence = contractor.locator("[data-evidence] img")
    expect(evidence).to_have_count(1)
    assert evidence.evaluate("img => img.complete && img.naturalWidth > 0"), "the photo of the fix does not load"
    assert contractor.evaluate("document.documentElement.scrollWidth") <= 390, "the task page is wider than the phone"
    shot(contractor, "contractor-done")

    # 6. The manager sees it done, verifies it, and the dashboard changes.
    manager.goto("/tasks/dashboard")
    assert figure(manager, "done") == waiting_before + 1
    assert figure(manager, "open") == open_before - 1 or figure(manager, "overdue") < overdue_before
    manager.goto(task_path)
    expect(manager.locator(".task-page")).to_contain_text(DONE_COMMENT)
    manager.locator('form[action$="/verify"] textarea').fill("Kontrollerat på plats.")
    manager.locator('form[action$="/verify"] button').click()
    expect(manager.locator(".alert-success")).to_have_text(sv(app, "The task is verified."))
    history = manager.locator("ol.history li")
    expect(history.last).to_contain_text(sv(app, "Verified"))
    shot(manager, "manager-verified")
    manager.goto("/tasks/dashboard")
    assert figure(manager, "done") == waiting_before
    shot(manager, "manager-dashboard-after")
