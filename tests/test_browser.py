"""The inspector's walk in a real browser: Chromium on a tablet, driven by Playwright, against the real app.

Log in, start an inspection of a demo building, answer items by tapping and typing in two sections (autosaved by
walk.js through the JSON API), reload and see every answer again, attach a photo, finish the rest through the API,
submit; then the manager approves and the result page shows the score and the verdict. Every step leaves a
full-page screenshot in test-artifacts/browser/.

Needs Debian's Chromium and the Playwright package (`apt-get install -y chromium`, `pip install -e '.[test]'`):
without them the module is skipped, except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale, gettext

from audit.accounts.models import Role
from audit.buildings.features import Feature
from audit.checklists.loader import load_checklist
from audit.checklists.schema import is_applicable
from audit.demo import DEMO_PASSWORDS, answer_for, demo_email
from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Api,
    LiveServer,
    Screenshots,
    expect,
    in_ci,
    jpeg_photo,
    live_server,
    missing_browser,
)
from tests.conftest import CHECKLIST_FILE, make_test_app
from tests.served_support import DemoTemplates, demo_copy

MISSING = missing_browser()
if MISSING and not in_ci():
    pytest.skip(MISSING, allow_module_level=True)

BUILDING = "Fittja Terrass"
TABLET = {"width": 1024, "height": 768}
#: Apple's and WCAG 2.5.5's smallest comfortable touch target, in CSS pixels.
MIN_TOUCH = 44
TIMEOUT_MS = 10_000


# --- fixtures ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(demo_templates: DemoTemplates, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app with the demo data (made by the commands `init` and `demo`) on a fresh copy of a SQLite file, served on
    127.0.0.1 for the whole module."""
    folder = tmp_path_factory.mktemp("browser")
    with demo_copy(demo_templates.get("sqlite"), folder) as url:
        app = make_test_app(url, folder)
        with live_server(app) as running:
            yield running
        app.extensions["tryggahus.database"].engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if MISSING:
        pytest.fail(MISSING, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    """A tablet: touch screen, Swedish locale, landscape 1024x768."""
    context = browser.new_context(
        viewport=TABLET,
        has_touch=True,
        is_mobile=True,
        locale="sv-SE",
        timezone_id="Europe/Stockholm",
        base_url=server.url,
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors in the page: {errors}"


# --- helpers -------------------------------------------------------------------------------------------------------


def sv(app: Flask, message: str) -> str:
    """The Swedish UI text for an English msgid (the msgid itself while it is untranslated)."""
    with app.test_request_context("/"), force_locale("sv"):
        return gettext(message)


def touch_targets(page: Any, selector: str) -> list[tuple[str, float, float]]:
    """Every visible element matching `selector` that is smaller than a fingertip: (text, width, height)."""
    boxes = page.eval_on_selector_all(
        selector,
        """els => els.filter(e => e.offsetParent !== null).map(e => {
             const r = e.getBoundingClientRect();
             return [e.textContent.trim().slice(0, 40), r.width, r.height];
           })""",
    )
    assert boxes, f"nothing on {page.url} matches {selector}"
    return [(text, w, h) for text, w, h in boxes if w < MIN_TOUCH or h < MIN_TOUCH]


def assert_touch_targets(page: Any, *selectors: str) -> None:
    for selector in selectors:
        small = touch_targets(page, selector)
        assert not small, f"touch targets under {MIN_TOUCH}x{MIN_TOUCH} px on {page.url} ({selector}): {small}"


def log_in(page: Any, role: Role) -> None:
    page.goto("/login")
    page.locator('input[name="email"]').fill(demo_email(role))
    page.locator('input[name="password"]').fill(DEMO_PASSWORDS[role])
    button = page.locator("main form button[type=submit]")
    assert_touch_targets(page, "main form button[type=submit]")
    button.tap()
    page.wait_for_url(re.compile(r"/buildings/?$"))


def log_out(page: Any) -> None:
    page.locator('form[action$="/logout"] button').tap()
    page.wait_for_url(re.compile(r"/login"))


def item(page: Any, key: str) -> Any:
    return page.locator(f"#item-{key}")


def tap(page: Any, key: str, choice: str) -> None:
    """Tap a toggle (`pass`, `fail`, `na`, or the value of a scale/choice option) where a finger would.

    The label's visible face is its span, but a transparent radio input is laid over it (so the tap reaches the
    input itself): the tap goes to the label's middle, where Playwright checks the input receives it.
    """
    toggle = item(page, key).locator(
        f"label.toggle.{choice}" if choice in ("pass", "fail", "na") else f'label.toggle:has(input[value="{choice}"])'
    )
    expect(toggle.locator("span")).to_be_visible()
    toggle.tap()
    expect(toggle.locator("input")).to_be_checked()


def expect_saved(page: Any, *keys: str) -> None:
    for key in keys:
        expect(item(page, key).locator(".save-state")).to_have_attribute("data-state", "saved")


def measure(page: Any, key: str, typed: str, passes: bool) -> None:
    """Type a measurement like a person would (Swedish decimal comma) and read the instant verdict."""
    article = item(page, key)
    field = article.locator(".measure-input")
    field.tap()
    expect(field).to_be_focused()
    # Emulated touch focuses the field but, right after another field was edited, can leave the caret (the
    # document's selection) in that other field, so typed keys would go nowhere; a real tap puts the caret here.
    field.evaluate("el => el.setSelectionRange(el.value.length, el.value.length)")
    field.press_sequentially(typed)
    expect(field).to_have_value(typed)
    verdict = article.locator("output.verdict")
    expect(verdict).to_have_attribute("data-state", "pass" if passes else "fail")
    expected = verdict.get_attribute("data-pass" if passes else "data-fail")
    assert expected
    expect(verdict).to_have_text(expected)


def comment(page: Any, key: str, text: str) -> None:
    item(page, key).locator(f'textarea[name="comment-{key}"]').fill(text)


def open_section(page: Any, inspection_id: int, section: str) -> None:
    page.locator(f'a.section-link[href$="/inspections/{inspection_id}/sections/{section}"]').tap()
    page.wait_for_url(re.compile(rf"/sections/{section}$"))


# --- the walk ------------------------------------------------------------------------------------------------------

#: What the inspector enters on the tablet; the rest of the checklist is answered through the API.
UTE_COMMENT = "Buskarna vid entré B skymmer dörren."
UTE09_COMMENT = "Trasig skylt vid gångvägen."
BEL02_COMMENT = "Kontrollerat i alla trapphus."


def test_inspector_walk_submit_and_approve(page: Any, server: LiveServer) -> None:
    shot = Screenshots()
    try:
        walk(page, server, shot)
    except Exception:
        with suppress(Exception):
            shot(page, "failure")
        print("server log:\n" + server.log.getvalue())
        raise


def walk(page: Any, server: LiveServer, shot: Screenshots) -> None:
    app = server.app
    api = Api(page, server)

    # 1. Log in as the inspector: the interface is Swedish.
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator("main h1")).to_have_text(sv(app, "Log in"))
    shot(page, "login")
    log_in(page, Role.inspector)

    # 2. The buildings list, the building, a new certification with the Trygga hus checklist.
    expect(page.locator("main h1")).to_have_text(sv(app, "Buildings"))
    tile = page.locator("a.tile-link", has_text=BUILDING)
    expect(tile).to_be_visible()
    assert_touch_targets(page, "a.tile-link", ".site-nav .link-button")
    shot(page, "buildings")
    tile.tap()
    expect(page.locator("main h1")).to_have_text(BUILDING)
    start = page.locator('a.button[href*="/inspections/start/"]')
    assert_touch_targets(page, 'a.button[href*="/inspections/start/"]')
    shot(page, "building")
    start.tap()
    page.wait_for_url(re.compile(r"/inspections/start/\d+$"))
    page.locator('select[name="kind"]').select_option("certification")
    page.locator('select[name="checklist"]').select_option("trygga-hus")
    assert_touch_targets(page, "main form button[type=submit]", "main select")
    shot(page, "start")
    page.locator("main form button[type=submit]").tap()
    page.wait_for_url(re.compile(r"/inspections/\d+$"))
    inspection_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("a.section-link").first).to_be_visible()
    assert_touch_targets(page, "a.section-link")
    shot(page, "inspection-started")

    # 3. Two sections answered by touch: toggles, measurements with their instant verdict, a choice, comments.
    open_section(page, inspection_id, "UTE")
    assert_touch_targets(
        page,
        "label.toggle",
        ".photo-button",
        ".walk-nav .button",
        ".guidance summary",
        ".measure-input",
        ".section-jump select",
    )
    measure(page, "UTE-01", "0,8", passes=True)
    measure(page, "UTE-02", "1,4", passes=False)
    comment(page, "UTE-02", UTE_COMMENT)
    tap(page, "UTE-05", "pass")
    tap(page, "UTE-06", "4")
    tap(page, "UTE-09", "fail")
    comment(page, "UTE-09", UTE09_COMMENT)
    expect_saved(page, "UTE-01", "UTE-02", "UTE-05", "UTE-06", "UTE-09")
    shot(page, "section-ute-answered")

    page.locator('.walk-nav a.button.primary[href="BEL"]').tap()
    page.wait_for_url(re.compile(r"/sections/BEL$"))
    assert_touch_targets(page, "label.toggle")
    tap(page, "BEL-01", "pass")
    tap(page, "BEL-02", "pass")
    comment(page, "BEL-02", BEL02_COMMENT)
    measure(page, "BEL-05", "2800", passes=True)
    tap(page, "BEL-06", "presence")
    expect_saved(page, "BEL-01", "BEL-02", "BEL-05", "BEL-06")
    shot(page, "section-bel-answered")

    # 4. After a reload every answer is still there, with the revision the server stored.
    revisions = {
        key: item(page, key).get_attribute("data-revision") for key in ("BEL-01", "BEL-02", "BEL-05", "BEL-06")
    }
    page.evaluate("localStorage.clear()")  # only what the server has may come back
    page.reload()
    stored = api.get_inspection(inspection_id)["answers"]
    for key, revision in revisions.items():
        assert revision is not None, key
        assert int(revision) >= 1, (key, revision)
        expect(item(page, key)).to_have_attribute("data-revision", revision)
        assert stored[key]["revision"] == int(revision), (key, stored[key])
    expect(item(page, "BEL-01").locator('input[value="pass"]')).to_be_checked()
    expect(item(page, "BEL-02").locator('input[value="pass"]')).to_be_checked()
    expect(item(page, "BEL-02").locator("textarea[name='comment-BEL-02']")).to_have_value(BEL02_COMMENT)
    expect(item(page, "BEL-05").locator(".measure-input")).to_have_value("2800")
    expect(item(page, "BEL-05").locator("output.verdict")).to_have_text(
        item(page, "BEL-05").locator("output.verdict").get_attribute("data-pass") or ""
    )
    expect(item(page, "BEL-06").locator('input[value="presence"]')).to_be_checked()
    expect_saved(page, "BEL-01", "BEL-02", "BEL-05", "BEL-06")
    shot(page, "section-bel-reloaded")

    page.goto(f"/inspections/{inspection_id}/sections/UTE")
    # The stored number comes back; with a decimal comma or point (either parses the same way).
    expect(item(page, "UTE-01").locator(".measure-input")).to_have_value(re.compile(r"^0[.,]8$"))
    expect(item(page, "UTE-02").locator(".measure-input")).to_have_value(re.compile(r"^1[.,]4$"))
    expect(item(page, "UTE-02").locator("output.verdict")).to_have_text(
        item(page, "UTE-02").locator("output.verdict").get_attribute("data-fail") or ""
    )
    expect(item(page, "UTE-02").locator("textarea[name='comment-UTE-02']")).to_have_value(UTE_COMMENT)
    expect(item(page, "UTE-05").locator('input[value="pass"]')).to_be_checked()
    expect(item(page, "UTE-06").locator('input[value="4"]')).to_be_checked()
    expect(item(page, "UTE-09").locator('input[value="fail"]')).to_be_checked()
    expect(item(page, "UTE-09").locator("textarea[name='comment-UTE-09']")).to_have_value(UTE09_COMMENT)
    for key in ("UTE-01", "UTE-02", "UTE-05", "UTE-06", "UTE-09"):
        assert stored[key]["revision"] >= 1
        expect(item(page, key)).to_have_attribute("data-revision", str(stored[key]["revision"]))

    # 5. A photo of the failed item, through the file input (the tablet's camera), shows up as a thumbnail.
    article = item(page, "UTE-02")
    article.locator("input[data-photo-input]").set_input_files(
        files=[{"name": "ute-02.jpg", "mimeType": "image/jpeg", "buffer": jpeg_photo("UTE-02")}]
    )
    thumbnail = article.locator("[data-photos] img")
    expect(thumbnail).to_have_count(1)
    expect(article.locator(".save-state")).to_have_attribute("data-state", "saved")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    article.scroll_into_view_if_needed()
    shot(page, "photo-attached")

    # 6. The rest of the checklist through the API (as walk.js would send it), a photo for the other failed item,
    #    then submit on the inspection page.
    checklist = load_checklist(CHECKLIST_FILE).checklist
    building = next(b for b in api.buildings() if b["name"] == BUILDING)
    features = {Feature(value) for value in building["features"]}
    answered = set(api.get_inspection(inspection_id)["answers"])
    for section, checklist_item in checklist.items():
        if checklist_item.key in answered or not is_applicable(section, checklist_item, features):
            continue
        given = answer_for(checklist_item, passing=True)
        body = {
            "result": given.result.value if given.result else None,
            "value": given.value,
            "choice": given.choice,
            "text": given.text,
            "base_revision": 0,
        }
        api.put_answer(inspection_id, checklist_item.key, {k: v for k, v in body.items() if v is not None})
    api.post_photo(inspection_id, "UTE-09", jpeg_photo("UTE-09"))

    page.goto(f"/inspections/{inspection_id}")
    submit = page.locator('form[action$="/submit"] button[type=submit]')
    expect(submit).to_have_text(sv(app, "Submit for review"))
    expect(page.locator("ul.missing")).to_have_count(0)
    assert_touch_targets(page, 'form[action$="/submit"] button[type=submit]')
    submit.scroll_into_view_if_needed()
    shot(page, "ready-to-submit")
    submit.tap()
    page.wait_for_url(re.compile(rf"/inspections/{inspection_id}/result$"))
    expect(page.locator(".alert-success")).to_have_text(sv(app, "The inspection was submitted for review."))
    shot(page, "submitted")

    # 7. The manager opens the submitted inspection's result from the list and decides there, beside the verdict.
    log_out(page)
    log_in(page, Role.manager)
    page.goto("/inspections/")
    page.locator(f'a[href$="/inspections/{inspection_id}/result"]').tap()
    page.wait_for_url(re.compile(rf"/inspections/{inspection_id}/result$"))
    approve = page.locator('form[action$="/approve"] button[type=submit]')
    expect(approve).to_have_text(sv(app, "Confirm the inspection"))
    assert_touch_targets(page, "#review button[type=submit]", "#review textarea")
    page.locator('form[action$="/approve"] textarea[name="comment"]').fill("Fastställd efter granskning.")
    shot(page, "manager-review")
    approve.tap()

    # 8. The result: total score and verdict, as scored at submission.
    page.wait_for_url(re.compile(rf"/inspections/{inspection_id}/result$"))
    expect(page.locator(".alert-success")).to_have_text(sv(app, "The inspection was confirmed."))
    stored = api.get_inspection(inspection_id)
    assert stored["status"] == "approved"
    score = stored["score"]
    panel = page.locator(".verdict-panel")
    expect(panel).to_have_class(re.compile(r"\bpass\b" if score["passed"] else r"\bfail\b"))
    total = page.locator(".verdict-total").inner_text()
    assert re.fullmatch(r"\d{1,3}([.,]\d)?\s?%", total.replace("\xa0", " ").strip()), total
    assert float(re.sub(r"[^\d,.]", "", total).replace(",", ".")) == pytest.approx(100 * score["total"], abs=0.06)
    verdict = (
        "The building passes the Trygga hus checklist."
        if score["passed"]
        else "The building does not pass the Trygga hus checklist."
    )
    expect(page.locator(".verdict-text")).to_have_text(sv(app, verdict))
    expect(page.locator(".findings")).to_contain_text("UTE-02")
    expect(page.locator(".findings")).to_contain_text("UTE-09")
    shot(page, "result-approved")
    assert "Traceback" not in server.log.getvalue(), server.log.getvalue()


# --- the content security policy -------------------------------------------------------------------------------

#: Collects the page's Content-Security-Policy violations; injected by the browser's debugger, outside the policy.
_RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " + event.sample);
});
"""


def _inspection_ids(app: Flask, status: str) -> list[int]:
    from sqlalchemy import select

    from audit.extensions import db
    from audit.inspections.models import Inspection, InspectionStatus

    with app.app_context():
        query = select(Inspection.id).where(Inspection.status == InspectionStatus(status)).order_by(Inspection.id)
        return list(db.session.scalars(query))


def test_the_walk_and_result_pages_run_under_the_policy_without_a_violation(page: Any, server: LiveServer) -> None:
    page.context.add_init_script(_RECORD_VIOLATIONS)
    console = []
    page.on("console", lambda message: console.append(message.text))
    log_in(page, Role.inspector)
    draft = _inspection_ids(server.app, "draft")[0]
    response = page.goto(f"/inspections/{draft}/sections/UTE")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    bars = page.locator(".progress-pair .progress-bar rect")
    expect(bars).to_have_count(2)
    # The section menu (its script is a file now, not an inline handler) opens the chosen section.
    menu = page.locator(".section-jump select")
    target = menu.locator("option").nth(1).get_attribute("value")
    assert target
    menu.select_option(target)
    page.wait_for_url(re.compile(rf"/sections/{re.escape(target.rsplit('/', 1)[-1])}$"))
    violations = page.evaluate("window.cspViolations")
    # The score bars of a submitted inspection's result page are drawn without inline styles as well.
    log_out(page)
    log_in(page, Role.manager)
    page.goto(f"/inspections/{_inspection_ids(server.app, 'submitted')[0]}/result")
    expect(page.locator(".scores .bar rect").first).to_be_attached()
    violations += page.evaluate("window.cspViolations")
    assert violations == []
    assert not [text for text in console if "Content Security Policy" in text]
