"""Certificates in a real browser, on the demo data: print the signs of an area (a real `tryggahus worker` prints
them) with the progress shown, scan a sign's QR code like a phone would, see the public page in Swedish, revoke as
the admin, see the page change.

Needs Debian's Chromium and the Playwright package; skipped without them except in CI (CI=true).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from audit.accounts.models import Role
from audit.demo import DEMO_PASSWORDS, demo_email
from tests import test_browser as tablet
from tests.browser_support import LiveServer, Screenshots, expect
from tests.jobs_support import Worker, job_worker
from tests.pdf_support import pdf_text, qr_codes
from tests.served_support import app_environment

TIMEOUT_MS = 15_000


# The same fixtures as the tablet walk: the demo data (which certifies the passing demo buildings) served on a fresh
# SQLite file for this module, and Debian's Chromium (importing them also skips this module where the browser is
# missing, except in CI).
server = tablet.server
browser = tablet.browser


@pytest.fixture(scope="module")
def worker(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """A `tryggahus worker` on the served app's database and embedded queue: it prints the batches."""
    settings = server.app.config["TRYGGAHUS"]
    env = app_environment(settings.sqlalchemy_url, settings.instance_path)
    env["TRYGGAHUS_SECRET_KEY"] = settings.secret_key  # the queue's messages are signed with it
    with job_worker(env, tmp_path_factory.mktemp("worker"), "--workers", "1") as running:
        yield running


def _context(browser: Any, server: LiveServer, **options: Any) -> Any:
    context = browser.new_context(base_url=server.url, locale="sv-SE", timezone_id="Europe/Stockholm", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _log_in(page: Any, role: Role) -> None:
    page.goto("/login")
    page.fill("input[name=email]", demo_email(role))
    page.fill("input[name=password]", DEMO_PASSWORDS[role])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login)"))


def test_print_scan_verify_and_revoke(browser: Any, server: LiveServer, worker: Worker, tmp_path: Path) -> None:
    shots = Screenshots()
    desk = _context(browser, server, viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, Role.manager)

    page.goto("/certificates/")
    numbers = page.locator("table a").all_inner_texts()
    assert len(numbers) >= 1
    assert all(re.fullmatch(r"TH-\d{4}-\d{6}", number) for number in numbers)
    page.click("form[action$='/certificates/batch'] button[type=submit]")  # every area, one PDF, A4, Swedish
    expect(page.locator("#batch-download")).to_be_visible()
    expect(page.locator(".progress-text")).to_have_text(f"{len(numbers)} / {len(numbers)}")
    shots(page, "certificates-batch-done")
    batch = page.request.get(page.locator("#batch-download a").get_attribute("href"))
    assert batch.headers["content-type"] == "application/pdf"
    assert all(number in pdf_text(batch.body()) for number in numbers)

    page.goto("/certificates/")
    page.click(f"text={numbers[-1]}")
    sign = page.request.get(page.locator("a[href$='/sign.pdf']").get_attribute("href"))
    scanned = qr_codes(sign.body(), tmp_path)
    assert len(scanned) == 1
    verification_path = urlsplit(scanned[0]).path  # printed with TRYGGAHUS_PUBLIC_BASE_URL; served here
    assert verification_path.startswith("/v/")

    phone = _context(browser, server, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    visitor = phone.new_page()
    visitor.goto(verification_path)
    expect(visitor.locator("h1")).to_have_text("Certifikatet är giltigt.")
    expect(visitor.locator(".verify")).to_contain_text(numbers[-1])
    shots(visitor, "certificate-verified-valid")

    admin = _context(browser, server, viewport={"width": 1280, "height": 900}).new_page()
    _log_in(admin, Role.admin)
    admin.goto(page.url)
    admin.fill("textarea[name=reason]", "Skylten sattes upp på fel hus.")
    admin.click("form[action$='/revoke'] button[type=submit]")
    expect(admin.locator(".badge-cert-revoked").first).to_be_visible()

    visitor.reload()
    expect(visitor.locator("h1")).to_contain_text("Certifikatet återkallades den")
    shots(visitor, "certificate-verified-revoked")
    for context in (desk, phone, admin.context):
        context.close()
    assert errors == []
