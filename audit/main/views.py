"""The start page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from audit.access import public
from audit.extensions import db
from audit.models import Building, ChecklistVersion, Organisation

bp = Blueprint("main", __name__)


@bp.get("/")
@public
def index():  # type: ignore[no-untyped-def]
    counts = {
        "organisations": db.session.scalar(select(func.count()).select_from(Organisation)),
        "buildings": db.session.scalar(select(func.count()).select_from(Building)),
    }
    checklists = db.session.scalars(
        select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version.desc())
    ).all()
    return render_template("main/index.html", counts=counts, checklists=checklists)


@bp.get("/healthz")
@public
def healthz():  # type: ignore[no-untyped-def]
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return jsonify(status="error", database="unreachable", detail=type(exc).__name__), 503
    return jsonify(status="ok", database="ok", dialect=db.engine.dialect.name)
