"""Remediation tasks: the manager's list and dashboard, a task's page and workflow, photos and exports.

Contractors see only the tasks assigned to them (anything else answers 404, as another organisation's data does)
and never the inspection or the buildings pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask import send_file as flask_send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import ALL_ROLES, REVIEWERS, STAFF, allow, get_scoped_or_404
from audit.accounts.models import Membership, Role, User
from audit.api.views import PHOTO_PROBLEMS, PHOTO_STATUS
from audit.buildings.models import Area, Building
from audit.checklists.schema import Severity
from audit.downloads import private_file
from audit.errors import DomainError
from audit.extensions import db
from audit.i18n import current_language
from audit.input_guard import takes_files
from audit.jobs.models import Job, JobStatus
from audit.jobs.queue import send_after_commit
from audit.jobs.results import read_result
from audit.labels import label
from audit.photos.models import Photo
from audit.photos.processing import PhotoRejected
from audit.photos.services import photo_response
from audit.remediation import export, queries
from audit.remediation.chart import line_chart
from audit.remediation.filters import UNASSIGNED, TaskFilter, parse_filter
from audit.remediation.forms import AssignForm, DueDateForm, ReopenForm, StartForm, VerifyForm, WorkForm
from audit.remediation.jobs import EXPORT_TASKS, FORMATS, create_export_job
from audit.remediation.jobs import MEDIA_TYPES as EXPORT_MEDIA_TYPES
from audit.remediation.models import RemediationTask, TaskEvent, TaskPhoto
from audit.remediation.presentation import measurement, task_table
from audit.remediation.services import (
    assign_tasks,
    assignable_users,
    change_due_date,
    finding_photos,
    record_export,
    record_work,
    reopen_task,
    start_task,
    today,
    verify_task,
)
from audit.remediation.workflow import TaskStatus, allowed_actions
from audit.urls import bounded_id, same_site_path

bp = Blueprint("remediation", __name__, url_prefix="/tasks")

#: Everyone who can be given tasks and work on them (read-only viewers cannot).
WORKERS = ALL_ROLES - {Role.viewer}
#: The dashboard's names for a building's certification state (see `audit.remediation.dashboard`).
CERTIFICATION_STATES = {
    "valid": _l("Certified"),
    "expired": _l("Certificate expired"),
    "revoked": _l("Certificate revoked"),
    "not_certified": _l("Not certified"),
}
TASK_OPTIONS = (
    joinedload(RemediationTask.building).joinedload(Building.area),
    joinedload(RemediationTask.assignee),
    selectinload(RemediationTask.photos),
)


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    return {"building_tasks": building_tasks, "page_labels": page_labels, "measurement": measurement}


def page_labels() -> dict[Any, str]:
    """Statuses' and severities' names, translated once for a page that shows many tasks."""
    return {**{member: label(member) for member in (*TaskStatus, *Severity)}, "overdue": _("Overdue")}


def building_tasks(building_id: int) -> tuple[int, int]:
    """(open, overdue) tasks of a building, for the buildings pages: one query per request for all buildings."""
    counts: dict[int, tuple[int, int]] | None = g.get("building_task_counts")
    if counts is None:
        counts = g.building_task_counts = queries.building_task_counts(
            db.session, current_user.organisation_id, today()
        )
    return counts.get(building_id, (0, 0))


def task_or_404(task_id: int, *, work: bool = False) -> RemediationTask:
    """The task, if the current user may see it (contractors: only their own), and work on it when `work`."""
    task = get_scoped_or_404(RemediationTask, task_id, TASK_OPTIONS)
    mine = task.assignee_id == current_user.id
    if current_user.role is Role.contractor and not mine:
        abort(404)
    if work and current_user.role not in REVIEWERS and not mine:
        abort(403)
    return task


def _filter() -> TaskFilter:
    """The list's filter from the query string; a contractor's is always "assigned to me"."""
    chosen = parse_filter(request.args)
    if current_user.role is Role.contractor:
        return replace(chosen, assignee=current_user.id)
    return chosen


@bp.get("/")
@allow(ALL_ROLES)
def index() -> ResponseReturnValue:
    chosen = _filter()
    page = queries.task_page(db.session, current_user.organisation_id, chosen, today())
    if current_user.role is Role.contractor:
        return render_template("remediation/mine.html", page=page, chosen=chosen, today=today())
    organisation_id = current_user.organisation_id
    areas = db.session.scalars(select(Area).where(Area.organisation_id == organisation_id).order_by(Area.name))
    buildings = db.session.execute(
        select(Building.id, Building.name).where(Building.organisation_id == organisation_id).order_by(Building.name)
    ).all()
    users = assignable_users(db.session, organisation_id)
    return render_template(
        "remediation/list.html",
        page=page,
        chosen=chosen,
        today=today(),
        areas=list(areas),
        buildings=buildings,
        users=users,
        severities=list(Severity),
        statuses=list(TaskStatus),
        unassigned=UNASSIGNED,
        assign_form=_assign_form(users),
        can_manage=current_user.role in REVIEWERS,
    )


def _assign_form(users: list[User], formdata: MultiDict[str, str] | None = None) -> AssignForm:
    form = AssignForm(formdata=formdata)
    form.assignee.choices = [SelectChoice("", _("Nobody")), *(SelectChoice(str(u.id), u.name) for u in users)]
    return form


@bp.get("/<int:task_id>")
@allow(ALL_ROLES)
def show(task_id: int) -> ResponseReturnValue:
    return _task_page(task_or_404(task_id))


def _task_page(
    task: RemediationTask, status: int = 200, refused: dict[str, FlaskForm] | None = None
) -> tuple[str, int]:
    """The task's page; `refused` holds a form that was sent and refused, by its name, to be shown as it was typed."""
    events = db.session.scalars(
        select(TaskEvent)
        .where(TaskEvent.task_id == task.id)
        .options(joinedload(TaskEvent.actor), joinedload(TaskEvent.assignee))
        .order_by(TaskEvent.id)
    ).all()
    manages = current_user.role in REVIEWERS
    users = assignable_users(db.session, current_user.organisation_id) if manages else []
    # Empty forms (formdata=None): a posted form would otherwise fill every form that has a field of the same name.
    assign_form = _assign_form(users)
    assign_form.assignee.data = str(task.assignee_id or "")
    forms: dict[str, FlaskForm] = {
        "start_form": StartForm(formdata=None),
        "work_form": WorkForm(formdata=None),
        "verify_form": VerifyForm(formdata=None),
        "reopen_form": ReopenForm(formdata=None),
        "assign_form": assign_form,
        "due_form": DueDateForm(formdata=None, due_date=task.due_date),
        **(refused or {}),
    }
    return render_template(
        "remediation/show.html",
        task=task,
        events=events,
        findings=finding_photos(db.session, task),
        today=today(),
        actions=allowed_actions(task.status),
        manages=manages,
        works=manages or task.assignee_id == current_user.id,
        lang=current_language(),
        **forms,
    ), status


def _back(task: RemediationTask) -> ResponseReturnValue:
    return redirect(url_for("remediation.show", task_id=task.id), code=303)


def _refused(task_id: int, message: str, refused: dict[str, FlaskForm]) -> tuple[str, int]:
    """The task's page again with why the step was refused, and the refused form as it was typed (nothing lost)."""
    db.session.rollback()
    flash(message, "error")
    return _task_page(task_or_404(task_id), 422, refused)


def _step(
    task: RemediationTask, step: Callable[[], object], done: str, form: tuple[str, FlaskForm]
) -> ResponseReturnValue:
    """Take one workflow step and say so; when refused, say why on the task's page with `form` as it was typed."""
    try:
        step()
    except DomainError as exc:
        return _refused(task.id, exc.translated(), dict([form]))
    flash(done, "success")
    return _back(task)


@bp.post("/<int:task_id>/start")
@allow(WORKERS)
def start(task_id: int) -> ResponseReturnValue:
    task = task_or_404(task_id, work=True)
    form = StartForm()
    if not form.validate_on_submit():
        abort(400)
    return _step(
        task,
        lambda: start_task(db.session, current_user.user, task),
        _("The task is in progress."),
        ("start_form", form),
    )


@bp.post("/<int:task_id>/work")
@allow(WORKERS)
@takes_files("photo")
def work(task_id: int) -> ResponseReturnValue:
    """A photo of the fixed item, and (action "done") the task marked done with a comment."""
    task = task_or_404(task_id, work=True)
    form = WorkForm()
    if not form.validate_on_submit():
        abort(400)
    upload = form.photo.data
    raw = upload.read() if upload else b""
    done = form.action.data == "done"
    refused = {"work_form": form}
    if not raw and not done:
        return _refused(task_id, _("Choose a photo first."), refused)
    try:
        record_work(db.session, current_user.user, task, form.comment.data or "", raw or None, done=done)
    except PhotoRejected as exc:
        page, _status = _refused(task_id, str(PHOTO_PROBLEMS.get(exc.code, PHOTO_PROBLEMS["not_an_image"])), refused)
        return page, PHOTO_STATUS.get(exc.code, 415)
    except DomainError as exc:
        return _refused(task_id, exc.translated(), refused)
    flash(_("The task is marked done.") if done else _("The photo was saved."), "success")
    return _back(task)


@bp.post("/<int:task_id>/verify")
@allow(REVIEWERS)
def verify(task_id: int) -> ResponseReturnValue:
    task = task_or_404(task_id)
    form = VerifyForm()
    if not form.validate_on_submit():
        abort(400)
    return _step(
        task,
        lambda: verify_task(db.session, current_user.user, task, form.comment.data),
        _("The task is verified."),
        ("verify_form", form),
    )


@bp.post("/<int:task_id>/reopen")
@allow(REVIEWERS)
def reopen(task_id: int) -> ResponseReturnValue:
    task = task_or_404(task_id)
    form = ReopenForm()
    form.validate_on_submit()  # an empty reason is refused by the workflow, with its own message
    return _step(
        task,
        lambda: reopen_task(db.session, current_user.user, task, form.comment.data or ""),
        _("The task was reopened."),
        ("reopen_form", form),
    )


def _assignee(form: AssignForm, users: list[User]) -> User | None:
    return next((user for user in users if str(user.id) == form.assignee.data), None)


@bp.post("/<int:task_id>/assign")
@allow(REVIEWERS)
def assign(task_id: int) -> ResponseReturnValue:
    task = task_or_404(task_id)
    users = assignable_users(db.session, current_user.organisation_id)
    form = _assign_form(users, request.form)
    if not form.validate_on_submit():
        abort(400)
    assignee = _assignee(form, users)
    return _step(
        task,
        lambda: assign_tasks(db.session, current_user.user, current_user.organisation_id, [task], assignee),
        _("The task was assigned."),
        ("assign_form", form),
    )


@bp.post("/assign")
@allow(REVIEWERS)
def assign_many() -> ResponseReturnValue:
    users = assignable_users(db.session, current_user.organisation_id)
    form = _assign_form(users, request.form)
    back = redirect(same_site_path(request.form.get("back")) or url_for("remediation.index"), code=303)
    if not form.validate_on_submit():
        abort(400)
    ids = [key for key in map(bounded_id, form.tasks.data or []) if key is not None][:1000]
    tasks = db.session.scalars(
        select(RemediationTask).where(
            RemediationTask.id.in_(ids), RemediationTask.organisation_id == current_user.organisation_id
        )
    ).all()
    if not tasks:
        flash(_("Choose the tasks to assign."), "error")
        return back
    try:
        count = assign_tasks(db.session, current_user.user, current_user.organisation_id, tasks, _assignee(form, users))
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "error")
        return back
    flash(_("%(count)d tasks were assigned.", count=count), "success")
    return back


@bp.post("/<int:task_id>/due-date")
@allow(REVIEWERS)
def due_date(task_id: int) -> ResponseReturnValue:
    task = task_or_404(task_id)
    form = DueDateForm()
    if not form.validate_on_submit() or form.due_date.data is None:
        # A date that was read but lies outside the window says which dates are possible.
        typed = form.due_date.data is not None and form.due_date.errors
        problem = str(form.due_date.errors[0]) if typed else _("Give the new due date and the reason for it.")
        return _refused(task_id, problem, {"due_form": form})
    due, reason = form.due_date.data, form.reason.data or ""
    return _step(
        task,
        lambda: change_due_date(db.session, current_user.user, task, due, reason),
        _("The due date was changed."),
        ("due_form", form),
    )


# --- photos ------------------------------------------------------------------------------------------------------


@bp.get("/<int:task_id>/findings/<int:photo_id>")
@bp.get("/<int:task_id>/findings/<int:photo_id>/<variant>")
@allow(ALL_ROLES)
def finding_photo(task_id: int, photo_id: int, variant: str = "full") -> Response:
    """The inspector's photo of the failed item: shown with the task, without access to the inspection."""
    task = task_or_404(task_id)
    photo = get_scoped_or_404(Photo, photo_id)
    if photo.inspection_id != task.inspection_id or photo.item_key != task.item_key:
        abort(404)
    return photo_response(photo, variant)


@bp.get("/<int:task_id>/evidence/<int:photo_id>")
@bp.get("/<int:task_id>/evidence/<int:photo_id>/<variant>")
@allow(ALL_ROLES)
def evidence_photo(task_id: int, photo_id: int, variant: str = "full") -> Response:
    task = task_or_404(task_id)
    photo = get_scoped_or_404(TaskPhoto, photo_id)
    if photo.task_id != task.id:
        abort(404)
    return photo_response(photo, variant)


# --- the dashboard ---------------------------------------------------------------------------------------------


@bp.get("/dashboard")
@allow(STAFF)
def dashboard() -> ResponseReturnValue:
    from audit.remediation.dashboard import certification_overview

    organisation_id = current_user.organisation_id
    day = today()
    trend = queries.open_task_trend(db.session, organisation_id, day)
    return render_template(
        "remediation/dashboard.html",
        areas=queries.area_task_counts(db.session, organisation_id, day),
        chart=line_chart([(f"{d.day}/{d.month}", count) for d, count in trend]),
        trend=trend,
        certification=certification_overview(db.session, organisation_id, day),
        cert_states=CERTIFICATION_STATES,
        today=day,
    )


# --- exports -----------------------------------------------------------------------------------------------------


def _export_table(kind: str) -> tuple[list[str], list[list[export.Cell]]]:
    tasks = queries.all_tasks(db.session, current_user.organisation_id, _filter(), today())
    record_export(db.session, current_user, current_user.organisation_id, kind, len(tasks))
    return task_table(tasks, today(), current_language())


@bp.get("/export.csv")
@allow(STAFF)
def export_csv() -> Response:
    header, rows = _export_table("csv")
    return private_file(export.to_csv(header, rows), "text/csv; charset=utf-8", f"tasks-{today().isoformat()}.csv")


@bp.get("/export.xlsx")
@allow(STAFF)
def export_xlsx() -> Response:
    header, rows = _export_table("xlsx")
    return private_file(
        export.to_xlsx(_("Tasks"), header, rows),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"tasks-{today().isoformat()}.xlsx",
    )


@bp.post("/export")
@allow(STAFF)
def export_start() -> ResponseReturnValue:
    """Export the list (as the query string filters it) in the background: for a list too long to wait for."""
    output_format = request.args.get("format", "")
    if output_format not in FORMATS or not FlaskForm(meta={"csrf": True}).validate_on_submit():
        abort(400)
    job = create_export_job(
        db.session, current_user.user, current_user.organisation_id, _filter(), output_format, current_language()
    )
    send_after_commit(db.session, job.id)
    return redirect(url_for("remediation.export_show", job_id=job.id), 303)


def _export_job_or_404(job_id: int) -> Job:
    job = get_scoped_or_404(Job, job_id)
    if job.kind != EXPORT_TASKS.name:
        abort(404)
    return job


def _export_state(job: Job) -> dict[str, object]:
    return {
        "id": job.id,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "attempt": job.attempts,
        "max_attempts": job.max_attempts,
        "errors": [],
        "failure": job.failure,
        "download": url_for("remediation.export_download", job_id=job.id) if job.result_name else None,
    }


@bp.get("/export/<int:job_id>")
@allow(STAFF)
def export_show(job_id: int) -> ResponseReturnValue:
    job = _export_job_or_404(job_id)
    return render_template("remediation/export.html", job=job, state=_export_state(job))


@bp.get("/export/<int:job_id>/progress")
@allow(STAFF)
def export_progress(job_id: int) -> ResponseReturnValue:
    return jsonify(_export_state(_export_job_or_404(job_id)))


@bp.get("/export/<int:job_id>/download")
@allow(STAFF)
def export_download(job_id: int) -> ResponseReturnValue:
    job = _export_job_or_404(job_id)
    data = read_result(job.result_name or "") if job.status is JobStatus.finished else None
    if data is None:
        abort(404)
    output_format = job.params["format"]
    response = flask_send_file(
        io.BytesIO(data),
        mimetype=EXPORT_MEDIA_TYPES[output_format].split(";")[0],
        as_attachment=True,
        download_name=f"tasks-{job.created_at.date().isoformat()}-{job.id}.{output_format}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _pdf(title: str, subtitle: str, chosen: TaskFilter, name: str) -> ResponseReturnValue:
    from audit.pdf import render_pdf

    day = today()
    tasks = queries.all_tasks(db.session, current_user.organisation_id, chosen, day)
    try:
        pdf = render_pdf(
            "remediation/tasks_pdf.html",
            {"title": title, "subtitle": subtitle, "tasks": tasks, "today": day, "lang": current_language()},
        )
    except DomainError as exc:  # too many tasks to lay out in time: said on the list, nothing recorded as exported
        flash(exc.translated(), "error")
        return redirect(url_for("remediation.index"), 303)
    record_export(db.session, current_user, current_user.organisation_id, "pdf", len(tasks))
    return private_file(pdf, "application/pdf", name)


@bp.get("/export/building/<int:building_id>.pdf")
@allow(STAFF)
def building_pdf(building_id: int) -> ResponseReturnValue:
    building = get_scoped_or_404(Building, building_id)
    chosen = TaskFilter(building_id=building.id, unverified=request.args.get("all") is None, sort="severity")
    return _pdf(building.name, building.address, chosen, f"tasks-building-{building.id}.pdf")


@bp.get("/export/assignee/<int:user_id>.pdf")
@allow(STAFF)
def assignee_pdf(user_id: int) -> ResponseReturnValue:
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == user_id, Membership.organisation_id == current_user.organisation_id
        )
    )
    if membership is None:
        abort(404)
    chosen = TaskFilter(assignee=user_id, unverified=request.args.get("all") is None, sort="building")
    return _pdf(membership.user.name, _("Tasks assigned"), chosen, f"tasks-assignee-{user_id}.pdf")
