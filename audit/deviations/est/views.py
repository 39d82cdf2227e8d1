"""EST groups' pages: the groups, a group's set-up, the weekly situation picture (page and PDF), the meeting's
measures, the group's reports as each party may see them, and hot-spot analyses.

Every page first finds the current organisation's party in the group (`party_or_404`): an outsider gets 404 for
everything. What a party then sees is decided by the services (`services.group_reports`), not by templates.
"""

from __future__ import annotations

from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import ADMINS, REVIEWERS, STAFF, allow
from audit.accounts.models import Organisation, User
from audit.buildings.models import Area, Building
from audit.certificates.status import today_in_sweden
from audit.deviations.est import services
from audit.deviations.est.forms import (
    AnalysisForm,
    AreaLinkForm,
    GroupAreaForm,
    GroupForm,
    MeasureForm,
    MeasureStatusForm,
    PartyForm,
    RuleForm,
    SpotCheckForm,
)
from audit.deviations.est.models import (
    Cause,
    EstGroup,
    EstGroupArea,
    EstMeasure,
    EstParty,
    HotSpotAnalysis,
    MeasureStatus,
    PartyKind,
    PartyRole,
)
from audit.deviations.est.picture import titles
from audit.deviations.est.weeks import monday, parse_week, week_of, week_text
from audit.deviations.models import Place
from audit.deviations.services import current_catalogue
from audit.downloads import private_file
from audit.errors import DomainError
from audit.extensions import db
from audit.i18n import current_language
from audit.labels import label
from audit.urls import bounded_id

bp = Blueprint("est", __name__, url_prefix="/est")


def est_partner_only() -> bool:
    """`services.partner_only` for the signed-in organisation, asked once per login and kept in the session: the
    menu asks on every page, and the walk's pages count their statements. (It only shapes the menu and the start
    page; an organisation that changes stance sees it at its next login.)"""
    if not current_user.is_authenticated:
        return False
    kept = session.get("est_partner_only")
    if not isinstance(kept, list) or len(kept) != 2 or kept[0] != current_user.organisation_id:
        kept = [current_user.organisation_id, services.partner_only(db.session, current_user.organisation_id)]
        session["est_partner_only"] = kept
    return bool(kept[1])


@bp.app_context_processor
def _menu_context() -> dict[str, object]:
    return {"est_partner_only": est_partner_only}


def party_or_404(group_id: int) -> EstParty:
    """The current organisation's party in the group; 404 when the organisation is not in it."""
    ident = bounded_id(group_id)
    party = services.standing(db.session, ident, current_user.organisation_id) if ident else None
    if party is None:
        abort(404)
    return party


#: What belongs to one group and is addressed by its id in a group's URL.
T = TypeVar("T", EstGroupArea, EstMeasure)


def of_group_or_404(model: type[T], ident: int, party: EstParty) -> T:
    """A group area or measure of the party's group by its id; 404 when missing or another group's."""
    found = db.session.get(model, ident)
    if found is None or found.group_id != party.group_id:
        abort(404)
    return found


def _managing(group_id: int) -> EstParty:
    party = party_or_404(group_id)
    if not services.may_manage(party, current_user):
        abort(403)
    return party


def _recording(group_id: int) -> EstParty:
    party = party_or_404(group_id)
    if not services.may_record(party, current_user):
        abort(403)
    return party


def party_label(party: EstParty) -> str:
    return f"{party.organisation.name} ({label(party.kind).lower()})"


def _week_or_404(week: str) -> int:
    number = parse_week(week)
    if number is None:
        abort(404)
    return number


def this_week() -> str:
    return week_text(week_of(today_in_sweden()))


def _refused(exc: DomainError) -> None:
    db.session.rollback()
    flash(exc.translated(), "error")


@bp.get("/")
@allow(STAFF)
def index() -> ResponseReturnValue:
    parties = services.groups_of(db.session, current_user.organisation_id)
    return render_template("est/index.html", parties=parties, form=GroupForm(), week=this_week())


@bp.post("/")
@allow(ADMINS)
def create() -> ResponseReturnValue:
    form = GroupForm()
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, current_user.organisation_id)
        if organisation is None:
            abort(404)
        try:
            group = services.create_group(db.session, current_user.user, organisation, form.name.data or "")
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("The group is created."), "success")
            return redirect(url_for("est.show", group_id=group.id), 303)
    parties = services.groups_of(db.session, current_user.organisation_id)
    return render_template("est/index.html", parties=parties, form=form, week=this_week()), 422


def _party_form() -> PartyForm:
    form = PartyForm()
    form.role.choices = [SelectChoice(r.value, label(r)) for r in PartyRole]
    form.kind.choices = [SelectChoice(k.value, label(k)) for k in PartyKind]
    return form


def _link_form() -> AreaLinkForm:
    form = AreaLinkForm()
    areas = db.session.scalars(
        select(Area).where(Area.organisation_id == current_user.organisation_id).order_by(Area.name)
    )
    form.area_id.choices = [SelectChoice(str(area.id), area.name) for area in areas]
    return form


def _rule_form(group: EstGroup) -> RuleForm:
    form = RuleForm()
    if not form.is_submitted():
        form.hot_n.data, form.hot_m.data = group.hot_n, group.hot_m
    return form


@bp.get("/<int:group_id>/")
@allow(STAFF)
def show(group_id: int) -> ResponseReturnValue:
    party = party_or_404(group_id)
    return _show(party)


def _show(party: EstParty, status: int = 200) -> ResponseReturnValue:
    group = party.group
    links = {
        group_area.id: [link.area for link in group_area.links if link.organisation_id == party.organisation_id]
        for group_area in group.areas
    }
    counted = {group_area.id: len(group_area.links) for group_area in group.areas}
    return (
        render_template(
            "est/show.html",
            group=group,
            party=party,
            manage=services.may_manage(party, current_user),
            own_links=links,
            counted=counted,
            party_form=_party_form(),
            area_form=GroupAreaForm(),
            link_form=_link_form(),
            rule_form=_rule_form(group),
            week=this_week(),
        ),
        status,
    )


def _then_show(group_id: int, work: object, done: str) -> ResponseReturnValue:
    try:
        work()  # type: ignore[operator]
    except DomainError as exc:
        _refused(exc)
        return _show(party_or_404(group_id), 422)
    flash(done, "success")
    return redirect(url_for("est.show", group_id=group_id), 303)


@bp.post("/<int:group_id>/parties")
@allow(ADMINS)
def add_party(group_id: int) -> ResponseReturnValue:
    party = _managing(group_id)
    form = _party_form()
    slug = (form.organisation.data or "").strip().lower()
    organisation = db.session.scalar(select(Organisation).where(Organisation.slug == slug))
    if not form.validate_on_submit() or organisation is None:
        flash(_("No organisation has this short name."), "error")
        return _show(party, 422)
    role, kind = PartyRole(form.role.data), PartyKind(form.kind.data)
    work = lambda: services.add_party(db.session, current_user.user, party.group, organisation, role, kind)  # noqa: E731
    return _then_show(group_id, work, _("%(name)s takes part in the group.", name=organisation.name))


@bp.post("/<int:group_id>/areas")
@allow(ADMINS)
def add_area(group_id: int) -> ResponseReturnValue:
    party = _managing(group_id)
    form = GroupAreaForm()
    if not form.validate_on_submit():
        return _show(party, 422)
    work = lambda: services.add_group_area(db.session, current_user.user, party.group, form.name.data or "")  # noqa: E731
    return _then_show(group_id, work, _("The group covers %(name)s.", name=form.name.data))


@bp.post("/<int:group_id>/areas/<int:group_area_id>/links")
@allow(ADMINS)
def link_area(group_id: int, group_area_id: int) -> ResponseReturnValue:
    party = _managing(group_id)
    group_area = of_group_or_404(EstGroupArea, group_area_id, party)
    form = _link_form()
    area = db.session.get(Area, form.area_id.data) if form.validate_on_submit() and form.area_id.data else None
    if area is None or area.organisation_id != current_user.organisation_id:
        flash(_("Choose one of your areas."), "error")
        return _show(party, 422)
    work = lambda: services.link_area(db.session, current_user.user, group_area, area)  # noqa: E731
    return _then_show(
        group_id, work, _("%(area)s is counted in %(group_area)s.", area=area.name, group_area=group_area.name)
    )


@bp.post("/<int:group_id>/rule")
@allow(ADMINS)
def rule(group_id: int) -> ResponseReturnValue:
    party = _managing(group_id)
    form = _rule_form(party.group)
    if not form.validate_on_submit():
        return _show(party, 422)
    n, m = form.hot_n.data or 0, form.hot_m.data or 0
    work = lambda: services.set_rule(db.session, current_user.user, party.group, n, m)  # noqa: E731
    return _then_show(group_id, work, _("The hot-spot rule is saved."))


# --- the weekly picture ----------------------------------------------------------------------------------------


def _category_titles() -> dict[str, str]:
    version = current_catalogue(db.session)
    language = current_language()
    return {c.key: c.title.get(language) for c in version.catalogue.categories} if version else {}


def _picture_context(party: EstParty, week: int) -> dict[str, object]:
    picture = services.situation(db.session, party.group, week)
    return {
        "group": party.group,
        "party": party,
        "picture": picture,
        "week": week_text(week),
        "monday": monday(week),
        "week_text": week_text,
        "titles": titles(picture.lines, _category_titles()),
        "today": today_in_sweden(),
    }


@bp.get("/<int:group_id>/weeks/<week>")
@allow(STAFF)
def week(group_id: int, week: str) -> ResponseReturnValue:
    party = party_or_404(group_id)
    number = _week_or_404(week)
    return _week_page(party, number)


def _week_page(party: EstParty, number: int, form: MeasureForm | None = None, status: int = 200) -> ResponseReturnValue:
    recording = services.may_record(party, current_user)
    form = form or MeasureForm()
    form.party_id.choices = [SelectChoice(str(p.id), party_label(p)) for p in party.group.parties]
    return (
        render_template(
            "est/week.html",
            **_picture_context(party, number),
            previous=week_text(number - 1),
            next=week_text(number + 1),
            decisions=services.measures_of(db.session, party.group, week_text(number)),
            recording=recording,
            form=form,
            status_form=MeasureStatusForm(),
            statuses=list(MeasureStatus),
        ),
        status,
    )


@bp.get("/<int:group_id>/weeks/<week>.pdf")
@allow(STAFF)
def week_pdf(group_id: int, week: str) -> ResponseReturnValue:
    from audit.pdf import render_pdf

    party = party_or_404(group_id)
    number = _week_or_404(week)
    try:
        pdf = render_pdf("est/week_pdf.html", _picture_context(party, number))
    except DomainError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("est.week", group_id=group_id, week=week), 303)
    return private_file(pdf, "application/pdf", f"lagesbild-{group_id}-{week_text(number)}.pdf")


@bp.post("/<int:group_id>/weeks/<week>/measures")
@allow(REVIEWERS)
def add_measure(group_id: int, week: str) -> ResponseReturnValue:
    party = _recording(group_id)
    number = _week_or_404(week)
    form = MeasureForm()
    if not form.validate_on_submit():
        return _week_page(party, number, form, 422)
    data = form.measure_input()
    try:
        services.record_measure(db.session, current_user.user, party.group, number, data)
    except DomainError as exc:
        _refused(exc)
        return _week_page(party_or_404(group_id), number, form, 422)
    flash(_("The measure is recorded."), "success")
    return redirect(url_for("est.week", group_id=group_id, week=week_text(number)), 303)


@bp.post("/<int:group_id>/measures/<int:measure_id>/status")
@allow(REVIEWERS)
def measure_status(group_id: int, measure_id: int) -> ResponseReturnValue:
    party = _recording(group_id)
    measure = of_group_or_404(EstMeasure, measure_id, party)
    form = MeasureStatusForm()
    form.status.choices = [SelectChoice(s.value, label(s)) for s in MeasureStatus]
    if form.validate_on_submit():
        services.set_measure_status(db.session, current_user.user, measure, MeasureStatus(form.status.data))
        flash(_("The measure is %(status)s.", status=label(measure.status).lower()), "success")
    back = request.form.get("back", "")
    if back.startswith("/est/"):
        return redirect(back, 303)
    return redirect(url_for("est.week", group_id=group_id, week=measure.week), 303)


# --- the group's reports and hot spots ----------------------------------------------------------------------------


@bp.get("/<int:group_id>/reports")
@allow(REVIEWERS)
def reports(group_id: int) -> ResponseReturnValue:
    """The group's reports: for members' safety coordinators and partners' contact persons (admins, managers)."""
    party = party_or_404(group_id)
    rows = services.group_reports(db.session, party.group, party, current_language())
    return render_template("est/reports.html", group=party.group, party=party, reports=rows)


def _analysis_form(analysis: HotSpotAnalysis | None) -> AnalysisForm:
    form = AnalysisForm(obj=analysis)
    form.causes.choices = [SelectChoice(c.value, label(c)) for c in Cause]
    return form


def _spot_or_404(group_id: int, spot: str, recording: bool = False) -> EstParty:
    party = _recording(group_id) if recording else party_or_404(group_id)
    if services.spot_target(db.session, party.group, spot) is None:
        abort(404)
    return party


@bp.get("/<int:group_id>/spots/<spot>")
@allow(STAFF)
def spot(group_id: int, spot: str) -> ResponseReturnValue:
    party = _spot_or_404(group_id, spot)
    analysis = services.analysis_of(db.session, party.group, spot)
    return _spot_page(party, spot, _analysis_form(analysis), MeasureForm(), 200)


@bp.post("/<int:group_id>/spots/<spot>")
@allow(REVIEWERS)
def save_analysis(group_id: int, spot: str) -> ResponseReturnValue:
    party = _spot_or_404(group_id, spot, recording=True)
    form = _analysis_form(None)
    if form.validate_on_submit():
        try:
            services.save_analysis(
                db.session, current_user.user, party.group, spot, form.causes.data or [], form.notes.data or ""
            )
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("The analysis is saved."), "success")
            return redirect(url_for("est.spot", group_id=group_id, spot=spot), 303)
    return _spot_page(party_or_404(group_id), spot, form, MeasureForm(), 422)


def _spot_page(
    party: EstParty, spot: str, form: AnalysisForm, measure_form: MeasureForm, status: int
) -> ResponseReturnValue:
    group = party.group
    week = week_of(today_in_sweden())
    target = services.spot_target(db.session, group, spot)
    weeks = services.spot_weeks(db.session, group, spot, week)
    analysis = services.analysis_of(db.session, group, spot)
    measure_form.party_id.choices = [SelectChoice(str(p.id), party_label(p)) for p in group.parties]
    recording = services.may_record(party, current_user)
    # Inspections and tasks are the organisation's own: a member's, never a partner's.
    member = party.role is PartyRole.member
    return (
        render_template(
            "est/spot.html",
            group=group,
            party=party,
            spot=spot,
            target=target,
            periods=services.spot_periods(group, weeks, week),
            weeks=[week_text(w) for w in weeks],
            analysis=analysis,
            measures=services.analysis_measures(db.session, analysis) if analysis else [],
            recording=recording,
            spot_check_form=_spot_check_form(party, target) if recording else None,
            inspections=services.spot_inspections(db.session, group, spot, party.organisation_id) if member else [],
            tasks=services.spot_tasks(db.session, group, target, party.organisation_id) if member and target else [],
            form=form,
            measure_form=measure_form,
            status_form=MeasureStatusForm(),
            statuses=list(MeasureStatus),
            week_text=week_text,
        ),
        status,
    )


@bp.post("/<int:group_id>/spots/<spot>/measures")
@allow(REVIEWERS)
def spot_measure(group_id: int, spot: str) -> ResponseReturnValue:
    party = _recording(group_id)
    analysis = services.analysis_of(db.session, party.group, spot)
    if analysis is None:
        abort(404)
    form = MeasureForm()
    if form.validate_on_submit():
        data = form.measure_input()
        try:
            services.record_measure(
                db.session, current_user.user, party.group, week_of(today_in_sweden()), data, analysis
            )
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("The measure is recorded."), "success")
            return redirect(url_for("est.spot", group_id=group_id, spot=spot), 303)
    return _spot_page(party_or_404(group_id), spot, _analysis_form(analysis), form, 422)


def _spot_check_form(party: EstParty, target: Place | Building | None) -> SpotCheckForm | None:
    """The spot-check form, or None when the organisation has no building to check at the spot."""
    buildings = services.spot_check_buildings(db.session, target, party.organisation_id) if target else []
    if not buildings:
        return None
    inspectors = services.spot_check_inspectors(db.session, party.organisation_id)
    form = SpotCheckForm()
    form.building_id.choices = [SelectChoice(str(b.id), b.name) for b in buildings]
    form.inspector_id.choices = [SelectChoice(str(u.id), u.name) for u in inspectors]
    if any(u.id == current_user.id for u in inspectors):
        form.inspector_id.data = current_user.id  # the coordinator walks it when they may
    return form


@bp.post("/<int:group_id>/spots/<spot>/spot-check")
@allow(REVIEWERS)
def spot_check(group_id: int, spot: str) -> ResponseReturnValue:
    """Start a spot check of a building at the hot spot (the inspections package's service does the starting)."""
    party = _spot_or_404(group_id, spot, recording=True)
    form = SpotCheckForm()
    building = db.session.get(Building, form.building_id.data or 0)
    inspector = db.session.get(User, form.inspector_id.data or 0)
    if form.validate_on_submit() and building is not None and inspector is not None:
        try:
            inspection = services.start_spot_check(db.session, current_user.user, party, spot, building, inspector)
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("The spot check is started."), "success")
            return redirect(url_for("inspections.show", inspection_id=inspection.id), 303)
    else:
        flash(_("Choose a building and an inspector."), "error")
    return redirect(url_for("est.spot", group_id=group_id, spot=spot), 303)
