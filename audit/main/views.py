"""The start page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

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


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", dialect=db.engine.dialect.name)
