"""The installable app: the service worker at the root scope, the web app manifest, and a fresh CSRF token.

The worker's source is `audit/static/js/sw.js`; it is served here, at `/sw.js`, because a worker controls only the
pages under the folder it is served from, and the walk lives under `/inspections/`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from audit.access import ALL_ROLES, INSPECTORS, allow, public
from audit.i18n import LANGUAGES, current_language
from audit.offline.assets import STATIC_ROOT, current_assets

bp = Blueprint("offline", __name__)

#: The icons made by `scripts/make_icons.py`: (file, size, purpose).
ICONS = (
    ("icons/icon-192.png", 192, "any"),
    ("icons/icon-512.png", 512, "any"),
    ("icons/maskable-512.png", 512, "maskable"),
)
THEME_COLOR = "#1f4e5f"


def _no_cache(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
@public
def service_worker() -> ResponseReturnValue:
    assets = current_assets()
    settings = {
        "version": assets.version,
        "assets": [url_for("static", filename=path) for path in assets.paths],
    }
    source = (STATIC_ROOT / "js" / "sw.js").read_text(encoding="utf-8")
    body = f"self.TRYGGAHUS = {json.dumps(settings)};\n{source}"
    response = Response(body, mimetype="text/javascript")
    # Checked with the server on every update check, and allowed to control the whole site.
    response.headers["Service-Worker-Allowed"] = "/"
    return _no_cache(response)


@bp.get("/manifest.webmanifest")
@public
def manifest() -> ResponseReturnValue:
    # Browsers fetch the manifest without cookies: the page names its language in the address.
    asked = request.args.get("lang")
    language = asked if asked in LANGUAGES else current_language()
    with force_locale(language):
        document = {
            "name": _("Trygga hus — safety inspections"),
            "short_name": "Trygga hus",
            "description": _("Checklist-driven safety inspections of residential buildings, also without signal."),
            "lang": language,
            "start_url": url_for("main.index"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOR,
            "icons": [
                {
                    "src": url_for("static", filename=path),
                    "sizes": f"{size}x{size}",
                    "type": "image/png",
                    "purpose": purpose,
                }
                for path, size, purpose in ICONS
            ],
        }
    response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/manifest+json")
    return _no_cache(response)


@bp.get("/offline/session")
@allow(ALL_ROLES)
def session_token() -> ResponseReturnValue:
    """Who is logged in and a CSRF token for this login: pages kept for offline use carry none of their own."""
    response = jsonify(user=current_user.id, csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/offline/device")
@allow(INSPECTORS)
def device() -> ResponseReturnValue:
    """What this device holds: the inspections kept for use without signal, their size and unsent changes, and the
    browser's storage. Filled in on the device (device.js); the worker keeps the page, so it opens offline too."""
    return render_template("offline/device.html")
