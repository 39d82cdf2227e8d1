"""The start page (the health endpoints are in `audit.health`)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from audit.access import public
from audit.extensions import db
from audit.models import ChecklistVersion, Role

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index() -> ResponseReturnValue:
    # The public start page: what the product is, and no figures about any organisation.
    if current_user.is_authenticated:
        if current_user.role is Role.contractor:
            return redirect(url_for("remediation.index", unverified=1))
        return redirect(url_for("buildings.index"))
    checklists = db.session.scalars(
        select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version.desc())
    ).all()
    return render_template("main/index.html", checklists=checklists)
