"""The audit log for an organisation's admins: read and filter it, and export what the filter shows as CSV."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from audit.access import ADMINS, allow
from audit.auditlog import services
from audit.auditlog.labels import action_label, entry_row, export_header
from audit.auditlog.services import LogFilter
from audit.certificates.status import today_in_sweden
from audit.downloads import private_file
from audit.extensions import db
from audit.remediation.export import to_csv

bp = Blueprint("auditlog", __name__, url_prefix="/audit")


#: The days the log can have entries from; a date outside them is no filter at all.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is not None and FIRST_DAY <= day <= LAST_DAY else None


def _int(text: str | None, maximum: int = 2**62) -> int | None:
    """A whole number within the database's range; anything else is no filter at all."""
    if not text or not text.isascii() or not text.isdigit():  # isdigit() alone takes "²", which int() refuses
        return None
    return int(text) if int(text) <= maximum else None


def _text(text: str | None, limit: int) -> str | None:
    """Printable text only (PostgreSQL refuses a NUL in a query), at most as long as the column."""
    printable = "".join(character for character in text or "" if character.isprintable())
    return printable.strip()[:limit] or None


def parse_filter(args: MultiDict[str, str]) -> LogFilter:
    return LogFilter(
        action=_text(args.get("action"), 64),
        actor=_text(args.get("actor"), 254),
        object_type=_text(args.get("object_type"), 40),
        object_id=_int(args.get("object_id")),
        since=_date(args.get("since")),
        until=_date(args.get("until")),
        page=_int(args.get("page"), 10**6) or 1,
    )


@bp.get("/")
@allow(ADMINS)
def index() -> ResponseReturnValue:
    chosen = parse_filter(request.args)
    page = services.log_page(db.session, current_user.organisation_id, chosen)
    choices = services.actions(db.session, current_user.organisation_id)
    return render_template(
        "auditlog/index.html",
        page=page,
        chosen=chosen,
        actions=[(action, action_label(action)) for action in choices],
        action_label=action_label,
    )


@bp.get("/export.csv")
@allow(ADMINS)
def export_csv() -> Response:
    chosen = parse_filter(request.args)
    entries = services.log_entries(db.session, current_user.organisation_id, chosen)
    rows = [entry_row(entry) for entry in entries]
    services.record_export(db.session, current_user, current_user.organisation_id, len(rows), chosen)
    name = f"audit-log-{today_in_sweden().isoformat()}.csv"
    # Werkzeug adds the charset to a text/* type itself.
    return private_file(to_csv(export_header(), rows), "text/csv; charset=utf-8", name)
