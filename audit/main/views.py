"""The start page (the health endpoints are in `audit.health`)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from audit.access import public
from audit.deviations.est.views import est_partner_only
from audit.extensions import db
from audit.models import ChecklistVersion, Role

bp = Blueprint("main", __name__)


def landing() -> str:
    """Where a signed-in user starts: contractors at their tasks, a partner organisation (the police, the
    municipality) at its EST groups, everyone else at the buildings."""
    if current_user.role is Role.contractor:
        return url_for("remediation.index", unverified=1)
    if est_partner_only():
        return url_for("est.index")
    return url_for("buildings.index")


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    # The public start page: what the product is, and no figures about any organisation.
    if current_user.is_authenticated:
        return redirect(landing())
    checklists = db.session.scalars(
        select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version.desc())
    ).all()
    return render_template("main/index.html", checklists=checklists)
