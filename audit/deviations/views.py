"""Deviation reports: the phone-first report form, the list, a report's page and the coordinators' follow-up.

Everyone in the organisation may report and sees their own reports. Safety coordinators (admins and managers) see
every report, triage them, comment, link and turn them into tasks. A sensitive report shows only its category and
place to anyone else who reaches it (the assignee of its task).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import ALL_ROLES, REVIEWERS, allow, get_scoped_or_404
from audit.api.views import PHOTO_PROBLEMS
from audit.buildings.models import Area, Building
from audit.certificates.status import TIMEZONE
from audit.deviations import services
from audit.deviations.forms import CommentForm, LinkForm, ReportForm, ShareForm, TaskForm, TriageForm
from audit.deviations.models import DeviationPhoto, DeviationReport
from audit.deviations.services import InvalidReport, ReportFilter, ReportInput
from audit.deviations.workflow import TRANSITIONS, DeviationAction, DeviationStatus, allowed_triage
from audit.errors import DomainError
from audit.extensions import db
from audit.i18n import current_language
from audit.input_guard import takes_files
from audit.labels import label
from audit.photos.processing import PhotoRejected
from audit.photos.services import photo_response
from audit.urls import bounded_id, page_number

bp = Blueprint("deviations", __name__, url_prefix="/deviations")

PAGE_SIZE = 50
REPORT_OPTIONS = (
    joinedload(DeviationReport.area),
    joinedload(DeviationReport.building),
    joinedload(DeviationReport.place),
    joinedload(DeviationReport.reported_by),
)


def report_or_404(report_id: int) -> DeviationReport:
    """The report, if the current user may reach it (another organisation's, or someone else's, answers 404)."""
    report = get_scoped_or_404(DeviationReport, report_id, REPORT_OPTIONS)
    if not services.may_see(current_user.role, current_user.id, report, db.session):
        abort(404)
    return report


def _areas() -> list[Area]:
    return list(
        db.session.scalars(select(Area).where(Area.organisation_id == current_user.organisation_id).order_by(Area.name))
    )


def _buildings(area_id: int | None = None) -> list[Building]:
    query = select(Building).where(
        Building.organisation_id == current_user.organisation_id, Building.area_id.is_not(None)
    )
    if area_id is not None:
        query = query.where(Building.area_id == area_id)
    return list(db.session.scalars(query.order_by(Building.name)))


def _in_area(ident: int, name: str, area_id: int | None) -> SelectChoice:
    """A choice the report form's script shows only while its area is chosen."""
    return SelectChoice(str(ident), name, render_kw={"data-area": str(area_id)})


def _building_choices(area_id: int) -> list[SelectChoice]:
    return [SelectChoice(str(b.id), b.name) for b in _buildings(area_id)]


def _report_form() -> ReportForm:
    form = ReportForm()
    version = services.current_catalogue(db.session)
    language = current_language()
    categories = version.catalogue.categories if version else ()
    form.category.choices = [SelectChoice(category.key, category.title.get(language)) for category in categories]
    areas = _areas()
    form.area_id.choices = [SelectChoice("", _("Choose…")), *(SelectChoice(str(a.id), a.name) for a in areas)]
    if not form.is_submitted():
        # The area the user reported in last (where they work), or the organisation's only one.
        last = db.session.scalar(
            select(DeviationReport.area_id)
            .where(DeviationReport.reported_by_id == current_user.id)
            .order_by(DeviationReport.id.desc())
            .limit(1)
        )
        form.area_id.data = last if last is not None else areas[0].id if len(areas) == 1 else None
    form.building_id.choices = [SelectChoice("", "—"), *(_in_area(b.id, b.name, b.area_id) for b in _buildings())]
    places = services.places(db.session, current_user.organisation_id)
    form.place_id.choices = [SelectChoice("", "—"), *(_in_area(p.id, p.name, p.area_id) for p in places)]
    form.urgency.choices = [
        SelectChoice("", _("As usual for the category")),
        *(SelectChoice(u.value, label(u)) for u in services.Urgency),
    ]
    if not form.is_submitted():
        form.seen_at.data = datetime.now(TIMEZONE).replace(second=0, microsecond=0, tzinfo=None)
    return form


def _render_new(form: ReportForm, status: int = 200) -> ResponseReturnValue:
    version = services.current_catalogue(db.session)
    categories = version.catalogue.categories if version else ()
    return (
        render_template(
            "deviations/new.html",
            form=form,
            helps={c.key: c.help.get(current_language()) for c in categories},
            urgencies={c.key: c.urgency.value for c in categories},
            fresh=not form.is_submitted(),
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@allow(ALL_ROLES)
@takes_files("photo")
def new() -> ResponseReturnValue:
    form = _report_form()
    if not form.validate_on_submit():
        return _render_new(form, 422 if form.is_submitted() else 200)
    seen = form.seen_at.data.replace(tzinfo=TIMEZONE) if form.seen_at.data else None
    upload = form.photo.data
    data = ReportInput(
        category=form.category.data or "",
        area_id=form.area_id.data or 0,
        description=form.description.data or "",
        building_id=form.building_id.data,
        place_id=form.place_id.data,
        place_name=form.place_name.data,
        seen_at=seen,
        urgency=form.urgency_value(),
        photo=upload.read() if upload else None,
    )
    try:
        report = services.report_deviation(db.session, current_user.user, current_user.organisation_id, data)
    except InvalidReport as exc:
        db.session.rollback()
        field = getattr(form, exc.field, form.description)
        field.errors = [*field.errors, exc.translated()]
        return _render_new(form, 422)
    except PhotoRejected as exc:
        db.session.rollback()
        form.photo.errors = [*form.photo.errors, str(PHOTO_PROBLEMS.get(exc.code, exc.code))]
        return _render_new(form, 422)
    flash(_("Thank you: report %(number)s is sent.", number=report.id), "success")
    return redirect(url_for("deviations.show", report_id=report.id))


@bp.get("/")
@allow(ALL_ROLES)
def index() -> ResponseReturnValue:
    coordinator = services.is_coordinator(current_user.role)
    status = request.args.get("status", "")
    chosen = ReportFilter(
        status=DeviationStatus(status) if status in DeviationStatus.__members__ else None,
        category=request.args.get("category", "")[:40] or None,
        area_id=bounded_id(request.args.get("area")),
        reporter_id=None if coordinator else current_user.id,
    )
    page = page_number(request.args.get("page"))
    total = services.count_reports(db.session, current_user.organisation_id, chosen)
    query = (
        services.report_query(current_user.organisation_id, chosen)
        .options(*REPORT_OPTIONS)
        .order_by(DeviationReport.seen_at.desc(), DeviationReport.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    version = services.current_catalogue(db.session)
    return render_template(
        "deviations/list.html",
        reports=db.session.scalars(query).all(),
        chosen=chosen,
        coordinator=coordinator,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        total=total,
        areas=_areas(),
        categories=version.catalogue.categories if version else (),
        statuses=list(DeviationStatus),
        lang=current_language(),
    )


def _show(report: DeviationReport, status: int = 200, **forms: object) -> ResponseReturnValue:
    coordinator = services.is_coordinator(current_user.role)
    task_form = forms.pop("task_form", None) or TaskForm()
    task_form.building_id.choices = _building_choices(report.area_id)  # type: ignore[attr-defined]
    if report.building_id and not task_form.building_id.data:  # type: ignore[attr-defined]
        task_form.building_id.data = report.building_id  # type: ignore[attr-defined]
    return (
        render_template(
            "deviations/show.html",
            report=report,
            coordinator=coordinator,
            details=services.shows_details(current_user.role, current_user.id, report),
            actions=allowed_triage(report.status) if coordinator else [],
            triage_form=forms.pop("triage_form", None) or TriageForm(),
            comment_form=forms.pop("comment_form", None) or CommentForm(),
            link_form=forms.pop("link_form", None) or LinkForm(),
            task_form=task_form,
            share_form=ShareForm(),
            linked=services.linked_reports(db.session, report) if coordinator else [],
            task=services.task_of(db.session, report),
            lang=current_language(),
        ),
        status,
    )


@bp.get("/<int:report_id>")
@allow(ALL_ROLES)
def show(report_id: int) -> ResponseReturnValue:
    return _show(report_or_404(report_id))


def _step(
    report: DeviationReport, form_name: str, form: object, work: Callable[[], object], done: str
) -> ResponseReturnValue:
    """Run one follow-up step; a refusal shows the report again with the reason."""
    try:
        work()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "error")
        return _show(report_or_404(report.id), 422, **{form_name: form})
    flash(done, "success")
    return redirect(url_for("deviations.show", report_id=report.id))


@bp.post("/<int:report_id>/triage")
@allow(REVIEWERS)
def triage(report_id: int) -> ResponseReturnValue:
    report = report_or_404(report_id)
    form = TriageForm()
    if not form.validate_on_submit():
        return _show(report, 422, triage_form=form)
    action = DeviationAction(form.action.data)
    work = lambda: services.triage(db.session, current_user.user, report, action, form.comment.data or "")  # noqa: E731
    target = TRANSITIONS[action][1] or report.status
    return _step(report, "triage_form", form, work, _("The report is now %(status)s.", status=label(target).lower()))


@bp.post("/<int:report_id>/comments")
@allow(REVIEWERS)
def comment(report_id: int) -> ResponseReturnValue:
    report = report_or_404(report_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _show(report, 422, comment_form=form)
    work = lambda: services.add_comment(db.session, current_user.user, report, form.comment.data or "")  # noqa: E731
    return _step(report, "comment_form", form, work, _("The comment is saved."))


@bp.post("/<int:report_id>/links")
@allow(REVIEWERS)
def link(report_id: int) -> ResponseReturnValue:
    report = report_or_404(report_id)
    form = LinkForm()
    other_id = bounded_id((form.other.data or "").strip().lstrip("#"))
    other = db.session.get(DeviationReport, other_id) if form.validate_on_submit() and other_id else None
    if other is None or other.organisation_id != current_user.organisation_id:
        flash(_("Choose another report of the organisation."), "error")
        return _show(report, 422, link_form=form)
    work = lambda: services.link_reports(db.session, current_user.user, report, other)  # noqa: E731
    return _step(report, "link_form", form, work, _("The reports are linked."))


@bp.post("/<int:report_id>/task")
@allow(REVIEWERS)
def task(report_id: int) -> ResponseReturnValue:
    report = report_or_404(report_id)
    form = TaskForm()
    form.building_id.choices = _building_choices(report.area_id)
    building = (
        db.session.get(Building, form.building_id.data) if form.validate_on_submit() and form.building_id.data else None
    )
    if building is None or building.organisation_id != current_user.organisation_id:
        flash(_("Choose a building in the chosen area."), "error")
        return _show(report, 422, task_form=form)
    try:
        made = services.create_task(db.session, current_user.user, report, building)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "error")
        return _show(report_or_404(report_id), 422, task_form=form)
    flash(_("Task %(key)s is created.", key=made.item_key), "success")
    return redirect(url_for("remediation.show", task_id=made.id))


@bp.post("/<int:report_id>/share")
@allow(REVIEWERS)
def share(report_id: int) -> ResponseReturnValue:
    """Share the report with the partners of the EST groups covering its area (police, municipality…), or stop."""
    from audit.deviations.est.services import share_report

    report = report_or_404(report_id)
    form = ShareForm()
    if form.validate_on_submit():
        shared = form.shared.data == "1"
        share_report(db.session, current_user.user, report, shared)
        flash(
            _("The report is shared with the group's partners.") if shared else _("The report is no longer shared."),
            "success",
        )
    return redirect(url_for("deviations.show", report_id=report.id), 303)


@bp.get("/<int:report_id>/photos/<int:photo_id>")
@bp.get("/<int:report_id>/photos/<int:photo_id>/<variant>")
@allow(ALL_ROLES)
def photo(report_id: int, photo_id: int, variant: str = "full") -> Response:
    report = report_or_404(report_id)
    stored = get_scoped_or_404(DeviationPhoto, photo_id)
    if stored.report_id != report.id or not services.shows_details(current_user.role, current_user.id, report):
        abort(404)
    return photo_response(stored, variant)
