"""The frame every page shares (header, menu, footer): its texts translated once per language, its links built once.

Every page draws the same menu; looking its dozen words up in the catalogue and building its links with `url_for`
on every request cost the walk's section page about a tenth of its time. `base.html` reads `site` (texts) and
`links` (addresses) instead.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, request, url_for
from flask_babel import lazy_gettext as _l

from audit.i18n import translate_all

SITE_TEXTS = {
    "main_menu": _l("Main menu"),
    "buildings": _l("Buildings"),
    "inspections": _l("Inspections"),
    "certificates": _l("Certificates"),
    "tasks": _l("Tasks"),
    "dashboard": _l("Dashboard"),
    "audit_log": _l("Audit log"),
    "my_tasks": _l("My tasks"),
    "deviations": _l("Deviations"),
    "report_deviation": _l("Report a deviation"),
    "est_groups": _l("EST"),
    "log_out": _l("Log out"),
    "change_password": _l("Change password"),
    "device": _l("On this device"),
    "users": _l("Users"),
    "log_in": _l("Log in"),
    "footer": _l("Trygga hus — checklist-driven safety inspections of residential buildings."),
    # {count} is filled in on the device (offline.js).
    "unsent_on_logout": _l(
        "{count} changes or photos have not reached the server yet. Log out and delete them from this device? "
        "Cancel to stay and send them first."
    ),
}

#: name: (endpoint, values) of every link in the frame.
SITE_LINKS: dict[str, tuple[str, dict[str, Any]]] = {
    "index": ("main.index", {}),
    "stylesheet": ("static", {"filename": "css/app.css"}),
    "buildings": ("buildings.index", {}),
    "inspections": ("inspections.index", {}),
    "certificates": ("certificates.index", {}),
    "tasks": ("remediation.index", {}),
    "dashboard": ("remediation.dashboard", {}),
    "audit_log": ("auditlog.index", {}),
    "my_tasks": ("remediation.index", {"unverified": 1}),
    "deviations": ("deviations.index", {}),
    "report_deviation": ("deviations.new", {}),
    "est_groups": ("est.index", {}),
    "log_out": ("accounts.logout", {}),
    "change_password": ("accounts.change_password", {}),
    "device": ("offline.device", {}),
    "users": ("accounts.users", {}),
    "log_in": ("accounts.login", {}),
    "manifest": ("offline.manifest", {}),
    "service_worker": ("offline.service_worker", {}),
    "offline_session": ("offline.session_token", {}),
    "api": ("api.get_inspection", {"inspection_id": 1}),
    "idb_js": ("static", {"filename": "vendor/idb/idb.umd.js"}),
    "outbox_js": ("static", {"filename": "js/outbox.js"}),
    "offline_js": ("static", {"filename": "js/offline.js"}),
    "icon": ("static", {"filename": "icons/icon-192.png"}),
}

#: Built links by the application root they were built under (one per deployment, in practice).
_BUILT: dict[str, dict[str, str]] = {}


def site_links() -> dict[str, str]:
    root = request.script_root
    links = _BUILT.get(root)
    if links is None:
        links = {name: url_for(endpoint, **values) for name, (endpoint, values) in SITE_LINKS.items()}
        links["api"] = links["api"].rsplit("/inspections/", 1)[0]  # the API's root, /api/v1
        _BUILT[root] = links
    return links


def _site_context() -> dict[str, Any]:
    if not has_request_context():  # a PDF made by the command line or a background job has no frame
        return {}
    return {"site": translate_all(SITE_TEXTS), "links": site_links()}


def init_site(app: Flask) -> None:
    app.context_processor(_site_context)
