"""Buildings: the inspector's list, a building's page, and the admin's forms."""

from __future__ import annotations

from itertools import groupby
from typing import TypedDict

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import ADMINS, STAFF, allow, get_scoped_or_404
from audit.buildings.features import Feature
from audit.buildings.forms import AreaForm, BuildingForm
from audit.buildings.models import Area, Building
from audit.buildings.services import buildings_page, create_area, create_building, update_building
from audit.extensions import db
from audit.inspections.models import Inspection, InspectionStatus
from audit.labels import label
from audit.remediation.views import preload_building_tasks
from audit.urls import bounded_id, page_number

bp = Blueprint("buildings", __name__, url_prefix="/buildings")


@bp.get("/")
@allow(STAFF)
def index() -> ResponseReturnValue:
    search = request.args.get("q", "")[:100]
    area_id = bounded_id(request.args.get("area"))
    organisation_id = current_user.organisation_id
    page = buildings_page(db.session, organisation_id, search, area_id, page_number(request.args.get("page")))
    preload_building_tasks([building.id for building, _inspection in page.rows])
    groups = [(area, list(items)) for area, items in groupby(page.rows, key=lambda row: row[0].area)]
    areas = db.session.scalars(select(Area).where(Area.organisation_id == organisation_id).order_by(Area.name))
    return render_template(
        "buildings/index.html", groups=groups, search=search, area_id=area_id, areas=list(areas), page=page
    )


@bp.get("/<int:building_id>")
@allow(STAFF)
def show(building_id: int) -> ResponseReturnValue:
    building = get_scoped_or_404(Building, building_id)
    inspections = db.session.scalars(
        select(Inspection)
        .where(Inspection.building_id == building.id, Inspection.status != InspectionStatus.discarded)
        .order_by(Inspection.id.desc())
    ).all()
    return render_template("buildings/show.html", building=building, inspections=inspections)


def _area_choices() -> list[SelectChoice]:
    areas = db.session.scalars(
        select(Area).where(Area.organisation_id == current_user.organisation_id).order_by(Area.name)
    )
    return [SelectChoice("0", _("No area")), *(SelectChoice(str(area.id), area.name) for area in areas)]


def _building_form(building: Building | None = None) -> BuildingForm:
    form = BuildingForm(obj=building)
    form.area_id.choices = _area_choices()
    form.features.choices = [SelectChoice(feature.value, label(feature)) for feature in Feature]
    if building is not None and request.method == "GET":
        form.features.data = sorted(feature.value for feature in building.features)
        form.area_id.data = building.area_id or 0
    return form


class _BuildingValues(TypedDict):
    """What the form gives `create_building` and `update_building`."""

    name: str
    area: Area | None
    street_address: str
    postcode: str
    city: str
    property_designation: str | None
    year_built: int | None
    apartments: int | None
    features: list[str]


def _building_values(form: BuildingForm) -> _BuildingValues:
    area = get_scoped_or_404(Area, form.area_id.data) if form.area_id.data else None
    # The required fields are never empty once the form has validated.
    return {
        "name": form.name.data or "",
        "area": area,
        "street_address": form.street_address.data or "",
        "postcode": form.postcode.data or "",
        "city": form.city.data or "",
        "property_designation": form.property_designation.data or None,
        "year_built": form.year_built.data,
        "apartments": form.apartments.data,
        "features": form.features.data or [],
    }


def _building_page(building: Building | None) -> ResponseReturnValue:
    """The form to create (`building` None) or edit a building, and saving it."""
    form = _building_form(building)
    if form.validate_on_submit():
        try:
            if building is None:
                building = create_building(db.session, current_user.organisation, **_building_values(form))
            else:
                update_building(db.session, building, **_building_values(form))
        except IntegrityError:
            db.session.rollback()
            form.name.errors = [*form.name.errors, _("A building with this name already exists.")]
            return render_template("buildings/form.html", form=form, building=building), 409
        flash(_("The building was saved."), "success")
        return redirect(url_for("buildings.show", building_id=building.id))
    return render_template("buildings/form.html", form=form, building=building), 422 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
@allow(ADMINS)
def create() -> ResponseReturnValue:
    return _building_page(None)


@bp.route("/<int:building_id>/edit", methods=["GET", "POST"])
@allow(ADMINS)
def edit(building_id: int) -> ResponseReturnValue:
    return _building_page(get_scoped_or_404(Building, building_id))


@bp.route("/areas", methods=["GET", "POST"])
@allow(ADMINS)
def areas() -> ResponseReturnValue:
    form = AreaForm()
    if form.validate_on_submit():
        try:
            create_area(db.session, current_user.organisation, form.name.data or "")
        except IntegrityError:
            db.session.rollback()
            form.name.errors = [_("An area with this name already exists.")]
        else:
            flash(_("The area was saved."), "success")
            return redirect(url_for("buildings.areas"))
    existing = db.session.scalars(
        select(Area).where(Area.organisation_id == current_user.organisation_id).order_by(Area.name)
    ).all()
    return render_template("buildings/areas.html", form=form, areas=existing), 422 if form.errors else 200
