"""Helpers for the browser test: finding Chromium and Playwright, a live server, screenshots, API calls.

The browser test drives Debian's Chromium (`/usr/bin/chromium`) with the Playwright package; Playwright's own
browser downloads are never used. When either is missing the browser test is skipped with a note on how to install
them, except in CI (`CI=true`), where a missing browser fails the run instead of silently testing nothing.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from PIL import Image, ImageDraw
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from audit.settings import PROJECT_ROOT

#: Debian's Chromium; TEST_CHROMIUM points elsewhere (like TEST_DATABASE_URL, it configures only the tests).
CHROMIUM = Path(os.environ.get("TEST_CHROMIUM") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = "install them with `apt-get install -y chromium` and `pip install -e '.[test]'`"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "browser"


def missing_browser() -> str | None:
    """Why the browser test cannot run here (Playwright or Chromium missing), or None when it can."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Playwright package")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium at {CHROMIUM}")
    if not missing:
        return None
    return f"the browser test needs {' and '.join(missing)}: {INSTALL_HINT}"


def in_ci() -> bool:
    """CI sets CI=true: there a missing browser is a failure, not a skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


def expect(target: Any, message: str | None = None) -> Any:
    """Playwright's `expect`, imported on use so this module loads where Playwright is not installed."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(target, message)


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without one log line per request; errors are still logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).startswith("5"):
            super().log_request(code, size)


@dataclass
class LiveServer:
    """The real app served by werkzeug on 127.0.0.1 in a daemon thread."""

    app: Flask
    server: BaseWSGIServer
    thread: threading.Thread
    log: io.StringIO = field(default_factory=io.StringIO)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __call__(self, path: str) -> str:
        return self.url + path


@contextmanager
def live_server(app: Flask) -> Iterator[LiveServer]:
    """Serve `app` on a free port (port 0 lets the OS choose) until the block ends."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    running = LiveServer(app, server, thread)
    # The app's own error log (tracebacks of 500s) is kept, so a failing walk can show what broke on the server.
    handler = logging.StreamHandler(running.log)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    app.logger.addHandler(handler)
    thread.start()
    try:
        yield running
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.logger.removeHandler(handler)


class Screenshots:
    """Full-page screenshots numbered in the order they are taken: `test-artifacts/browser/NN-step.png`."""

    def __init__(self, folder: Path = ARTIFACTS) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, page: Any, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        # From the top: a sticky header is drawn where the page is scrolled to, which in a full-page picture would
        # be in the middle of the content.
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=True)
        return path


def jpeg_photo(text: str = "Trygga hus", size: tuple[int, int] = (640, 480)) -> bytes:
    """A small JPEG such as a tablet camera would send (with a visible label, so a thumbnail is recognisable)."""
    image = Image.new("RGB", size, (70, 90, 110))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline=(240, 170, 40), width=10)
    draw.ellipse((size[0] // 3, size[1] // 3, size[0] // 2, size[1] // 2), fill=(200, 40, 40))
    draw.text((40, 40), text, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


class Api:
    """The JSON API as the page's own script calls it: session cookie, CSRF header and an Idempotency-Key."""

    def __init__(self, page: Any, server: LiveServer) -> None:
        self.page = page
        self.server = server

    def _headers(self) -> dict[str, str]:
        token = self.page.locator('meta[name="csrf-token"]').get_attribute("content")
        assert token, "the page has no CSRF token in meta[name=csrf-token]"
        return {"X-CSRFToken": token, "Idempotency-Key": str(uuid.uuid4())}

    def _check(self, response: Any, what: str) -> dict[str, Any]:
        assert response.ok, f"{what}: HTTP {response.status} {response.text()[:500]}\n{self.server.log.getvalue()}"
        return response.json()

    def buildings(self) -> list[dict[str, Any]]:
        url = self.server("/api/v1/buildings")
        return self._check(self.page.request.get(url), f"GET {url}")["buildings"]

    def get_inspection(self, inspection_id: int) -> dict[str, Any]:
        url = self.server(f"/api/v1/inspections/{inspection_id}")
        return self._check(self.page.request.get(url), f"GET {url}")

    def put_answer(self, inspection_id: int, key: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self.server(f"/api/v1/inspections/{inspection_id}/answers/{key}")
        return self._check(self.page.request.put(url, data=body, headers=self._headers()), f"PUT {url}")

    def post_photo(self, inspection_id: int, key: str, photo: bytes) -> dict[str, Any]:
        url = self.server(f"/api/v1/inspections/{inspection_id}/photos")
        multipart = {"item_key": key, "file": {"name": f"{key}.jpg", "mimeType": "image/jpeg", "buffer": photo}}
        return self._check(self.page.request.post(url, multipart=multipart, headers=self._headers()), f"POST {url}")
