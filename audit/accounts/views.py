"""Logging in and out, changing one's password, and reset links made by an admin."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_timedelta
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from audit.access import ADMINS, ALL_ROLES, allow, public
from audit.accounts import services
from audit.accounts.auth import LoginFailed, authenticate, begin_login, end_login
from audit.accounts.forms import ChangePasswordForm, LoginForm, NewPasswordForm, ResetLinkForm
from audit.accounts.throttle import LoginThrottled
from audit.errors import DomainError
from audit.extensions import db
from audit.main.views import landing
from audit.urls import same_site_path

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site; never an outside address (open redirect)."""
    if path := same_site_path(target):
        return path
    return landing() if current_user.is_authenticated else url_for("main.index")


def _throttled(template: str, throttled: LoginThrottled, **context: object) -> ResponseReturnValue:
    """429 with the wait in words ("Try again in 30 seconds") and in the Retry-After header."""
    seconds = math.ceil(throttled.wait.total_seconds())  # rounded up: trying again a moment early is refused
    when = format_timedelta(timedelta(seconds=seconds), threshold=1, add_direction=True)
    message = _("Too many failed attempts. Try again %(when)s.", when=when)
    response = make_response(render_template(template, throttled=message, **context), 429)
    response.headers["Retry-After"] = str(seconds)
    return response


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            principal = authenticate(db.session, form.email.data or "", form.password.data or "")
        except LoginThrottled as throttled:
            return _throttled("accounts/login.html", throttled, form=form)
        except LoginFailed:
            form.form_errors.append(_("Wrong e-mail or password."))
        else:
            begin_login(principal)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@allow(ALL_ROLES)
def logout() -> ResponseReturnValue:
    end_login(db.session, current_user._get_current_object())
    flash(_("You are logged out."), "info")
    return redirect(url_for("accounts.login"))


def _form_page(template: str, form: FlaskForm, refusal: str | None = None, **context: object) -> ResponseReturnValue:
    """The form's page; 422 with the reason when a submitted form is refused."""
    if refusal:
        form.form_errors.append(refusal)
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form, **context), status


@bp.route("/password", methods=["GET", "POST"])
@allow(ALL_ROLES)
def change_password() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _form_page("accounts/password.html", form)
    current, new = form.current_password.data or "", form.new_password.data or ""
    try:
        services.change_password(db.session, current_user.user, current, new, request.remote_addr, current_user.token)
    except LoginThrottled as throttled:
        return _throttled("accounts/password.html", throttled, form=form)
    except services.WrongPassword as wrong:
        # Answered 200 like a wrong login, so that the failure is counted: a refused request is rolled back.
        form.form_errors.append(wrong.translated())
        return render_template("accounts/password.html", form=form)
    except DomainError as refused:
        return _form_page("accounts/password.html", form, refused.translated())
    flash(_("Your password is changed. Your other logins have ended."), "success")
    return redirect(_safe_next(None))


@bp.get("/users/")
@allow(ADMINS)
def users() -> ResponseReturnValue:
    rows = services.members(db.session, current_user.organisation_id)
    return render_template("accounts/users.html", members=rows, form=ResetLinkForm())


@bp.post("/users/<int:user_id>/reset-link")
@allow(ADMINS)
def reset_link(user_id: int) -> ResponseReturnValue:
    user = services.member_of(db.session, current_user.organisation_id, user_id)
    if user is None:
        abort(404)
    if not ResetLinkForm().validate_on_submit():
        abort(400)
    token = services.create_reset_link(db.session, current_user, user)
    link = url_for("accounts.reset", token=token, _external=True)
    return render_template("accounts/reset_link.html", user=user, link=link)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str) -> ResponseReturnValue:
    reset = services.valid_reset(db.session, token)
    if reset is None:
        return render_template("accounts/reset.html", form=None), 404
    form = NewPasswordForm()
    if not form.validate_on_submit():
        return _form_page("accounts/reset.html", form, email=reset.user.email)
    try:
        services.reset_password(db.session, reset, form.new_password.data or "")
    except DomainError as refused:
        return _form_page("accounts/reset.html", form, refused.translated(), email=reset.user.email)
    flash(_("Your new password is set. Log in with it."), "success")
    return redirect(url_for("accounts.login"))
