"""The inspector's walk: start, one section per screen, submit; the manager's review; the result."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import INSPECTORS, REVIEWERS, STAFF, allow, get_scoped_or_404, own_or_404
from audit.accounts.models import Role
from audit.buildings.models import Building, with_feature_list
from audit.certificates.services import issue_problem
from audit.checklists.models import ChecklistVersion
from audit.deviations.est.services import spot_check_origin
from audit.errors import DomainError
from audit.extensions import db
from audit.i18n import current_language, translate_all
from audit.inspections.filters import InspectionFilter, Verdict
from audit.inspections.findings import findings
from audit.inspections.forms import DiscardForm, ReturnForm, ReviewForm, StartInspectionForm, SubmitForm
from audit.inspections.fragments import item_fragments, section_fragments
from audit.inspections.models import AnswerResult, Inspection, InspectionKind, InspectionStatus
from audit.inspections.queries import filter_choices, list_inspections
from audit.inspections.scoring import score
from audit.inspections.services import (
    AnswerInput,
    DraftExists,
    IncompleteInspection,
    NotInspector,
    approve_inspection,
    discard_draft,
    mark_share_locked,
    may_discard,
    open_drafts,
    return_inspection,
    save_answer,
    start_inspection,
    submit_inspection,
)
from audit.inspections.walk import FORM_FIELDS, as_typed, build_walk
from audit.labels import label
from audit.photos.models import Photo
from audit.photos.services import photo_response
from audit.remediation.follow_up import inspection_checklist
from audit.remediation.queries import inspection_tasks

bp = Blueprint("inspections", __name__, url_prefix="/inspections")
bp.add_app_template_global(item_fragments)

#: The section page's fixed texts: each item repeats several of them, so they are translated once per language.
WALK_TEXTS = {
    "pass_": _l("Met"),
    "fail": _l("Not met"),
    "na": _l("N/A"),
    "saved": _l("Saved"),
    "critical": _l("Critical"),
    "guidance": _l("Guidance"),
    "answer": _l("Answer"),
    "measured": _l("Measured value"),
    "meets": _l("Meets the threshold"),
    "misses": _l("Does not meet the threshold"),
    "notes": _l("Notes"),
    "comment": _l("Comment"),
    "add_photo": _l("Add photo"),
    "photo_required": _l("A photo is required when this item is not met."),
    "photo_of": _l("Photo"),
    "saving": _l("Saving…"),
    "unsaved": _l("Not saved — will retry"),
    "offline": _l("Not saved — offline, kept on this device"),
    "error": _l("Not saved"),
    "conflict": _l("Changed by someone else meanwhile. Their answer:"),
    "keep_mine": _l("Keep mine"),
    "take_theirs": _l("Use theirs"),
    "uploading": _l("Photo waiting to be sent…"),
    "not_kept": _l("Could not be kept on this device (is its storage full?):"),
    "sections": _l("Sections"),
    "go_to_section": _l("Go to section"),
    "this_section": _l("This section"),
    "whole_inspection": _l("Whole inspection"),
    "item_does_not_apply": _l("does not apply to this building"),
    "save_section": _l("Save section"),
    "to_submission": _l("To submission"),
    "previous_inspection": _l("Previous inspection"),
    "not_answered": _l("Not answered"),
}


def _latest_versions() -> list[ChecklistVersion]:
    versions = db.session.scalars(select(ChecklistVersion).order_by(ChecklistVersion.key, ChecklistVersion.version))
    latest: dict[str, ChecklistVersion] = {}
    for version in versions:
        latest[version.key] = version
    return list(latest.values())


#: What every page of an inspection reads, loaded with the inspection instead of one lazy query at a time; built
#: once, as the walk and autosave run it on every request.
_INSPECTION_BY_ID = (
    select(Inspection)
    .where(Inspection.id == bindparam("inspection_id"))
    .options(
        joinedload(Inspection.checklist_version),
        joinedload(Inspection.building).options(*with_feature_list()),
    )
)


#: For a change of one answer or photo: the inspection's row read under a shared lock on PostgreSQL, so the
#: status check under the lock needs no statement of its own (SQLite ignores FOR SHARE and re-reads later).
_INSPECTION_FOR_SHARE = _INSPECTION_BY_ID.with_for_update(read=True, of=Inspection)


def inspection_or_404(inspection_id: int, *, share_lock: bool = False) -> Inspection:
    statement = _INSPECTION_FOR_SHARE if share_lock else _INSPECTION_BY_ID
    found = own_or_404(db.session.scalars(statement, {"inspection_id": inspection_id}).unique().one_or_none())
    if share_lock:
        mark_share_locked(db.session, found)
    return found


@bp.get("/")
@allow(STAFF)
def index() -> ResponseReturnValue:
    chosen = InspectionFilter.from_args(request.args)
    organisation_id = current_user.organisation_id
    return render_template(
        "inspections/index.html",
        page=list_inspections(db.session, organisation_id, chosen),
        chosen=chosen,
        choices=filter_choices(db.session, organisation_id, chosen),
        statuses=list(InspectionStatus),
        verdicts=list(Verdict),
    )


@bp.route("/start/<int:building_id>", methods=["GET", "POST"])
@allow(INSPECTORS)
def start(building_id: int) -> ResponseReturnValue:
    building = get_scoped_or_404(Building, building_id)
    versions = {version.key: version for version in _latest_versions()}
    form = StartInspectionForm()
    form.kind.choices = [SelectChoice(kind.value, label(kind)) for kind in InspectionKind]
    form.checklist.choices = [
        SelectChoice(
            key,
            _(
                "%(title)s, version %(version)d",
                title=v.title_en if current_language() == "en" else v.title_sv,
                version=v.version,
            ),
        )
        for key, v in versions.items()
    ]
    if form.validate_on_submit():
        try:
            inspection = start_inspection(
                db.session, current_user.user, building, InspectionKind(form.kind.data), versions[form.checklist.data]
            )
        except DraftExists as exc:
            db.session.rollback()
            form.kind.errors = [*form.kind.errors, exc.translated()]
            status = 409
        except DomainError as exc:  # e.g. a follow-up of a building without an approved inspection
            db.session.rollback()
            form.kind.errors = [*form.kind.errors, exc.translated()]
            status = 422
        else:
            return redirect(url_for("inspections.show", inspection_id=inspection.id))
    else:
        status = 422 if form.errors else 200
    page = render_template(
        "inspections/start.html",
        form=form,
        building=building,
        skipped=_skipped_sections(building, versions),
        drafts=open_drafts(db.session, building.id),
    )
    return page, status


def _skipped_sections(building: Building, versions: dict[str, ChecklistVersion]) -> list[Any]:
    features = building.features
    return [
        section
        for version in versions.values()
        for section in version.checklist.sections
        if section.requires_feature and section.requires_feature not in features
    ]


@bp.get("/<int:inspection_id>")
@allow(STAFF)
def show(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    walk = build_walk(inspection)
    walker = inspection.status.editable and inspection.inspector_id == current_user.id
    # What the device needs to count progress and what is missing without signal (submit.js).
    rules = {"sections": walk.progress_rules, "photos": walk.photo_rules} if walker else None
    return render_template(
        "inspections/show.html",
        inspection=inspection,
        walk=walk,
        walker=walker,
        device_rules=json.dumps(rules, separators=(",", ":")) if rules else "",
        submit_form=SubmitForm(),
        discard_form=DiscardForm(),
        may_discard=inspection.status is InspectionStatus.draft
        and may_discard(current_user, current_user.role, inspection),
        origin=spot_check_origin(db.session, inspection),
    )


@bp.get("/<int:inspection_id>/sections/<section_key>")
@allow(STAFF)
def section(inspection_id: int, section_key: str) -> ResponseReturnValue:
    return _section_page(inspection_or_404(inspection_id), section_key)


def _section_page(inspection: Inspection, section_key: str, typed: bool = False) -> ResponseReturnValue:
    """The section's page; `typed`: its items as the form sent them (saving was refused), answered with 422."""
    walk = build_walk(inspection)
    state = walk.section(section_key)
    if state is None:
        abort(404)
    if typed:
        state = as_typed(state, request.form)
    previous, following = walk.neighbours(section_key)
    editable = inspection.status.editable and inspection.inspector_id == current_user.id
    texts, language = translate_all(WALK_TEXTS), current_language()
    menu = [(other, section_fragments(other.section, language, texts)) for other in walk.progress if other.applicable]
    page = render_template(
        "inspections/section.html",
        inspection=inspection,
        walk=walk,
        state=state,
        menu=menu,
        previous=previous,
        following=following,
        editable=editable,
        t=texts,
        progress_rules=json.dumps(walk.progress_rules, separators=(",", ":")) if editable else "",
    )
    return (page, 422) if typed else page


def _form_answers(state: Any) -> dict[str, AnswerInput]:
    """What the section form (without script) sent, item by item; untouched items are left out."""
    given: dict[str, AnswerInput] = {}
    for item_state in state.items:
        key = item_state.item.key
        fields = {name: request.form.get(f"{name}-{key}") for name in FORM_FIELDS}
        if not any(fields.values()):
            continue
        try:
            result = AnswerResult(fields["result"]) if fields["result"] else None
        except ValueError:
            raise DomainError(_("Unknown answer for %(key)s.", key=key)) from None
        given[key] = AnswerInput(
            result=result,
            value=fields["value"] or None,
            choice=fields["choice"] or None,
            text=fields["text"] or None,
            comment=fields["comment"] or None,
        )
    return given


@bp.post("/<int:inspection_id>/sections/<section_key>")
@allow(INSPECTORS)
def save_section(inspection_id: int, section_key: str) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    state = build_walk(inspection).section(section_key)
    if state is None:
        abort(404)
    try:
        for key, given in _form_answers(state).items():
            save_answer(db.session, current_user, inspection, key, given)
    except DomainError as exc:
        db.session.rollback()
        flash(_("Nothing was saved: %(reason)s", reason=exc.translated()), "error")
        return _section_page(inspection_or_404(inspection_id), section_key, typed=True)
    flash(_("The section was saved."), "success")
    following = request.form.get("next_section")
    target = following if following and build_walk(inspection).section(following) else section_key
    return redirect(url_for("inspections.section", inspection_id=inspection_id, section_key=target))


@bp.post("/<int:inspection_id>/submit")
@allow(INSPECTORS)
def submit(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    if not SubmitForm().validate_on_submit():
        abort(400)
    try:
        submit_inspection(db.session, current_user.user, inspection)
    except IncompleteInspection:
        flash(_("The inspection cannot be submitted yet: see what is missing below."), "error")
        return redirect(url_for("inspections.show", inspection_id=inspection_id, _anchor="missing"))
    except DomainError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("inspections.show", inspection_id=inspection_id))
    flash(_("The inspection was submitted for review."), "success")
    return redirect(url_for("inspections.result", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/approve")
@allow(REVIEWERS)
def approve(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        approve_inspection(db.session, current_user.user, inspection, form.comment.data or None)
    except DomainError as exc:
        return _refused_review(inspection_id, exc.translated(), {"review_form": form})
    flash(_("The inspection was confirmed."), "success")
    return redirect(url_for("inspections.result", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/return")
@allow(REVIEWERS)
def return_(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        message = form.comment.errors[0] if form.comment.data else _("Write what the inspector should do.")
        return _refused_review(inspection_id, str(message), {"return_form": form})
    try:
        return_inspection(db.session, current_user.user, inspection, form.comment.data or "")
    except DomainError as exc:
        return _refused_review(inspection_id, exc.translated(), {"return_form": form})
    flash(_("The inspection was returned to the inspector."), "success")
    return redirect(url_for("inspections.result", inspection_id=inspection_id))


@bp.post("/<int:inspection_id>/discard")
@allow(STAFF - {Role.viewer})
def discard(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    form = DiscardForm()
    if not form.validate_on_submit():
        flash(_("Write why the draft is discarded."), "error")
        return redirect(url_for("inspections.show", inspection_id=inspection_id, _anchor="discard"))
    try:
        discard_draft(db.session, current_user.user, current_user.role, inspection, form.reason.data or "")
    except NotInspector:
        abort(403)
    except DomainError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("inspections.show", inspection_id=inspection_id))
    flash(_("The draft was discarded. It is kept with your reason."), "success")
    return redirect(url_for("buildings.show", building_id=inspection.building_id))


@bp.get("/<int:inspection_id>/result")
@allow(STAFF)
def result(inspection_id: int) -> ResponseReturnValue:
    return _result_page(inspection_or_404(inspection_id))


def _result_page(inspection: Inspection, refused: dict[str, FlaskForm] | None = None) -> ResponseReturnValue:
    """The verdict with the review's decision; `refused`: a review form that was refused, shown as typed (422)."""
    checklist = inspection_checklist(inspection)  # a follow-up's carried-over items only
    card = score(checklist, inspection.building.features, inspection.responses())
    approved = inspection.status is InspectionStatus.approved
    tasks = inspection_tasks(db.session, inspection.id) if approved else {}
    problem = issue_problem(inspection) if approved else None
    reviewable = (
        inspection.status is InspectionStatus.submitted
        and current_user.role in REVIEWERS
        and inspection.inspector_id != current_user.id
    )
    forms: dict[str, FlaskForm | None] = {
        "review_form": ReviewForm(formdata=None) if reviewable else None,
        "return_form": ReturnForm(formdata=None) if reviewable else None,
    }
    if reviewable and refused:
        forms.update(refused)
    page = render_template(
        "inspections/result.html",
        inspection=inspection,
        card=card,
        checklist=checklist,
        findings=findings(inspection, card, checklist, current_language(), tasks),
        tasks=tasks,
        no_certificate=problem.translated() if problem else None,
        InspectionStatus=InspectionStatus,
        **forms,
    )
    return (page, 422) if refused else page


def _refused_review(inspection_id: int, message: str, refused: dict[str, FlaskForm]) -> ResponseReturnValue:
    db.session.rollback()
    flash(message, "error")
    return _result_page(inspection_or_404(inspection_id), refused)


@bp.get("/<int:inspection_id>/photos/<int:photo_id>")
@bp.get("/<int:inspection_id>/photos/<int:photo_id>/<variant>")
@allow(STAFF)
def photo(inspection_id: int, photo_id: int, variant: str = "full") -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    found = get_scoped_or_404(Photo, photo_id)
    if found.inspection_id != inspection.id:
        abort(404)
    return photo_response(found, variant)
