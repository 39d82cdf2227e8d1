"""Certificates: issue, show, revoke, the sign and report PDFs, batch printing, and public verification."""

from __future__ import annotations

import io
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask import send_file as flask_send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in WTForms 3.3, not in its stubs yet

from audit.access import ADMINS, REVIEWERS, STAFF, allow, get_scoped_or_404, public
from audit.buildings.models import Area, Building
from audit.certificates.addresses import (
    accepted_verification_url,
    names_another_host,
    offer_verification_url,
    verification_base_url,
)
from audit.certificates.batch import MEDIA_TYPES
from audit.certificates.documents import PaperSize, issued_sign, render_sign, sign_facts
from audit.certificates.forms import BatchForm, IssueForm, RegenerateSignForm, RevokeForm
from audit.certificates.jobs import PRINT_SIGNS, create_print_job
from audit.certificates.models import BatchFormat, Certificate, verification_url
from audit.certificates.report import render_report
from audit.certificates.services import (
    building_certificates,
    certificate_by_token,
    certificate_for_inspection,
    current_certificates,
    issue_certificate,
    issue_problem,
    latest_certificate,
    record_report_export,
    regenerate_sign,
    revoke_certificate,
)
from audit.certificates.status import today_in_sweden
from audit.downloads import private_file
from audit.errors import DomainError
from audit.extensions import db, limiter
from audit.i18n import LANGUAGES, current_language
from audit.inspections.models import Inspection
from audit.inspections.views import inspection_or_404
from audit.jobs.models import Job, JobStatus
from audit.jobs.queue import send_after_commit
from audit.jobs.results import read_result
from audit.settings import Settings

bp = Blueprint("certificates", __name__)


def _today() -> date:
    """Today in Sweden, or the date set in `TRYGGAHUS_FROZEN_DATE` (ISO) to see the app on another day."""
    frozen = current_app.config.get("TRYGGAHUS_FROZEN_DATE")
    return date.fromisoformat(frozen) if frozen else today_in_sweden()


@bp.get("/certificates/")
@allow(STAFF)
def index() -> ResponseReturnValue:
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.organisation_id == current_user.organisation_id)
        .options(selectinload(Certificate.superseded_by), selectinload(Certificate.building))
        .order_by(Certificate.id.desc())
        .limit(500)
    ).all()
    return render_template(
        "certificates/index.html", certificates=certificates, today=_today(), batch_form=_batch_form()
    )


@bp.post("/inspections/<int:inspection_id>/certificate")
@allow(REVIEWERS)
def issue(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    accepted = accepted_verification_url(form.verification.data or "", inspection.id)
    if accepted is None:
        flash(_("The address for the QR code has changed since the page was shown: check it and issue again."), "error")
        return redirect(url_for("inspections.result", inspection_id=inspection_id), 303)
    base_url, token = accepted
    try:
        certificate = issue_certificate(
            db.session, current_user.user, inspection, issued_sign, base_url=base_url, token=token, today=_today()
        )
    except DomainError as exc:
        db.session.rollback()
        flash(exc.translated(), "error")
        return redirect(url_for("inspections.result", inspection_id=inspection_id), 303)
    flash(_("Certificate %(number)s was issued.", number=certificate.number), "success")
    return redirect(url_for("certificates.show", certificate_id=certificate.id), 303)


@bp.get("/certificates/<int:certificate_id>")
@allow(STAFF)
def show(certificate_id: int) -> ResponseReturnValue:
    return _certificate_page(get_scoped_or_404(Certificate, certificate_id))


def _certificate_page(certificate: Certificate, refused: dict[str, FlaskForm] | None = None) -> ResponseReturnValue:
    """The certificate's page; `refused`: a form that was sent and refused, by name, shown as it was typed (422)."""
    new_url = verification_url(verification_base_url(), certificate.public_token)
    # Empty forms (formdata=None) unless refused: a posted form would fill every form with a field of its name.
    forms = {"revoke_form": RevokeForm(formdata=None), "regenerate_form": RegenerateSignForm(formdata=None)}
    forms.update(refused or {})
    page = render_template(
        "certificates/show.html",
        certificate=certificate,
        status=certificate.status(_today()),
        history=building_certificates(db.session, certificate.building),
        new_url=new_url,
        served_elsewhere=names_another_host(new_url),
        **forms,
    )
    return (page, 422) if refused else page


def _refused(certificate_id: int, message: str, refused: dict[str, FlaskForm]) -> ResponseReturnValue:
    db.session.rollback()
    flash(message, "error")
    return _certificate_page(get_scoped_or_404(Certificate, certificate_id), refused)


@bp.get("/certificates/<int:certificate_id>/sign.pdf")
@allow(STAFF)
def sign(certificate_id: int) -> ResponseReturnValue:
    """`?size=A3`, `?language=en`. A4 Swedish is the stored, issued document (its sha256 is on record); the other
    sizes and languages are made from the same facts."""
    certificate = get_scoped_or_404(Certificate, certificate_id)
    size = PaperSize.a3 if request.args.get("size", "").upper() == "A3" else PaperSize.a4
    # Not `lang`: that one also switches the user's own pages to the language (audit/i18n.py).
    requested = request.args.get("language", "")
    language = requested if requested in LANGUAGES else "sv"
    if size is PaperSize.a4 and language == "sv":
        data = certificate.sign_pdf
    else:
        try:
            data = render_sign(sign_facts(certificate), size, language)
        except DomainError as exc:
            flash(exc.translated(), "error")
            return redirect(url_for("certificates.show", certificate_id=certificate_id), 303)
    return private_file(data, "application/pdf", f"{certificate.number}-{size.value}-{language}.pdf", inline=True)


@bp.post("/certificates/<int:certificate_id>/revoke")
@allow(ADMINS)
def revoke(certificate_id: int) -> ResponseReturnValue:
    certificate = get_scoped_or_404(Certificate, certificate_id)
    form = RevokeForm()
    if not form.validate_on_submit():
        return _refused(certificate_id, _("Write why the certificate is revoked."), {"revoke_form": form})
    try:
        revoke_certificate(db.session, current_user.user, certificate, form.reason.data or "")
    except DomainError as exc:
        return _refused(certificate_id, exc.translated(), {"revoke_form": form})
    flash(_("Certificate %(number)s was revoked.", number=certificate.number), "success")
    return redirect(url_for("certificates.show", certificate_id=certificate_id), 303)


@bp.post("/certificates/<int:certificate_id>/sign/regenerate")
@allow(ADMINS)
def regenerate(certificate_id: int) -> ResponseReturnValue:
    """A new file for the stored sign (same number and token), pointing to the address a sign made now prints."""
    certificate = get_scoped_or_404(Certificate, certificate_id)
    form = RegenerateSignForm()
    if not form.validate_on_submit():
        return _refused(certificate_id, _("Write why the sign is made again."), {"regenerate_form": form})
    try:
        regenerate_sign(db.session, current_user.user, certificate, form.sign_reason.data or "", issued_sign)
    except DomainError as exc:
        return _refused(certificate_id, exc.translated(), {"regenerate_form": form})
    flash(_("The sign of certificate %(number)s was made again.", number=certificate.number), "success")
    return redirect(url_for("certificates.show", certificate_id=certificate_id), 303)


@bp.get("/inspections/<int:inspection_id>/report.pdf")
@allow(STAFF)
def report(inspection_id: int) -> ResponseReturnValue:
    inspection = inspection_or_404(inspection_id)
    try:
        data = render_report(inspection, current_language())
    except DomainError as exc:
        flash(exc.translated(), "error")
        return redirect(url_for("inspections.show", inspection_id=inspection_id), 303)
    record_report_export(db.session, current_user, inspection, current_language())
    return private_file(data, "application/pdf", f"report-{inspection.id}.pdf", inline=True)


@bp.get("/buildings/<int:building_id>/certificates")
@allow(STAFF)
def building(building_id: int) -> ResponseReturnValue:
    found = get_scoped_or_404(Building, building_id)
    certificates = building_certificates(db.session, found)
    return render_template("certificates/building.html", building=found, certificates=certificates, today=_today())


@bp.app_template_global()
def certificate_panel(inspection: Inspection | None = None, building: Building | None = None) -> dict[str, object]:
    """For the inspection result and building pages: the certificate there is, and whether one can be issued."""
    if inspection is not None:
        certificate = certificate_for_inspection(db.session, inspection)
        eligible = certificate is None and issue_problem(inspection) is None
    else:
        certificate = latest_certificate(db.session, building.id) if building is not None else None
        eligible = False
    can_issue = eligible and current_user.role in REVIEWERS
    # The exact URL the sign will print, shown before the button is pressed (and issued as shown).
    offer = offer_verification_url(inspection.id) if can_issue and inspection is not None else None
    return {
        "certificate": certificate,
        "status": certificate.status(_today()) if certificate else None,
        "can_issue": can_issue,
        "form": IssueForm(verification=offer.signed) if offer else None,
        "url": offer.url if offer else None,
        "served_elsewhere": offer is not None and names_another_host(offer.url),
    }


# --- batch printing ---------------------------------------------------------------------------------------------


def _batch_form() -> BatchForm:
    form = BatchForm()
    organisation_id = current_user.organisation_id
    areas = db.session.scalars(select(Area).where(Area.organisation_id == organisation_id).order_by(Area.name))
    form.area.choices = [SelectChoice("0", _("Every area")), *(SelectChoice(str(area.id), area.name) for area in areas)]
    buildings = db.session.scalars(
        select(Building).where(Building.organisation_id == organisation_id).order_by(Building.name)
    )
    form.buildings.choices = [SelectChoice(str(b.id), f"{b.name} — {b.street_address}") for b in buildings]
    return form


@bp.post("/certificates/batch")
@allow(REVIEWERS)
def batch_start() -> ResponseReturnValue:
    form = _batch_form()
    if not form.validate_on_submit():
        flash(_("Choose what to print."), "error")
        return redirect(url_for("certificates.index"), 303)
    area_id = int(form.area.data or 0) or None
    building_ids = [int(ident) for ident in form.buildings.data or []] or None
    certificates = current_certificates(
        db.session, current_user.organisation_id, area_id=area_id, building_ids=building_ids, today=_today()
    )
    if not certificates:
        flash(_("There are no valid certificates to print for that choice."), "error")
        return redirect(url_for("certificates.index"), 303)
    job = create_print_job(
        db.session,
        current_user.id,
        current_user.organisation_id,
        certificates,
        BatchFormat(form.format.data),
        PaperSize(form.size.data),
        form.language.data or "sv",
    )
    send_after_commit(db.session, job.id)
    return redirect(url_for("certificates.batch_show", job_id=job.id), 303)


def _job_or_404(job_id: int) -> Job:
    job = get_scoped_or_404(Job, job_id)
    if job.kind != PRINT_SIGNS.name:
        abort(404)
    return job


def _job_state(job: Job) -> dict[str, object]:
    """The job as its page and the page's script show it; any web server reads it from the row."""
    return {
        "id": job.id,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "attempt": job.attempts,
        "max_attempts": job.max_attempts,
        "errors": job.errors,
        "failure": job.failure,
        "download": url_for("certificates.batch_download", job_id=job.id) if job.result_name else None,
    }


@bp.get("/certificates/batch/<int:job_id>")
@allow(REVIEWERS)
def batch_show(job_id: int) -> ResponseReturnValue:
    job = _job_or_404(job_id)
    return render_template("certificates/batch.html", job=job, state=_job_state(job))


@bp.get("/certificates/batch/<int:job_id>/progress")
@allow(REVIEWERS)
def batch_progress(job_id: int) -> ResponseReturnValue:
    return jsonify(_job_state(_job_or_404(job_id)))


@bp.get("/certificates/batch/<int:job_id>/download")
@allow(REVIEWERS)
def batch_download(job_id: int) -> ResponseReturnValue:
    job = _job_or_404(job_id)
    data = read_result(job.result_name or "") if job.status is JobStatus.finished else None
    if data is None:
        abort(404)
    output_format = BatchFormat(job.params["format"])
    return flask_send_file(
        io.BytesIO(data),
        mimetype=MEDIA_TYPES[output_format],
        as_attachment=True,
        download_name=f"trygga-hus-signs-{job.id}.{output_format.value}",
        max_age=0,
    )


# --- public verification ----------------------------------------------------------------------------------------


def _verify_limit() -> str:
    settings: Settings = current_app.config["TRYGGAHUS"]
    return settings.verify_rate_limit


@bp.get("/v/<token>")
@public
@limiter.limit(_verify_limit)
def verify(token: str) -> ResponseReturnValue:
    """What anyone who scans the sign may know: status, address, dates, the issuer. Nothing personal."""
    certificate = certificate_by_token(db.session, token)
    if certificate is None:
        abort(404)
    today = _today()
    response = Response(
        render_template(
            "certificates/verify.html", certificate=certificate, status=certificate.status(today), today=today
        )
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
