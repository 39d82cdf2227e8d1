"""The log's words: translated names of its actions, and its rows as the CSV export writes them."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from audit.auditlog.models import AuditEntry
from audit.deviations.workflow import DeviationAction
from audit.labels import label
from audit.remediation.export import Cell
from audit.remediation.workflow import TaskAction

ACTIONS = {
    "user.logged_in": _l("Logged in"),
    "user.login_failed": _l("Failed login"),
    "user.logged_out": _l("Logged out"),
    "membership.role_granted": _l("Role granted"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "inspection.started": _l("Inspection started"),
    "inspection.submitted": _l("Inspection submitted"),
    "inspection.approved": _l("Inspection confirmed"),
    "inspection.returned": _l("Inspection returned"),
    "inspection.discarded": _l("Draft discarded"),
    "certificate.issued": _l("Certificate issued"),
    "certificate.revoked": _l("Certificate revoked"),
    "certificate.sign_regenerated": _l("Sign made again"),
    "inspection_report.exported": _l("Inspection report exported"),
    "task_list.exported": _l("Task list exported"),
    "audit_log.exported": _l("Audit log exported"),
    "deviation_catalogue.loaded": _l("Deviation catalogue loaded"),
}


def action_label(action: str) -> str:
    """The action's name in the user's language (the code itself for an action this version does not know)."""
    known = ACTIONS.get(action)
    if known is not None:
        return str(known)
    kind, _dot, step = action.partition(".")
    if kind == "task" and step in TaskAction.__members__:
        return str(_("Task: %(step)s", step=label(TaskAction(step))))
    if kind == "deviation" and step in DeviationAction.__members__:
        return str(_("Deviation report: %(step)s", step=label(DeviationAction(step))))
    return action


def export_header() -> list[str]:
    return [
        _("Time (UTC)"),
        _("Action"),
        _("Code"),
        _("Who"),
        _("Object"),
        _("Object id"),
        _("Before"),
        _("After"),
        _("Request id"),
        _("Sequence"),
        _("Hash"),
    ]


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def entry_row(entry: AuditEntry) -> list[Cell]:
    return [
        entry.at.isoformat(timespec="seconds"),
        action_label(entry.action),
        entry.action,
        entry.actor_email,
        entry.object_type,
        entry.object_id,
        _json(entry.before),
        _json(entry.after),
        entry.request_id,
        entry.sequence,
        entry.entry_hash,
    ]
